package dev.tern.raft;

/** The persistent state of Figure 2 other than the log: currentTerm and votedFor (null when none). */
public record HardState(long currentTerm, String votedFor) {
  public static final HardState INITIAL = new HardState(0, null);
}

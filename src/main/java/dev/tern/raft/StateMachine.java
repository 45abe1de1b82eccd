package dev.tern.raft;

/**
 * The replicated state machine. The Raft replica calls {@link #apply} on its own thread for every committed
 * entry, in log order, exactly once per entry (Figure 2, "All Servers": apply log[lastApplied]). It must be
 * deterministic: the same log gives the same state on every node.
 */
public interface StateMachine {

  /** Applies the committed entry; {@code entry.index()} is always {@code lastApplied() + 1}. */
  void apply(LogEntry entry);

  /** Index of the last entry applied (0 when nothing was). */
  long lastApplied();
}

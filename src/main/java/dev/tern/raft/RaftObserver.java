package dev.tern.raft;

/**
 * Told of the replica's events that its state alone does not show afterwards: elections started and leaders
 * learned. The node counts them for {@code /metrics} (dev.tern.cluster.NodeMetrics); the replica's gauges (term,
 * role, indexes) are read from its status instead, at scrape time, so nothing here runs per request.
 *
 * <p>Called on the replica's own thread: an implementation must return at once and never block.
 */
public interface RaftObserver {
  /** Observes nothing (tests, and a node with metrics off). */
  RaftObserver NONE = new RaftObserver() {};

  /** This node became a candidate in {@code term} (section 5.2; a pre-vote, dissertation 9.6, is not one). */
  default void electionStarted(long term) {}

  /** This node learned that {@code leaderId} (possibly itself) leads {@code term}. */
  default void leaderChanged(long term, String leaderId) {}

  /** Tells both {@code a} and {@code b}, in that order. */
  static RaftObserver both(RaftObserver a, RaftObserver b) {
    return new RaftObserver() {
      @Override
      public void electionStarted(long term) {
        a.electionStarted(term);
        b.electionStarted(term);
      }

      @Override
      public void leaderChanged(long term, String leaderId) {
        a.leaderChanged(term, leaderId);
        b.leaderChanged(term, leaderId);
      }
    };
  }
}

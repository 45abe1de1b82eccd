package dev.tern.raft;

import java.util.ArrayDeque;

/**
 * The leader's view of one follower (Figure 2, "Volatile state on leaders": nextIndex and matchIndex), plus
 * the flow control that lets it keep several AppendEntries in flight.
 *
 * <p>In <em>probe</em> mode the leader does not know where the follower's log matches its own: it sends one
 * AppendEntries at a time and moves nextIndex back on each rejection. Once a request succeeds it switches to
 * <em>replicate</em> mode: it sends batches back to back, advancing nextIndex optimistically, with at most
 * {@code max-inflight-appends} unanswered. Any rejection drops it back to probe mode.
 */
final class Progress {
  final String peer;
  /** Index of the next log entry to send (Figure 2). */
  long nextIndex;
  /** Highest index known to be replicated on this follower (Figure 2). */
  long matchIndex;
  boolean probing = true;
  /** The highest commit index this follower could take from what we sent it (min of leaderCommit, lastIndex). */
  long commitSent;
  /** Highest ReadIndex round this follower has answered a request of. */
  long ackedReadRound;
  /** Last index carried by each unanswered AppendEntries, oldest first. */
  final ArrayDeque<Long> inflight = new ArrayDeque<>();
  /**
   * Heartbeat ticks during which requests were outstanding and none was acknowledged. Heartbeat replies do
   * not count as progress: they keep arriving while the pipelined requests before them were lost.
   */
  int ticksWithoutProgress;
  /** Leader's heartbeat tick at which this follower last answered it (-1 = never): for status and health. */
  long lastHeardTick = -1;

  // A request carrying one entry larger than max-append-bytes travels on the transport's large-message lane,
  // which may overtake the requests before it or be overtaken by those after it. Such a request is sent only
  // when nothing else is unanswered, and nothing follows it until it is answered: the follower sees the log in
  // order, and no reordering makes it reject (and the leader resend) a multi-megabyte entry.
  /** Last index of the unanswered large request (0 = none). */
  long largeInflightIndex;
  /** Its size in bytes: a large transfer is given longer before it counts as lost. */
  long largeInflightBytes;

  // InstallSnapshot (Figure 13): while the follower needs entries the leader has compacted, it is sent the
  // snapshot instead, one piece at a time.
  /** The snapshot being sent, or null. */
  SnapshotMeta snapshot;
  /** How many bytes of its data the follower has stored: the next piece starts there. */
  long snapshotOffset;
  /** A piece is being read or is on its way, unanswered. */
  boolean chunkOutstanding;

  // A learner catching up before it is promoted (dissertation 4.2.1): the current round replicates up to
  // catchUpTarget, the leader's last index when the round began at heartbeat tick catchUpStart.
  long catchUpTarget;
  long catchUpStart;

  Progress(String peer, long nextIndex) {
    this.peer = peer;
    this.nextIndex = nextIndex;
  }

  boolean canSend(int maxInflight) {
    if (largeInflightIndex != 0) return false;
    return probing ? inflight.isEmpty() : inflight.size() < maxInflight;
  }

  /** A request up to {@code lastIndex} was sent. */
  void sent(long lastIndex) {
    inflight.addLast(lastIndex);
    if (!probing) nextIndex = lastIndex + 1;
  }

  /** A request up to {@code lastIndex} carrying one large entry of {@code bytes} was sent: hold the pipeline. */
  void sentLarge(long lastIndex, long bytes) {
    sent(lastIndex);
    largeInflightIndex = lastIndex;
    largeInflightBytes = bytes;
  }

  /**
   * Heartbeat ticks without progress after which unanswered requests count as lost: two, plus one for every
   * {@code bytesPerTick} of a large request in flight, which takes its time to cross the network.
   */
  int lossTicks(long bytesPerTick) {
    return 2 + (int) Math.min(1000, largeInflightBytes / Math.max(1, bytesPerTick));
  }

  private void clearLarge() {
    largeInflightIndex = 0;
    largeInflightBytes = 0;
  }

  /**
   * The follower holds the leader's entries up to {@code index}. Returns whether matchIndex moved.
   */
  boolean acknowledged(long index) {
    int outstanding = inflight.size();
    while (!inflight.isEmpty() && inflight.peekFirst() <= index) inflight.pollFirst();
    boolean advanced = index > matchIndex;
    if (advanced || inflight.size() < outstanding) ticksWithoutProgress = 0;
    if (advanced) matchIndex = index;
    if (largeInflightIndex != 0 && index >= largeInflightIndex) clearLarge();
    if (nextIndex <= matchIndex) nextIndex = matchIndex + 1;
    if (probing && matchIndex >= nextIndex - 1) {
      probing = false; // the probe found where the logs agree
      inflight.clear(); // (a large request still unanswered keeps holding the pipeline until answered or lost)
    }
    return advanced;
  }

  /** Back to probing from {@code next} (never at or below what is known to match). */
  void probeFrom(long next) {
    probing = true;
    inflight.clear();
    clearLarge();
    ticksWithoutProgress = 0;
    nextIndex = Math.max(next, matchIndex + 1);
  }

  /** Starts sending {@code meta} from its beginning. */
  void startSnapshot(SnapshotMeta meta) {
    snapshot = meta;
    snapshotOffset = 0;
    chunkOutstanding = false;
    inflight.clear();
    ticksWithoutProgress = 0;
  }

  /** The follower installed the snapshot: its log matches ours up to the snapshot's index. */
  void snapshotInstalled(long index) {
    snapshot = null;
    chunkOutstanding = false;
    matchIndex = Math.max(matchIndex, index);
    probeFrom(matchIndex + 1);
  }

  @Override
  public String toString() {
    return peer + "{next=" + nextIndex + ", match=" + matchIndex + (probing ? ", probe" : ", replicate")
        + ", inflight=" + inflight.size() + (largeInflightIndex == 0 ? "" : ", large " + largeInflightIndex)
        + (snapshot == null ? "" : ", snapshot " + snapshot.lastIncludedIndex() + " at " + snapshotOffset) + "}";
  }
}

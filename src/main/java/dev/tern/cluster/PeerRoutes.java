package dev.tern.cluster;

import dev.tern.raft.RaftMessage;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends Raft messages to other nodes straight from the sending actor's thread: the replica's AppendEntries and
 * votes, and the front's proposals and reads forwarded to the leader. The {@link PeerGateway} finds the peers
 * and publishes where they are as an immutable {@link Table}; a send reads the latest table and tells the peer's
 * replica (or its large-message inbox) directly.
 *
 * <p>Why not a tell to the gateway actor, which would then tell the peer: that hop is a mailbox and a thread
 * hand-off per message, four of them on the path of every write forwarded by a follower. On a 2-core machine a
 * hand-off costs tens of microseconds and several context switches (docs/performance.md). The table is the only
 * state shared between actors here, and it is an immutable value replaced as a whole, like a message.
 */
public final class PeerRoutes {
  private static final Logger log = LoggerFactory.getLogger(PeerRoutes.class);

  /** A peer's replica, and its large-message inbox. */
  public record Route(ActorRef<PeerGateway.Envelope> ordinary, ActorRef<PeerGateway.Envelope> bulk) {}

  /**
   * Where the peers are, which of them fault injection cuts off, and the ref that identifies this node to them
   * (its address is what a receiver checks against the member the envelope claims to come from).
   */
  public record Table(Map<String, Route> peers, Set<String> cut, ActorRef<PeerGateway.Envelope> origin,
      long delayNanos) {
    static final Table EMPTY = new Table(Map.of(), Set.of(), null);

    /** A table without an injected delay. */
    public Table(Map<String, Route> peers, Set<String> cut, ActorRef<PeerGateway.Envelope> origin) {
      this(peers, cut, origin, 0);
    }
  }

  private final String selfId;
  /** This node's data directory's incarnation, on every envelope it sends. */
  private final long incarnation;
  private final TransportLimits limits;
  private volatile Table table = Table.EMPTY;
  private long tooLargeLastNanos;
  private int tooLargeSuppressed;
  /** Test-only: holds messages back while fault injection delays them; made on the first delay. */
  private ScheduledExecutorService delayLine;

  public PeerRoutes(String selfId, long incarnation, TransportLimits limits) {
    this.selfId = selfId;
    this.incarnation = incarnation;
    this.limits = limits;
  }

  /** Routes of a node without a data directory (gateway tests): no incarnation. */
  public PeerRoutes(String selfId, TransportLimits limits) {
    this(selfId, dev.tern.raft.Configuration.Server.UNPUBLISHED, limits);
  }

  /** This node's incarnation. */
  long incarnation() {
    return incarnation;
  }

  /** Replaces the table (by the gateway, when peers come and go or a cut changes). */
  void publish(Table next) {
    table = next;
  }

  Table table() {
    return table;
  }

  /**
   * Sends {@code message} to node {@code to}'s replica, on the lane its size needs. Never blocks; a message to a
   * peer not reachable yet, or cut off, is lost, like any message (Raft retries what matters).
   */
  public void send(String to, RaftMessage message) {
    Table t = table;
    Route peer = t.cut.contains(to) ? null : t.peers.get(to);
    if (peer == null) {
      if (log.isDebugEnabled()) log.debug("{}: no route to {} yet, dropping {}", selfId, to, message);
      return;
    }
    ActorRef<PeerGateway.Envelope> lane = switch (limits.laneFor(message)) {
      case ORDINARY -> peer.ordinary();
      case LARGE -> peer.bulk();
      case TOO_LARGE -> null;
    };
    if (lane == null) {
      tooLarge(to, message);
      return;
    }
    PeerGateway.Envelope envelope = new PeerGateway.Envelope(selfId, incarnation, t.origin, message);
    if (t.delayNanos > 0) {
      // Fault injection (a slow link): every message leaves delayNanos late. One thread and a fixed delay keep
      // the messages in the order they were sent (tasks due at the same time run first-in, first-out).
      delayLine().schedule(() -> lane.tell(envelope), t.delayNanos, TimeUnit.NANOSECONDS);
    } else {
      lane.tell(envelope);
    }
  }

  private synchronized ScheduledExecutorService delayLine() {
    if (delayLine == null) {
      delayLine = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread thread = new Thread(r, "tern-fault-delay-" + selfId);
        thread.setDaemon(true);
        return thread;
      });
    }
    return delayLine;
  }

  /** Stops the delay line, if fault injection made one (messages still held back are dropped, as a crash would). */
  public synchronized void close() {
    if (delayLine != null) delayLine.shutdownNow();
  }

  /** Logs a message too big to send as an error, at most once every ten seconds (with a count of the others). */
  private synchronized void tooLarge(String to, RaftMessage message) {
    long now = System.nanoTime();
    if (tooLargeLastNanos != 0 && now - tooLargeLastNanos < 10_000_000_000L) {
      tooLargeSuppressed++;
      return;
    }
    log.error("{}: cannot send {} to {}: about {} bytes, more than Artery's largest frame "
            + "(pekko.remote.artery.advanced.maximum-large-frame-size = {} bytes); not sent ({} more since the last "
            + "such error). Raise maximum-large-frame-size on every node.",
        selfId, message, to, TransportLimits.wireBytes(message), limits.largeFrameBytes(), tooLargeSuppressed);
    tooLargeLastNanos = now;
    tooLargeSuppressed = 0;
  }
}

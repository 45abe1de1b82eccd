package dev.tern.cluster;

import dev.tern.raft.PeerTransport;
import dev.tern.raft.RaftMessage;
import dev.tern.raft.RaftObserver;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.BehaviorInterceptor;
import org.apache.pekko.actor.typed.TypedActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * The replica's events and traffic as Micrometer meters: elections and leader changes (as {@link RaftObserver}),
 * the Raft RPCs it sends (a wrapper around its {@link PeerTransport}) and receives (an interceptor around its
 * inbound behaviour), and the entries per AppendEntries. Every meter is bound once, here: a message costs an
 * {@code instanceof} chain and one or two counter increments, on the thread that sends or receives it.
 */
final class RaftMetrics implements RaftObserver {

  /** The kinds of Raft RPC, as the {@code type} label says them. */
  enum Kind {
    APPEND_ENTRIES("append_entries"),
    APPEND_ENTRIES_RESPONSE("append_entries_response"),
    REQUEST_VOTE("request_vote"),
    REQUEST_VOTE_RESPONSE("request_vote_response"),
    PRE_VOTE("pre_vote"),
    PRE_VOTE_RESPONSE("pre_vote_response"),
    INSTALL_SNAPSHOT("install_snapshot"),
    INSTALL_SNAPSHOT_RESPONSE("install_snapshot_response"),
    TIMEOUT_NOW("timeout_now");

    final String label;

    Kind(String label) {
      this.label = label;
    }

    /** The kind of a Raft RPC; null for anything else (proposals and reads forwarded by fronts, replies to them). */
    static Kind of(Object m) {
      if (m instanceof RaftMessage.AppendEntries) return APPEND_ENTRIES;
      if (m instanceof RaftMessage.AppendEntriesResponse) return APPEND_ENTRIES_RESPONSE;
      if (m instanceof RaftMessage.RequestVote rv) return rv.preVote() ? PRE_VOTE : REQUEST_VOTE;
      if (m instanceof RaftMessage.RequestVoteResponse r) return r.preVote() ? PRE_VOTE_RESPONSE : REQUEST_VOTE_RESPONSE;
      if (m instanceof RaftMessage.InstallSnapshot) return INSTALL_SNAPSHOT;
      if (m instanceof RaftMessage.InstallSnapshotResponse) return INSTALL_SNAPSHOT_RESPONSE;
      if (m instanceof RaftMessage.TimeoutNow) return TIMEOUT_NOW;
      return null;
    }
  }

  private final Counter[] sent = new Counter[Kind.values().length];
  private final Counter[] received = new Counter[Kind.values().length];
  private final DistributionSummary appendBatch;
  private final Counter leaderChanges;
  private final Counter elections;

  RaftMetrics(MeterRegistry registry) {
    for (Kind k : Kind.values()) {
      sent[k.ordinal()] = Counter.builder("tern.raft.messages.sent").tag("type", k.label)
          .description("Raft RPCs this node's replica sent, by type").register(registry);
      received[k.ordinal()] = Counter.builder("tern.raft.messages.received").tag("type", k.label)
          .description("Raft RPCs that reached this node's replica, by type").register(registry);
    }
    appendBatch = DistributionSummary.builder("tern.raft.append.batch").baseUnit("entries")
        .description("Log entries per AppendEntries sent with entries (heartbeats, which carry none, are not counted)")
        .serviceLevelObjectives(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
        .register(registry);
    leaderChanges = Counter.builder("tern.raft.leader.changes")
        .description("Times this node learned of a new leader (itself included)").register(registry);
    elections = Counter.builder("tern.raft.elections")
        .description("Elections this node started as a candidate (pre-votes not counted)").register(registry);
  }

  @Override
  public void electionStarted(long term) {
    elections.increment();
  }

  @Override
  public void leaderChanged(long term, String leaderId) {
    leaderChanges.increment();
  }

  /** Counts what {@code transport} sends. */
  PeerTransport counting(PeerTransport transport) {
    return (to, message) -> {
      onSent(message);
      transport.send(to, message);
    };
  }

  void onSent(RaftMessage message) {
    Kind k = Kind.of(message);
    if (k == null) return;
    sent[k.ordinal()].increment();
    if (k == Kind.APPEND_ENTRIES) {
      int n = ((RaftMessage.AppendEntries) message).entries().size();
      if (n > 0) appendBatch.record(n);
    }
  }

  void onReceived(RaftMessage message) {
    Kind k = Kind.of(message);
    if (k != null) received[k.ordinal()].increment();
  }

  /** {@code inbound} (the replica behind its {@link PeerInbound}), counting the peers' envelopes that reach it. */
  Behavior<Object> countingInbound(Behavior<Object> inbound) {
    return Behaviors.intercept(() -> new Inbound(this), inbound);
  }

  private static final class Inbound extends BehaviorInterceptor<Object, Object> {
    private final RaftMetrics metrics;

    Inbound(RaftMetrics metrics) {
      super(Object.class);
      this.metrics = metrics;
    }

    @Override
    public Behavior<Object> aroundReceive(TypedActorContext<Object> ctx, Object message, ReceiveTarget<Object> target) {
      if (message instanceof PeerGateway.Envelope env) metrics.onReceived(env.message());
      return target.apply(ctx, message);
    }
  }
}

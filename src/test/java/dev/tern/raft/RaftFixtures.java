package dev.tern.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.storage.InMemoryStorage;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.LongConsumer;
import org.apache.pekko.actor.testkit.typed.Effect;
import org.apache.pekko.actor.testkit.typed.javadsl.BehaviorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestInbox;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.internal.InterceptorImpl;

/**
 * Shared helpers for the rule-by-rule tests (*RuleTest): one replica driven synchronously by a
 * {@link BehaviorTestKit}, with its storage, state machine and outgoing peer messages in reach.
 */
final class RaftFixtures {
  private RaftFixtures() {}

  /** One replica under test and everything it touches. */
  static final class Replica {
    final String id;
    final List<String> peers;
    final RaftStorage storage;
    final RecordingStateMachine sm;
    final CapturingTransport transport;
    final BehaviorTestKit<RaftMessage> kit;

    Replica(String id, List<String> peers, RaftSettings settings, RaftStorage storage, RecordingStateMachine sm, long seed) {
      this.id = id;
      this.peers = peers;
      this.storage = storage;
      this.sm = sm;
      this.transport = new CapturingTransport();
      this.kit = BehaviorTestKit.create(RaftReplica.create(id, peers, settings, storage, sm, transport, new Random(seed)));
    }

    /** A replica whose bootstrap configuration is {@code bootstrap} (its peers: the other voters). */
    Replica(String id, Configuration bootstrap, RaftSettings settings, RaftStorage storage, long seed) {
      this.id = id;
      this.peers = bootstrap.voterIds().stream().filter(p -> !p.equals(id)).toList();
      this.storage = storage;
      this.sm = new RecordingStateMachine();
      this.transport = new CapturingTransport();
      this.kit = BehaviorTestKit.create(RaftReplica.create(id, bootstrap, settings, storage, sm, transport, new Random(seed)));
    }

    /** Delivers one message synchronously. */
    void run(RaftMessage m) {
      kit.run(m);
    }

    /** Delivers a request and returns the one reply it produced, which must go back to its sender. */
    <T extends RaftMessage.PeerMessage> T onlyReply(RaftMessage.PeerMessage request, Class<T> type) {
      run(request);
      List<CapturingTransport.Sent> sent = transport.drain();
      assertEquals(1, sent.size(), "exactly one reply expected, got " + sent);
      assertEquals(request.from(), sent.get(0).to());
      return type.cast(sent.get(0).message());
    }

    /** Delivers the messages the replica sent to itself (the leader's Flush after a Propose). */
    void runSelf() {
      while (kit.selfInbox().hasMessages()) kit.runOne();
    }

    RaftMessage.Status status() {
      TestInbox<RaftMessage.Status> inbox = TestInbox.create();
      kit.run(new RaftMessage.GetStatus(inbox.getRef()));
      return inbox.receiveMessage();
    }

    /**
     * The role behaviour (Follower, Candidate or Leader). {@code kit.currentBehavior()} itself is the timer
     * interceptor that Behaviors.withTimers wraps around it, so unwrap that.
     */
    RoleBehavior behavior() {
      Behavior<?> b = kit.currentBehavior();
      while (b instanceof InterceptorImpl<?, ?> i) b = i.nestedBehavior();
      return (RoleBehavior) b;
    }

    RaftLog log() {
      return behavior().s.log;
    }

    /** Proposes a command (not yet flushed) and returns the leader's answer. */
    RaftMessage.ProposeResponse propose(String command) {
      TestInbox<RaftMessage.ProposeResponse> inbox = TestInbox.create();
      kit.run(new RaftMessage.Propose(bytes(command), inbox.getRef()));
      return inbox.receiveMessage();
    }

    /** Times out, collects a vote from each peer until it wins; forgets what it sent and the effects. */
    Leader electLeader() {
      kit.run(RaftMessage.ElectionTimeout.INSTANCE);
      long term = status().term();
      for (String peer : peers) {
        if (behavior() instanceof Leader) break;
        kit.run(new RaftMessage.RequestVoteResponse(term, peer, true));
      }
      assertTrue(behavior() instanceof Leader, "replica did not become leader");
      transport.drain();
      kit.getAllEffects();
      return (Leader) behavior();
    }

    /** The effects since the last call (forgets them). */
    List<Effect> effects() {
      return kit.getAllEffects();
    }

    List<AppendEntriesTo> appendsSent() {
      List<AppendEntriesTo> out = new ArrayList<>();
      for (CapturingTransport.Sent s : transport.drain()) {
        if (s.message() instanceof RaftMessage.AppendEntries ae) out.add(new AppendEntriesTo(s.to(), ae));
      }
      return out;
    }
  }

  record AppendEntriesTo(String to, RaftMessage.AppendEntries ae) {}

  static final List<String> TWO_PEERS = List.of("n2", "n3");
  static final List<String> FOUR_PEERS = List.of("n2", "n3", "n4", "n5");

  /** Node n1 of a three-node cluster, default settings, on the given storage. */
  static Replica replica(RaftStorage storage) {
    return new Replica("n1", TWO_PEERS, TestSettings.DEFAULTS, storage, new RecordingStateMachine(), 1);
  }

  static Replica replica(RaftStorage storage, RaftSettings settings) {
    return new Replica("n1", TWO_PEERS, settings, storage, new RecordingStateMachine(), 1);
  }

  static Replica replica(RaftStorage storage, List<String> peers) {
    return new Replica("n1", peers, TestSettings.DEFAULTS, storage, new RecordingStateMachine(), 1);
  }

  /** Storage holding the given term, vote and a log whose entry i+1 has term terms[i]. */
  static InMemoryStorage storage(long term, String votedFor, long... terms) {
    InMemoryStorage storage = new InMemoryStorage();
    storage.submit(new RaftStorage.Write(new HardState(term, votedFor), 0, log(terms)));
    return storage;
  }

  /** Commands at indexes 1..n with the given terms; entry i carries the bytes "e{i}". */
  static List<LogEntry> log(long... terms) {
    return entries(1, terms);
  }

  /** Commands at indexes from.. with the given terms. */
  static List<LogEntry> entries(long from, long... terms) {
    List<LogEntry> out = new ArrayList<>();
    for (int i = 0; i < terms.length; i++) out.add(LogEntry.command(from + i, terms[i], bytes("e" + (from + i))));
    return out;
  }

  static long[] terms(List<LogEntry> entries) {
    return entries.stream().mapToLong(LogEntry::term).toArray();
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static String string(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }

  /** The election-timer schedulings among these effects. */
  static List<Effect.TimerScheduled<?>> electionTimers(List<Effect> effects) {
    return timers(effects, ReplicaState.ELECTION_TIMER);
  }

  static List<Effect.TimerScheduled<?>> timers(List<Effect> effects, Object key) {
    List<Effect.TimerScheduled<?>> out = new ArrayList<>();
    for (Effect e : effects) {
      if (e instanceof Effect.TimerScheduled<?> t && key.equals(t.key())) out.add(t);
    }
    return out;
  }

  static boolean cancelled(List<Effect> effects, Object key) {
    return effects.stream().anyMatch(e -> e instanceof Effect.TimerCancelled c && key.equals(c.key()));
  }

  /**
   * Storage whose writes are applied at once (visible through {@link #inner}) but become durable only when
   * the test says so: it shows what a replica does while an fsync is pending.
   */
  static final class GatedStorage implements RaftStorage {
    final InMemoryStorage inner = new InMemoryStorage();
    private long durable;

    GatedStorage(long term, String votedFor, long... terms) {
      inner.submit(new Write(new HardState(term, votedFor), 0, log(terms)));
      durable = inner.durableTicket();
    }

    @Override
    public Persisted load() {
      return inner.load();
    }

    @Override
    public long submit(Write write) {
      return inner.submit(write);
    }

    @Override
    public long durableTicket() {
      return durable;
    }

    /** Makes the writes up to {@code ticket} durable, not those after (storage completes writes in order). */
    long syncTo(long ticket) {
      durable = ticket;
      return durable;
    }

    /** The ticket of the last write submitted (durable or not). */
    long lastSubmitted() {
      return inner.durableTicket();
    }

    /** Makes every write submitted so far durable; returns the ticket to report in StorageSynced. */
    long syncAll() {
      durable = inner.durableTicket();
      return durable;
    }

    @Override
    public void onDurable(LongConsumer listener) {
      // The test delivers StorageSynced itself.
    }

    @Override
    public void saveSnapshot(SnapshotMeta meta, StateMachine.SnapshotData data, java.util.function.Consumer<Throwable> done) {
      inner.saveSnapshot(meta, data, done);
    }

    @Override
    public void readSnapshotChunk(SnapshotMeta meta, long offset, int maxBytes, java.util.function.Consumer<Chunk> done) {
      inner.readSnapshotChunk(meta, offset, maxBytes, done);
    }

    @Override
    public void writeSnapshotChunk(
        SnapshotMeta meta, long offset, byte[] data, boolean last, java.util.function.Consumer<ChunkWritten> done) {
      inner.writeSnapshotChunk(meta, offset, data, last, done);
    }
  }

  /** Leader n1 of term 1 with eight commands (entries 2..9) committed by n2 and applied; n3 never answered. */
  static Replica leaderWithEightCommitted(RaftSettings settings) {
    Replica r = replica(new InMemoryStorage(), settings);
    r.electLeader();
    for (int i = 0; i < 8; i++) r.propose("command-" + i);
    r.runSelf();
    r.run(RaftMessage.AppendEntriesResponse.success(1, "n2", 9));
    r.runSelf();
    return r;
  }
}

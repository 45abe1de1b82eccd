package dev.tern.raft;

import dev.tern.cluster.Member;
import dev.tern.cluster.Members;
import dev.tern.cluster.PeerGateway;
import dev.tern.http.AppliedNotifier;
import dev.tern.http.KvFront;
import dev.tern.http.KvLimits;
import dev.tern.http.SimFronts;
import dev.tern.kv.KvEvent;
import dev.tern.kv.KvStateMachine;
import dev.tern.kv.WatchHub;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.pekko.actor.testkit.typed.Effect;
import org.apache.pekko.actor.testkit.typed.javadsl.BehaviorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestInbox;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The rest of each node in the {@link Simulation}: the real front ({@code KvFrontBehavior}, in a
 * {@link BehaviorTestKit} like the replicas) and the real key-value state machine ({@link KvStateMachine}, wrapped
 * by {@link AppliedNotifier} as in {@code TernNode}), so that simulated clients go through the code real clients
 * do. The front's clock is the simulation's and its command ids are seeded.
 *
 * <p>Routes: the front's requests to its own replica are delivered 20-200 us later (same process, never lost);
 * those to another node's replica ({@link PeerGateway.Outbound}) cross the simulated network, and so do the
 * answers, which the remote replica sends to a stand-in for the front's reply adapter. A crash ends the front
 * with its replica; a restart starts a new front (new command-id prefix) on the recovered replica.
 */
final class KvSimulation implements SimExtension {
  /** The front's request timeout: as FaultIT's nodes, 2 s. */
  static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(2);
  static final KvLimits LIMITS = new KvLimits(1024, 1 << 20, 10_000, REQUEST_TIMEOUT, 10_000);

  final Simulation sim;
  private final Members members;
  private final Map<String, Front> fronts = new HashMap<>();
  /** Answers on their way back: per target replica, the stand-ins it may answer to. */
  private final Map<String, List<Proxy<?>>> proxiesAt = new HashMap<>();
  final KvReplicaMachine.Stats stats = new KvReplicaMachine.Stats();
  /** Told when a node crashes, with the node's id (the clients drop what they were waiting for there). */
  private Consumer<String> onCrash = id -> {};
  /** Proposals and read-index requests the fronts sent (first tries, re-sends and probes). */
  long proposalsSent;
  long readRequestsSent;

  KvSimulation(Simulation sim, List<String> ids) {
    this.sim = sim;
    List<Member> all = new ArrayList<>();
    for (int i = 0; i < ids.size(); i++) all.add(new Member(ids.get(i), "127.0.0.1", 7101 + i, 8101 + i));
    this.members = new Members(all);
  }

  /** A simulation of {@code nodes} nodes, replicas, fronts and state machines. */
  static KvSimulation create(long seed, Simulation.Options options) {
    List<String> ids = new ArrayList<>();
    for (int i = 1; i <= options.nodes(); i++) ids.add("n" + i);
    KvSimulation[] self = new KvSimulation[1];
    new Simulation(seed, options, s -> self[0] = new KvSimulation(s, ids));
    return self[0];
  }

  void onCrash(Consumer<String> listener) {
    this.onCrash = listener;
  }

  /** One run of a node's front. */
  final class Front {
    final String id;
    final int incarnation;
    final BehaviorTestKit<KvFront.Command> kit;
    final AppliedNotifier notifier;
    /** What the front sends its own replica, and other nodes' (through the gateway). */
    final TestInbox<RaftMessage> replica = TestInbox.create();
    final TestInbox<PeerGateway.Command> gateway = TestInbox.create();
    final Map<Object, Long> timerGeneration = new HashMap<>();
    final Map<String, Proxy<?>> proxies = new HashMap<>();
    boolean alive = true;
    boolean drainScheduled;

    Front(String id, int incarnation) {
      this.id = id;
      this.incarnation = incarnation;
      String prefix = String.format("%08x", sim.randomInt(Integer.MAX_VALUE));
      this.kit = BehaviorTestKit.create(SimFronts.create(id, members, LIMITS, () -> sim.nowNanos() + 1_000_000_000L, prefix));
      this.notifier = AppliedNotifier.create(kit.getRef(), new WatchHub(Integer.MAX_VALUE, Long.MAX_VALUE));
      watch();
    }

    KvStateMachine kv() {
      return notifier.kv();
    }

    /** A watch of every key from this replica's next change; again whenever a restored snapshot ends it. */
    private void watch() {
      try {
        WatchHub.Registration r = notifier.kv().watches().watch("", false, 0, new WatchHub.Watcher() {
          @Override
          public boolean offer(List<KvEvent> events) {
            seen.put(events.get(0).revision(), events);
            return true;
          }

          @Override
          public void lost(long resumeFrom, long oldestRevision) {
            segments.add(new long[] {segmentStart, resumeFrom - 1});
            watch();
          }
        });
        segmentStart = r.startRevision();
      } catch (WatchHub.CompactedException e) {
        throw new AssertionError("a watch from the next change cannot be compacted", e);
      }
    }

    /** What this replica's watches saw, by revision, and the revision ranges they covered without a break. */
    final Map<Long, List<KvEvent>> seen = new HashMap<>();
    final List<long[]> segments = new ArrayList<>();
    long segmentStart;
  }

  /**
   * The changes a replica's current watch saw agree with its state: each key written since the watch began has a put
   * of that value at that revision as its last change, and a key whose last change is a delete is absent. A change
   * no replica reported would otherwise go unnoticed by the comparison between replicas.
   */
  private static void agreesWithState(Front f) {
    long start = f.segmentStart;
    long end = f.kv().lastApplied();
    Map<String, KvEvent> last = new HashMap<>();
    for (Map.Entry<Long, List<KvEvent>> e : new java.util.TreeMap<>(f.seen).entrySet()) {
      if (e.getKey() < start || e.getKey() > end) continue;
      for (KvEvent change : e.getValue()) last.put(change.key(), change);
    }
    var state = f.kv().contents();
    state.forEach((key, held) -> {
      if (held.revision() < start) return;
      KvEvent change = last.get(key);
      if (change == null || change.isDelete() || change.revision() != held.revision() || !change.value().equals(held.value())) {
        throw new InvariantChecker.Violation("Watches", f.id + " holds " + key + " at revision " + held.revision()
            + " but its watch's last change of it is " + change);
      }
    });
    last.forEach((key, change) -> {
      var held = state.get(key);
      boolean agrees = change.isDelete() ? held == null : held != null && held.revision() == change.revision();
      if (!agrees) {
        throw new InvariantChecker.Violation("Watches", f.id + "'s watch last saw " + change + " but it holds " + held);
      }
    });
  }

  /**
   * Watches (issue 11): every replica makes the same changes at the same revisions, and a watch misses none within
   * the revisions it covered: for each revision some replica's watch saw, every other replica whose watch covered it
   * saw the same changes.
   */
  void checkWatches() {
    Map<Long, List<KvEvent>> union = new HashMap<>();
    for (Front f : fronts.values()) {
      for (Map.Entry<Long, List<KvEvent>> e : f.seen.entrySet()) {
        List<KvEvent> other = union.putIfAbsent(e.getKey(), e.getValue());
        if (other != null && !other.equals(e.getValue())) {
          throw new InvariantChecker.Violation("Watches", f.id + " saw " + e.getValue() + " at revision " + e.getKey()
              + ", another replica " + other);
        }
      }
    }
    for (Front f : fronts.values()) agreesWithState(f);
    for (Front f : fronts.values()) {
      List<long[]> covered = new ArrayList<>(f.segments);
      covered.add(new long[] {f.segmentStart, f.kv().lastApplied()});
      for (long[] range : covered) {
        for (Map.Entry<Long, List<KvEvent>> e : union.entrySet()) {
          long rev = e.getKey();
          if (rev >= range[0] && rev <= range[1] && !e.getValue().equals(f.seen.get(rev))) {
            throw new InvariantChecker.Violation("Watches", f.id + "'s watch covered revisions " + range[0] + ".."
                + range[1] + " but saw " + f.seen.get(rev) + " at " + rev + " where another replica saw " + e.getValue());
          }
        }
      }
    }
  }

  /** Stands in for a front's reply adapter at another node's replica: answers go back over the network. */
  private record Proxy<R>(Front origin, String target, ActorRef<R> replyTo, TestInbox<R> inbox) {
    void drain(Simulation sim, KvSimulation kvSim) {
      while (inbox.hasMessages()) {
        R answer = inbox.receiveMessage();
        sim.transmit(target, origin.id, () -> {
          if (!origin.alive) return;
          replyTo.tell(answer);
          kvSim.run(origin);
        }, (Object) new Object() {
          @Override
          public String toString() {
            return target + "->" + origin.id + " (front) " + answer;
          }
        });
      }
    }
  }

  // ---- the node's life (SimExtension) -------------------------------------------------------------------

  @Override
  public StateMachine stateMachine(String id, int incarnation, StateMachine checking) {
    Front f = new Front(id, incarnation);
    fronts.put(id, f);
    return new KvReplicaMachine(id, checking, f.notifier, stats);
  }

  @Override
  public void started(String id, int incarnation) {
    Front f = fronts.get(id);
    f.kit.run(KvFront.init(f.replica.getRef(), f.gateway.getRef(), f.kv()));
    run(f);
  }

  @Override
  public void crashed(String id) {
    Front f = fronts.remove(id);
    if (f != null) f.alive = false;
    // Answers the dead replica had not sent yet die with it.
    for (Proxy<?> p : proxiesAt.getOrDefault(id, List.of())) p.inbox().getAllReceived();
    onCrash.accept(id);
  }

  @Override
  public void settled(String id) {
    Front f = fronts.get(id);
    if (f != null && f.kit.selfInbox().hasMessages()) scheduleRun(f);
    List<Proxy<?>> waiting = proxiesAt.get(id);
    if (waiting == null) return;
    waiting.removeIf(p -> !p.origin().alive);
    for (Proxy<?> p : List.copyOf(waiting)) p.drain(sim, this);
  }

  // ---- running the front --------------------------------------------------------------------------------

  /** The front of a live node, or null. */
  Front front(String id) {
    Front f = fronts.get(id);
    return f != null && f.alive && sim.up(id) ? f : null;
  }

  /** A client request to the front of {@code id}, which must be up. */
  void request(String id, KvFront.Command command) {
    Front f = fronts.get(id);
    f.kit.run(command);
    run(f);
  }

  private void scheduleRun(Front f) {
    if (f.drainScheduled) return;
    f.drainScheduled = true;
    sim.atNanos(sim.randomBetween(20_000, 200_000), () -> {
      f.drainScheduled = false;
      if (f.alive) run(f);
    }, "front " + f.id);
  }

  /** Runs the front's pending messages and timers, then sends on what it sent. */
  void run(Front f) {
    while (true) {
      for (Effect e : f.kit.getAllEffects()) {
        if (e instanceof Effect.TimerScheduled<?> t) {
          scheduleTimer(f, t, f.timerGeneration.merge(t.key(), 1L, Long::sum));
        } else if (e instanceof Effect.TimerCancelled c) {
          f.timerGeneration.merge(c.key(), 1L, Long::sum);
        }
      }
      if (!f.kit.selfInbox().hasMessages()) break;
      f.kit.runOne();
    }
    f.kit.clearLog();
    List<RaftMessage> local = f.replica.getAllReceived();
    List<PeerGateway.Command> remote = f.gateway.getAllReceived();
    for (RaftMessage m : local) count(m);
    for (PeerGateway.Command c : remote) count(((PeerGateway.Outbound) c).message());
    for (RaftMessage m : local) {
      sim.atNanos(sim.randomBetween(20_000, 200_000), () -> {
        if (f.alive) sim.deliverLocally(f.id, m);
      }, (Object) new Object() {
        @Override
        public String toString() {
          return f.id + " front->replica " + m;
        }
      });
    }
    for (PeerGateway.Command c : remote) {
      PeerGateway.Outbound out = (PeerGateway.Outbound) c;
      RaftMessage m = viaProxy(f, out.to(), out.message());
      sim.transmit(f.id, out.to(), () -> sim.deliverLocally(out.to(), m), (Object) new Object() {
        @Override
        public String toString() {
          return f.id + "->" + out.to() + " (front) " + m;
        }
      });
    }
  }

  private void count(RaftMessage m) {
    if (m instanceof RaftMessage.Propose) proposalsSent++;
    else if (m instanceof RaftMessage.ReadIndex) readRequestsSent++;
  }

  private void scheduleTimer(Front f, Effect.TimerScheduled<?> t, long gen) {
    sim.atNanos(t.delay().toNanos(), () -> {
      if (!f.alive || f.timerGeneration.getOrDefault(t.key(), 0L) != gen) return;
      if (!t.mode().equals(Effect.timerScheduled().singleMode())) scheduleTimer(f, t, gen);
      t.send().apply();
      run(f);
    }, "timer front " + f.id + " " + t.msg());
  }

  /** The request as the remote replica gets it: its answers go to a stand-in, which sends them back. */
  private RaftMessage viaProxy(Front f, String target, RaftMessage m) {
    if (m instanceof RaftMessage.Propose p) {
      return new RaftMessage.Propose(p.command(), proxy(f, target, "propose", p.replyTo()), p.requestId());
    }
    if (m instanceof RaftMessage.ReadIndex r) {
      return new RaftMessage.ReadIndex(proxy(f, target, "read", r.replyTo()), r.requestId());
    }
    throw new IllegalStateException("the front sent " + m + " to " + target);
  }

  @SuppressWarnings("unchecked")
  private <R> ActorRef<R> proxy(Front f, String target, String kind, ActorRef<R> replyTo) {
    Proxy<R> p = (Proxy<R>) f.proxies.computeIfAbsent(kind + " " + target, k -> {
      Proxy<R> created = new Proxy<>(f, target, replyTo, TestInbox.create());
      proxiesAt.computeIfAbsent(target, t -> new ArrayList<>()).add(created);
      return created;
    });
    if (!p.replyTo().equals(replyTo)) throw new IllegalStateException("the front's reply adapter changed");
    return p.inbox().getRef();
  }

  // ---- observation ----------------------------------------------------------------------------------------

  /** The state machine of a live node, or null. */
  KvStateMachine kv(String id) {
    Front f = front(id);
    return f == null ? null : f.kv();
  }

  List<String> ids() {
    return sim.ids();
  }
}

package dev.tern.raft;

import dev.tern.raft.RaftMessage.PeerMessage;
import dev.tern.raft.RaftMessage.ProposeResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.function.BooleanSupplier;
import org.apache.pekko.actor.testkit.typed.Effect;
import org.apache.pekko.actor.testkit.typed.javadsl.BehaviorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestInbox;

/**
 * A deterministic simulation of a Raft cluster in one thread. Each replica is the real actor behaviour run
 * by a {@link BehaviorTestKit}; the simulation owns the clock and delivers every message, timer and fsync
 * as an event, in an order drawn from the seed. Faults: message loss, duplication, delay and reordering,
 * link cuts and partitions, crashes that lose or tear unsynced writes, failing fsyncs that stop a node, and
 * restarts from what was persisted. After every event the {@link InvariantChecker} checks Figure 3's
 * properties and every read index is checked; after the last fault heals, {@link ProgressCheck} checks that
 * the cluster makes progress. Same seed, same run.
 */
final class Simulation {

  /** Knobs of a run; {@link #defaults(int)} is what CI uses. */
  record Options(
      int nodes,
      long minDelayNanos,
      long maxDelayNanos,
      double spikeProbability,
      double duplicateProbability,
      double maxLoss,
      long minFsyncNanos,
      long maxFsyncNanos,
      boolean slowDisks,
      boolean diskFaults,
      boolean trace,
      int spares) {
    static Options defaults(int nodes) {
      return new Options(nodes, 200_000, 5_000_000, 0.02, 0.02, 0.3, 50_000, 2_000_000, true, true, false, 0);
    }

    /**
     * With {@code spares} more nodes that start outside the cluster (with no configuration), and a nemesis that also
     * changes the membership: it adds nodes (as learners, which the leader promotes) and removes members, the leader
     * among them (dissertation chapter 4).
     */
    Options withSpares(int n) {
      return new Options(nodes, minDelayNanos, maxDelayNanos, spikeProbability, duplicateProbability, maxLoss,
          minFsyncNanos, maxFsyncNanos, slowDisks, diskFaults, trace, n);
    }

    /**
     * No loss, duplication or slow paths, and crashes lose every unsynced write (no torn writes): for
     * scripted scenarios, where the test makes the faults.
     */
    static Options quiet(int nodes) {
      return new Options(nodes, 500_000, 2_000_000, 0, 0, 0, 50_000, 500_000, false, false, false, 0);
    }

    Options withTrace(boolean t) {
      return new Options(nodes, minDelayNanos, maxDelayNanos, spikeProbability, duplicateProbability, maxLoss,
          minFsyncNanos, maxFsyncNanos, slowDisks, diskFaults, t, spares);
    }

    /** Torn writes on crash and failing fsyncs (see {@link SimStorage}) on or off. */
    Options withDiskFaults(boolean on) {
      return new Options(nodes, minDelayNanos, maxDelayNanos, spikeProbability, duplicateProbability, maxLoss,
          minFsyncNanos, maxFsyncNanos, slowDisks, on, trace, spares);
    }
  }

  /** Figures from one run. */
  record Result(
      long seed, int nodes, long steps, long simulatedMillis, int committed, int leaderTerms, int crashes, long reads,
      int snapshotsSaved, int snapshotsInstalled, long proposalsAnswered, long readsAnswered, int tornCrashes,
      int tornRecordsDiscarded, int fsyncFailures, ProgressCheck.Outcome progress) {}

  private record Event(long time, long seq, Runnable action, Object what) {}

  final class Node {
    final int index;
    final String id;
    final SimStorage storage;
    BehaviorTestKit<RaftMessage> kit;
    int incarnation;
    CheckingStateMachine stateMachine;
    final Map<Object, Long> timerGeneration = new HashMap<>();
    /** Crash as soon as this node sends something while it holds unsynced writes. */
    boolean armed;
    /** Stopped because an fsync failed: it stays down until the faults end, then restarts on what was durable. */
    boolean stoppedByDisk;
    /** Some disks are slow: then a leader hears followers acknowledge before its own fsync completes. */
    final long fsyncFactor;
    /** Its data directory's incarnation (see {@link Configuration.Server}): a new one when its disk is wiped. */
    long dataIncarnation;

    Node(int index) {
      this.index = index;
      this.id = "n" + (index + 1);
      this.dataIncarnation = index + 1; // deterministic, and drawing nothing from the seeded random
      this.storage = new SimStorage(new SimStorage.Disk() {
        @Override
        public void scheduleFsync(SimStorage storage, long upToTicket) {
          Node.this.scheduleFsync(storage, upToTicket);
        }

        @Override
        public void later(Runnable io) {
          int inc = incarnation;
          schedule(fsyncFactor * between(options.minFsyncNanos(), options.maxFsyncNanos()), () -> {
            if (incarnation == inc && up()) {
              io.run();
              settle(Node.this);
            }
          }, "snapshot io " + id);
        }
      });
      this.fsyncFactor = options.slowDisks() && random.nextInt(3) == 0 ? 10 : 1;
      // As TernNode does on FileStorage.onFailure: without its disk the node stops. Stopping takes a moment
      // (the ActorSystem terminates), in which the replica may still run; it must acknowledge nothing then.
      this.storage.onFailure(() -> {
        int inc = incarnation;
        note("fsync failed on " + id + "; stopping it");
        // TernNode terminates the ActorSystem, which takes a while: up to a few heartbeats here.
        schedule(between(1_000_000, 60_000_000), () -> {
          if (incarnation == inc) stopOnDiskFailure(this);
        }, "stop " + id + " after its failed fsync");
      });
    }

    boolean up() {
      return kit != null;
    }

    /** Handed over by the replica when it starts (the behaviour itself is wrapped by its timers). */
    ReplicaState state;

    RaftMessage.Role role() {
      return state.role;
    }

    ReplicaState state() {
      return state;
    }

    private void scheduleFsync(SimStorage storage, long ticket) {
      int inc = incarnation;
      long delay = fsyncFactor * between(options.minFsyncNanos(), options.maxFsyncNanos());
      schedule(delay, () -> {
        if (incarnation == inc && up()) {
          storage.sync();
          settle(this);
        }
      }, "fsync " + id);
    }
  }

  /** Applies to a real state machine while reporting every applied entry to the checker. */
  final class CheckingStateMachine implements StateMachine {
    private final String id;
    private long lastApplied;
    final List<LogEntry> applied = new ArrayList<>();

    CheckingStateMachine(String id) {
      this.id = id;
    }

    @Override
    public void apply(LogEntry entry) {
      if (entry.index() != lastApplied + 1) {
        throw new InvariantChecker.Violation("apply order", id + " applied " + entry + " after " + lastApplied);
      }
      checker.applied(id, entry);
      applied.add(entry);
      lastApplied = entry.index();
    }

    @Override
    public long lastApplied() {
      return lastApplied;
    }

    @Override
    public SnapshotData snapshot() {
      List<LogEntry> copy = List.copyOf(applied);
      return out -> EntryListCodec.write(out, copy);
    }

    /** A snapshot must hold exactly the entries applied at those indexes everywhere (State Machine Safety). */
    @Override
    public void restore(long lastIncludedIndex, java.io.InputStream in) {
    byte[] data = readAll(in);
      List<LogEntry> entries = EntryListCodec.read(data);
      if (entries.size() != lastIncludedIndex) {
        throw new InvariantChecker.Violation("snapshot", id + " restored " + entries.size() + " entries as index " + lastIncludedIndex);
      }
      for (int i = 0; i < entries.size(); i++) {
        if (entries.get(i).index() != i + 1) throw new InvariantChecker.Violation("snapshot", id + " snapshot out of order");
        checker.applied(id, entries.get(i));
      }
      applied.clear();
      applied.addAll(entries);
      lastApplied = lastIncludedIndex;
      restores++;
    }
  }

  private long restores;
  /** The rest of each node, when the simulation runs more than replicas; null otherwise. */
  private final SimExtension extension;

  final long seed;
  final Options options;
  private final Random random;
  private final RaftSettings settings;
  private final PriorityQueue<Event> queue =
      new PriorityQueue<>((a, b) -> a.time != b.time ? Long.compare(a.time, b.time) : Long.compare(a.seq, b.seq));
  private final List<Node> nodes = new ArrayList<>();
  private final Map<String, Node> byId = new HashMap<>();
  final InvariantChecker checker = new InvariantChecker();
  private final boolean[][] blocked;
  /** Bumped whenever a link is cut: a message in flight across a cut is lost even if the link heals. */
  private final long[][] linkEpoch;
  private double loss;
  private long now;
  private long seq;
  private long steps;
  private int crashes;
  private long proposals;
  private final ArrayDeque<String> recent = new ArrayDeque<>();
  // CheckQuorum (dissertation 6.2): since when each node has led its term while cut off from a majority (-1: not).
  private final long[] cutOffSince;
  private final long[] cutOffTerm;
  /** The nodes (a bit each) the cut-off leader could reach, itself included, when its clock (re)started. */
  private final long[] cutOffReach;
  private int cutOffLeadersSteppedDown;
  private int transfersCompleted;
  /** Leadership transfers the nemesis asked for (dissertation 3.10), and their answers' inboxes. */
  private final List<TestInbox<RaftMessage.TransferLeadershipResponse>> transfers = new ArrayList<>();
  /** The last peer message delivered, and to whom: scenarios wait for a particular one. */
  PeerMessage lastDelivered;
  String lastDeliveredTo;

  /**
   * The shipped settings (pre-vote on), except one seed in four runs the plain protocol of Figure 2; snapshots
   * are small and frequent (every 1-4 KB of applied entries, with 0-20 trailing entries, sent in pieces of
   * 64-512 bytes), so that compaction and InstallSnapshot happen many times in every run.
   */
  Simulation(long seed, Options options) {
    this(seed, options, settingsFor(seed), null);
  }

  /** With more of each node than its replica run along (see {@link SimExtension}). */
  Simulation(long seed, Options options, java.util.function.Function<Simulation, SimExtension> extension) {
    this(seed, options, settingsFor(seed), extension);
  }

  Simulation(long seed, Options options, RaftSettings settings) {
    this(seed, options, settings, null);
  }

  private static RaftSettings settingsFor(long seed) {
    return TestSettings.SHIPPED.withPreVote(Math.floorMod(seed, 4) != 3).withSnapshots(
        1024L << Math.floorMod(seed, 3), (int) Math.floorMod(seed * 7, 21), 64 << Math.floorMod(seed * 13, 4));
  }

  private Simulation(long seed, Options options, RaftSettings settings,
      java.util.function.Function<Simulation, SimExtension> extension) {
    this.settings = settings;
    this.seed = seed;
    this.options = options;
    this.random = new Random(seed);
    int all = options.nodes() + options.spares();
    this.blocked = new boolean[all][all];
    this.linkEpoch = new long[all][all];
    this.cutOffSince = new long[all];
    this.cutOffTerm = new long[all];
    this.cutOffReach = new long[all];
    java.util.Arrays.fill(cutOffSince, -1);
    for (int i = 0; i < all; i++) {
      Node n = new Node(i);
      nodes.add(n);
      byId.put(n.id, n);
    }
    this.extension = extension == null ? null : extension.apply(this);
    for (Node n : nodes) start(n);
    check();
  }

  // ---- the event loop ---------------------------------------------------------------------------------

  private void schedule(long delayNanos, Runnable action, Object what) {
    queue.add(new Event(now + delayNanos, seq++, action, what));
  }

  /** Runs one event, then checks every invariant. Returns false when nothing is left to run. */
  boolean step() {
    Event e = queue.poll();
    if (e == null) return false;
    now = e.time();
    steps++;
    if (options.trace()) System.out.printf("%10.3fms %s%n", now / 1e6, e.what());
    recent.addLast(String.valueOf(e.what()));
    if (recent.size() > 40) recent.removeFirst();
    e.action().run();
    check();
    checkRequests();
    if (!changes.isEmpty()) checkChanges();
    return true;
  }

  void runFor(Duration d) {
    long end = now + d.toNanos();
    while (!queue.isEmpty() && queue.peek().time() <= end) step();
    now = Math.max(now, end);
  }

  /** Runs until the condition holds; false if it did not within {@code limit} of simulated time. */
  boolean runUntil(BooleanSupplier condition, Duration limit) {
    long end = now + limit.toNanos();
    while (!condition.getAsBoolean()) {
      if (queue.isEmpty() || queue.peek().time() > end) return false;
      step();
    }
    return true;
  }

  private void check() {
    List<InvariantChecker.View> views = new ArrayList<>();
    for (Node n : nodes) if (n.up()) views.add(new InvariantChecker.View(n.id, n.role(), n.state()));
    checker.check(views);
    checkCutOffLeaders();
  }

  /**
   * CheckQuorum (dissertation 6.2): a leader cut off from a majority (links blocked either way, or the others down)
   * must step down within two of its windows (election-timeout-max in whole heartbeats: replies from before the cut
   * still count for the window it fell in), plus two heartbeats, plus the slowest delivery: a reply a follower sent
   * just before it crashed still arrives (a reply across a cut link does not). The clock starts again whenever the set
   * of nodes it can reach changes: the leader counts who answered during a window, so two minorities one after the
   * other within a window add up to a majority (etcd's check counts the same way).
   */
  private void checkCutOffLeaders() {
    if (!settings.checkQuorum()) return;
    long hb = settings.heartbeatInterval().toNanos();
    long window = (settings.electionTimeoutMax().toNanos() + hb - 1) / hb * hb;
    long bound = 2 * window + 2 * hb + 20 * options.maxDelayNanos();
    for (Node n : nodes) {
      int i = n.index;
      if (!n.up() || n.role() != RaftMessage.Role.LEADER) {
        if (cutOffSince[i] >= 0 && n.up()) cutOffLeadersSteppedDown++;
        cutOffSince[i] = -1;
        continue;
      }
      // A majority of the voters of its configuration in force (learners and spares never count).
      Configuration voters = n.state().configurations.latest();
      int reachable = 0;
      long reach = 0;
      for (Node m : nodes) {
        if (voters.isVoter(m.id) && (m == n || m.up() && !blocked[i][m.index] && !blocked[m.index][i])) {
          reachable++;
          reach |= 1L << m.index;
        }
      }
      long term = n.state().currentTerm;
      if (voters.isQuorum(reachable)) {
        cutOffSince[i] = -1;
      } else if (cutOffSince[i] < 0 || cutOffTerm[i] != term || cutOffReach[i] != reach) {
        cutOffSince[i] = now;
        cutOffTerm[i] = term;
        cutOffReach[i] = reach;
      } else if (now - cutOffSince[i] > bound) {
        throw new InvariantChecker.Violation("CheckQuorum", n.id + " still leads term " + term + " after "
            + (now - cutOffSince[i]) / 1_000_000 + " ms cut off from a majority (bound " + bound / 1_000_000 + " ms)");
      }
    }
  }

  // ---- replicas ---------------------------------------------------------------------------------------

  private void start(Node n) {
    n.incarnation++;
    n.timerGeneration.clear();
    n.stateMachine = new CheckingStateMachine(n.id);
    // The first options.nodes() nodes are the bootstrap configuration of a new cluster; spares start with none and
    // wait to be added (a node's log or snapshot, once it holds a configuration, takes over from its bootstrap).
    List<String> members = new ArrayList<>();
    for (int i = 0; i < options.nodes(); i++) members.add(nodes.get(i).id);
    Configuration bootstrap = n.index < options.nodes() ? Configuration.ofVoters(members) : Configuration.EMPTY;
    int inc = n.incarnation;
    PeerTransport transport = (to, msg) -> send(n, inc, byId.get(to), msg);
    StateMachine machine = extension == null ? n.stateMachine : extension.stateMachine(n.id, inc, n.stateMachine);
    n.kit = BehaviorTestKit.create(RaftReplica.create(
        n.id, bootstrap, settings, n.storage, machine, transport, new Random(seed * 1_000_003L + n.index * 7919L + inc),
        state -> n.state = state));
    checker.restarted(n.id);
    settle(n);
    if (extension != null && n.incarnation == inc) extension.started(n.id, inc);
  }

  /** Delivers a message to a live replica and runs whatever it sends itself. */
  private void deliver(Node n, RaftMessage m) {
    if (!n.up()) return;
    try {
      n.kit.run(m);
    } catch (IllegalStateException e) {
      if (!diedOfDisk(n, e)) throw e;
      return;
    }
    settle(n);
  }

  /**
   * A replica whose storage failed throws on its next write (as with FileStorage), which stops the actor: the
   * node is down from then on. Any other exception is a bug.
   */
  private boolean diedOfDisk(Node n, IllegalStateException e) {
    if (!n.storage.failed()) return false;
    note(n.id + " stopped: its storage refused a write after the failed fsync");
    stopOnDiskFailure(n);
    return true;
  }

  private void stopOnDiskFailure(Node n) {
    if (!n.up()) return;
    crash(n.id);
    n.stoppedByDisk = true;
  }

  /** Turns the replica's timer effects into events and drains its self-addressed messages. */
  private void settle(Node n) {
    try {
      settleOrThrow(n);
    } catch (IllegalStateException e) {
      if (!diedOfDisk(n, e)) throw e;
    }
    if (extension != null && n.up()) extension.settled(n.id);
  }

  private void settleOrThrow(Node n) {
    while (true) {
      for (Effect e : n.kit.getAllEffects()) {
        if (e instanceof Effect.TimerScheduled<?> t) {
          long gen = n.timerGeneration.merge(t.key(), 1L, Long::sum);
          scheduleTimer(n, n.incarnation, t, gen);
        } else if (e instanceof Effect.TimerCancelled c) {
          n.timerGeneration.merge(c.key(), 1L, Long::sum);
        }
      }
      if (!n.kit.selfInbox().hasMessages()) break;
      n.kit.runOne();
    }
    n.kit.clearLog();
  }

  private void scheduleTimer(Node n, int inc, Effect.TimerScheduled<?> t, long gen) {
    schedule(t.delay().toNanos(), () -> {
      if (n.incarnation != inc || !n.up() || n.timerGeneration.getOrDefault(t.key(), 0L) != gen) return;
      if (!t.mode().equals(Effect.timerScheduled().singleMode())) scheduleTimer(n, inc, t, gen);
      t.send().apply();
      settle(n);
    }, (Object) new Object() {
      @Override
      public String toString() {
        return "timer " + n.id + " " + t.msg();
      }
    });
  }

  // ---- network ----------------------------------------------------------------------------------------

  private void send(Node from, int inc, Node to, PeerMessage m) {
    if (from.incarnation != inc) return;
    if (from.storage.failed() && acknowledges(m)) {
      // Figure 2: servers respond to RPCs only after updating stable storage. After a failed fsync nothing
      // becomes durable, so nothing may be acknowledged.
      throw new InvariantChecker.Violation("Durability", from.id + " acknowledged after its fsync failed: " + m);
    }
    if (from.armed && from.storage.hasUnsynced()) {
      // The most dangerous moment to die: a message is out while the writes before it are not durable.
      // Correct code only lets this happen for what does not depend on those writes.
      from.armed = false;
      schedule(0, () -> crash(from.id), "crash " + from.id + " with unsynced writes after sending " + m);
    }
    if (blocked[from.index][to.index] || random.nextDouble() < loss) return;
    long epoch = linkEpoch[from.index][to.index];
    int copies = random.nextDouble() < options.duplicateProbability() ? 2 : 1;
    for (int c = 0; c < copies; c++) {
      long delay = between(options.minDelayNanos(), options.maxDelayNanos());
      if (random.nextDouble() < options.spikeProbability()) delay *= 20; // a slow path reorders messages
      schedule(delay, () -> {
        if (linkEpoch[from.index][to.index] == epoch && to.up()) {
          if (incarnations && !sameIncarnation(from, to)) return;
          lastDelivered = m;
          lastDeliveredTo = to.id;
          deliver(to, m);
          if (incarnations) reportUnpublished(from, to);
        }
      }, (Object) new Object() {
        @Override
        public String toString() {
          return from.id + "->" + to.id + " " + m;
        }
      });
    }
  }

  /**
   * With {@link #publishIncarnations}, the receiver's transport does what PeerInbound does on a node: it ignores a
   * sender whose data directory is not the incarnation its configuration publishes.
   */
  private boolean sameIncarnation(Node from, Node to) {
    long known = to.state().configuration().incarnationOf(from.id);
    if (known == Configuration.Server.UNPUBLISHED || known == from.dataIncarnation) return true;
    ignoredFromLost++;
    return false;
  }

  /** ... and reports the sender's incarnation, and its own, while unpublished (once per message here). */
  private void reportUnpublished(Node from, Node to) {
    if (!to.up()) return;
    Configuration c = to.state().configuration();
    if (c.contains(from.id) && c.incarnationOf(from.id) == Configuration.Server.UNPUBLISHED) {
      deliver(to, new RaftMessage.ObservedIncarnation(from.id, from.dataIncarnation));
    }
    if (to.up() && c.contains(to.id) && c.incarnationOf(to.id) == Configuration.Server.UNPUBLISHED) {
      deliver(to, new RaftMessage.ObservedIncarnation(to.id, to.dataIncarnation));
    }
  }

  /** Turns on the transport's incarnation check and reports (docs/storage.md, section 8). */
  void publishIncarnations() {
    incarnations = true;
  }

  /** How many messages the incarnation check dropped. */
  int ignoredFromLostMembers() {
    return ignoredFromLost;
  }

  private boolean incarnations;
  private int ignoredFromLost;

  /**
   * Carries a message between two nodes' non-Raft parts (a front's request to another node's replica, the
   * answer back) over the same network as Raft's messages: same delays, loss, duplication, cuts and partitions.
   * {@code arrival} runs at the destination, if it is up then.
   */
  void transmit(String fromId, String toId, Runnable arrival, Object what) {
    Node from = byId.get(fromId);
    Node to = byId.get(toId);
    if (blocked[from.index][to.index] || random.nextDouble() < loss) return;
    long epoch = linkEpoch[from.index][to.index];
    int copies = random.nextDouble() < options.duplicateProbability() ? 2 : 1;
    for (int c = 0; c < copies; c++) {
      long delay = between(options.minDelayNanos(), options.maxDelayNanos());
      if (random.nextDouble() < options.spikeProbability()) delay *= 20;
      schedule(delay, () -> {
        if (linkEpoch[from.index][to.index] == epoch && to.up()) arrival.run();
      }, what);
    }
  }

  /** Hands a message to the replica of a live node, as its own node's actors do. */
  void deliverLocally(String id, RaftMessage m) {
    deliver(byId.get(id), m);
  }

  /** Runs {@code action} after {@code delayNanos} of simulated time. */
  void atNanos(long delayNanos, Runnable action, Object what) {
    schedule(delayNanos, action, what);
  }

  /** A message that promises its sender's storage holds something: an acknowledgement or a granted vote. */
  private static boolean acknowledges(PeerMessage m) {
    return m instanceof RaftMessage.AppendEntriesResponse r && r.success()
        || m instanceof RaftMessage.RequestVoteResponse v && v.voteGranted() && !v.preVote()
        || m instanceof RaftMessage.InstallSnapshotResponse;
  }

  /** Cuts the cluster into groups that cannot reach each other; nodes not named form one more group. */
  void partition(List<List<String>> groups) {
    int[] group = new int[nodes.size()];
    java.util.Arrays.fill(group, -1);
    for (int g = 0; g < groups.size(); g++) for (String id : groups.get(g)) group[byId.get(id).index] = g;
    for (int i = 0; i < nodes.size(); i++) {
      for (int j = 0; j < nodes.size(); j++) block(i, j, group[i] != group[j]);
    }
    note("partition " + groups);
  }

  /** Cuts every link of one node. */
  void isolate(String id) {
    for (String other : byId.keySet()) if (!other.equals(id)) link(id, other, false);
    note("isolate " + id);
  }

  /** Cuts or restores the link between two nodes, both ways. */
  void link(String a, String b, boolean up) {
    block(byId.get(a).index, byId.get(b).index, !up);
    block(byId.get(b).index, byId.get(a).index, !up);
  }

  private void block(int from, int to, boolean cut) {
    if (cut && !blocked[from][to]) linkEpoch[from][to]++;
    blocked[from][to] = cut;
  }

  void healNetwork() {
    for (boolean[] row : blocked) java.util.Arrays.fill(row, false);
    loss = 0;
    note("heal network");
  }

  void setLoss(double loss) {
    this.loss = loss;
  }

  // ---- faults and clients -----------------------------------------------------------------------------

  void crash(String id) {
    Node n = byId.get(id);
    if (!n.up()) return;
    n.armed = false;
    n.kit = null;
    n.incarnation++;
    n.storage.crash(options.diskFaults() ? random : null);
    crashes++;
    note("crash " + id);
    if (extension != null) extension.crashed(id);
  }

  /** A down node loses its disk: it restarts as from an empty data directory (see {@link SimStorage#wipe}). */
  void wipe(String id) {
    Node n = byId.get(id);
    if (n.up()) throw new IllegalStateException(id + " is up: crash it first");
    n.storage.wipe();
    n.dataIncarnation += 100; // a new data directory
    note("wipe " + id);
  }

  void restart(String id) {
    Node n = byId.get(id);
    if (n.up()) return;
    note("restart " + id);
    n.stoppedByDisk = false;
    start(n);
  }

  /** The node's next fsync fails: it will stop (see {@link SimStorage}). */
  void failNextFsync(String id) {
    byId.get(id).storage.failNextFsync();
    note("next fsync of " + id + " will fail");
  }

  /** A client sends a command to one node; it is accepted only if that node leads. */
  SimRequest.Proposal propose(String id, String command) {
    Node n = byId.get(id);
    proposals++;
    SimRequest.Proposal p = new SimRequest.Proposal(id, n.incarnation, now, ledTerm(n), command);
    if (!n.up()) return p; // lost: nobody listens
    outstanding.add(p);
    deliver(n, new RaftMessage.Propose(command.getBytes(StandardCharsets.UTF_8), p.inbox.getRef()));
    return p;
  }

  private static long ledTerm(Node n) {
    return n.up() && n.role() == RaftMessage.Role.LEADER ? n.state().currentTerm : -1;
  }

  /** Runs {@code action} after {@code delay} of simulated time (for clients that retry). */
  void at(Duration delay, Runnable action, String what) {
    schedule(delay.toNanos(), action, what);
  }

  private void note(String what) {
    if (options.trace()) System.out.printf("%10.3fms %s%n", now / 1e6, what);
    recent.addLast(what);
    if (recent.size() > 40) recent.removeFirst();
  }

  /**
   * The randomized run: clients propose and read throughout while a nemesis injects faults for
   * {@code faultTime}; then every fault heals (every node restarts, on what its disk holds) and
   * {@link ProgressCheck} requires progress within its bounds.
   */
  Result randomized(Duration faultTime, ProgressCheck.Bounds bounds) {
    faultsThenHeal(faultTime, true);
    return result(new ProgressCheck(this, bounds).run());
  }

  /**
   * The nemesis for {@code faultTime} (and this simulation's own clients if {@code rawClients}), then every fault
   * heals: links and loss, armed nodes and failing fsyncs; every node that is down restarts on what its disk holds.
   */
  void faultsThenHeal(Duration faultTime, boolean rawClients) {
    long faultEnd = now + faultTime.toNanos();
    if (rawClients) scheduleClient(faultEnd);
    scheduleNemesis(faultEnd);
    while (!queue.isEmpty() && queue.peek().time() <= faultEnd) step();
    now = faultEnd;
    healNetwork();
    for (Node n : nodes) {
      n.armed = false;
      n.storage.disarmFsyncFailure();
      if (n.up() && n.storage.failed()) stopOnDiskFailure(n); // it was about to stop
      restart(n.id);
    }
  }

  /** The run's figures. */
  Result result(ProgressCheck.Outcome progress) {
    return new Result(seed, nodes.size(), steps, now / 1_000_000, checker.committedCount(), checker.leaderTerms().length,
        crashes, readsConfirmed, nodes.stream().mapToInt(n -> n.storage.snapshotsSaved).sum(),
        nodes.stream().mapToInt(n -> n.storage.snapshotsInstalled).sum(), proposalsAnswered, readsAnswered,
        nodes.stream().mapToInt(n -> n.storage.tornCrashes).sum(),
        nodes.stream().mapToInt(n -> n.storage.tornRecordsDiscarded).sum(),
        nodes.stream().mapToInt(n -> n.storage.fsyncFailures).sum(), progress);
  }

  /** Requests not yet answered, whose node has not crashed since they were asked. */
  private final List<SimRequest<?>> outstanding = new ArrayList<>();
  private long readsConfirmed;
  private long readsAnswered;
  private long proposalsAnswered;

  /** A client asks one node for a read index (ReadIndex, dissertation 6.4). */
  SimRequest.Read read(String id) {
    Node n = byId.get(id);
    SimRequest.Read r = new SimRequest.Read(id, n.incarnation, now, ledTerm(n), checker.committedCount());
    if (!n.up()) return r;
    outstanding.add(r);
    deliver(n, new RaftMessage.ReadIndex(r.inbox.getRef()));
    return r;
  }

  /**
   * Takes the answers that arrived. Linearizable reads: a confirmed read index must be at least every index
   * committed before the read was asked, or a read served at it could miss a completed write. A request to a
   * node that crashed since is dropped: its answer died with the process.
   */
  private void checkRequests() {
    if (outstanding.isEmpty()) return;
    outstanding.removeIf(req -> {
      Object answer = req.answer();
      if (answer == null) return byId.get(req.node).incarnation != req.incarnation;
      if (req instanceof SimRequest.Proposal) {
        proposalsAnswered++;
      } else {
        readsAnswered++;
        if (answer instanceof RaftMessage.ReadIndexResponse.Ok ok) {
          readsConfirmed++;
          long before = ((SimRequest.Read) req).committedBefore;
          if (ok.readIndex() < before) {
            throw new InvariantChecker.Violation("Linearizable read", req.node + " confirmed read index "
                + ok.readIndex() + " but " + before + " entries were committed before the read");
          }
        }
      }
      return true;
    });
  }

  /** Requests still unanswered although the node they were sent to has been running ever since. */
  List<SimRequest<?>> unanswered() {
    checkRequests();
    return List.copyOf(outstanding);
  }

  long readsConfirmed() {
    return readsConfirmed;
  }

  private void scheduleClient(long until) {
    schedule(between(2_000_000, 30_000_000), () -> {
      if (now >= until) return;
      List<Node> live = nodes.stream().filter(Node::up).toList();
      if (!live.isEmpty()) {
        String target = live.get(random.nextInt(live.size())).id;
        if (random.nextInt(3) == 0) read(target);
        else propose(target, "s" + seed + "-c" + proposals);
      }
      scheduleClient(until);
    }, "client");
  }

  private void scheduleNemesis(long until) {
    schedule(between(100_000_000, 1_500_000_000), () -> {
      if (now >= until) return;
      nemesis();
      scheduleNemesis(until);
    }, "nemesis");
  }

  private void nemesis() {
    if (options.spares() > 0 && random.nextInt(100) < 15) {
      changeMembership();
      return;
    }
    List<String> up = nodes.stream().filter(Node::up).map(n -> n.id).toList();
    // A node stopped by its disk stays down until the faults end.
    List<String> down = nodes.stream().filter(n -> !n.up() && !n.stoppedByDisk).map(n -> n.id).toList();
    Optional<String> leader = leader();
    int action = random.nextInt(100);
    if (action < 20) {
      // A random split, or the leader cut off with a minority.
      List<String> ids = new ArrayList<>(byId.keySet());
      java.util.Collections.sort(ids);
      java.util.Collections.shuffle(ids, random);
      int cut = 1 + random.nextInt(ids.size() - 1);
      if (leader.isPresent() && random.nextBoolean()) {
        ids.remove(leader.get());
        ids.add(0, leader.get());
        cut = 1 + random.nextInt((nodes.size() - 1) / 2);
      }
      partition(List.of(ids.subList(0, cut), ids.subList(cut, ids.size())));
    } else if (action < 30) {
      String a = "n" + (1 + random.nextInt(nodes.size()));
      String b = "n" + (1 + random.nextInt(nodes.size()));
      if (!a.equals(b)) link(a, b, false);
    } else if (action < 48) {
      for (boolean[] row : blocked) java.util.Arrays.fill(row, false);
      note("heal links");
    } else if (action < 55) {
      if (!up.isEmpty()) crash(leader.isPresent() && random.nextBoolean() ? leader.get() : up.get(random.nextInt(up.size())));
    } else if (action < 63) {
      if (!up.isEmpty()) byId.get(up.get(random.nextInt(up.size()))).armed = true;
    } else if (action < 85) {
      if (!down.isEmpty()) restart(down.get(random.nextInt(down.size())));
    } else if (action < 90) {
      if (leader.isPresent()) transferLeadership(leader.get(), random.nextBoolean() ? null : "n" + (1 + random.nextInt(nodes.size())));
    } else if (action < 97 || !options.diskFaults()) {
      loss = random.nextDouble() * options.maxLoss();
      note("loss " + loss);
    } else {
      if (!up.isEmpty()) failNextFsync(leader.isPresent() && random.nextBoolean() ? leader.get() : up.get(random.nextInt(up.size())));
    }
  }

  /** Membership changes asked for, answered or not: a Done answer must name a committed configuration. */
  private final List<TestInbox<RaftMessage.ChangeMembershipResponse>> changes = new ArrayList<>();
  private int membershipChangesDone;

  /**
   * The nemesis's membership change, asked of the leader: half the time add a node that is not a member (as a
   * learner; the leader promotes it once caught up), else remove a member, the leader itself one time in three. At
   * least two voters stay, so that the faults that follow still need a real majority.
   */
  private void changeMembership() {
    Optional<String> leader = leader();
    if (leader.isEmpty()) return;
    Node l = byId.get(leader.get());
    Configuration config = l.state().configuration();
    List<String> outside = nodes.stream().map(n -> n.id).filter(id -> !config.contains(id)).toList();
    RaftMessage.Change change;
    if (!outside.isEmpty() && (random.nextBoolean() || config.voterCount() <= 2)) {
      change = new RaftMessage.Change.AddLearner(Configuration.Server.voter(outside.get(random.nextInt(outside.size()))));
    } else if (config.voterCount() > 2 || config.servers().size() > config.voterCount()) {
      List<String> candidates = config.voterCount() > 2 ? config.ids() : config.servers().stream()
          .filter(v -> !v.voter()).map(Configuration.Server::id).toList();
      String id = candidates.contains(l.id) && random.nextInt(3) == 0 ? l.id : candidates.get(random.nextInt(candidates.size()));
      change = new RaftMessage.Change.Remove(id);
    } else {
      return;
    }
    note("membership change at " + l.id + ": " + change);
    if (change.id().equals(l.id)) leaderRemovalsAsked++;
    TestInbox<RaftMessage.ChangeMembershipResponse> inbox = TestInbox.create();
    changes.add(inbox);
    deliver(l, new RaftMessage.ChangeMembership(change, inbox.getRef()));
    checkChanges();
  }

  /** A change answered Done must be committed: its configuration is the one known committed at its index. */
  private void checkChanges() {
    for (TestInbox<RaftMessage.ChangeMembershipResponse> inbox : changes) {
      while (inbox.hasMessages()) {
        if (inbox.receiveMessage() instanceof RaftMessage.ChangeMembershipResponse.Done done) {
          membershipChangesDone++;
          LogEntry committed = checker.committedAt(done.index());
          if (done.index() > 0 && (committed == null || committed.kind() != LogEntry.Kind.CONFIG
              || !committed.configuration().equals(done.configuration()))) {
            throw new InvariantChecker.Violation("Membership", "change answered done at " + done.index() + " with "
                + done.configuration() + " but committed there: " + committed);
          }
        }
      }
    }
  }

  /** How many committed configuration entries promoted a learner, and how many removed the leader that added them. */
  int[] promotionsAndLeaderRemovals() {
    int promotions = 0;
    int leaderRemovals = leaderRemovalsAsked;
    Configuration before = null;
    for (long i = 1; i <= checker.committedCount(); i++) {
      LogEntry e = checker.committedAt(i);
      if (e.kind() != LogEntry.Kind.CONFIG) continue;
      Configuration c = e.configuration();
      if (before != null && c.voterCount() > before.voterCount()) promotions++;
      before = c;
    }
    return new int[] {promotions, leaderRemovals};
  }

  private int leaderRemovalsAsked;

  int membershipChangesDone() {
    checkChanges();
    return membershipChangesDone;
  }

  /**
   * Liveness: waits for a leader whose term is the highest any live replica has, proposes {@code label} to it
   * (again to each new leader), and waits until every replica has applied it.
   */
  boolean commandAppliedEverywhere(String label, Duration limit) {
    long end = now + limit.toNanos();
    String command = "s" + seed + "-" + label;
    byte[] bytes = command.getBytes(StandardCharsets.UTF_8);
    String proposedTo = null;
    long proposedTerm = -1;
    while (now <= end) {
      if (nodes.stream().allMatch(n -> n.up() && appliedCommand(n, bytes))) return true;
      Optional<String> leader = stableLeader();
      if (leader.isPresent()) {
        long term = byId.get(leader.get()).state().currentTerm;
        if (!leader.get().equals(proposedTo) || term != proposedTerm) {
          proposedTo = leader.get();
          proposedTerm = term;
          propose(proposedTo, command);
        }
      }
      if (!step()) return false;
    }
    return false;
  }

  private static boolean appliedCommand(Node n, byte[] command) {
    for (int i = n.stateMachine.applied.size() - 1; i >= 0; i--) {
      if (java.util.Arrays.equals(n.stateMachine.applied.get(i).data(), command)) return true;
    }
    return false;
  }

  // ---- observation ------------------------------------------------------------------------------------

  Optional<String> leader() {
    return nodes.stream().filter(n -> n.up() && n.role() == RaftMessage.Role.LEADER)
        .max((a, b) -> Long.compare(a.state().currentTerm, b.state().currentTerm)).map(n -> n.id);
  }

  /** A live leader whose term no live server of its configuration has passed. */
  Optional<String> stableLeader() {
    return nodes.stream()
        .filter(n -> n.up() && n.role() == RaftMessage.Role.LEADER && n.state().currentTerm == maxTermAmong(n))
        .map(n -> n.id).findFirst();
  }

  /**
   * The highest term among the live servers of {@code leader}'s configuration in force. A server removed while it
   * was down never learns it (dissertation 4.2.3) and may campaign at ever higher terms; it cannot disrupt the
   * leader (CheckQuorum: members that hear from it ignore its RequestVotes), so its term does not count.
   */
  private long maxTermAmong(Node leader) {
    Configuration c = leader.state().configuration();
    return nodes.stream().filter(n -> n.up() && c.contains(n.id))
        .mapToLong(n -> n.state().currentTerm).max().orElse(-1);
  }

  boolean up(String id) {
    return byId.get(id).up();
  }

  ReplicaState state(String id) {
    return byId.get(id).state();
  }

  RaftMessage.Role role(String id) {
    return byId.get(id).role();
  }

  List<LogEntry> applied(String id) {
    return byId.get(id).stateMachine.applied;
  }

  List<String> ids() {
    return nodes.stream().map(n -> n.id).toList();
  }

  long nowMillis() {
    return now / 1_000_000;
  }

  long nowNanos() {
    return now;
  }

  /** The running process of a node: bumped by every crash and restart. */
  int incarnation(String id) {
    return byId.get(id).incarnation;
  }

  /** What the node's state machine has applied up to (0 while it is down). */
  long stateMachineApplied(String id) {
    Node n = byId.get(id);
    return n.up() ? n.stateMachine.lastApplied() : 0;
  }

  /** How many snapshots the node received whole from a leader (InstallSnapshot). */
  int snapshotsInstalled(String id) {
    return byId.get(id).storage.snapshotsInstalled;
  }

  /** Asks the leader {@code id} to hand leadership to {@code target} (null: the most up-to-date voter; 3.10). */
  TestInbox<RaftMessage.TransferLeadershipResponse> transferLeadership(String id, String target) {
    Node n = byId.get(id);
    TestInbox<RaftMessage.TransferLeadershipResponse> inbox = TestInbox.create();
    if (!n.up()) return inbox;
    transfers.add(inbox);
    note("transfer leadership from " + id + " to " + (target == null ? "the most up-to-date voter" : target));
    deliver(n, new RaftMessage.TransferLeadership(target, inbox.getRef()));
    return inbox;
  }

  /** Transfers asked for, and how many of them ended with another node leading a later term. */
  int transfersAsked() {
    return transfers.size();
  }

  int transfersCompleted() {
    for (var inbox : transfers) {
      for (var answer : inbox.getAllReceived()) {
        if (answer instanceof RaftMessage.TransferLeadershipResponse.Transferred) transfersCompleted++;
      }
    }
    return transfersCompleted;
  }

  /** Leaders that stepped down while cut off from a majority (CheckQuorum). */
  int cutOffLeadersSteppedDown() {
    return cutOffLeadersSteppedDown;
  }

  /** Whether the node is up and hands its leadership over: then it refuses proposals (3.10). */
  boolean transferring(String id) {
    Node n = byId.get(id);
    return n.up() && n.state().transfer != null;
  }

  /** Whether the node is up and leads {@code term}. */
  boolean leads(String id, long term) {
    Node n = byId.get(id);
    return n.up() && n.role() == RaftMessage.Role.LEADER && n.state().currentTerm == term;
  }

  /** The live nodes, in id order. */
  List<String> liveIds() {
    return nodes.stream().filter(Node::up).map(n -> n.id).toList();
  }

  /** A random number from the run's seeded source. */
  long randomBetween(long min, long max) {
    return between(min, max);
  }

  int randomInt(int bound) {
    return random.nextInt(bound);
  }

  String describe() {
    StringBuilder b = new StringBuilder("seed=" + seed + " nodes=" + nodes.size() + " t=" + nowMillis() + "ms steps=" + steps);
    if (incarnations) b.append(" ignoredFromLostMembers=").append(ignoredFromLost);
    for (Node n : nodes) {
      if (!n.up()) {
        b.append("\n  ").append(n.id).append(" down");
        continue;
      }
      ReplicaState s = n.state();
      b.append("\n  ").append(n.id).append(' ').append(n.role()).append(" term=").append(s.currentTerm)
          .append(" commit=").append(s.commitIndex).append(" last=").append(s.log.lastIndex())
          .append(" lastTerm=").append(s.log.lastTerm()).append(" config=").append(s.configuration())
          .append('@').append(s.configurations.latestIndex());
    }
    b.append("\n  recent events:");
    for (String r : recent) b.append("\n    ").append(r);
    return b.toString();
  }

  private long between(long min, long max) {
    return min + (long) (random.nextDouble() * (max - min));
  }

  private static byte[] readAll(java.io.InputStream in) {
    try {
      return in.readAllBytes();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}

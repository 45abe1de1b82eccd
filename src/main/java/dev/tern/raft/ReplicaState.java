package dev.tern.raft;

import dev.tern.raft.RaftMessage.PeerMessage;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.slf4j.Logger;

/**
 * The state one replica actor carries from role to role: Figure 2's persistent state (mirrored from storage)
 * and volatile state on all servers, plus the actor's I/O handles. Owned by a single actor and touched only
 * on its thread; the role behaviours hand it to each other on every transition.
 */
final class ReplicaState {
  static final Object ELECTION_TIMER = "election";
  static final Object HEARTBEAT_TIMER = "heartbeat";
  /** At most this many committed entries, or about this many bytes of them, go to the state machine at once. */
  static final int APPLY_BATCH_ENTRIES = 512;
  static final long APPLY_BATCH_BYTES = 4 << 20;

  final String id;
  /**
   * The configurations in the log (dissertation 4.1): the latest is in force, committed or not. Its base is the
   * snapshot's or, in a brand-new cluster, the bootstrap configuration.
   */
  final Configurations configurations;
  /** What a brand-new cluster starts from (tern.cluster.members); also fills in the addresses an old snapshot lacks. */
  final Configuration bootstrap;
  /** Told of every change of the configuration in force (the node routes to its peers by it). */
  private final java.util.function.Consumer<Configuration> onConfiguration;
  /** The configuration last told to {@link #onConfiguration}. */
  private Configuration published;
  final RaftSettings settings;
  final ActorContext<RaftMessage> ctx;
  final TimerScheduler<RaftMessage> timers;
  final RaftStorage storage;
  final StateMachine stateMachine;
  final PeerTransport transport;
  final Random random;
  final RaftLog log;
  /** Told of elections and leaders, for the node's metrics. */
  final RaftObserver observer;

  // Persistent on all servers (Figure 2); every change is submitted to storage before anything depends on it.
  long currentTerm;
  String votedFor;

  // Volatile on all servers (Figure 2).
  long commitIndex;
  long lastApplied;
  /** The leader of currentTerm, once known. */
  String leaderId;
  /**
   * A follower heard from the leader of its term since its election timer last fired: it then refuses
   * pre-votes, so a node that merely lost touch (or restarted) cannot disrupt a working leader (9.6).
   */
  boolean heardFromLeader;
  /**
   * A leadership transfer this node started as leader and has not answered yet (dissertation 3.10), or null. It
   * outlives the leader's role: the answer comes once this node, now a follower, learns the new leader.
   */
  LeadershipTransfer transfer;
  /**
   * Why this node stepped down as leader for want of a quorum (CheckQuorum, dissertation 6.2), until it hears from
   * a leader or leads again; null otherwise. {@code /health} gives it as the reason it is not serving.
   */
  String quorumLost;
  /** The role whose behaviour is current; set by each role as it takes over. */
  RaftMessage.Role role = RaftMessage.Role.FOLLOWER;

  /** The last storage ticket handed out, and the replies waiting for it to become durable. */
  private long lastTicket;
  private final ArrayDeque<Held> held = new ArrayDeque<>();
  /** (ticket, lastIndex after that write): tells which log prefix is durable. */
  private final ArrayDeque<long[]> writes = new ArrayDeque<>();
  /** The last log index known durable: a leader counts itself in a majority only up to here. */
  long durableIndex;
  /** The last log index handed to storage; a leader's newest proposals wait in memory for its next flush. */
  private long submittedIndex;

  // Snapshots (section 7).
  /** The latest snapshot this node holds durably, or null. */
  SnapshotMeta snapshot;
  /** A snapshot of our own state is being written. */
  private boolean snapshotting;
  /**
   * Whether {@link #snapshot} carries the state machine's data, or only refers to the state machine's own durable
   * store ({@link StateMachine#keepsState}): a follower can be sent only a full one.
   */
  boolean snapshotFull = true;
  /** A leader needs a full snapshot to send: the next one taken is full, whatever the threshold. */
  private boolean fullSnapshotWanted;
  /** A leader is sending {@link #snapshot} to a follower: it is not replaced by a reference meanwhile. */
  boolean snapshotBeingSent;
  /** Size of the entries applied since the last snapshot was taken: a new one is due past the threshold. */
  private long appliedBytesSinceSnapshot;

  private record Held(long ticket, String to, PeerMessage message) {}

  ReplicaState(
      String id,
      Configuration bootstrap,
      RaftSettings settings,
      ActorContext<RaftMessage> ctx,
      TimerScheduler<RaftMessage> timers,
      RaftStorage storage,
      StateMachine stateMachine,
      PeerTransport transport,
      Random random,
      java.util.function.Consumer<Configuration> onConfiguration,
      RaftObserver observer) {
    this.id = id;
    this.observer = observer;
    this.onConfiguration = onConfiguration;
    this.bootstrap = bootstrap;
    this.settings = settings;
    this.ctx = ctx;
    this.timers = timers;
    this.storage = storage;
    this.stateMachine = stateMachine;
    this.transport = transport;
    this.random = random;
    RaftStorage.Persisted persisted = storage.load();
    this.currentTerm = persisted.hardState().currentTerm();
    this.votedFor = persisted.hardState().votedFor();
    RaftStorage.StoredSnapshot stored = persisted.snapshot();
    if (stored != null) {
      // The snapshot stands for the log up to its last included entry (section 7); the log goes on after it.
      snapshot = stored.meta();
      snapshotFull = !stateMachine.isReference(stored.data());
      if (stateMachine.lastApplied() < snapshot.lastIncludedIndex()) {
        stateMachine.restore(snapshot.lastIncludedIndex(), stored.data());
      }
      this.log = new RaftLog(snapshot.lastIncludedIndex(), snapshot.lastIncludedTerm(), persisted.log());
      this.configurations = new Configurations(snapshot.lastIncludedIndex(),
          snapshot.configuration().withAddressesFrom(bootstrap));
    } else {
      this.log = new RaftLog(persisted.log());
      this.configurations = new Configurations(0, bootstrap);
    }
    for (LogEntry e : persisted.log()) configurations.appended(e);
    this.durableIndex = log.lastIndex();
    this.submittedIndex = log.lastIndex();
    this.lastTicket = storage.durableTicket();
    // The state machine may already hold a prefix of the log (a snapshot, later); entries below it are
    // committed by definition.
    this.lastApplied = stateMachine.lastApplied();
    this.commitIndex = lastApplied;
    publishConfiguration();
  }

  /** Tells the node when the configuration in force changed (a reference compare otherwise: it is on every write). */
  void publishConfiguration() {
    Configuration latest = configurations.latest();
    if (latest == published) return;
    published = latest;
    onConfiguration.accept(latest);
  }

  Logger logger() {
    return ctx.getLog();
  }

  /** The configuration in force: the latest in the log (dissertation 4.1). */
  Configuration configuration() {
    return configurations.latest();
  }

  /** Whether this server votes in the configuration in force: only a voter starts elections (4.2.1). */
  boolean isVoter() {
    return configurations.latest().isVoter(id);
  }

  // ---- persistent state --------------------------------------------------------------------------------

  /** Moves to a newer term: forgets the vote and the leader (Figure 2, "All Servers"). */
  void advanceTerm(long term) {
    if (term <= currentTerm) throw new IllegalStateException("term " + term + " is not after " + currentTerm);
    currentTerm = term;
    votedFor = null;
    leaderId = null;
    heardFromLeader = false;
    persistHardState();
  }

  void voteFor(String candidate) {
    votedFor = candidate;
    persistHardState();
  }

  private void persistHardState() {
    submit(new RaftStorage.Write(new HardState(currentTerm, votedFor), 0, List.of()));
  }

  /**
   * Replaces the log from {@code truncateFrom} on (0 = no truncation) and appends {@code entries}, in memory
   * and in storage as one write. Never touches a committed entry (State Machine Safety).
   */
  void writeLog(long truncateFrom, List<LogEntry> entries) {
    if (truncateFrom > 0) {
      if (truncateFrom <= commitIndex) {
        throw new IllegalStateException(
            "refusing to truncate committed entries: from " + truncateFrom + ", commitIndex " + commitIndex);
      }
      log.truncateFrom(truncateFrom);
      configurations.truncatedFrom(truncateFrom); // back to the configuration before the conflicting suffix (4.1)
      forgetDurableBeyond(truncateFrom - 1);
    }
    for (LogEntry e : entries) {
      log.append(e);
      configurations.appended(e);
    }
    if (truncateFrom > 0 || !entries.isEmpty()) {
      publishConfiguration();
      submittedIndex = log.lastIndex();
      submit(new RaftStorage.Write(null, truncateFrom, entries));
    }
  }

  /** Leader: appends to the in-memory log only; {@link #persistAppended} later writes a batch of these. */
  void appendInMemory(LogEntry entry) {
    log.append(entry);
  }

  /** Leader: appends a configuration entry, in force from now on (4.1), in memory; the next flush writes it. */
  void appendConfiguration(LogEntry entry) {
    log.append(entry);
    configurations.appended(entry);
    publishConfiguration();
  }

  /** Submits every entry appended in memory since the last write, as one write (group commit). */
  void persistAppended() {
    if (submittedIndex >= log.lastIndex()) return;
    List<LogEntry> tail = log.slice(submittedIndex + 1, Integer.MAX_VALUE, Long.MAX_VALUE);
    submittedIndex = log.lastIndex();
    submit(new RaftStorage.Write(null, 0, tail));
  }

  /**
   * The log was cut after {@code index}: what earlier writes made durable past it belongs to entries that are
   * gone, so it must not count for the entries that will take their place.
   */
  private void forgetDurableBeyond(long index) {
    durableIndex = Math.min(durableIndex, index);
    for (long[] w : writes) w[1] = Math.min(w[1], index);
  }

  private void submit(RaftStorage.Write write) {
    lastTicket = storage.submit(write);
    writes.add(new long[] {lastTicket, submittedIndex});
    releaseDurable();
  }

  /** Every write submitted so far is durable. */
  boolean allDurable() {
    return storage.durableTicket() >= lastTicket;
  }

  /**
   * Sends the replies whose writes are now durable and advances {@link #durableIndex}. Called after each
   * write and whenever storage reports progress.
   */
  void releaseDurable() {
    long durable = storage.durableTicket();
    while (!writes.isEmpty() && writes.peekFirst()[0] <= durable) durableIndex = writes.pollFirst()[1];
    while (!held.isEmpty() && held.peekFirst().ticket() <= durable) {
      Held h = held.pollFirst();
      transport.send(h.to(), h.message());
    }
  }

  // ---- messages ----------------------------------------------------------------------------------------

  /**
   * Sends a message that may depend on persistent state: it leaves only once every write made so far is
   * durable (Figure 2: "respond to RPCs" only after updating stable storage).
   */
  void sendAfterPersist(String to, PeerMessage message) {
    if (held.isEmpty() && allDurable()) transport.send(to, message);
    else held.add(new Held(lastTicket, to, message));
  }

  /**
   * Sends at once. Only for the leader's AppendEntries: it may replicate entries before its own write is
   * durable, since it does not count itself for them until then (section 10.2.1 of Ongaro's dissertation).
   */
  void sendNow(String to, PeerMessage message) {
    transport.send(to, message);
  }

  // ---- timers ------------------------------------------------------------------------------------------

  /** Restarts the election timer with a fresh random timeout in [min, max] (section 5.2). */
  void resetElectionTimer() {
    long min = settings.electionTimeoutMin().toNanos();
    long span = settings.electionTimeoutMax().toNanos() - min;
    long timeout = min + (span == 0 ? 0 : (long) (random.nextDouble() * (span + 1)));
    timers.startSingleTimer(ELECTION_TIMER, RaftMessage.ElectionTimeout.INSTANCE, Duration.ofNanos(timeout));
  }

  // ---- commit and apply --------------------------------------------------------------------------------

  /** Raises commitIndex (never lowers it) and applies what became committed. */
  void commitTo(long index) {
    if (index <= commitIndex) return;
    if (index > log.lastIndex()) throw new IllegalStateException("commit " + index + " beyond log end " + log.lastIndex());
    commitIndex = index;
    applyCommitted();
  }

  /** Figure 2, "All Servers": while commitIndex > lastApplied, apply log[++lastApplied]. */
  private void applyCommitted() {
    while (lastApplied < commitIndex) {
      // In batches (the state machine may write each as one), bounded so a long replay never holds it all at once.
      List<LogEntry> batch = new ArrayList<>((int) Math.min(commitIndex - lastApplied, APPLY_BATCH_ENTRIES));
      long bytes = 0;
      for (long i = lastApplied + 1; i <= commitIndex && batch.size() < APPLY_BATCH_ENTRIES && bytes < APPLY_BATCH_BYTES; i++) {
        LogEntry e = log.get(i);
        batch.add(e);
        bytes += e.approximateSize();
      }
      stateMachine.apply(batch);
      lastApplied += batch.size();
      appliedBytesSinceSnapshot += bytes;
    }
    maybeSnapshot();
  }

  // ---- snapshots (section 7) ---------------------------------------------------------------------------

  /**
   * Takes a snapshot once enough has been applied since the last one, or when a leader needs a full one to send. The
   * state machine captures its state at once; storage writes it out on its own thread, so requests keep flowing
   * meanwhile. A state machine that keeps its state durably ({@link StateMachine#keepsState}) gives a reference
   * instead of a copy for the periodic snapshot: writing it makes the state durable, which is all compaction needs.
   */
  private void maybeSnapshot() {
    if (snapshotting || lastApplied < 1) return;
    boolean full;
    if (fullSnapshotWanted) {
      full = true;
    } else if (appliedBytesSinceSnapshot >= settings.snapshotThresholdBytes()) {
      // While a follower is sent a snapshot, the next one is full too: the transfer starts over with it, and a
      // reference could not be sent.
      full = !stateMachine.keepsState() || snapshotBeingSent;
    } else {
      return;
    }
    SnapshotMeta meta = new SnapshotMeta(lastApplied, log.termAt(lastApplied), configurations.at(lastApplied));
    StateMachine.SnapshotData data = full ? stateMachine.snapshot() : stateMachine.snapshotReference();
    snapshotting = true;
    appliedBytesSinceSnapshot = 0;
    logger().debug("{}: writing a {} snapshot up to index {}", id, full ? "full" : "reference", lastApplied);
    storage.saveSnapshot(meta, data,
        failure -> ctx.getSelf().tell(new RaftMessage.SnapshotSaved(meta, full, failure)));
  }

  /**
   * A leader has a follower that needs the compacted log, but its latest snapshot only refers to the state machine's
   * store: writes a full one (at the applied index) to send.
   */
  void requestFullSnapshot() {
    if (!fullSnapshotWanted) {
      fullSnapshotWanted = true;
      logger().info("{}: a follower needs a snapshot: writing one with the data up to index {}", id, lastApplied);
    }
    maybeSnapshot();
  }

  /**
   * Our snapshot is durable: the log before it (but for the trailing entries kept for slow followers) is no
   * longer needed, in memory or on disk.
   */
  void onSnapshotSaved(RaftMessage.SnapshotSaved saved) {
    snapshotting = false;
    SnapshotMeta meta = saved.meta();
    if (saved.failure() != null) {
      logger().error("{}: writing the snapshot up to index {} failed; will try again later", id,
          meta.lastIncludedIndex(), saved.failure());
      return;
    }
    if (snapshot != null && snapshot.lastIncludedIndex() > meta.lastIncludedIndex()) return; // a newer one arrived
    if (snapshot != null && snapshot.lastIncludedIndex() == meta.lastIncludedIndex() && !saved.full()) return;
    snapshot = meta;
    snapshotFull = saved.full();
    if (saved.full()) fullSnapshotWanted = false;
    long compactTo = Math.min(meta.lastIncludedIndex() - trailingKept(meta.lastIncludedIndex()), log.lastIndex());
    logger().info("{}: snapshot taken up to index {} (term {}); compacting the log through {}", id,
        meta.lastIncludedIndex(), meta.lastIncludedTerm(), Math.max(compactTo, log.baseIndex()));
    if (compactTo > log.baseIndex()) {
      log.compactTo(compactTo);
      configurations.compactedTo(compactTo);
      submit(new RaftStorage.Write(null, 0, List.of(), compactTo));
    }
  }

  /**
   * How many entries up to {@code last} stay in the log after a snapshot through it, for followers slightly
   * behind: snapshot-trailing-entries, but no more than add up to snapshot-trailing-bytes (5,000 entries of
   * 1 MiB would be 5 GiB of heap; measured: 3 nodes with 512 MiB heaps ran out of memory under 1 MiB writes).
   */
  private long trailingKept(long last) {
    long kept = 0;
    long bytes = 0;
    for (long index = last; kept < settings.snapshotTrailingEntries() && index > log.baseIndex(); index--, kept++) {
      bytes += log.get(index).approximateSize();
      if (bytes > settings.snapshotTrailingBytes()) break;
    }
    return kept;
  }

  /**
   * A snapshot from the leader is complete and durable (Figure 13, steps 5-8). If it covers more than we
   * applied, it replaces the state machine; our log keeps the entries after it if it holds the snapshot's last
   * entry with the same term, and is discarded otherwise.
   *
   */
  void installSnapshot(RaftStorage.StoredSnapshot stored) {
    SnapshotMeta meta = stored.meta();
    long index = meta.lastIncludedIndex();
    if (snapshot == null || snapshot.lastIncludedIndex() < index) {
      snapshot = meta;
      snapshotFull = true; // a leader sends only full snapshots
    }
    if (index <= lastApplied) return; // we already hold all of it
    if (log.termAt(index) == meta.lastIncludedTerm()) {
      // Step 6: an existing entry has the snapshot's last index and term: keep the entries after it.
      log.compactTo(index);
      configurations.compactedTo(index);
      submit(new RaftStorage.Write(null, 0, List.of(), index));
    } else {
      // Step 7: discard the entire log; the snapshot's configuration is the one in force (dissertation 5.1).
      log.reset(index, meta.lastIncludedTerm());
      configurations.reset(index, meta.configuration().withAddressesFrom(bootstrap));
      // The snapshot is durable, so the prefix up to its index is too; nothing written before counts past it.
      forgetDurableBeyond(index);
      durableIndex = index;
      submittedIndex = index;
      submit(new RaftStorage.Write(null, 1, List.of(), index));
    }
    // Step 8: reset the state machine using the snapshot's contents.
    publishConfiguration();
    stateMachine.restore(index, stored.data());
    lastApplied = index;
    commitIndex = Math.max(commitIndex, index);
    appliedBytesSinceSnapshot = 0;
    logger().info("{}: installed the leader's snapshot up to index {} (term {})", id, index, meta.lastIncludedTerm());
  }

  RaftMessage.Status status(RaftMessage.Role role) {
    return status(role, List.of(), null);
  }

  RaftMessage.Status status(RaftMessage.Role role, List<RaftMessage.FollowerStatus> followers, String commitStall) {
    return new RaftMessage.Status(
        id, role, currentTerm, leaderId, commitIndex, lastApplied, log.lastIndex(), log.lastTerm(), log.firstIndex(),
        snapshot == null ? 0 : snapshot.lastIncludedIndex(), followers, commitStall, quorumLost,
        configurations.latest(), configurations.latestIndex());
  }
}

package dev.tern.raft;

import dev.tern.raft.RaftMessage.PeerMessage;
import java.time.Duration;
import java.util.ArrayDeque;
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

  final String id;
  /** The other members of the cluster. */
  final List<String> peers;
  final RaftSettings settings;
  final ActorContext<RaftMessage> ctx;
  final TimerScheduler<RaftMessage> timers;
  final RaftStorage storage;
  final StateMachine stateMachine;
  final PeerTransport transport;
  final Random random;
  final RaftLog log;

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

  private record Held(long ticket, String to, PeerMessage message) {}

  ReplicaState(
      String id,
      List<String> peers,
      RaftSettings settings,
      ActorContext<RaftMessage> ctx,
      TimerScheduler<RaftMessage> timers,
      RaftStorage storage,
      StateMachine stateMachine,
      PeerTransport transport,
      Random random) {
    this.id = id;
    this.peers = List.copyOf(peers);
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
    this.log = new RaftLog(persisted.log());
    this.durableIndex = log.lastIndex();
    this.submittedIndex = log.lastIndex();
    this.lastTicket = storage.durableTicket();
    // The state machine may already hold a prefix of the log (a snapshot, later); entries below it are
    // committed by definition.
    this.lastApplied = stateMachine.lastApplied();
    this.commitIndex = lastApplied;
  }

  Logger logger() {
    return ctx.getLog();
  }

  int clusterSize() {
    return peers.size() + 1;
  }

  boolean isMajority(int count) {
    return count * 2 > clusterSize();
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
    }
    for (LogEntry e : entries) log.append(e);
    if (truncateFrom > 0 || !entries.isEmpty()) {
      submittedIndex = log.lastIndex();
      submit(new RaftStorage.Write(null, truncateFrom, entries));
    }
  }

  /** Leader: appends to the in-memory log only; {@link #persistAppended} later writes a batch of these. */
  void appendInMemory(LogEntry entry) {
    log.append(entry);
  }

  /** Submits every entry appended in memory since the last write, as one write (group commit). */
  void persistAppended() {
    if (submittedIndex >= log.lastIndex()) return;
    List<LogEntry> tail = log.slice(submittedIndex + 1, Integer.MAX_VALUE, Long.MAX_VALUE);
    submittedIndex = log.lastIndex();
    submit(new RaftStorage.Write(null, 0, tail));
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
      stateMachine.apply(log.get(lastApplied + 1));
      lastApplied++;
    }
  }

  RaftMessage.Status status(RaftMessage.Role role) {
    return new RaftMessage.Status(
        id, role, currentTerm, leaderId, commitIndex, lastApplied, log.lastIndex(), log.lastTerm());
  }
}

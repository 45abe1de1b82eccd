package dev.tern.raft;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks the properties of the Raft paper's Figure 3 on the live replicas of a simulation, after every step.
 * Each check reads only what the replicas hold; a violation throws {@link Violation} naming the property.
 */
final class InvariantChecker {
  static final class Violation extends RuntimeException {
    Violation(String property, String detail) {
      super(property + ": " + detail);
    }
  }

  /** A live replica as the checker sees it. */
  record View(String id, RaftMessage.Role role, ReplicaState state) {}

  /** Election Safety: term -> the one leader elected in it. */
  private final Map<Long, String> leaderOfTerm = new HashMap<>();

  /** Leader Append-Only: (id, term) -> what the leader's log looked like when last checked. */
  private record LeaderLog(long truncations, long lastIndex) {}

  private final Map<String, LeaderLog> leaderLogs = new HashMap<>();

  /**
   * Log Matching: (index, term) identifies one entry forever, so every log holding it must agree on its
   * content and on the term before it. By induction that makes the whole prefixes identical.
   */
  private record Fingerprint(long prevTerm, LogEntry entry) {}

  private final Map<Long, Map<Long, Fingerprint>> fingerprints = new HashMap<>();

  /** Per replica incarnation: how much of its log is already fingerprinted, and its truncation count then. */
  private final Map<String, long[]> verified = new HashMap<>();

  /** Known committed entries (index 1 at position 0), with the term in which each was first seen committed. */
  private final List<LogEntry> committed = new ArrayList<>();

  private final List<Long> committedSeenInTerm = new ArrayList<>();

  /** State Machine Safety: index -> the entry that some replica applied there. */
  private final Map<Long, LogEntry> applied = new HashMap<>();

  void check(List<View> replicas) {
    for (View v : replicas) {
      checkLogMatching(v);
      if (v.role() == RaftMessage.Role.LEADER) {
        checkElectionSafety(v);
        checkLeaderAppendOnly(v);
      }
    }
    for (View v : replicas) recordCommitted(v);
    for (View v : replicas) {
      if (v.role() == RaftMessage.Role.LEADER) checkLeaderCompleteness(v);
    }
  }

  /** A replica restarted: its log was rebuilt from storage. */
  void restarted(String id) {
    verified.remove(id);
  }

  /** Called by the simulation's state machine for every entry a replica applies. */
  void applied(String id, LogEntry entry) {
    LogEntry other = applied.putIfAbsent(entry.index(), entry);
    if (other != null && !other.sameAs(entry)) {
      throw new Violation("State Machine Safety", id + " applied " + entry + " where another replica applied " + other);
    }
  }

  private void checkElectionSafety(View v) {
    ReplicaState s = v.state();
    String other = leaderOfTerm.putIfAbsent(s.currentTerm, v.id());
    if (other != null && !other.equals(v.id())) {
      throw new Violation("Election Safety", "both " + other + " and " + v.id() + " lead term " + s.currentTerm);
    }
    if (other == null) checkNewLeadersConfiguration(v);
    // Dissertation 4.1: one change at a time, the next only once the previous one is committed. (Entries of earlier
    // terms after a new leader's commitIndex may be committed already without its knowing: only its own count.)
    if (s.configurations.countAfter(s.commitIndex) > 1) {
      int own = 0;
      for (long i = s.log.lastIndex(); i > Math.max(s.commitIndex, s.log.baseIndex()); i--) {
        LogEntry e = s.log.get(i);
        if (e.term() != s.currentTerm) break;
        if (e.kind() == LogEntry.Kind.CONFIG) own++;
      }
      if (own > 1) {
        throw new Violation("Single-server changes", v.id() + " leads term " + s.currentTerm + " with " + own
            + " configuration entries of its term after its commitIndex " + s.commitIndex);
      }
    }
  }

  /**
   * A new leader was elected in the configuration in force in its log (its latest, dissertation 4.1), as a voter of
   * it; and that configuration is indeed the latest its log (or, below the log, its snapshot or bootstrap) holds.
   */
  private void checkNewLeadersConfiguration(View v) {
    ReplicaState s = v.state();
    Configuration inForce = s.configuration();
    for (long i = s.log.lastIndex(); i > s.log.baseIndex(); i--) {
      LogEntry e = s.log.get(i);
      if (e.kind() != LogEntry.Kind.CONFIG) continue;
      if (!e.configuration().equals(inForce) || s.configurations.latestIndex() != i) {
        throw new Violation("Configuration", v.id() + " uses " + inForce + "@" + s.configurations.latestIndex()
            + " but the latest in its log is " + e.configuration() + "@" + i);
      }
      break;
    }
    if (!inForce.isVoter(v.id())) {
      throw new Violation("Configuration", v.id() + " was elected leader of term " + s.currentTerm
          + " but is not a voter of its configuration " + inForce);
    }
  }

  private void checkLeaderAppendOnly(View v) {
    RaftLog log = v.state().log;
    String key = v.id() + "@" + v.state().currentTerm;
    LeaderLog before = leaderLogs.get(key);
    if (before != null && (log.truncations() != before.truncations() || log.lastIndex() < before.lastIndex())) {
      throw new Violation("Leader Append-Only", key + " deleted or overwrote entries: " + before + " -> "
          + log.truncations() + " truncations, last index " + log.lastIndex());
    }
    leaderLogs.put(key, new LeaderLog(log.truncations(), log.lastIndex()));
  }

  private void checkLogMatching(View v) {
    RaftLog log = v.state().log;
    long[] done = verified.computeIfAbsent(v.id(), k -> new long[] {0, log.truncations()});
    if (done[1] != log.truncations()) { // the suffix changed somewhere: look at all of it again
      done[0] = 0;
      done[1] = log.truncations();
    }
    for (long i = Math.max(done[0], log.baseIndex()) + 1; i <= log.lastIndex(); i++) {
      LogEntry e = log.get(i);
      Fingerprint fp = new Fingerprint(log.termAt(i - 1), e);
      Fingerprint known = fingerprints.computeIfAbsent(i, k -> new HashMap<>()).putIfAbsent(e.term(), fp);
      if (known != null && (known.prevTerm() != fp.prevTerm() || !known.entry().sameAs(e))) {
        throw new Violation("Log Matching", v.id() + " holds " + e + " after term " + fp.prevTerm()
            + " but another log holds " + known.entry() + " after term " + known.prevTerm());
      }
    }
    done[0] = log.lastIndex();
  }

  private void recordCommitted(View v) {
    ReplicaState s = v.state();
    if (s.commitIndex > s.log.lastIndex()) {
      throw new Violation("commitIndex", v.id() + " commitIndex " + s.commitIndex + " beyond its log " + s.log.lastIndex());
    }
    // Only the newest overlap needs comparing: Log Matching, checked above, covers the prefix before it.
    long overlap = Math.min(s.commitIndex, committed.size());
    if (overlap > s.log.baseIndex()) { // below the base, the entries are in a snapshot, checked on restore
      LogEntry known = committed.get((int) overlap - 1);
      if (!known.sameAs(s.log.get(overlap))) {
        throw new Violation("State Machine Safety", v.id() + " committed " + s.log.get(overlap) + " where " + known + " was committed");
      }
    }
    checkCommittedConfiguration(v);
    for (long i = committed.size() + 1; i <= s.commitIndex; i++) {
      if (i <= s.log.baseIndex()) {
        // Only a snapshot can carry a replica past entries no replica was seen committing, and snapshots hold
        // applied (so committed) entries: this would mean a snapshot of uncommitted state.
        throw new Violation("State Machine Safety", v.id() + " compacted entry " + i + " that nobody committed");
      }
      committed.add(s.log.get(i));
      committedSeenInTerm.add(s.currentTerm);
      if (s.log.get(i).kind() == LogEntry.Kind.CONFIG) committedConfigs.put(i, s.log.get(i).configuration());
    }
  }

  /** The committed configuration entries, by index. */
  private final java.util.TreeMap<Long, Configuration> committedConfigs = new java.util.TreeMap<>();

  /**
   * Dissertation 4.1 with section 7: the configuration a replica holds as in force at its commitIndex (from its log
   * or from a snapshot) is the last committed configuration entry at or before that index, whole.
   */
  private void checkCommittedConfiguration(View v) {
    ReplicaState s = v.state();
    var known = committedConfigs.floorEntry(Math.min(s.commitIndex, committed.size()));
    if (known == null) return; // the bootstrap configuration
    Configuration held = s.configurations.at(Math.min(s.commitIndex, committed.size()));
    if (!held.equals(known.getValue())) {
      throw new Violation("Configuration", v.id() + " holds " + held + " in force at " + s.commitIndex
          + " where " + known.getValue() + " was committed at " + known.getKey());
    }
  }

  /**
   * Leader Completeness: an entry committed in term T is in the log of every leader of a term after T. The
   * term an entry was first seen committed in is at least the term it was committed in, so this never
   * accuses a leader wrongly.
   */
  private void checkLeaderCompleteness(View v) {
    ReplicaState s = v.state();
    // Entries the leader was already checked against stay in its log (Leader Append-Only, checked above).
    int[] from = completenessChecked.computeIfAbsent(v.id() + "@" + s.currentTerm, k -> new int[1]);
    for (int i = from[0]; i < committed.size(); i++) {
      if (committedSeenInTerm.get(i) >= s.currentTerm) continue;
      LogEntry e = committed.get(i);
      if (e.index() <= s.log.baseIndex()) continue; // in the leader's snapshot, whose content restore checks
      if (e.index() > s.log.lastIndex() || !s.log.get(e.index()).sameAs(e)) {
        throw new Violation("Leader Completeness", v.id() + ", leader of term " + s.currentTerm + ", lacks " + e
            + " committed by term " + committedSeenInTerm.get(i));
      }
    }
    from[0] = committed.size();
  }

  private final Map<String, int[]> completenessChecked = new HashMap<>();

  int committedCount() {
    return committed.size();
  }

  /** The entry known committed at {@code index}, or null if none is known committed there yet. */
  LogEntry committedAt(long index) {
    return index >= 1 && index <= committed.size() ? committed.get((int) index - 1) : null;
  }

  long[] leaderTerms() {
    return leaderOfTerm.keySet().stream().mapToLong(Long::longValue).sorted().toArray();
  }

  @Override
  public String toString() {
    return "committed=" + committed.size() + " leaders=" + Arrays.toString(leaderTerms());
  }
}

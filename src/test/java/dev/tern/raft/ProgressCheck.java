package dev.tern.raft;

import dev.tern.raft.RaftMessage.ProposeResponse;
import dev.tern.raft.RaftMessage.ReadIndexResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Liveness once the last fault of a run has healed. A Raft cluster is available as long as a majority of its
 * servers are operational and can communicate (section 2), given the timing requirement of section 5.6
 * (dissertation 3.9). After the heal both hold, so within bounded simulated time:
 *
 * <ul>
 *   <li>a leader is elected (section 5.2) and commits an entry of its term (its no-op, section 8);
 *   <li>every proposal a client makes is answered, and once accepted is committed and applied. The client
 *       behaves like {@code KvFront}: it asks any node, follows a NotLeader hint, and proposes again only if
 *       its entry was lost in a change of leader (the entry committed at its index is another one);
 *   <li>every ReadIndex request (dissertation 6.4) is answered: Ok, after which the asking node applies up to
 *       the read index, or NotLeader, which a node that led when asked may answer only if it no longer leads;
 *   <li>every live replica applies everything the leader holds (its applied index reaches the commit index);
 *   <li>no request made earlier in the run is left unanswered by a node that has kept running since.
 * </ul>
 *
 * A run that does not get there throws {@link InvariantChecker.Violation} ("Liveness"), like a safety failure.
 */
final class ProgressCheck {
  /**
   * @param election from the heal until a leader commits an entry of its term
   * @param load how long clients keep making requests after that leader is elected
   * @param request from a client's first attempt until its request is done (committed, or read served)
   * @param converge from the end of the load until every replica has applied all the leader holds
   */
  record Bounds(Duration election, Duration load, Duration request, Duration converge) {
    static final Bounds CI = new Bounds(Duration.ofSeconds(10), Duration.ofMillis(500), Duration.ofSeconds(10),
        Duration.ofSeconds(5));
  }

  /** What the clients got after the heal, and how long the cluster took. */
  record Outcome(int writesCommitted, int readsServed, int retries, long electedAfterMillis, long convergedAfterMillis) {}

  private final Simulation sim;
  private final Bounds bounds;
  private final List<Op> active = new ArrayList<>();
  private int writesCommitted;
  private int readsServed;
  private int retries;
  private int opCount;
  private boolean loadOver;

  ProgressCheck(Simulation sim, Bounds bounds) {
    this.sim = sim;
    this.bounds = bounds;
  }

  /** One client operation, which may take several requests (after NotLeader, or a lost entry). */
  private final class Op {
    final boolean write;
    final String name;
    final long startedAt = sim.nowNanos();
    final List<String> history = new ArrayList<>();
    SimRequest<?> current;
    boolean waitingToRetry;
    int backoffMillis = 2;

    Op(boolean write, String name) {
      this.write = write;
      this.name = name;
    }

    void send(String node) {
      current = write ? sim.propose(node, name) : sim.read(node);
      waitingToRetry = false;
      history.add((write ? "propose to " : "ask ") + node + " at " + sim.nowMillis() + "ms"
          + (current.ledTerm >= 0 ? " (leader of term " + current.ledTerm + ")" : ""));
    }

    /** Asks again after a short, growing pause: at the hinted node, or at any live one. */
    void retry(String hint) {
      retries++;
      waitingToRetry = true;
      long delay = sim.randomBetween(backoffMillis * 500_000L, backoffMillis * 1_000_000L);
      backoffMillis = Math.min(backoffMillis * 2, 100);
      sim.at(Duration.ofNanos(delay), () -> send(hint != null ? hint : anyLiveNode()), "client retries " + name);
    }

    @Override
    public String toString() {
      List<String> last = history.subList(Math.max(0, history.size() - 6), history.size());
      return (write ? "write '" : "read '") + name + "' started at " + startedAt / 1_000_000 + "ms, "
          + history.size() + " steps" + (last.size() < history.size() ? ", the last: ... -> " : ": ")
          + String.join(" -> ", last);
    }
  }

  Outcome run() {
    long healedAt = sim.nowNanos();
    scheduleClients();
    long electionDeadline = healedAt + bounds.election().toNanos();
    long electedAt = -1;
    long loadEnd = Long.MAX_VALUE;
    while (true) {
      if (electedAt < 0 && servingLeader().isPresent()) {
        electedAt = sim.nowNanos();
        loadEnd = electedAt + bounds.load().toNanos();
      }
      if (electedAt < 0 && sim.nowNanos() > electionDeadline) {
        fail("no leader elected and committing within " + bounds.election() + " after the faults healed");
      }
      loadOver = sim.nowNanos() >= loadEnd;
      followRequests();
      if (loadOver && active.isEmpty() && converged()) break;
      if (loadOver && sim.nowNanos() > loadEnd + bounds.converge().toNanos()) {
        if (!active.isEmpty()) fail(unfinished(active.get(0)) + " by " + bounds.converge() + " after the clients stopped");
        fail("the replicas did not converge within " + bounds.converge() + " after the clients stopped: " + convergence());
      }
      if (!sim.step()) fail("the simulation ran out of events");
    }
    List<SimRequest<?>> unanswered = sim.unanswered();
    if (!unanswered.isEmpty()) {
      fail(unanswered.size() + " request(s) never answered by a node that kept running since they were made, e.g. "
          + unanswered.get(0));
    }
    return new Outcome(writesCommitted, readsServed, retries, (electedAt - healedAt) / 1_000_000,
        (sim.nowNanos() - healedAt) / 1_000_000);
  }

  /** Clients start at the heal: the first requests meet the election, the later ones a settled leader. */
  private void scheduleClients() {
    sim.at(Duration.ofNanos(sim.randomBetween(10_000_000, 40_000_000)), () -> {
      if (loadOver) return;
      // The first request is a write, so every run commits something after the heal.
      boolean write = opCount == 0 || sim.randomInt(3) != 0;
      Op op = new Op(write, "s" + sim.seed + "-after-heal-" + opCount++);
      active.add(op);
      op.send(anyLiveNode());
      scheduleClients();
    }, "client after heal");
  }

  private String anyLiveNode() {
    List<String> live = sim.liveIds();
    return live.get(sim.randomInt(live.size()));
  }

  /** Looks at every operation's latest answer: done, retry, wait, or a violation. */
  private void followRequests() {
    long now = sim.nowNanos();
    active.removeIf(op -> {
      if (now - op.startedAt > bounds.request().toNanos()) fail(unfinished(op) + " within " + bounds.request());
      if (op.waitingToRetry) return false;
      SimRequest<?> req = op.current;
      Object answer = req.answer();
      if (answer == null) {
        if (sim.incarnation(req.node) != req.incarnation) op.retry(null); // its node crashed: ask again
        return false;
      }
      if (answer instanceof ProposeResponse.NotLeader nl) return notLeader(op, req, nl.leaderHint());
      if (answer instanceof ReadIndexResponse.NotLeader nl) return notLeader(op, req, nl.leaderHint());
      if (answer instanceof ProposeResponse.Accepted acc) return accepted(op, acc);
      if (answer instanceof ReadIndexResponse.Ok ok) return readIndexOk(op, req, ok.readIndex());
      throw new AssertionError("unexpected answer " + answer);
    });
  }

  /** NotLeader is a fine answer from a node that did not lead; a leader may give it only once deposed. */
  private boolean notLeader(Op op, SimRequest<?> req, String hint) {
    // A leader handing leadership over refuses proposals (dissertation 3.10); otherwise only a deposed one may.
    if (req.ledTerm >= 0 && sim.leads(req.node, req.ledTerm) && !sim.transferring(req.node)) {
      fail(req.node + " answered NotLeader while still leading term " + req.ledTerm + ": " + op);
    }
    op.history.add("NotLeader(" + hint + ")");
    op.retry(hint != null && !hint.equals(req.node) ? hint : null);
    return false;
  }

  /**
   * Accepted only says where the entry went: done once it commits there; asked again once it never can. That
   * is when another entry commits at its index, or when the last committed entry, below its index, has a later
   * term: terms never decrease along a log, so every log that will commit past there holds later terms only.
   */
  private boolean accepted(Op op, ProposeResponse.Accepted acc) {
    noteOnce(op, "Accepted(" + acc.index() + ", term " + acc.term() + ")");
    LogEntry committed = sim.checker.committedAt(acc.index());
    if (committed == null) {
      LogEntry last = sim.checker.committedAt(sim.checker.committedCount());
      if (last == null || last.term() <= acc.term()) return false;
      committed = last;
    }
    if (committed.term() != acc.term()) {
      op.history.add("lost to " + committed);
      op.retry(null);
      return false;
    }
    if (!Arrays.equals(committed.data(), op.name.getBytes(StandardCharsets.UTF_8))) {
      throw new InvariantChecker.Violation("Log Matching", "accepted " + op + " at " + acc + " but " + committed + " committed there");
    }
    writesCommitted++;
    return true;
  }

  /** A confirmed read index is served once the asking node has applied up to it. */
  private boolean readIndexOk(Op op, SimRequest<?> req, long readIndex) {
    if (sim.incarnation(req.node) != req.incarnation) {
      op.retry(null); // the node that would serve it crashed
      return false;
    }
    noteOnce(op, "Ok(" + readIndex + ")");
    if (sim.stateMachineApplied(req.node) < readIndex) return false;
    readsServed++;
    return true;
  }

  /** A live leader of the highest term, which has committed an entry of its term (so knows commitIndex). */
  private Optional<String> servingLeader() {
    return sim.stableLeader().filter(id -> {
      ReplicaState s = sim.state(id);
      return s.log.termAt(s.commitIndex) == s.currentTerm;
    });
  }

  /** Every member up; the leader has committed its whole log; every state machine has applied all of it. */
  private boolean converged() {
    Optional<String> leader = servingLeader();
    if (leader.isEmpty()) return false;
    ReplicaState l = sim.state(leader.get());
    if (l.commitIndex != l.log.lastIndex()) return false;
    // The servers of the configuration in force (dissertation 4.1); a removed node has nothing more to apply.
    for (String id : l.configuration().ids()) {
      if (!sim.up(id) || sim.stateMachineApplied(id) != l.commitIndex) return false;
    }
    return true;
  }

  private static void noteOnce(Op op, String what) {
    if (!op.history.get(op.history.size() - 1).equals(what)) op.history.add(what);
  }

  /** What an operation still lacks, and its story. */
  private static String unfinished(Op op) {
    Object answer = op.current == null ? null : op.current.answer();
    String lacks = op.write
        ? (answer == null ? "a proposal was not answered" : "an accepted write was not committed")
        : (answer == null ? "a ReadIndex request was not answered" : "a confirmed read was not served (not applied)");
    return lacks + ": " + op;
  }

  private String convergence() {
    StringBuilder b = new StringBuilder("leader " + servingLeader().orElse("none"));
    servingLeader().ifPresent(id -> b.append(" commitIndex=").append(sim.state(id).commitIndex)
        .append(" lastIndex=").append(sim.state(id).log.lastIndex()));
    for (String id : sim.ids()) b.append(", ").append(id).append(" applied ").append(sim.stateMachineApplied(id));
    if (!active.isEmpty()) b.append("; waiting on ").append(active.get(0));
    return b.toString();
  }

  private void fail(String what) {
    throw new InvariantChecker.Violation("Liveness", what);
  }
}

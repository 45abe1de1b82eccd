package dev.tern.raft;

import dev.tern.kv.KvStateMachine;
import dev.tern.lincheck.LinearizabilityChecker;
import dev.tern.lincheck.Op;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * One randomized run of {@link KvSimulation}: clients work through the fronts while the simulation's nemesis
 * injects its faults, and nodes restart often ({@link #bounce}); every fault heals; the clients go on for {@link #CALM}, then stop; every request must have
 * been answered, and those made from {@link #HEALTHY_AFTER} after the heal to the leader definitely (not
 * Unavailable). Then one
 * linearizable read per key, every replica's key-value state must be the same, and the whole history must be
 * linearizable ({@link LinearizabilityChecker}, with the fault test's model).
 */
final class KvRun {
  static final Duration FAULT_TIME = Duration.ofSeconds(8);
  static final Duration CALM = Duration.ofSeconds(4);
  static final Duration HEALTHY_AFTER = Duration.ofSeconds(2);
  static final Duration KEY_EPOCH = Duration.ofSeconds(3);
  static final int KEYS = 4;

  record Result(long steps, long ops, long checked, long unknown, long staleReads, long unavailable, long lostInCrash,
      long proposalsSent, long writes, long readRequestsSent, int duplicates, int duplicatesAcrossSnapshot,
      int duplicatesAfterRestore, int snapshots, long restores, int crashes, long searchSteps) {}

  private KvRun() {}

  static Result run(KvSimulation kvSim) {
    Simulation sim = kvSim.sim;
    KvClients clients = new KvClients(kvSim, KEYS, KEY_EPOCH);
    long heal = sim.nowNanos() + FAULT_TIME.toNanos();
    clients.start(kvSim.ids().size() + 1, heal + CALM.toNanos());
    clients.requireAnswersAfter(heal + HEALTHY_AFTER.toNanos());
    bounce(sim, heal);
    sim.faultsThenHeal(FAULT_TIME, false);
    sim.runFor(CALM);
    if (!sim.runUntil(() -> clients.inFlight == 0, KvSimulation.REQUEST_TIMEOUT.multipliedBy(2))) {
      throw new InvariantChecker.Violation("Liveness", clients.inFlight + " requests not answered within "
          + KvSimulation.REQUEST_TIMEOUT.multipliedBy(2).toMillis() + " ms of the clients stopping");
    }
    List<String> keys = clients.keys();
    int[] done = new int[1];
    for (int k = 0; k < keys.size(); k++) clients.finalRead(1000 + k, keys.get(k), 0, () -> done[0]++);
    if (!sim.runUntil(() -> done[0] == keys.size(), Duration.ofSeconds(30))) {
      throw new InvariantChecker.Violation("Liveness", "final reads answered: " + done[0] + " of " + keys.size());
    }
    sameStateEverywhere(kvSim);
    LinearizabilityChecker.Result verdict = new LinearizabilityChecker().checkAll(clients.history);
    if (!verdict.linearizable()) throw new InvariantChecker.Violation("Linearizability", verdict.render());
    List<Op> ops = clients.history.ops();
    Simulation.Result r = sim.result(null);
    KvReplicaMachine.Stats s = kvSim.stats;
    long writes = ops.stream().filter(Op::isWrite).count();
    return new Result(r.steps(), clients.ops, ops.size(), ops.stream().filter(Op::isUnknown).count(),
        clients.staleReads, clients.unavailable, clients.lostInCrash, kvSim.proposalsSent, writes,
        kvSim.readRequestsSent, s.duplicates.size(), s.duplicatesAcrossSnapshot.size(), s.duplicatesAfterRestore.size(),
        s.snapshotIndexes.size(), s.restores, r.crashes(), verdict.steps());
  }

  /**
   * Besides the nemesis, every 0.5-1.5 s a random node crashes and comes back 50-300 ms later, recovering from its
   * last snapshot and replaying its log: a re-proposed command whose first copy is in that snapshot then meets its
   * second copy with only the snapshot's deduplication window to go by.
   */
  private static void bounce(Simulation sim, long until) {
    sim.atNanos(sim.randomBetween(500_000_000, 1_500_000_000), () -> {
      if (sim.nowNanos() >= until) return;
      List<String> live = sim.liveIds();
      if (!live.isEmpty()) {
        String id = live.get(sim.randomInt(live.size()));
        sim.crash(id);
        sim.atNanos(sim.randomBetween(50_000_000, 300_000_000), () -> {
          if (sim.nowNanos() < until) sim.restart(id);
        }, "restart bounced " + id);
      }
      bounce(sim, until);
    }, "bounce");
  }

  /** Every replica applies all the leader committed, and then holds the same keys, values and revisions. */
  private static void sameStateEverywhere(KvSimulation kvSim) {
    Simulation sim = kvSim.sim;
    boolean converged = sim.runUntil(() -> {
      Optional<String> leader = sim.stableLeader();
      if (leader.isEmpty()) return false;
      long commit = sim.state(leader.get()).commitIndex;
      for (String id : kvSim.ids()) {
        KvStateMachine kv = kvSim.kv(id);
        if (kv == null || kv.lastApplied() != commit) return false;
      }
      return true;
    }, Duration.ofSeconds(60)); // a follower may be receiving a snapshot in 64-byte pieces (90 KB took over 30 s)
    if (!converged) {
      StringBuilder where = new StringBuilder();
      for (String id : kvSim.ids()) {
        KvStateMachine kv = kvSim.kv(id);
        where.append(' ').append(id).append(": applied ").append(kv == null ? "down" : String.valueOf(kv.lastApplied()))
            .append(", commit ").append(sim.state(id) == null ? "?" : String.valueOf(sim.state(id).commitIndex)).append(';');
      }
      throw new InvariantChecker.Violation("Liveness", "the state machines did not converge (leader "
          + sim.stableLeader().orElse("none") + "):" + where);
    }
    kvSim.checkWatches();
    var reference = kvSim.kv(kvSim.ids().get(0)).contents();
    for (String id : kvSim.ids()) {
      if (!kvSim.kv(id).leases().equals(kvSim.kv(kvSim.ids().get(0)).leases())) {
        throw new InvariantChecker.Violation("State Machine Safety", id + " holds the leases " + kvSim.kv(id).leases()
            + " but " + kvSim.ids().get(0) + " holds " + kvSim.kv(kvSim.ids().get(0)).leases() + " at the same index");
      }
      for (dev.tern.kv.Lease lease : kvSim.kv(id).leases()) {
        for (String key : lease.keys()) {
          if (!kvSim.kv(id).contents().containsKey(key)) {
            throw new InvariantChecker.Violation("Leases", id + "'s lease " + lease.id() + " holds " + key + ", which is absent");
          }
        }
      }
      if (!kvSim.kv(id).contents().equals(reference)) {
        throw new InvariantChecker.Violation("State Machine Safety", id + " holds " + kvSim.kv(id).contents()
            + " but " + kvSim.ids().get(0) + " holds " + reference + " at the same index");
      }
    }
  }
}

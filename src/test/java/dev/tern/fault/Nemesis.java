package dev.tern.fault;

import dev.tern.fault.TernHttp.Answer;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Injects one fault at a time into a {@link NodeProcesses} cluster, chosen with a seeded {@link Random}, holds it,
 * heals it, waits (bounded) until every node answers again, and rests before the next one. Part of the time it aims
 * at the current leader (asked from {@code /v1/status}).
 *
 * <p>The seed fixes the sequence of decisions (which fault, how long, leader or not, which nodes in which order);
 * which node is the leader at that moment depends on the run, so a replay with the same seed repeats the schedule
 * but not necessarily the exact victims.
 */
final class Nemesis {
  enum Fault {
    /** SIGKILL one node (the leader half of the time), restart it on its data after a while. */
    KILL_ONE,
    /** SIGKILL 2..n nodes at once (sometimes all), restart them one by one. */
    KILL_SEVERAL,
    /** SIGSTOP the leader (mostly) long enough for an election elsewhere, then SIGCONT. */
    PAUSE,
    /** The leader and a minority on one side, the majority on the other. */
    PARTITION_LEADER_MINORITY,
    /** No side has a majority: every node alone, or (5 nodes) groups of 2, 2 and 1. */
    PARTITION_NO_MAJORITY,
    /** A random majority / minority split. */
    PARTITION_RANDOM,
    /** Two halves that cannot talk, and one node that talks to both (a non-transitive network). */
    PARTITION_BRIDGE,
    /** Leadership transfer (dissertation 3.10) from the leader to another voter, or to the one it picks. */
    TRANSFER,
    /**
     * Removes a member (the leader most of the time: 4.2.2) through another node, keeps it out for a while, then adds
     * it back on its data: a learner, promoted by the leader once caught up (4.2.1). One change at a time.
     */
    REMOVE_AND_ADD
  }

  /** How long a node may take to answer /v1/status again after a fault is healed before it counts as lost. */
  static final Duration RECOVERY = Duration.ofSeconds(60);

  private final NodeProcesses cluster;
  private final Random rnd;
  private final TernHttp http = new TernHttp(Duration.ofSeconds(2));
  /** For membership changes and transfers, answered once committed or done (several election timeouts at most). */
  private final TernHttp slow = new TernHttp(Duration.ofSeconds(10));
  private final List<String> events = Collections.synchronizedList(new ArrayList<>());
  private final List<String> problems = Collections.synchronizedList(new ArrayList<>());
  private final Map<Fault, Integer> counts = new LinkedHashMap<>();
  private final Map<String, Integer> outcomes = new LinkedHashMap<>();
  private final List<Fault> deck = new ArrayList<>();
  private final long origin = System.nanoTime();
  private final Set<String> partitioned = new TreeSet<>();

  Nemesis(NodeProcesses cluster, long seed) {
    this.cluster = cluster;
    this.rnd = new Random(seed);
  }

  List<String> events() {
    synchronized (events) {
      return List.copyOf(events);
    }
  }

  /** Nodes that crashed on their own, or did not come back in time: findings, not test trouble. */
  List<String> problems() {
    synchronized (problems) {
      return List.copyOf(problems);
    }
  }

  Map<Fault, Integer> counts() {
    return Map.copyOf(counts);
  }

  /** How the membership changes and transfers were answered: e.g. "transfer 200" -> 7. */
  Map<String, Integer> outcomes() {
    synchronized (outcomes) {
      return new java.util.TreeMap<>(outcomes);
    }
  }

  void log(String what) {
    String line = String.format("%8.3fs %s", (System.nanoTime() - origin) / 1e9, what);
    events.add(line);
    System.out.println("[nemesis] " + line);
  }

  /** Injects faults until {@code duration} has passed, then heals everything. */
  void run(Duration duration) throws Exception {
    long end = System.nanoTime() + duration.toNanos();
    try {
      while (System.nanoTime() < end) {
        // Every decision of a step is drawn up front, in a fixed order, so a seed replays the same schedule.
        // Faults are dealt from a shuffled deck, so that a short run still sees many kinds and a long one each
        // kind equally often.
        if (deck.isEmpty()) {
          deck.addAll(List.of(Fault.values()));
          Collections.shuffle(deck, rnd);
        }
        Fault fault = deck.remove(deck.size() - 1);
        boolean atLeader = rnd.nextInt(4) > 0;
        long holdMs = 1_500 + rnd.nextInt(3_500);
        long quietMs = 500 + rnd.nextInt(2_000);
        List<String> order = new ArrayList<>(cluster.ids());
        Collections.shuffle(order, rnd);
        int draw = rnd.nextInt(1 << 20);
        counts.merge(fault, 1, Integer::sum);
        inject(fault, atLeader, holdMs, order, draw);
        checkCrashes();
        awaitAllAnswering();
        awaitLeader();
        sleepUntil(Math.min(end, System.nanoTime() + quietMs * 1_000_000));
      }
    } finally {
      healAll();
    }
  }

  private void inject(Fault fault, boolean atLeader, long holdMs, List<String> order, int draw) throws Exception {
    int n = order.size();
    String leader = atLeader ? leader() : null;
    String target = leader != null ? leader : order.get(0);
    List<String> others = new ArrayList<>(order);
    others.remove(target);
    switch (fault) {
      case KILL_ONE -> {
        log("KILL_ONE " + target + (target.equals(leader) ? " (leader)" : "") + ", down for " + holdMs + " ms");
        cluster.kill(target);
        pause(holdMs);
        restart(target);
      }
      case KILL_SEVERAL -> {
        int k = 2 + draw % (n - 1); // 2..n
        List<String> victims = new ArrayList<>();
        victims.add(target);
        victims.addAll(others.subList(0, k - 1));
        log("KILL_SEVERAL " + victims + (k == n ? " (all)" : "") + (victims.contains(leader) ? ", leader " + leader : "")
            + ", down for " + holdMs + " ms");
        for (String v : victims) cluster.kill(v);
        pause(holdMs);
        for (String v : victims) {
          restart(v);
          pause((draw >>> 4) % 700); // restarts spread a little, in the shuffled order
        }
      }
      case PAUSE -> {
        log("PAUSE (SIGSTOP) " + target + (target.equals(leader) ? " (leader)" : "") + " for " + holdMs + " ms");
        cluster.pause(target);
        try {
          pause(holdMs);
        } finally {
          cluster.resume(target);
          log("RESUME (SIGCONT) " + target);
        }
      }
      case PARTITION_LEADER_MINORITY -> {
        int minority = (n - 1) / 2;
        List<String> small = new ArrayList<>(List.of(target));
        small.addAll(others.subList(0, minority - 1));
        List<String> big = new ArrayList<>(others.subList(minority - 1, others.size()));
        partitionFor(holdMs, "PARTITION_LEADER_MINORITY" + (target.equals(leader) ? "" : " (leader unknown)"),
            List.of(Set.copyOf(small), Set.copyOf(big)));
      }
      case PARTITION_NO_MAJORITY -> {
        List<Set<String>> groups = new ArrayList<>();
        if (n == 5 && draw % 2 == 0) {
          groups.add(Set.of(order.get(0), order.get(1)));
          groups.add(Set.of(order.get(2), order.get(3)));
          groups.add(Set.of(order.get(4)));
        } else {
          for (String id : order) groups.add(Set.of(id));
        }
        partitionFor(holdMs, "PARTITION_NO_MAJORITY", groups);
      }
      case PARTITION_RANDOM -> {
        int small = 1 + draw % ((n - 1) / 2); // 1..minority
        partitionFor(holdMs, "PARTITION_RANDOM",
            List.of(Set.copyOf(order.subList(0, small)), Set.copyOf(order.subList(small, n))));
      }
      case PARTITION_BRIDGE -> {
        // order[0] is the bridge; the others split in two halves that only reach each other through it.
        String bridge = order.get(0);
        List<String> rest = order.subList(1, n);
        Set<String> left = Set.copyOf(rest.subList(0, rest.size() / 2));
        Set<String> right = Set.copyOf(rest.subList(rest.size() / 2, rest.size()));
        Map<String, Set<String>> cuts = new LinkedHashMap<>();
        for (String id : cluster.ids()) {
          cuts.put(id, id.equals(bridge) ? Set.of() : left.contains(id) ? right : left);
        }
        log("PARTITION_BRIDGE via " + bridge + ": " + new TreeSet<>(left) + " | " + new TreeSet<>(right)
            + " for " + holdMs + " ms");
        applyCuts(cuts);
        try {
          pause(holdMs);
        } finally {
          healPartitions();
        }
      }
      case TRANSFER -> {
        String from = leader();
        if (from == null) {
          log("TRANSFER skipped: no leader");
          return;
        }
        String to = draw % 3 == 0 ? null : order.stream().filter(id -> !id.equals(from)).findFirst().orElseThrow();
        Answer a = slow.post(cluster.http(from), "/v1/leader/transfer" + (to == null ? "" : "?to=" + to), "");
        outcomes.merge("transfer " + a.status(), 1, Integer::sum);
        log("TRANSFER from " + from + (to == null ? " (to the leader's choice)" : " to " + to) + ": " + a.status()
            + " " + a.raw());
      }
      case REMOVE_AND_ADD -> {
        String via = others.get(0);
        log("REMOVE " + target + (target.equals(leader) ? " (leader)" : "") + " via " + via + ", out for " + holdMs
            + " ms");
        if (!change(via, "DELETE", target)) return;
        pause(holdMs);
        log("ADD " + target + " via " + via);
        if (!change(via, "PUT", target)) return;
        awaitVoter(target);
      }
    }
  }

  /**
   * One membership change through node {@code via}, retried (bounded by {@link #RECOVERY}) while the cluster answers
   * that it cannot take it now (no leader, another change in progress). Not done in time is a finding.
   */
  private boolean change(String via, String method, String id) throws InterruptedException {
    NodeProcesses.Node n = cluster.node(id);
    String body = "{\"host\":\"" + NodeProcesses.HOST + "\",\"arteryPort\":" + n.arteryPort() + ",\"httpPort\":"
        + n.httpPort() + "}";
    long deadline = System.nanoTime() + RECOVERY.toNanos();
    String last = "";
    while (System.nanoTime() < deadline) {
      try {
        Answer a = method.equals("PUT") ? slow.put(cluster.http(via), "/v1/members/" + id, body)
            : slow.delete(cluster.http(via), "/v1/members/" + id);
        // 404 to a DELETE: a retry whose first attempt was applied after all (its answer was lost).
        if (a.status() == 200 || (a.status() == 404 && method.equals("DELETE"))) {
          outcomes.merge(method + " member", 1, Integer::sum);
          log("  " + method + " " + id + ": " + a.status() + " " + a.raw());
          return true;
        }
        last = a.status() + " " + a.raw();
      } catch (IOException e) {
        last = e.toString();
      }
      Thread.sleep(300); // the cluster is electing or finishing a change; bounded by the deadline
    }
    problems.add(method + " member " + id + " via " + via + " not done within " + RECOVERY + ": " + last);
    log("  " + method + " " + id + " NOT DONE: " + last);
    return false;
  }

  /** Waits (bounded) until the leader lists {@code id} as a voter again: it caught up and was promoted. */
  private void awaitVoter(String id) throws InterruptedException {
    long started = System.nanoTime();
    long deadline = started + RECOVERY.toNanos();
    while (System.nanoTime() < deadline) {
      String leader = leader();
      if (leader != null) {
        try {
          Answer a = http.get(cluster.http(leader), "/v1/members");
          if (a.status() == 200 && a.body() != null) {
            for (var m : a.body().path("members")) {
              if (m.path("id").asText().equals(id) && m.path("role").asText().equals("voter")) {
                log("  " + id + " is a voter again (" + NodeProcesses.since(started).toMillis() + " ms)");
                return;
              }
            }
          }
        } catch (IOException e) {
          // ask again
        }
      }
      Thread.sleep(200); // polling real processes, bounded by the deadline
    }
    problems.add(id + " was not a voter again within " + RECOVERY + " of being added back");
    log("  " + id + " NOT A VOTER after " + RECOVERY);
  }

  /** Groups that only talk inside themselves, for {@code holdMs}, then healed. */
  private void partitionFor(long holdMs, String name, List<Set<String>> groups) throws Exception {
    Map<String, Set<String>> cuts = new LinkedHashMap<>();
    for (Set<String> group : groups) {
      for (String id : group) {
        Set<String> cut = new HashSet<>(cluster.ids());
        cut.removeAll(group);
        cuts.put(id, cut);
      }
    }
    log(name + " " + groups.stream().map(g -> new TreeSet<>(g).toString()).collect(Collectors.joining(" | "))
        + " for " + holdMs + " ms");
    applyCuts(cuts);
    try {
      pause(holdMs);
    } finally {
      healPartitions();
    }
  }

  private void applyCuts(Map<String, Set<String>> cuts) throws InterruptedException {
    for (var e : cuts.entrySet()) {
      if (e.getValue().isEmpty()) continue;
      String body = e.getValue().stream().sorted().map(id -> "\"" + id + "\"")
          .collect(Collectors.joining(",", "{\"cut\":[", "]}"));
      partitioned.add(e.getKey());
      try {
        Answer a = http.post(cluster.http(e.getKey()), "/v1/testing/partition", body);
        if (a.status() != 200) log("  cut on " + e.getKey() + " answered " + a.status() + " " + a.raw());
      } catch (IOException ex) {
        // The other side's cut still stops the traffic both ways.
        log("  cut on " + e.getKey() + " failed: " + ex);
      }
    }
  }

  /** Heals every node that was cut (each answers once its gateway took the empty cut). */
  private void healPartitions() throws InterruptedException {
    long deadline = System.nanoTime() + RECOVERY.toNanos();
    for (String id : new ArrayList<>(partitioned)) {
      while (true) {
        try {
          Answer a = http.delete(cluster.http(id), "/v1/testing/partition");
          if (a.status() == 200) break;
          log("  heal on " + id + " answered " + a.status() + " " + a.raw());
        } catch (IOException ex) {
          if (!cluster.isRunning(id)) break; // a dead node comes back with no cut
          log("  heal on " + id + " failed: " + ex);
        }
        if (System.nanoTime() > deadline) {
          problems.add("could not heal the partition on " + id + " within " + RECOVERY);
          break;
        }
        Thread.sleep(200); // bounded by the deadline
      }
    }
    partitioned.clear();
    log("HEAL partitions");
  }

  /** Resumes paused nodes, heals partitions, restarts any node not running. */
  void healAll() throws Exception {
    for (String id : cluster.ids()) {
      if (cluster.isPaused(id)) {
        cluster.resume(id);
        log("RESUME (SIGCONT) " + id);
      }
    }
    healPartitions();
    checkCrashes();
    for (String id : cluster.ids()) {
      if (!cluster.isRunning(id)) restart(id);
    }
  }

  private void restart(String id) throws IOException {
    cluster.start(id);
    log("RESTART " + id + " (pid " + cluster.pid(id) + ")");
  }

  /** A node process that exited without being killed has crashed: a finding. It is restarted to go on. */
  private void checkCrashes() throws IOException {
    for (var e : cluster.exitedOnTheirOwn().entrySet()) {
      problems.add(e.getKey() + " exited on its own with code " + e.getValue() + " (see its log)");
      log("CRASHED " + e.getKey() + " exit code " + e.getValue());
      try {
        cluster.kill(e.getKey()); // forget the dead process
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
      }
      restart(e.getKey());
    }
  }

  /** The node that says it leads, with the highest term among those answering; null if none. */
  String leader() throws InterruptedException {
    String leader = null;
    long term = -1;
    for (String id : cluster.ids()) {
      if (!cluster.isRunning(id) || cluster.isPaused(id)) continue;
      try {
        Answer a = http.get(cluster.http(id), "/v1/status");
        if (a.status() == 200 && a.body() != null && "LEADER".equals(a.body().path("role").asText())
            && a.body().path("term").asLong() > term) {
          leader = id;
          term = a.body().path("term").asLong();
        }
      } catch (IOException e) {
        // not answering: ask the next one
      }
    }
    return leader;
  }

  /** Waits until every node answers /v1/status; one that does not within {@link #RECOVERY} is a finding. */
  void awaitAllAnswering() throws Exception {
    long started = System.nanoTime();
    long deadline = started + RECOVERY.toNanos();
    for (String id : cluster.ids()) {
      while (true) {
        try {
          if (http.get(cluster.http(id), "/v1/status").status() == 200) break;
        } catch (IOException e) {
          // starting
        }
        if (System.nanoTime() > deadline) {
          problems.add(id + " did not answer /v1/status within " + RECOVERY + " after a fault was healed");
          log(id + " NOT ANSWERING after " + RECOVERY);
          return;
        }
        checkCrashes();
        Thread.sleep(100); // polling a real process, bounded by the deadline
      }
    }
    log("all nodes answer (" + NodeProcesses.since(started).toMillis() + " ms)");
  }

  /**
   * Waits until every node names the same leader in the same term, and that node says it leads, so that each fault
   * hits a working cluster. Not within {@link #RECOVERY} after the heal is a finding (the cluster did not recover).
   */
  void awaitLeader() throws Exception {
    long started = System.nanoTime();
    try {
      String leader = FaultIT.awaitLeader(cluster, RECOVERY);
      log("leader " + leader + " (" + NodeProcesses.since(started).toMillis() + " ms)");
    } catch (AssertionError e) {
      problems.add("after a heal: " + e.getMessage());
      log("NO LEADER: " + e.getMessage());
    }
  }

  private static void pause(long ms) throws InterruptedException {
    Thread.sleep(ms); // nemesis pacing, not synchronisation
  }

  private static void sleepUntil(long nanos) throws InterruptedException {
    long left = nanos - System.nanoTime();
    if (left > 0) Thread.sleep(left / 1_000_000, (int) (left % 1_000_000));
  }
}

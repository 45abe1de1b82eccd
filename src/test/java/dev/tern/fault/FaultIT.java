package dev.tern.fault;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.typesafe.config.ConfigFactory;
import dev.tern.fault.TernHttp.Answer;
import dev.tern.lincheck.History;
import dev.tern.lincheck.LinearizabilityChecker;
import dev.tern.lincheck.LinearizabilityChecker.Result;
import dev.tern.lincheck.LinearizabilityChecker.Verdict;
import dev.tern.lincheck.Op;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Issue #5, "prove it under faults": a cluster of real node processes, concurrent clients over HTTP recording
 * every operation, and a nemesis that kills (SIGKILL), pauses (SIGSTOP) and partitions nodes, the leader on
 * purpose part of the time. After the faults are healed: a leader is elected, writes are accepted, every node
 * converges to the same state, and the whole history must be linearizable. See docs/testing.md.
 *
 * <p>Settings (system properties, passed through by Maven): {@code tern.fault.duration} (time under faults per
 * variant, default 30s), {@code tern.fault.nodes} (3 or 5: run only that variant), {@code tern.fault.seed} (replay a
 * schedule), {@code tern.fault.clients}, {@code tern.fault.keys} (per epoch), {@code tern.fault.epoch} (60s),
 * {@code tern.fault.client-timeout} (3s),
 * {@code tern.fault.jvm-opts} (each node JVM's options), {@code tern.fault.check-steps} (the checker's step limit
 * per key), {@code tern.fault.keep-logs} (save the evidence folder even when the run passes).
 */
class FaultIT {
  private static final Duration DURATION = duration("tern.fault.duration", "30s");
  private static final Duration CLIENT_TIMEOUT = duration("tern.fault.client-timeout", "3s");
  /** Clients move to fresh keys this often, which bounds each key's history in a long run (see Workload). */
  private static final Duration EPOCH = duration("tern.fault.epoch", "60s");
  private static final Duration SETTLE = Duration.ofSeconds(90);
  private static final String FINAL_KEY = "fault-final";

  private static Duration duration(String property, String fallback) {
    String value = System.getProperty(property, "").isBlank() ? fallback : System.getProperty(property);
    return ConfigFactory.parseString("d = " + value).getDuration("d");
  }

  private static int integer(String property, int fallback) {
    String value = System.getProperty(property, "");
    return value.isBlank() ? fallback : Integer.parseInt(value.trim());
  }

  @Test
  void threeNodes() throws Exception {
    runVariant(3);
  }

  @Test
  void fiveNodes() throws Exception {
    runVariant(5);
  }

  private static void runVariant(int nodes) throws Exception {
    int only = integer("tern.fault.nodes", 0);
    Assumptions.assumeTrue(only == 0 || only == nodes, "tern.fault.nodes=" + only);
    String seedProperty = System.getProperty("tern.fault.seed", "");
    long seed = seedProperty.isBlank() ? new Random().nextLong() : Long.parseLong(seedProperty.trim());
    int clients = integer("tern.fault.clients", nodes == 3 ? 6 : 8);
    int keyCount = integer("tern.fault.keys", 8);
    List<String> jvmOptions = List.of(System.getProperty("tern.fault.jvm-opts",
        "-Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1").trim().split("\\s+"));
    String name = nodes + " nodes, seed " + seed;
    System.out.println("[fault] " + name + ": " + DURATION.toSeconds() + " s of faults, " + clients + " clients, "
        + keyCount + " keys (replay with -Dtern.fault.seed=" + seed + " -Dtern.fault.nodes=" + nodes + ")");

    Map<String, String> settings = new LinkedHashMap<>();
    settings.put("tern.testing.fault-injection", "on");
    settings.put("tern.http.request-timeout", "2s"); // answers 503 before the client gives up
    // Snapshots every few hundred writes, so that faults also hit snapshot writes, log compaction and followers
    // catching up by InstallSnapshot after a kill, a pause or a partition.
    settings.put("tern.raft.snapshot-threshold", System.getProperty("tern.fault.snapshot-threshold", "4KiB"));
    settings.put("tern.raft.snapshot-trailing-entries", "20");
    settings.put("tern.raft.install-snapshot-chunk-bytes", "4KiB");
    settings.put("tern.storage.segment-size", "16KiB");
    NodeProcesses cluster = new NodeProcesses(nodes, NodeProcesses.builtJar(), jvmOptions, settings);
    History history = new History();
    Workload workload = new Workload(cluster, history, keyCount, EPOCH, clients, CLIENT_TIMEOUT, seed);
    Nemesis nemesis = new Nemesis(cluster, seed);
    List<String> failures = new ArrayList<>();
    String summary = null;
    long started = System.nanoTime();
    boolean passed = false;
    try {
      for (String id : cluster.ids()) cluster.start(id);
      nemesis.awaitAllAnswering();
      String first = awaitLeader(cluster, Duration.ofSeconds(60));
      nemesis.log("cluster up, leader " + first + " (" + NodeProcesses.since(started).toMillis() + " ms)");

      workload.start();
      try {
        nemesis.run(DURATION);
      } finally {
        workload.stop();
      }
      nemesis.log("faults over, clients stopped; " + workload.total() + " ops");

      // After the faults: a leader, writes accepted, every node with the same state. A failure here is reported
      // together with the checker's verdict on the history.
      Map<String, String> state = Map.of();
      try {
        String leader = awaitLeader(cluster, SETTLE);
        long finalRevision = finalWrite(cluster, nemesis, seed);
        nemesis.log("leader " + leader + ", final write applied at revision " + finalRevision);
        state = awaitConvergence(cluster, nemesis, workload.usedKeys(), finalRevision, workload, failures);
        finalReads(cluster, history, workload.usedKeys(), clients, new Random(seed));
      } catch (AssertionError e) {
        failures.add(e.getMessage());
      }

      LinearizabilityChecker.Result result = check(history);
      List<Op> ops = history.ops();
      summary = String.format("ops=%d ok=%d fail=%d unknown=%d linearizable=%s",
          workload.total(), workload.ok.get(), workload.fail.get(), workload.unknown.get(), result.linearizable());
      System.out.println("[fault] " + name + ": " + summary);
      System.out.println("[fault]   by kind " + workload.countsByKind() + "; stale reads " + workload.staleReads.get()
          + " (" + workload.staleOk.get() + " answered); history " + ops.size() + " ops; checker "
          + result.verdict() + " in " + result.steps() + " steps; faults " + nemesis.counts()
          + "; membership changes and transfers answered " + nemesis.outcomes());
      System.out.println("[fault]   snapshots taken " + cluster.countLogLines("snapshot taken up to index")
          + ", installed from the leader " + cluster.countLogLines("installed the leader's snapshot"));
      System.out.println("[fault]   final state, the same on every node (" + state.size() + " keys): "
          + (state.size() <= 20 ? state : "not printed"));
      failures.addAll(workload.anomalies());
      failures.addAll(nemesis.problems());
      if (result.verdict() == Verdict.NOT_LINEARIZABLE) {
        failures.add("NOT LINEARIZABLE (seed " + seed + "):\n" + result.render());
      } else if (result.verdict() == Verdict.TIMEOUT) {
        failures.add("the checker could not decide key " + result.key() + " within its step limit (raise "
            + "-Dtern.fault.check-steps, or use fewer clients / more keys); undecided counts as a failure");
      }
      assertTrue(workload.ok.get() > 0, "no operation succeeded");
      if (!failures.isEmpty()) {
        fail(name + ": " + failures.size() + " problem(s):\n" + String.join("\n", failures.subList(0,
            Math.min(failures.size(), 40))) + "\n" + summary);
      }
      passed = true;
    } finally {
      try {
        workload.stop();
        cluster.killAll();
        if (!passed || Boolean.getBoolean("tern.fault.keep-logs")) {
          Path evidence = Path.of(System.getProperty("user.dir"), "target", "fault-it",
              nodes + "-nodes-seed-" + seed);
          cluster.saveLogs(evidence, Map.of(
              "history.txt", renderHistory(history),
              "nemesis.txt", String.join("\n", nemesis.events()) + "\n",
              "summary.txt", (summary == null ? "(not reached)" : summary) + "\n" + String.join("\n", failures) + "\n"));
          System.out.println("[fault] " + name + ": " + (passed ? "passed" : "FAILED") + "; node logs, history and "
              + "nemesis events saved in " + evidence);
        }
      } finally {
        cluster.close();
        System.out.println("[fault] " + name + ": done in " + NodeProcesses.since(started).toSeconds() + " s");
      }
    }
  }

  /** The checker with its default step limit, then (only for an undecided key) a larger one. */
  private static Result check(History history) {
    long steps = Long.parseLong(System.getProperty("tern.fault.check-steps",
        Long.toString(LinearizabilityChecker.DEFAULT_STEP_LIMIT)).trim());
    Result result = new LinearizabilityChecker(steps, true).checkAll(history);
    if (result.verdict() == Verdict.TIMEOUT) {
      System.out.println("[fault] checker undecided on key " + result.key() + " after " + steps
          + " steps; trying again with " + 20 * steps);
      result = new LinearizabilityChecker(20 * steps, true).checkAll(history);
    }
    return result;
  }

  /**
   * Waits until every node names the same leader in the same term and that node says it leads; returns it. No
   * such agreement within {@code within} is a failure.
   */
  static String awaitLeader(NodeProcesses cluster, Duration within) throws Exception {
    TernHttp http = new TernHttp(Duration.ofSeconds(2));
    long deadline = System.nanoTime() + within.toNanos();
    Map<String, String> last = new TreeMap<>();
    while (System.nanoTime() < deadline) {
      last.clear();
      for (String id : cluster.ids()) {
        try {
          Answer a = http.get(cluster.http(id), "/v1/status");
          last.put(id, a.status() == 200 && a.body() != null
              ? a.body().path("role").asText() + "/" + a.body().path("term").asLong() + "/" + a.body().path("leader").asText()
              : "status " + a.status());
        } catch (IOException e) {
          last.put(id, "not answering");
        }
      }
      var views = last.values().stream().map(v -> v.substring(v.indexOf('/') + 1)).distinct().toList();
      if (views.size() == 1 && !views.get(0).endsWith("/null") && !views.get(0).startsWith("status")) {
        String leader = views.get(0).substring(views.get(0).indexOf('/') + 1);
        if (last.getOrDefault(leader, "").startsWith("LEADER/")) return leader;
      }
      Thread.sleep(200); // polling real processes, bounded by the deadline
    }
    throw new AssertionError("no leader agreed on by every node within " + within + ": " + last);
  }

  /**
   * A write every node must apply: PUT {@value #FINAL_KEY} with a unique value, to each node in turn until one is
   * answered 200 (a 503 while the cluster settles is retried on the next node). Returns its revision.
   */
  private static long finalWrite(NodeProcesses cluster, Nemesis nemesis, long seed) throws Exception {
    TernHttp http = new TernHttp(Duration.ofSeconds(5));
    String value = "final-" + seed;
    long deadline = System.nanoTime() + SETTLE.toNanos();
    List<String> answers = new ArrayList<>();
    for (int i = 0; System.nanoTime() < deadline; i++) {
      String id = cluster.ids().get(i % cluster.ids().size());
      try {
        Answer a = http.put(cluster.http(id), "/v1/kv/" + FINAL_KEY, value);
        if (a.status() == 200 && a.revision() > 0 && value.equals(a.body().path("value").asText())) return a.revision();
        answers.add(id + ": " + a.status() + " " + a.raw());
      } catch (IOException e) {
        answers.add(id + ": " + e);
      }
      Thread.sleep(200); // bounded by the deadline
    }
    throw new AssertionError("no write accepted within " + SETTLE + " after the faults healed: " + answers);
  }

  /**
   * Waits until every node has applied the final write and answers the same value and revision for every key in
   * stale reads (its own applied state). Returns that state; not converging within {@link #SETTLE} is a failure.
   */
  private static Map<String, String> awaitConvergence(NodeProcesses cluster, Nemesis nemesis, List<String> keys,
      long finalRevision, Workload workload, List<String> failures) throws Exception {
    TernHttp http = new TernHttp(Duration.ofSeconds(3));
    List<String> all = new ArrayList<>(keys);
    all.add(FINAL_KEY);
    long deadline = System.nanoTime() + SETTLE.toNanos();
    Map<String, Map<String, String>> views = new TreeMap<>();
    while (true) {
      views.clear();
      for (String id : cluster.ids()) {
        Map<String, String> view = new TreeMap<>();
        try {
          Answer status = http.get(cluster.http(id), "/v1/status");
          long applied = status.body() == null ? -1 : status.body().path("lastApplied").asLong(-1);
          view.put("(applied>=final)", Boolean.toString(applied >= finalRevision));
          for (String key : all) {
            Answer a = http.get(cluster.http(id), "/v1/kv/" + key + "?consistency=stale");
            view.put(key, a.status() == 200 ? a.body().path("value").asText() + "@" + a.revision()
                : a.status() == 404 ? "absent" : "status " + a.status());
          }
        } catch (IOException e) {
          view.put("error", e.toString());
        }
        views.put(id, view);
      }
      var distinct = views.values().stream().distinct().toList();
      if (distinct.size() == 1 && "true".equals(distinct.get(0).get("(applied>=final)"))) {
        Map<String, String> state = new TreeMap<>(distinct.get(0));
        state.remove("(applied>=final)");
        for (String key : keys) {
          String v = state.get(key);
          if (v.equals("absent")) continue;
          String value = v.substring(0, v.lastIndexOf('@'));
          if (!workload.wasAttempted(key, value)) failures.add("final state: " + key + " = " + v + ", never written by a client");
        }
        nemesis.log("every node converged");
        return state;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("the nodes did not converge within " + SETTLE + " after the final write at revision "
            + finalRevision + ":\n" + views.entrySet().stream().map(e -> e.getKey() + " " + e.getValue())
            .collect(Collectors.joining("\n")));
      }
      Thread.sleep(300); // polling real processes, bounded by the deadline
    }
  }

  /** A linearizable read of every key after the run, recorded in the history, so the final state is checked too. */
  private static void finalReads(NodeProcesses cluster, History history, List<String> keys, int client, Random rnd)
      throws InterruptedException {
    TernHttp http = new TernHttp(Duration.ofSeconds(5));
    for (String key : keys) {
      String id = cluster.ids().get(rnd.nextInt(cluster.ids().size()));
      History.Call call = history.invokeGet(client, key);
      try {
        Answer a = http.get(cluster.http(id), "/v1/kv/" + key);
        if (a.status() == 200) {
          call.okRead(a.body().path("value").asText(), a.revision());
        } else if (a.status() == 404) {
          call.notFound();
        } else {
          call.unknown();
        }
      } catch (IOException e) {
        call.unknown();
      }
    }
  }

  /** Every op of the history, one per line, for the evidence folder. */
  private static String renderHistory(History history) {
    StringBuilder out = new StringBuilder();
    List<Op> ops = history.ops();
    long origin = ops.isEmpty() ? 0 : ops.get(0).invokeNanos();
    for (Op op : ops) {
      out.append(String.format("%6d %-4s %-55s [%d .. %s]%n", op.id(), op.key(), op.describe(),
          op.invokeNanos() - origin, op.completeNanos() == Long.MAX_VALUE ? "inf"
              : Long.toString(op.completeNanos() - origin)));
    }
    return out.toString();
  }
}

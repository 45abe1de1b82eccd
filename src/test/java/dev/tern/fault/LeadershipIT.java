package dev.tern.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.fault.TernHttp.Answer;
import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Leadership on real processes (three JVMs running the shaded jar, after `mvn package`):
 *
 * <ul>
 *   <li>a rolling restart of every node (SIGTERM, then start again on the same data) under a write load: a leader
 *       that is stopped hands leadership over first (Raft dissertation 3.10), so not one write fails; the writers
 *       only keep off the node being restarted, as a load balancer draining it would;
 *   <li>a leader cut off from the others (the test-only partition route) steps down by CheckQuorum (6.2), and its
 *       {@code /health} answers 503 with "no quorum" until the partition heals.
 * </ul>
 */
class LeadershipIT {
  private static final Duration CLIENT_TIMEOUT = Duration.ofSeconds(8);
  private static final Duration READY_WITHIN = Duration.ofSeconds(40);
  private static final int WRITERS = 3;
  private static NodeProcesses cluster;
  private static final TernHttp http = new TernHttp(Duration.ofSeconds(3));

  @BeforeAll
  static void start() throws Exception {
    List<String> jvm = List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");
    cluster = new NodeProcesses(3, NodeProcesses.builtJar(), jvm, Map.of("tern.testing.fault-injection", "on",
        "tern.http.request-timeout", CLIENT_TIMEOUT.minusSeconds(2).toSeconds() + "s"));
    for (String id : cluster.ids()) cluster.start(id);
  }

  @AfterAll
  static void stop() throws IOException {
    if (cluster != null) cluster.close();
  }

  private static String logs() {
    StringBuilder out = new StringBuilder();
    for (String id : cluster.ids()) {
      try {
        List<String> lines = Files.readAllLines(cluster.log(id));
        out.append("---- ").append(id).append(" (last 40 lines)\n");
        for (String line : lines.subList(Math.max(0, lines.size() - 40), lines.size())) out.append(line).append('\n');
      } catch (IOException e) {
        out.append("---- ").append(id).append(": ").append(e).append('\n');
      }
    }
    return out.toString();
  }

  /** Waits until node {@code id} answers /health 200 (it knows a leader that can serve). */
  private static void awaitHealthy(String id) throws Exception {
    long deadline = System.nanoTime() + READY_WITHIN.toNanos();
    while (System.nanoTime() < deadline) {
      try {
        if (http.get(cluster.http(id), "/health").status() == 200) return;
      } catch (IOException e) {
        // starting
      }
      Thread.sleep(100); // bounded by the deadline
    }
    throw new AssertionError(id + " not healthy within " + READY_WITHIN + "\n" + logs());
  }

  /** The node every node names as leader, once they all agree. */
  private static String leader() throws Exception {
    long deadline = System.nanoTime() + READY_WITHIN.toNanos();
    while (System.nanoTime() < deadline) {
      List<String> named = new ArrayList<>();
      for (String id : cluster.ids()) {
        try {
          Answer a = http.get(cluster.http(id), "/v1/status");
          named.add(a.body() == null ? null : a.body().path("leader").asText(null));
        } catch (IOException e) {
          named.add(null);
        }
      }
      if (named.get(0) != null && Collections.frequency(named, named.get(0)) == named.size()) return named.get(0);
      Thread.sleep(100); // bounded by the deadline
    }
    throw new AssertionError("the nodes do not agree on a leader\n" + logs());
  }

  /** Writers that put unique keys, one request at a time each, to any node but the one being restarted. */
  static final class Load {
    final Map<String, String> acked = new ConcurrentHashMap<>();
    final List<String> failed = Collections.synchronizedList(new ArrayList<>());
    final AtomicReference<String> avoid = new AtomicReference<>();
    final Map<String, AtomicInteger> inflight = new ConcurrentHashMap<>();
    final AtomicLong ackedCount = new AtomicLong();
    private final AtomicBoolean stop = new AtomicBoolean();
    private final List<Thread> threads = new ArrayList<>();
    private final TernHttp client = new TernHttp(CLIENT_TIMEOUT);

    void start(int writers) {
      for (String id : cluster.ids()) inflight.put(id, new AtomicInteger());
      for (int t = 0; t < writers; t++) {
        int thread = t;
        Thread th = new Thread(() -> write(thread), "rolling-writer-" + t);
        th.setDaemon(true);
        threads.add(th);
        th.start();
      }
    }

    private void write(int thread) {
      List<String> ids = cluster.ids();
      for (long seq = 0; !stop.get(); seq++) {
        String node = ids.get((int) ((thread + seq) % ids.size()));
        AtomicInteger count = inflight.get(node);
        count.incrementAndGet();
        try {
          if (node.equals(avoid.get())) continue; // drained: the load balancer sends it nothing
          String key = "roll/" + thread + "/" + seq;
          String value = "v" + seq;
          try {
            Answer a = client.put(cluster.http(node), "/v1/kv/" + key, value);
            if (a.status() == 200) {
              acked.put(key, value);
              ackedCount.incrementAndGet();
            } else {
              failed.add("PUT " + key + " to " + node + ": " + a.status() + " " + a.raw());
            }
          } catch (IOException e) {
            failed.add("PUT " + key + " to " + node + ": " + e);
          } catch (InterruptedException e) {
            return;
          }
        } finally {
          count.decrementAndGet();
        }
      }
    }

    /** Stops sending to {@code id} and waits (bounded) until none of its requests is still in flight. */
    void drain(String id) throws InterruptedException {
      avoid.set(id);
      long deadline = System.nanoTime() + CLIENT_TIMEOUT.plusSeconds(2).toNanos();
      while (inflight.get(id).get() > 0 && System.nanoTime() < deadline) Thread.sleep(10);
    }

    void stop() throws InterruptedException {
      stop.set(true);
      for (Thread th : threads) th.join(CLIENT_TIMEOUT.plusSeconds(5).toMillis());
    }
  }

  @Test
  void aRollingRestartWithLeadershipTransferFailsNoWrite() throws Exception {
    for (String id : cluster.ids()) awaitHealthy(id);
    Load load = new Load();
    load.start(WRITERS);
    List<String> story = new ArrayList<>();
    int handovers = 0;
    try {
      Thread.sleep(1000); // the load runs
      for (String id : cluster.ids()) {
        String leaderBefore = leader();
        load.drain(id);
        long ackedBefore = load.ackedCount.get();
        long stopped = System.nanoTime();
        int exit = cluster.terminate(id);
        // 143 = 128 + SIGTERM: how the JVM exits on the signal once its shutdown hooks have run.
        assertTrue(exit == 0 || exit == 143, id + " exited " + exit + " on SIGTERM\n" + logs());
        boolean wasLeader = id.equals(leaderBefore);
        long stopMs = NodeProcesses.since(stopped).toMillis();
        if (wasLeader) {
          handovers++;
          String log = Files.readString(cluster.log(id));
          assertTrue(log.contains("handed leadership over to"), "the stopping leader " + id + " handed nothing over\n"
              + logs());
        }
        cluster.start(id);
        awaitHealthy(id);
        load.avoid.set(null);
        Thread.sleep(500); // writes go to it again
        story.add(id + (wasLeader ? " (leader)" : "") + " stopped in " + stopMs + " ms, back in "
            + NodeProcesses.since(stopped).toMillis() + " ms, " + (load.ackedCount.get() - ackedBefore)
            + " writes acknowledged meanwhile");
      }
    } finally {
      load.stop();
    }
    System.out.println("rolling restart: " + String.join("; ", story) + "; writes acknowledged=" + load.acked.size()
        + ", failed=" + load.failed.size() + ", leaders handing over=" + handovers);
    assertEquals(List.of(), load.failed, "writes failed during the rolling restart\n" + logs());
    assertTrue(handovers >= 1, "no restarted node was the leader: the transfer went untested");
    assertTrue(load.acked.size() > 0);
    // Every acknowledged write is there: one linearizable list per writer, from the node that led last.
    String leader = leader();
    Map<String, String> stored = new java.util.HashMap<>();
    for (int t = 0; t < WRITERS; t++) {
      Answer a = http.get(cluster.http(leader), "/v1/kv?prefix=roll/" + t + "/&limit=10000");
      assertEquals(200, a.status(), a.raw());
      for (var item : a.body().path("items")) stored.put(item.path("key").asText(), item.path("value").asText());
    }
    for (var e : load.acked.entrySet()) assertEquals(e.getValue(), stored.get(e.getKey()), e.getKey());
  }

  @Test
  void aLeaderCutOffFromTheOthersAnswersHealth503() throws Exception {
    for (String id : cluster.ids()) awaitHealthy(id);
    String leader = leader();
    List<String> others = new ArrayList<>(cluster.ids());
    others.remove(leader);
    String cut = "{\"cut\":[\"" + String.join("\",\"", others) + "\"]}";
    assertEquals(200, http.post(cluster.http(leader), "/v1/testing/partition", cut).status());
    long cutAt = System.nanoTime();
    try {
      Answer health = null;
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (System.nanoTime() < deadline) {
        health = http.get(cluster.http(leader), "/health");
        if (health.status() == 503) break;
        Thread.sleep(50); // bounded by the deadline
      }
      long ms = NodeProcesses.since(cutAt).toMillis();
      assertEquals(503, health.status(), "the cut-off leader still says " + health.raw() + "\n" + logs());
      String reason = health.body().path("reason").asText();
      assertTrue(reason.contains("no quorum"), reason);
      assertEquals("FOLLOWER", health.body().path("role").asText(), health.raw());
      System.out.println("cut-off leader " + leader + ": /health 503 after " + ms + " ms: " + reason);
    } finally {
      assertEquals(200, http.delete(cluster.http(leader), "/v1/testing/partition").status());
    }
    awaitHealthy(leader);
  }
}

package dev.tern.cli;

import static dev.tern.cli.LocalProcesses.startLocal;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tern.cli.LocalProcesses.Local;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crash tests on real processes, after `mvn package`: `./tern local` runs three nodes, four client threads write
 * unique keys to all of them, and node processes are killed with SIGKILL in the middle of the load. After the
 * cluster is restarted on the same folder, every write that was answered 200 must be there with its value and
 * revision. A write that failed or timed out is "unknown": it may or may not exist, and is not checked.
 * Every process started is stopped by its PID; the data folder is a temporary one.
 */
class CrashIT {
  private static final int WRITERS = 4;
  private static final Duration CLIENT_TIMEOUT = Duration.ofSeconds(3);
  private static final Duration LOAD_BEFORE_KILL = Duration.ofSeconds(3);
  private static final Duration LOAD_AFTER_KILL = Duration.ofSeconds(3);
  private static final Duration VERIFY_WITHIN = Duration.ofSeconds(45);
  private static final ObjectMapper JSON = new ObjectMapper();
  /**
   * Small snapshots and segments, so that the kills also land while snapshots are written, segments deleted and
   * (for the node that was down) a snapshot is being received.
   */
  private static final String[] SNAPSHOT_OFTEN = {
      "tern.raft.snapshot-threshold=8KiB", "tern.raft.snapshot-trailing-entries=20", "tern.storage.segment-size=8KiB"};

  /** The snapshot files in the nodes' data folders, as "nK/snapshot-....snap". */
  private static List<String> snapshotsOnDisk(Path dir) throws IOException {
    List<String> snapshots = new ArrayList<>();
    for (String node : List.of("n1", "n2", "n3")) {
      if (!java.nio.file.Files.isDirectory(dir.resolve(node))) continue;
      try (var files = java.nio.file.Files.list(dir.resolve(node))) {
        files.map(f -> f.getFileName().toString()).filter(f -> f.startsWith("snapshot-") && f.endsWith(".snap"))
            .forEach(f -> snapshots.add(node + "/" + f));
      }
    }
    return snapshots;
  }

  /** Lets the load run until some node has written a snapshot (bounded), so the kill tests recovery from one. */
  private static void awaitSnapshot(Path dir, Local cluster) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (snapshotsOnDisk(dir).isEmpty()) {
      if (System.nanoTime() > deadline) throw new AssertionError("no snapshot within 60 s:\n" + cluster.transcript());
      Thread.sleep(100); // bounded by the deadline
    }
  }

  private static HttpClient newClient() {
    return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(1)).build();
  }

  /** A write answered 200: the value written and the revision the cluster gave it. */
  record Ack(String value, long revision, long startedNanos) {}

  /**
   * {@value #WRITERS} threads, each writing keys {@code crash/<thread>/<seq>} with a unique value, one request at
   * a time, to the nodes in turn. Every write answered 200 is recorded as acknowledged; any other outcome
   * (an error status, a refused connection, a timeout) as unknown.
   */
  static final class Load {
    final Map<String, Ack> acked = new ConcurrentHashMap<>();
    final AtomicLong unknown = new AtomicLong();
    /** 200 answers that do not echo the write: a bug, reported by the test. */
    final List<String> oddAnswers = Collections.synchronizedList(new ArrayList<>());
    private final AtomicBoolean stop = new AtomicBoolean();
    private final List<Thread> threads = new ArrayList<>();
    private final List<String> nodes;
    private final HttpClient client = newClient();

    Load(List<String> nodes) {
      this.nodes = List.copyOf(nodes);
    }

    void start() {
      for (int t = 0; t < WRITERS; t++) {
        int thread = t;
        Thread th = new Thread(() -> write(thread), "crash-writer-" + t);
        th.setDaemon(true);
        threads.add(th);
        th.start();
      }
    }

    private void write(int thread) {
      for (long seq = 0; !stop.get(); seq++) {
        String key = "crash/" + thread + "/" + seq;
        String value = "v-" + thread + "-" + seq + "-" + Long.toHexString(ThreadLocalRandom.current().nextLong());
        String node = nodes.get((int) ((thread + seq) % nodes.size()));
        long started = System.nanoTime();
        try {
          HttpResponse<String> r = client.send(
              HttpRequest.newBuilder(URI.create(node + "/v1/kv/" + key)).timeout(CLIENT_TIMEOUT)
                  .PUT(HttpRequest.BodyPublishers.ofString(value)).build(),
              HttpResponse.BodyHandlers.ofString());
          if (r.statusCode() == 200) {
            JsonNode body = JSON.readTree(r.body());
            if (key.equals(body.path("key").asText()) && value.equals(body.path("value").asText())
                && body.path("revision").asLong() > 0) {
              acked.put(key, new Ack(value, body.path("revision").asLong(), started));
            } else {
              oddAnswers.add("PUT " + key + "=" + value + " to " + node + ": " + r.body());
            }
          } else {
            unknown.incrementAndGet();
            pause(); // e.g. 503 while there is no leader: do not spin
          }
        } catch (IOException e) {
          unknown.incrementAndGet(); // refused (a killed node), reset or timed out: the write may or may not exist
          pause();
        } catch (InterruptedException e) {
          unknown.incrementAndGet();
          return;
        }
      }
    }

    private void pause() {
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        stop.set(true);
      }
    }

    /** Writes that were acknowledged although they were sent after {@code nanos}. */
    long ackedStartedAfter(long nanos) {
      return acked.values().stream().filter(a -> a.startedNanos() - nanos > 0).count();
    }

    /** Stops the writers; each ends within the client timeout. */
    void stop() throws InterruptedException {
      stop.set(true);
      long deadline = System.nanoTime() + CLIENT_TIMEOUT.plusSeconds(5).toNanos();
      for (Thread th : threads) th.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
      for (Thread th : threads) {
        if (th.isAlive()) {
          th.interrupt();
          fail(th.getName() + " did not stop");
        }
      }
    }
  }

  /** The id of the node that says it is the leader, polling every node until {@code within} passes. */
  private static String leaderOf(Local cluster, Duration within) throws Exception {
    HttpClient client = newClient();
    long deadline = System.nanoTime() + within.toNanos();
    while (System.nanoTime() < deadline) {
      for (String node : cluster.http().values()) {
        try {
          HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(node + "/v1/status"))
              .timeout(Duration.ofSeconds(2)).GET().build(), HttpResponse.BodyHandlers.ofString());
          JsonNode s = JSON.readTree(r.body());
          if (r.statusCode() == 200 && s.hasNonNull("leader") && s.get("leader").asText().equals(s.path("id").asText())) {
            return s.get("leader").asText();
          }
        } catch (IOException e) {
          // not answering: ask the next one
        }
      }
      Thread.sleep(100); // bounded by the deadline
    }
    throw new AssertionError("no node said it leads within " + within + "\n" + cluster.transcript());
  }

  /** What a check of every acknowledged write found. */
  record Check(int found, List<String> missing, List<String> wrong, List<String> unchecked) {}

  /**
   * Reads every acknowledged key with a linearizable GET, spread over the nodes; 503s, refused connections and
   * timeouts are retried on the next node until {@link #VERIFY_WITHIN} passes. A 404 is a missing write.
   */
  static Check verify(Local cluster, Map<String, Ack> acked) throws Exception {
    List<String> nodes = List.copyOf(cluster.http().values());
    List<String> keys = new ArrayList<>(acked.keySet());
    Collections.sort(keys);
    List<String> found = Collections.synchronizedList(new ArrayList<>());
    List<String> missing = Collections.synchronizedList(new ArrayList<>());
    List<String> wrong = Collections.synchronizedList(new ArrayList<>());
    List<String> unchecked = Collections.synchronizedList(new ArrayList<>());
    long deadline = System.nanoTime() + VERIFY_WITHIN.toNanos();
    HttpClient client = newClient();
    ExecutorService pool = Executors.newFixedThreadPool(WRITERS);
    try {
      List<Future<?>> parts = new ArrayList<>();
      for (int w = 0; w < WRITERS; w++) {
        int part = w;
        parts.add(pool.submit(() -> {
          for (int i = part; i < keys.size(); i += WRITERS) {
            String key = keys.get(i);
            Ack ack = acked.get(key);
            boolean done = false;
            for (int attempt = 0; !done && System.nanoTime() < deadline; attempt++) {
              String node = nodes.get((i + attempt) % nodes.size());
              try {
                HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(node + "/v1/kv/" + key))
                    .timeout(CLIENT_TIMEOUT).GET().build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                  JsonNode body = JSON.readTree(r.body());
                  if (ack.value().equals(body.path("value").asText()) && ack.revision() == body.path("revision").asLong()) {
                    found.add(key);
                  } else {
                    wrong.add(key + " acknowledged " + ack + " read from " + node + ": " + r.body());
                  }
                  done = true;
                } else if (r.statusCode() == 404) {
                  missing.add(key + " acknowledged " + ack + " read from " + node + ": " + r.body());
                  done = true;
                } else {
                  Thread.sleep(100); // 503: no leader or quorum yet; bounded by the deadline
                }
              } catch (IOException e) {
                Thread.sleep(100); // not answering yet; bounded by the deadline
              }
            }
            if (!done) unchecked.add(key);
          }
          return null;
        }));
      }
      for (Future<?> part : parts) part.get(VERIFY_WITHIN.plusSeconds(10).toSeconds(), TimeUnit.SECONDS);
    } finally {
      pool.shutdownNow();
      pool.awaitTermination(10, TimeUnit.SECONDS);
    }
    return new Check(found.size(), List.copyOf(missing), List.copyOf(wrong), List.copyOf(unchecked));
  }

  private static void assertAllExited(Map<String, Long> pids) {
    for (long pid : pids.values()) {
      assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "node pid " + pid + " still runs");
    }
  }

  /**
   * Asks a node to compare every member's key-value state at one applied index (POST /v1/check) until the check can run
   * (a leader, every member answering), and returns its report.
   */
  private static JsonNode consistencyCheck(Local cluster) throws Exception {
    HttpClient client = newClient();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    String last = "";
    while (System.nanoTime() < deadline) {
      for (String node : cluster.http().values()) {
        try {
          HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(node + "/v1/check"))
              .timeout(Duration.ofSeconds(40)).POST(HttpRequest.BodyPublishers.noBody()).build(),
              HttpResponse.BodyHandlers.ofString());
          JsonNode report = JSON.readTree(r.body());
          if (r.statusCode() == 200 && report.path("members").size() == 3
              && java.util.stream.StreamSupport.stream(report.path("members").spliterator(), false)
                  .allMatch(m -> m.hasNonNull("digest"))) {
            return report;
          }
          last = r.statusCode() + " " + r.body();
        } catch (IOException e) {
          last = e.toString(); // not answering yet: ask the next one
        }
      }
      Thread.sleep(200); // bounded by the deadline
    }
    throw new AssertionError("no complete consistency check within 60 s; last answer: " + last);
  }

  /** Restarts the stopped cluster on {@code dir}, checks every acknowledged write, prints and asserts. */
  private static void restartAndCheck(String what, Path dir, Load load, String extra) throws Exception {
    List<String> snapshots = snapshotsOnDisk(dir);
    assertFalse(snapshots.isEmpty(), "no node took a snapshot: the crash did not test recovery from one");
    Local again = startLocal(dir, SNAPSHOT_OFTEN);
    Check check;
    JsonNode consistency;
    try {
      check = verify(again, load.acked);
      // Every replica reopened its RocksDB store where its last flush left it and replayed its log after that: all
      // must hold the same state at the same index (issue #25, section 8).
      consistency = consistencyCheck(again);
    } finally {
      again.stop();
    }
    assertAllExited(again.pids());
    System.out.println("crash test (" + what + "): writes acknowledged=" + load.acked.size() + ", found after restart="
        + check.found() + ", missing=" + check.missing().size() + " (wrong=" + check.wrong().size() + ", unchecked="
        + check.unchecked().size() + ", unknown outcome=" + load.unknown.get() + extra + "; snapshots on disk at the"
        + " crash: " + snapshots + ")");
    assertEquals(List.of(), load.oddAnswers, "200 answers that do not echo the write");
    assertTrue(load.acked.size() > 0, "no write was acknowledged");
    assertEquals(List.of(), check.missing(), "acknowledged writes missing after the restart");
    assertEquals(List.of(), check.wrong(), "acknowledged writes with another value or revision after the restart");
    assertEquals(List.of(), check.unchecked(), "acknowledged writes not readable within " + VERIFY_WITHIN);
    assertEquals(load.acked.size(), check.found());
    assertTrue(consistency.path("consistent").asBoolean(), "replicas differ after the restart: " + consistency);
  }

  @Test
  void aNodeKilledMidLoadLosesNoAcknowledgedWrite(@TempDir Path dir) throws Exception {
    Local cluster = startLocal(dir, SNAPSHOT_OFTEN);
    Load load = new Load(List.copyOf(cluster.http().values()));
    long killedAt;
    int ackedBeforeKill;
    try {
      load.start();
      Thread.sleep(LOAD_BEFORE_KILL.toMillis());
      awaitSnapshot(dir, cluster);
      String leader = leaderOf(cluster, Duration.ofSeconds(10));
      ProcessHandle victim = ProcessHandle.of(cluster.pids().get(leader)).orElseThrow();
      ackedBeforeKill = load.acked.size();
      killedAt = System.nanoTime();
      victim.destroyForcibly(); // SIGKILL the leader while writes are in flight
      victim.onExit().get(10, TimeUnit.SECONDS);
      Thread.sleep(LOAD_AFTER_KILL.toMillis()); // the load goes on: the others elect a leader
    } finally {
      try {
        load.stop();
      } finally {
        cluster.stop(); // SIGTERM: `tern local` stops the two nodes left
      }
    }
    assertAllExited(cluster.pids());
    assertTrue(ackedBeforeKill > 0, "no write was acknowledged before the kill:\n" + cluster.transcript());
    long resumed = load.ackedStartedAfter(killedAt);
    assertTrue(resumed > 0, "no write sent after the leader's kill was acknowledged:\n" + cluster.transcript());

    // Every node starts again from its data folder, the killed one included.
    restartAndCheck("one node", dir, load, ", acknowledged before the kill=" + ackedBeforeKill
        + ", sent after the kill and acknowledged=" + resumed);
  }

  @Test
  void allNodesKilledAtOnceLoseNoAcknowledgedWrite(@TempDir Path dir) throws Exception {
    Local cluster = startLocal(dir, SNAPSHOT_OFTEN);
    Load load = new Load(List.copyOf(cluster.http().values()));
    int ackedBeforeKill;
    try {
      load.start();
      Thread.sleep(LOAD_BEFORE_KILL.toMillis());
      awaitSnapshot(dir, cluster);
      List<ProcessHandle> nodes = new ArrayList<>();
      for (long pid : cluster.pids().values()) nodes.add(ProcessHandle.of(pid).orElseThrow());
      ackedBeforeKill = load.acked.size();
      for (ProcessHandle node : nodes) node.destroyForcibly(); // SIGKILL all three, back to back
      for (ProcessHandle node : nodes) node.onExit().get(10, TimeUnit.SECONDS);
    } finally {
      try {
        load.stop();
      } finally {
        cluster.stop(); // `tern local` has exited on its own by now (every node exited), or stops here
      }
    }
    assertAllExited(cluster.pids());
    assertTrue(ackedBeforeKill > 0, "no write was acknowledged before the kill:\n" + cluster.transcript());

    restartAndCheck("all nodes", dir, load, ", acknowledged before the kill=" + ackedBeforeKill);
  }
}

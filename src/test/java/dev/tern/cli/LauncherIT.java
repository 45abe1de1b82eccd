package dev.tern.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher and the CLI as a user runs them, after `mvn package`: `./tern local` starts three node
 * processes, `./tern put/get/cas/status` talk to them, the leader's process is killed with SIGKILL, and the
 * cluster goes on. Every process started is stopped by its PID; the data folder is a temporary one.
 */
class LauncherIT {
  private static final Path REPO = Path.of(System.getProperty("user.dir"));
  private static final Pattern ROW = Pattern.compile("^\\s+(n\\d+)\\s+(http://\\S+)\\s+(\\d+)\\s+.*$");

  record Run(int exit, String out, String err) {}

  private static Run tern(String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(REPO.resolve("tern").toString()));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).directory(REPO.toFile()).start();
    try {
      if (!p.waitFor(60, TimeUnit.SECONDS)) throw new AssertionError("tern " + String.join(" ", args) + " hung");
      return new Run(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim(),
          new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).trim());
    } finally {
      p.destroyForcibly();
    }
  }

  /** Runs a CLI command until it succeeds or the deadline passes (a real cluster takes real time). */
  private static Run retry(Duration within, String... args) throws Exception {
    long deadline = System.nanoTime() + within.toNanos();
    Run last;
    do {
      last = tern(args);
      if (last.exit() == 0) return last;
      Thread.sleep(200); // bounded by the deadline
    } while (System.nanoTime() < deadline);
    return last;
  }

  /** A running `tern local`: its process, and each node's HTTP address and pid. */
  record Local(Process process, Map<String, String> http, Map<String, Long> pids) {
    void stop() throws InterruptedException {
      process.destroy(); // SIGTERM: `tern local` stops its nodes
      if (!process.waitFor(30, TimeUnit.SECONDS)) process.destroyForcibly();
      for (long pid : pids.values()) ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
      for (long pid : pids.values()) {
        ProcessHandle.of(pid).ifPresent(h -> h.onExit().orTimeout(10, TimeUnit.SECONDS).join());
      }
    }
  }

  /** Starts `./tern local` on {@code dir} and waits until it reports every node serving. */
  private static Local startLocal(Path dir) throws Exception {
    Process local = new ProcessBuilder(REPO.resolve("tern").toString(), "local", "--nodes", "3", "--dir", dir.toString())
        .directory(REPO.toFile()).redirectErrorStream(true).start();
    Map<String, String> http = new LinkedHashMap<>();
    Map<String, Long> pids = new LinkedHashMap<>();
    BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(local.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) lines.add(line);
      } catch (IOException ignored) {
        // the process ended
      }
    });
    reader.setDaemon(true);
    reader.start();
    Local started = new Local(local, http, pids);
    try {
      StringBuilder seen = new StringBuilder();
      boolean ready = false;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      while (!ready && System.nanoTime() < deadline) {
        String line = lines.poll(1, TimeUnit.SECONDS);
        if (line == null) continue;
        seen.append(line).append('\n');
        Matcher m = ROW.matcher(line);
        if (m.matches()) {
          http.put(m.group(1), m.group(2));
          pids.put(m.group(1), Long.parseLong(m.group(3)));
        }
        ready = line.startsWith("Ready:");
      }
      assertTrue(ready, "tern local did not report the cluster ready:\n" + seen);
      assertEquals(List.of("n1", "n2", "n3"), List.copyOf(http.keySet()), seen::toString);
      return started;
    } catch (Throwable t) {
      started.stop();
      throw t;
    }
  }

  @Test
  void localClusterServesTheCliSurvivesALeaderKillAndKeepsItsDataAcrossRestarts(@TempDir Path dir) throws Exception {
    Local cluster = startLocal(dir);
    Map<String, String> http = cluster.http();
    Map<String, Long> pids = cluster.pids();
    try {

      Run put = tern("put", "city", "Lisbon", "--node", http.get("n2"));
      assertEquals(0, put.exit(), put::err);
      assertTrue(put.out().startsWith("OK revision="), put.out());
      Run get = tern("get", "city", "--node", http.get("n3"));
      assertEquals(new Run(0, "Lisbon", ""), new Run(get.exit(), get.out(), ""), get::err);
      Run conflict = tern("cas", "city", "0", "Porto", "--node", http.get("n1"));
      assertEquals(3, conflict.exit(), "a CAS conflict exits 3: " + conflict.err());
      Run missing = tern("get", "nowhere", "--node", http.get("n1"));
      assertEquals(1, missing.exit(), "a missing key exits 1");

      Run status = tern("status", "--node", http.get("n1"));
      assertEquals(0, status.exit(), status::err);
      for (String id : http.keySet()) assertTrue(status.out().contains(id), status.out());
      String leader = new com.fasterxml.jackson.databind.ObjectMapper()
          .readTree(java.net.URI.create(http.get("n1") + "/v1/status").toURL().openStream()).get("leader").asText();
      assertTrue(http.containsKey(leader), leader);

      // SIGKILL the leader's process; the others elect a new leader and keep every acknowledged write.
      ProcessHandle.of(pids.get(leader)).orElseThrow().destroyForcibly();
      String survivor = http.keySet().stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
      Run after = retry(Duration.ofSeconds(30), "put", "after-kill", "yes", "--node", http.get(survivor));
      assertEquals(0, after.exit(), "writes resume after the leader is killed: " + after.err());
      Run still = retry(Duration.ofSeconds(30), "get", "city", "--node", http.get(survivor));
      assertEquals("Lisbon", still.out());
    } finally {
      cluster.stop();
    }
    for (long pid : pids.values()) {
      assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "node pid " + pid + " still runs");
    }

    // The whole cluster stopped; started again on the same folder it has every acknowledged write.
    Local again = startLocal(dir);
    try {
      for (String node : again.http().values()) {
        assertEquals("Lisbon", retry(Duration.ofSeconds(30), "get", "city", "--node", node).out(), node);
        assertEquals("yes", retry(Duration.ofSeconds(30), "get", "after-kill", "--node", node).out(), node);
      }
    } finally {
      again.stop();
    }
  }
}

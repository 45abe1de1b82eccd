package dev.tern.cli;

import static dev.tern.cli.LocalProcesses.retry;
import static dev.tern.cli.LocalProcesses.startLocal;
import static dev.tern.cli.LocalProcesses.tern;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.cli.LocalProcesses.Local;
import dev.tern.cli.LocalProcesses.Run;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher and the CLI as a user runs them, after `mvn package`: `./tern local` starts three node
 * processes, `./tern put/get/cas/status` talk to them, the leader's process is killed with SIGKILL, and the
 * cluster goes on. Every process started is stopped by its PID; the data folder is a temporary one.
 */
class LauncherIT {
  @Test
  void localClusterServesTheCliSurvivesALeaderKillAndKeepsItsDataAcrossRestarts(@TempDir Path dir) throws Exception {
    Local cluster = startLocal(dir);
    Map<String, String> http = cluster.http();
    Map<String, Long> pids = cluster.pids();
    try {
      // The nodes run the build's staged jar with its class-data archive mapped (ClassDataArchive): without it
      // each of them parses and verifies every class again, and a node takes twice as long to serve.
      for (Map.Entry<String, Long> node : pids.entrySet()) {
        String maps = java.nio.file.Files.readString(Path.of("/proc", node.getValue().toString(), "maps"));
        assertTrue(maps.contains(LocalProcesses.REPO.resolve("target/run/tern.jsa").toString()),
            node.getKey() + " does not map target/run/tern.jsa");
      }

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

      // tern.testing.fault-injection is off by default: the test-only partition route does not exist.
      var partition = java.net.http.HttpClient.newHttpClient().send(
          java.net.http.HttpRequest.newBuilder(java.net.URI.create(http.get("n1") + "/v1/testing/partition"))
              .timeout(Duration.ofSeconds(10))
              .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"cut\":[\"n2\"]}")).build(),
          java.net.http.HttpResponse.BodyHandlers.ofString());
      assertEquals(404, partition.statusCode(), partition.body());

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

    // A cold start without n1 (issue 10, section 3): n2 and n3 alone, on their data, elect a leader and serve. n1 is
    // Pekko's first seed node, the only one that may form a new Pekko cluster; Raft does not wait for that cluster.
    List<Process> majority = new ArrayList<>();
    try {
      for (String id : List.of("n3", "n2")) {
        majority.add(LocalProcesses.ternProcess("node", "--id", id,
            "--config", dir.resolve(LocalCluster.CONFIG_FILE).toString(), "-Dtern.data-dir=" + dir.resolve(id))
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve(id + ".log").toFile())).start());
      }
      String n2 = again.http().get("n2");
      Run write = retry(Duration.ofSeconds(60), "put", "without-n1", "yes", "--node", n2);
      assertEquals(0, write.exit(), "n2 and n3 serve writes without n1: " + write.err());
      assertEquals("Lisbon", retry(Duration.ofSeconds(30), "get", "city", "--node", again.http().get("n3")).out());

      // n1 lost its disk (issue 17): started with the same command on an empty directory, it refuses to start
      // (tern local wrote tern.cluster.initial-state = existing into cluster.conf once the cluster served) and
      // says how to recover, instead of voting with a blank memory.
      try (var files = java.nio.file.Files.walk(dir.resolve("n1"))) {
        for (Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) java.nio.file.Files.delete(f);
      }
      Process lost = LocalProcesses.ternProcess("node", "--id", "n1",
          "--config", dir.resolve(LocalCluster.CONFIG_FILE).toString(), "-Dtern.data-dir=" + dir.resolve("n1"))
          .redirectErrorStream(true).start();
      majority.add(lost);
      String said = new String(lost.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      assertTrue(lost.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), "n1 did not exit");
      assertEquals(ExitCodes.ERROR, lost.exitValue(), said);
      assertTrue(said.contains("lost its term, its vote and its log") && said.contains("tern member remove n1"), said);

      // Without that setting (initial-state = new, as a members list starts), its empty directory looks like a
      // first start; but n2 and n3 publish the incarnation of the directory n1 had, so it is refused all the same.
      Process unaware = LocalProcesses.ternProcess("node", "--id", "n1",
          "--config", dir.resolve(LocalCluster.CONFIG_FILE).toString(), "-Dtern.data-dir=" + dir.resolve("n1"),
          "-Dtern.cluster.initial-state=new")
          .redirectErrorStream(true).start();
      majority.add(unaware);
      String told = new String(unaware.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      assertTrue(unaware.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), "n1 did not exit");
      assertEquals(ExitCodes.ERROR, unaware.exitValue(), told);
      assertTrue(told.contains("knows n1 as incarnation") && told.contains("this data directory is empty"), told);
    } finally {
      for (Process p : majority) {
        p.destroy();
        if (!p.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)) p.destroyForcibly();
      }
    }
  }
}

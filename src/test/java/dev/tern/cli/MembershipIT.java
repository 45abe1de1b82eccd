package dev.tern.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tern.cli.LocalProcesses.Local;
import dev.tern.cli.LocalProcesses.Run;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Membership changes on real processes, after `mvn package` (dissertation chapter 4, docs/operations.md): `./tern
 * local` runs three nodes under a small write load; `./tern local add` starts n4 (joining with `tern node --join`),
 * adds it and waits for its promotion; n5 starts with {@code tern.cluster.join} and a members list and is added with
 * `./tern member add` (learners, promoted by the leader once caught up): 3 -> 5. Then `./tern member remove`
 * takes the cluster back to 3, removing the leader first. Then n5 is replaced as a node whose disk was lost: removed,
 * its directory wiped, started empty with --join and added again. Every write answered 200 must then be on each of
 * the three remaining members, read from its own state. Every process started is stopped by its PID.
 */
class MembershipIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** A bound per step: generous, since a node's JVM takes tens of seconds to start on a busy 2-core machine. */
  private static final Duration STEP = Duration.ofSeconds(90);
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

  @Test
  void growThreeToFiveAndShrinkBackRemovingTheLeaderUnderLoad(@TempDir Path dir) throws Exception {
    long started = System.nanoTime();
    Local local = LocalProcesses.startLocal(dir.resolve("local"));
    List<Process> extra = new ArrayList<>();
    CrashIT.Load load = null;
    long n4Pid = -1;
    try {
      // Where the running members are: their ids with artery and http ports.
      JsonNode status = get(local.http().get("n1") + "/v1/status");
      StringBuilder spec = new StringBuilder();
      for (JsonNode m : status.path("members")) {
        if (spec.length() > 0) spec.append(',');
        spec.append(m.path("id").asText()).append('=').append(m.path("host").asText()).append(':')
            .append(m.path("arteryPort").asInt()).append(':').append(m.path("httpPort").asInt());
      }
      Map<String, String> httpOf = new LinkedHashMap<>(local.http());
      Map<String, int[]> ports = new LinkedHashMap<>();
      ports.put("n5", new int[] {dev.tern.FreePorts.one(), dev.tern.FreePorts.one()});
      spec.append(",n5=127.0.0.1:").append(ports.get("n5")[0]).append(':').append(ports.get("n5")[1]);
      httpOf.put("n5", "http://127.0.0.1:" + ports.get("n5")[1]);
      phase(started, "three nodes up");
      load = new CrashIT.Load(List.copyOf(httpOf.values()));
      load.start();

      String n1 = local.http().get("n1");
      // n5 starts with the full members list and waits to be added. Meanwhile `tern local add` starts n4, which asks
      // the running members for the configuration (tern node --join), adds it and waits for its promotion.
      extra.add(startJoining(dir, "n5", List.of("-Dtern.cluster.join=true", "-Dtern.cluster.members-spec=" + spec)));
      Path localDir = dir.resolve("local");
      Run addedN4 = LocalProcesses.tern("local", "add", "--dir", localDir.toString(), "--ready-timeout", "50s");
      assertEquals(0, addedN4.exit(), addedN4.out() + "\n" + addedN4.err());
      assertTrue(addedN4.out().contains("n4 is a voter"), addedN4.out());
      String[] n4At = LocalAddCommand.readAdded(localDir.resolve(LocalAddCommand.ADDED_FILE)).get("n4").split(":");
      ports.put("n4", new int[] {Integer.parseInt(n4At[1]), Integer.parseInt(n4At[2])});
      httpOf.put("n4", "http://127.0.0.1:" + n4At[2]);
      n4Pid = LocalCluster.readPid(localDir.resolve("n4.pid")).orElseThrow();
      phase(started, "n4 added and promoted by tern local add");
      Run added = LocalProcesses.retry(STEP, "member", "add", "n5", "--host", "127.0.0.1",
          "--artery-port", String.valueOf(ports.get("n5")[0]), "--http-port", String.valueOf(ports.get("n5")[1]),
          "--node", n1);
      assertEquals(0, added.exit(), added.err());
      assertTrue(added.out().contains("n5(learner)") || added.out().contains("n5"), added.out());
      awaitRole(httpOf, "n5", "voter", dir.resolve("n5.log"));
      phase(started, "n5 added and promoted");
      Run list = LocalProcesses.tern("member", "list", "--node", n1);
      assertEquals(0, list.exit(), list.err());
      // n4 learned the cluster id of the cluster n1 bootstrapped (n5, given a members list, made its own from it).
      String clusterId = get(n1 + "/v1/status").path("clusterId").asText();
      assertEquals(clusterId, get(httpOf.get("n4") + "/v1/status").path("clusterId").asText(), "n4's cluster id");

      // Back to 3: first the leader (4.2.2), then another of the first three.
      String leader = leader(httpOf);
      Run removed = LocalProcesses.retry(STEP, "member", "remove", leader, "--node", httpOf.get("n4"));
      assertEquals(0, removed.exit(), removed.err());
      List<String> rest = new ArrayList<>(List.of("n1", "n2", "n3", "n4", "n5"));
      rest.remove(leader);
      String second = rest.stream().filter(id -> !id.equals("n4") && !id.equals("n5")).findFirst().orElseThrow();
      Run removedAgain = LocalProcesses.retry(STEP, "member", "remove", second, "--node", httpOf.get("n5"));
      assertEquals(0, removedAgain.exit(), removedAgain.err());
      rest.remove(second);
      phase(started, "back to three");

      // Replacing a member whose disk was lost (docs/operations.md, "Replacing a node"): remove it, wipe its data
      // directory, start it again empty with --join, add it back as a learner; the leader promotes it once caught up.
      Run gone = LocalProcesses.retry(STEP, "member", "remove", "n5", "--node", httpOf.get("n4"));
      assertEquals(0, gone.exit(), gone.err());
      Process n5 = extra.get(0);
      n5.destroy();
      if (!n5.waitFor(20, TimeUnit.SECONDS)) n5.destroyForcibly().waitFor(20, TimeUnit.SECONDS);
      deleteTree(dir.resolve("n5"));
      // Its incarnation check runs every 50 ms, not 2 s, so that it surely runs while n5 catches up through the old
      // configurations, which publish its old incarnation, as do the two members removed above, which still run: only the
      // current members' answers may count (IncarnationCheckTest). With a check every 2 s this failed now and then.
      extra.set(0, startJoining(dir, "n5", List.of("-Dtern.cluster.incarnation-check-interval=50ms",
          "--join", httpOf.get("n4"), "--advertise", "127.0.0.1:" + ports.get("n5")[0] + ":" + ports.get("n5")[1])));
      Run back = LocalProcesses.retry(STEP, "member", "add", "n5", "--host", "127.0.0.1",
          "--artery-port", String.valueOf(ports.get("n5")[0]), "--http-port", String.valueOf(ports.get("n5")[1]),
          "--node", httpOf.get("n4"));
      assertEquals(0, back.exit(), back.err());
      awaitRole(httpOf, "n5", "voter", dir.resolve("n5.log"));
      assertEquals(clusterId, status(httpOf.get("n5"), dir.resolve("n5.log")).path("clusterId").asText(),
          "n5's cluster id");
      phase(started, "n5 replaced with an empty data directory");
      Thread.sleep(1000); // a last second of load on the final configuration
      load.stop();
      assertTrue(load.oddAnswers.isEmpty(), String.valueOf(load.oddAnswers));
      assertTrue(load.acked.size() > 20, "too few writes acknowledged: " + load.acked.size());

      // Every acknowledged write, on every remaining member's own state.
      JsonNode members = get(httpOf.get(rest.get(0)) + "/v1/members");
      assertEquals(3, members.path("members").size(), members.toString());
      // Each node serves a list from its own state machine (after a read index from the leader): one list per
      // writer's prefix (CrashIT.Load writes crash/<writer>/<seq>) and node is enough.
      for (String id : rest) {
        long deadline = System.nanoTime() + STEP.toNanos();
        List<String> missing;
        int unanswered;
        do {
          Map<String, String> held = new java.util.HashMap<>();
          unanswered = 0;
          for (int w = 0; w < 4; w++) {
            JsonNode page = getOrNull(httpOf.get(id) + "/v1/kv?prefix=crash/" + w + "/&limit=10000");
            if (page == null) {
              unanswered++;
              continue;
            }
            assertTrue(page.path("items").size() < 10000, "a full page: use narrower prefixes");
            for (JsonNode item : page.path("items")) held.put(item.path("key").asText(), item.path("value").asText());
          }
          missing = new ArrayList<>();
          for (var e : load.acked.entrySet()) {
            if (!e.getValue().value().equals(held.get(e.getKey()))) missing.add(e.getKey());
          }
          if (!missing.isEmpty()) Thread.sleep(200); // bounded by the deadline
        } while (!missing.isEmpty() && System.nanoTime() < deadline);
        if (!missing.isEmpty()) {
          // What the node itself says, and its log's end when the test started it: enough to tell a node that stopped
          // from one that lags.
          JsonNode s = getOrNull(httpOf.get(id) + "/v1/status");
          Path log = dir.resolve(id + ".log");
          List<String> lines = Files.exists(log) ? Files.readAllLines(log) : List.of();
          throw new AssertionError(id + " lacks " + missing.size() + " of " + load.acked.size()
              + " acknowledged writes, e.g. " + missing.get(0) + " (" + unanswered + " of 4 lists unanswered); its status: "
              + s + "; its log ends:\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size())));
        }
      }
      System.out.printf("MembershipIT: 3 -> 5 -> 3 (removed %s, the leader, and %s) with %d writes acknowledged and"
          + " %d unknown, all on %s, in %.1f s%n", leader, second, load.acked.size(), load.unknown.get(), rest,
          (System.nanoTime() - started) / 1e9);
    } finally {
      if (load != null) load.stop();
      for (Process p : extra) {
        p.destroy();
        if (!p.waitFor(20, TimeUnit.SECONDS)) p.destroyForcibly();
      }
      local.stop();
      if (n4Pid > 0) {
        // `tern local` stops the nodes `tern local add` started too.
        boolean n4Alive = ProcessHandle.of(n4Pid).map(ProcessHandle::isAlive).orElse(false);
        ProcessHandle.of(n4Pid).ifPresent(ProcessHandle::destroyForcibly);
        assertTrue(!n4Alive, "n4 (pid " + n4Pid + ") still ran after tern local stopped");
      }
    }
  }

  private static void phase(long started, String what) {
    System.out.printf("MembershipIT: %s after %.1f s%n", what, (System.nanoTime() - started) / 1e9);
  }

  /** A node that joins: `tern node --id ID -Dtern.data-dir=... ARGS`, its output appended to ID.log. */
  private Process startJoining(Path dir, String id, List<String> args) throws IOException {
    Path data = dir.resolve(id);
    Files.createDirectories(data);
    List<String> command = new ArrayList<>(List.of(LocalProcesses.REPO.resolve("tern").toString(), "node", "--id", id,
        "-Dtern.data-dir=" + data));
    command.addAll(args);
    ProcessBuilder b = LocalProcesses.process(command).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve(id + ".log").toFile()));
    return b.start();
  }

  private static void deleteTree(Path root) throws IOException {
    try (var paths = Files.walk(root)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(p);
    }
  }

  private void awaitRole(Map<String, String> httpOf, String id, String role, Path log) throws Exception {
    long deadline = System.nanoTime() + STEP.toNanos();
    while (System.nanoTime() < deadline) {
      for (String url : httpOf.values()) {
        JsonNode m = getOrNull(url + "/v1/members");
        if (m == null) continue;
        for (JsonNode s : m.path("members")) {
          if (s.path("id").asText().equals(id) && s.path("role").asText().equals(role)) return;
        }
      }
      Thread.sleep(200); // bounded by the deadline
    }
    List<String> lines = Files.readAllLines(log);
    throw new AssertionError(id + " did not become a " + role + " within " + STEP + "; the end of its log:\n"
        + String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size())));
  }

  private String leader(Map<String, String> httpOf) throws Exception {
    long deadline = System.nanoTime() + STEP.toNanos();
    while (System.nanoTime() < deadline) {
      for (String url : httpOf.values()) {
        JsonNode s = getOrNull(url + "/v1/status");
        if (s != null && "LEADER".equals(s.path("role").asText())) return s.path("id").asText();
      }
      Thread.sleep(200); // bounded by the deadline
    }
    throw new AssertionError("no leader within " + STEP);
  }

  /** A node's /v1/status, once it answers one (bounded); its log's end if it does not. */
  private JsonNode status(String base, Path log) throws Exception {
    long deadline = System.nanoTime() + STEP.toNanos();
    String last = "";
    while (System.nanoTime() < deadline) {
      try {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/status"))
            .timeout(Duration.ofSeconds(3)).GET().build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) return JSON.readTree(r.body());
        last = r.statusCode() + " " + r.body();
      } catch (IOException e) {
        last = e.toString();
      }
      Thread.sleep(200); // bounded by the deadline
    }
    List<String> lines = Files.readAllLines(log);
    throw new AssertionError("no status from " + base + " within " + STEP + " (last: " + last + "); its log ends:\n"
        + String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size())));
  }

  private JsonNode get(String url) throws Exception {
    JsonNode n = getOrNull(url);
    if (n == null) throw new AssertionError("GET " + url + " failed");
    return n;
  }

  private JsonNode getOrNull(String url) throws InterruptedException {
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(3)).GET()
          .build(), HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 ? JSON.readTree(r.body()) : null;
    } catch (IOException e) {
      return null;
    }
  }

}

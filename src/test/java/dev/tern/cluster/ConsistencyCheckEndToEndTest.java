package dev.tern.cluster;

import static dev.tern.cluster.LocalCluster.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tern.kv.Bytes;
import dev.tern.kv.RocksKvStore;
import dev.tern.kv.VersionedValue;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Issue #25 §5 on a real 3-node cluster: {@code POST /v1/check} finds the replicas consistent; then one follower's
 * store is altered while it is stopped (one key's value, at the same applied index: a silent corruption that Raft
 * cannot see), and the next check, run from another node, names it. It raises the CORRUPT alarm: /health 503 with the
 * reason, /v1/status and tern_corruption_alarm show it, and it serves no data (reads, stale reads, lists, watches 503)
 * while the others do; the alarm survives its restart, and only an operator's disarm (through another node) clears it.
 */
class ConsistencyCheckEndToEndTest {
  private static final Duration WITHIN = Duration.ofSeconds(30);
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  @Test
  void aReplicaWhoseStoreWasAlteredIsNamedRaisesCorruptAndServesNoDataUntilDisarmed() throws Exception {
    List<String> all = List.of("n1", "n2", "n3");
    try (LocalCluster c = new LocalCluster(3, "tern.check.interval = 0\ntern.check.timeout = 20s")) {
      String leader = await(() -> c.agreedLeader(all), WITHIN, "a leader");
      for (int i = 0; i < 20; i++) assertEquals(200, c.put(leader, "k/" + i, "v" + i).status());

      JsonNode first = check(c, leader);
      assertTrue(first.get("consistent").asBoolean(), first.toString());
      assertEquals(3, first.get("members").size(), first.toString());
      Set<String> digests = new HashSet<>();
      for (JsonNode m : first.get("members")) digests.add(m.get("digest").asText());
      assertEquals(Set.of(first.get("reference").asText()), digests, first.toString());
      assertEquals(0, first.get("mismatched").size());

      String victim = all.stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
      String other = all.stream().filter(id -> !id.equals(leader) && !id.equals(victim)).findFirst().orElseThrow();
      c.stopNode(victim);
      // A silent corruption: one value changed in place, the revision and the applied index kept.
      try (RocksKvStore store = RocksKvStore.open(c.dataDir(victim).resolve("kv"),
          RocksKvStore.Settings.fromConfig(c.node(leader).system().settings().config().getConfig("tern")), e -> {})) {
        VersionedValue v = store.get("k/5").orElseThrow();
        store.put("k/5", Bytes.utf8("rotten"), v.revision());
        store.endEntry(store.appliedIndex());
        store.commit();
        store.flush();
      }
      c.startAgain(victim, false);
      for (int i = 20; i < 30; i++) assertEquals(200, c.put(leader, "k/" + i, "v" + i).status());
      long commit = c.status(leader).body().get("commitIndex").asLong();
      await(() -> Optional.of(c.status(victim)).filter(s -> s.status() == 200
          && s.body().get("lastApplied").asLong() >= commit), WITHIN, victim + " caught up");

      JsonNode second = check(c, other); // any member runs a check
      assertFalse(second.get("consistent").asBoolean(), second.toString());
      assertTrue(second.get("conclusive").asBoolean(), second.toString());
      assertEquals(List.of(victim), strings(second.get("mismatched")), second.toString());
      for (JsonNode m : second.get("members")) {
        boolean isVictim = m.get("id").asText().equals(victim);
        assertEquals(!isVictim, m.get("digest").asText().equals(second.get("reference").asText()), second.toString());
        if (isVictim) assertEquals("raised", m.get("alarm").asText(), second.toString());
      }

      assertServesNoData(c, victim);
      for (String id : List.of(leader, other)) {
        LocalCluster.Response r = c.get(id, "k/5", false);
        assertEquals(200, r.status(), () -> id + ": " + r.body());
        assertEquals("v5", r.body().get("value").asText());
        assertEquals(200, c.request(id, "GET", "/health", null).status());
        assertEquals(0.0, metric(c, id, "tern_corruption_alarm"));
      }
      assertTrue(Files.exists(c.dataDir(victim).resolve("corruption-alarm.json")));

      // A restart does not clear it.
      c.stopNode(victim);
      c.startAgain(victim, false);
      await(() -> Optional.of(c.status(victim)).filter(s -> s.status() == 200), WITHIN, victim + " back");
      assertServesNoData(c, victim);

      // An operator clears it, through another node.
      LocalCluster.Response disarmed = c.request(leader, "POST", "/v1/check/disarm?node=" + victim, null);
      assertEquals(200, disarmed.status(), () -> String.valueOf(disarmed.body()));
      assertTrue(disarmed.body().get("disarmed").asBoolean(), disarmed.body().toString());
      LocalCluster.Response read = c.get(victim, "k/1", true);
      assertEquals(200, read.status(), () -> String.valueOf(read.body()));
      assertEquals("v1", read.body().get("value").asText());
      await(() -> Optional.of(c.request(victim, "GET", "/health", null)).filter(r -> r.status() == 200), WITHIN,
          victim + " healthy again");
      assertEquals(0, c.status(victim).body().get("alarms").size());
      assertEquals(0.0, metric(c, victim, "tern_corruption_alarm"));
      assertFalse(Files.exists(c.dataDir(victim).resolve("corruption-alarm.json")));
    }
  }

  /** tern.check.interval: the leader checks by itself, and only the leader. */
  @Test
  void theLeaderChecksByItselfEveryInterval() {
    List<String> all = List.of("n1", "n2", "n3");
    try (LocalCluster c = new LocalCluster(3, "tern.check.interval = 300ms\ntern.check.timeout = 10s")) {
      String leader = await(() -> c.agreedLeader(all), WITHIN, "a leader");
      assertEquals(200, c.put(leader, "a", "1").status());
      JsonNode last = await(() -> Optional.of(c.request(leader, "GET", "/v1/check", null))
          .filter(r -> r.status() == 200 && r.body().get("lastCheck").isObject()
              && r.body().get("lastCheck").get("unchecked").isEmpty())
          .map(r -> r.body().get("lastCheck")), WITHIN, "a periodic check on the leader with every member's digest");
      assertTrue(last.get("consistent").asBoolean(), last.toString());
      assertEquals(3, last.get("members").size(), last.toString());
      long index = last.get("index").asLong();
      // Every member applied that check and digested its state there.
      for (String id : all) {
        JsonNode d = c.request(id, "GET", "/v1/check/" + index, null).body();
        assertEquals(last.get("reference").asText(), d.get("digest").asText(), id + ": " + d);
      }
      for (String id : all) {
        if (id.equals(c.agreedLeader(all).orElse(leader))) continue;
        assertTrue(c.request(id, "GET", "/v1/check", null).body().get("lastCheck").isNull(), id + " ran no check");
      }
    }
  }

  private static void assertServesNoData(LocalCluster c, String victim) throws Exception {
    LocalCluster.Response health = await(() -> Optional.of(c.request(victim, "GET", "/health", null))
        .filter(r -> r.status() == 503 && r.body().path("reason").asText().contains("CORRUPT")), WITHIN,
        victim + "'s health 503 for the alarm (once it knows the leader again: before, that is the reason)");
    assertTrue(strings(health.body().get("alarms")).contains("CORRUPT"), health.body().toString());
    assertTrue(health.body().get("reason").asText().contains("CORRUPT"), health.body().toString());
    JsonNode status = c.status(victim).body();
    assertTrue(strings(status.get("alarms")).contains("CORRUPT"), status.toString());
    assertEquals("CORRUPT", status.get("corruption").get("alarm").asText(), status.toString());
    for (String path : List.of("/v1/kv/k/1", "/v1/kv/k/1?consistency=stale", "/v1/kv?prefix=k/", "/v1/watch?prefix=k/")) {
      LocalCluster.Response r = c.request(victim, "GET", path, null);
      assertEquals(503, r.status(), () -> path + ": " + r.body());
      assertEquals("CORRUPT", r.body().get("alarm").asText(), path);
    }
    assertEquals(1.0, metric(c, victim, "tern_corruption_alarm"));
  }

  private static JsonNode check(LocalCluster c, String id) {
    LocalCluster.Response r = c.request(id, "POST", "/v1/check", null);
    assertEquals(200, r.status(), () -> "POST /v1/check on " + id + ": " + r.body());
    return r.body();
  }

  private static List<String> strings(JsonNode array) {
    List<String> out = new java.util.ArrayList<>();
    for (JsonNode n : array) out.add(n.asText());
    return out;
  }

  private static double metric(LocalCluster c, String id, String name) throws Exception {
    String text = HTTP.send(HttpRequest.newBuilder(URI.create(c.baseUrl(id) + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString()).body();
    for (String line : text.split("\n")) {
      if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
        return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    throw new AssertionError(name + " is not in " + id + "'s /metrics");
  }
}

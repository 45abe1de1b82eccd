package dev.tern.cluster;

import static dev.tern.cluster.LocalCluster.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Membership changes through the HTTP API on real nodes (ActorSystems over Artery on loopback, real HTTP), dissertation
 * chapter 4: a node started to join is added through a follower (forwarded to the leader), caught up and promoted by
 * the leader, then the leader removes itself and steps down; every acknowledged write is on every member after.
 */
class MembershipEndToEndTest {
  private static final Duration COLD_START = Duration.ofSeconds(45);
  private static final Duration WITHIN = Duration.ofSeconds(20);

  @Test
  void aJoiningNodeIsAddedPromotedAndTheLeaderRemovesItself() {
    try (LocalCluster cluster = new LocalCluster(3, "")) {
      String leader = await(() -> cluster.agreedLeader(List.of("n1", "n2", "n3")), COLD_START, "a first leader");
      Map<String, String> written = new LinkedHashMap<>();
      write(cluster, leader, "before", "1", written);

      Member n4 = cluster.addNode("n4").self();
      String follower = List.of("n1", "n2", "n3").stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
      String body = "{\"host\":\"" + n4.host() + "\",\"arteryPort\":" + n4.arteryPort() + ",\"httpPort\":" + n4.httpPort() + "}";
      LocalCluster.Response added = await(() -> ok(cluster.request(follower, "PUT", "/v1/members/n4", body)), WITHIN,
          "n4 added through follower " + follower);
      assertEquals("learner", role(added.body(), "n4"), "added as a learner (4.2.1): " + added.body());

      // The leader promotes it once it has caught up.
      await(() -> Optional.of(cluster.request(leader, "GET", "/v1/members", null))
          .filter(r -> r.status() == 200 && "voter".equals(role(r.body(), "n4"))), WITHIN, "n4 promoted to voter");
      LocalCluster.Response status = cluster.status("n4");
      assertEquals(4, status.body().path("configuration").path("members").size(), "n4's status: " + status.body());

      // Errors are JSON: unknown member, a member at other addresses, a bad body.
      assertEquals(404, cluster.request(follower, "DELETE", "/v1/members/n9", null).status());
      LocalCluster.Response moved = cluster.request(follower, "PUT", "/v1/members/n2",
          "{\"host\":\"10.9.9.9\",\"arteryPort\":1,\"httpPort\":2}");
      assertEquals(409, moved.status(), String.valueOf(moved.body()));
      assertTrue(moved.body().path("error").isTextual());
      assertEquals(400, cluster.request(follower, "PUT", "/v1/members/n5", "{\"host\":1}").status());

      write(cluster, leader, "with-n4", "2", written);

      // Dissertation 4.2.2: the leader removes itself (asked through n4), then steps down; the others elect.
      await(() -> ok(cluster.request("n4", "DELETE", "/v1/members/" + leader, null)), WITHIN, "the leader removed");
      List<String> rest = new ArrayList<>(List.of("n1", "n2", "n3", "n4"));
      rest.remove(leader);
      String next = await(() -> cluster.agreedLeader(rest).filter(l -> !l.equals(leader)), WITHIN, "a new leader");
      write(cluster, next, "after", "3", written);
      for (String id : rest) {
        for (var e : written.entrySet()) {
          await(() -> Optional.of(cluster.get(id, e.getKey(), true)).filter(r -> r.status() == 200
              && e.getValue().equals(r.body().path("value").asText())), WITHIN, e.getKey() + " on " + id);
        }
      }
      LocalCluster.Response members = cluster.request(next, "GET", "/v1/members", null);
      assertEquals(3, members.body().path("members").size(), String.valueOf(members.body()));
      assertEquals(null, role(members.body(), leader), "the old leader is gone");
    }
  }

  private static void write(LocalCluster cluster, String node, String key, String value, Map<String, String> written) {
    await(() -> ok(cluster.put(node, key, value)), WITHIN, "write " + key);
    written.put(key, value);
  }

  private static Optional<LocalCluster.Response> ok(LocalCluster.Response r) {
    return r.status() == 200 ? Optional.of(r) : Optional.empty();
  }

  private static String role(JsonNode body, String id) {
    for (JsonNode m : body.path("members")) if (m.path("id").asText().equals(id)) return m.path("role").asText();
    return null;
  }
}

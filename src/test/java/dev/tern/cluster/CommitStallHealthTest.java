package dev.tern.cluster;

import static dev.tern.cluster.LocalCluster.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * Health tells the truth, end to end: a leader cut off from its followers still believes it leads, and every
 * write to it times out. Once it has held an entry it cannot commit for longer than commit-stall-timeout, its
 * {@code /health} answers 503 with the reason and {@code /v1/status} shows how far behind each follower is;
 * after the cut heals it serves again.
 */
class CommitStallHealthTest {

  @Test
  void aLeaderThatCannotCommitIsUnhealthyUntilItCan() {
    try (LocalCluster cluster = new LocalCluster(3, String.join("\n",
        "tern.raft.commit-stall-timeout = 1s",
        // CheckQuorum would make the cut-off leader step down first (LeadershipIT covers that); here it stays
        // leader, as a leader whose followers answer but cannot store its entries would.
        "tern.raft.check-quorum = off",
        "tern.http.request-timeout = 2s"))) {
      List<String> ids = List.of("n1", "n2", "n3");
      String leader = await(() -> cluster.agreedLeader(ids), Duration.ofSeconds(45), "a leader");
      assertEquals(200, cluster.put(leader, "before", "cut").status());
      assertEquals(200, cluster.request(leader, "GET", "/health", null).status());
      List<String> followers = ids.stream().filter(id -> !id.equals(leader)).toList();

      // Cut the leader off from both followers (both directions, at its gateway).
      LocalCluster.Response cut = cluster.request(leader, "POST", "/v1/testing/partition",
          "{\"cut\":[\"" + followers.get(0) + "\",\"" + followers.get(1) + "\"]}");
      assertEquals(200, cut.status());
      CompletableFuture<LocalCluster.Response> stuck =
          CompletableFuture.supplyAsync(() -> cluster.put(leader, "during", "the cut"));

      JsonNode health = await(() -> Optional.of(cluster.request(leader, "GET", "/health", null))
              .filter(r -> r.status() == 503).map(LocalCluster.Response::body),
          Duration.ofSeconds(20), "the cut-off leader's health turning 503");
      assertEquals("LEADER", health.get("role").asText(), health.toString());
      String reason = health.get("reason").asText();
      assertTrue(reason.contains("cannot commit") && reason.contains(followers.get(0) + " has"), reason);

      JsonNode status = cluster.status(leader).body();
      assertTrue(status.get("commitStall").asText().contains("lack a majority"), status.toString());
      assertEquals(2, status.get("followers").size(), status.toString());
      for (JsonNode f : status.get("followers")) {
        assertTrue(f.get("behind").asLong() >= 1, "a follower lacking the stuck entry: " + f);
      }
      assertEquals(503, stuck.join().status(), "the write to the cut-off leader times out");

      // Heal: the old leader learns of the newer term, steps down, and serves again.
      assertEquals(200, cluster.request(leader, "DELETE", "/v1/testing/partition", null).status());
      await(() -> Optional.of(cluster.request(leader, "GET", "/health", null)).filter(r -> r.status() == 200),
          Duration.ofSeconds(30), "the old leader's health turning 200 after the heal");
      String now = await(() -> cluster.agreedLeader(ids), Duration.ofSeconds(30), "a leader after the heal");
      assertEquals(200, cluster.put(now, "after", "heal").status());
    }
  }
}

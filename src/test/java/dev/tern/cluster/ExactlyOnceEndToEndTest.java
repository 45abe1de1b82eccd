package dev.tern.cluster;

import static dev.tern.cluster.LocalCluster.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Exactly-once writes on three real nodes over real HTTP (docs/api.md, "Exactly-once writes"): a write retried
 * with the same {@code Request-Id} through another node, or after its leader died, is applied once and answered
 * as the first time.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ExactlyOnceEndToEndTest {
  private static final Duration COLD_START = Duration.ofSeconds(45);
  private static final Duration ELECTION = Duration.ofSeconds(10);
  private LocalCluster cluster;

  @BeforeAll
  void start() {
    cluster = new LocalCluster(3, "");
    await(() -> cluster.agreedLeader(List.of("n1", "n2", "n3")), COLD_START, "the cluster's first leader");
  }

  @AfterAll
  void stop() {
    cluster.close();
  }

  private List<String> live() {
    List<String> ids = new ArrayList<>();
    for (TernNode n : cluster.nodes) if (n.isRunning()) ids.add(n.id());
    return ids;
  }

  private String leader() {
    return await(() -> cluster.agreedLeader(live()), ELECTION, "an agreed leader");
  }

  private LocalCluster.Response put(String via, String key, String value, String requestId) {
    return cluster.request(via, "PUT", "/v1/kv/" + LocalCluster.path(key), value, Map.of("Request-Id", requestId));
  }

  private long revision(String via, String key) {
    LocalCluster.Response r = cluster.get(via, key, false);
    assertEquals(200, r.status(), () -> String.valueOf(r.body()));
    return r.body().get("revision").asLong();
  }

  @Test
  @Order(1)
  void theSameWriteThroughTwoNodesIsAppliedOnce() {
    String leader = leader();
    List<String> followers = live().stream().filter(id -> !id.equals(leader)).toList();
    LocalCluster.Response first = put(followers.get(0), "once", "v1", "e2e-put-1");
    assertEquals(200, first.status(), () -> String.valueOf(first.body()));
    long revision = first.body().get("revision").asLong();

    LocalCluster.Response again = put(followers.get(1), "once", "v1", "e2e-put-1");
    assertEquals(200, again.status());
    assertEquals(first.body(), again.body(), "the retry gets the first answer");
    LocalCluster.Response viaLeader = put(leader, "once", "v1", "e2e-put-1");
    assertEquals(first.body(), viaLeader.body());
    assertEquals(revision, revision(leader, "once"), "applied once: the revision did not move");

    // A fresh id is a new write.
    LocalCluster.Response other = put(followers.get(1), "once", "v1", "e2e-put-2");
    assertNotEquals(revision, other.body().get("revision").asLong());
  }

  @Test
  @Order(2)
  void aRetriedDeleteIsAnsweredAsTheFirstNot404() {
    String via = leader();
    assertEquals(200, put(via, "gone", "x", "e2e-del-0").status());
    Map<String, String> id = Map.of("Request-Id", "e2e-del-1");
    LocalCluster.Response first = cluster.request(via, "DELETE", "/v1/kv/gone", null, id);
    assertEquals(200, first.status());
    String other = live().stream().filter(n -> !n.equals(via)).findFirst().orElseThrow();
    LocalCluster.Response again = cluster.request(other, "DELETE", "/v1/kv/gone", null, id);
    assertEquals(200, again.status(), () -> String.valueOf(again.body()));
    assertEquals(first.body(), again.body());
  }

  @Test
  @Order(3)
  void aBadRequestIdIsRefused() {
    LocalCluster.Response r = put(leader(), "k", "v", "has space");
    assertEquals(400, r.status());
    assertEquals(404, cluster.get(leader(), "k", false).status(), "nothing was written");
  }

  /** The write commits through the leader, the leader dies, the client retries through a survivor: applied once. */
  @Test
  @Order(4)
  void aRetryAfterTheLeaderDiedIsAppliedOnce() {
    String old = leader();
    LocalCluster.Response first = put(old, "failover", "before", "e2e-failover-1");
    assertEquals(200, first.status());
    cluster.node(old).terminate();
    String fresh = await(() -> cluster.agreedLeader(live()).filter(l -> !l.equals(old)), ELECTION, "a new leader");
    String survivor = live().stream().filter(id -> !id.equals(fresh)).findFirst().orElse(fresh);
    LocalCluster.Response retry = await(() -> Optional.of(put(survivor, "failover", "before", "e2e-failover-1"))
        .filter(r -> r.status() != 503 && r.status() != -1), ELECTION, "the retry answered");
    assertEquals(200, retry.status());
    assertEquals(first.body(), retry.body(), "the first answer, the first revision");
    assertEquals(first.body().get("revision").asLong(), revision(fresh, "failover"));
  }
}

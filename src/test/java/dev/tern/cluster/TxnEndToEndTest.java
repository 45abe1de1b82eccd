package dev.tern.cluster;

import static dev.tern.cluster.LocalCluster.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Transactions on three real nodes over real HTTP (docs/api.md, "Transactions"): sent to any node, one revision for
 * all their writes on every node, the branch chosen by the state they are applied to.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TxnEndToEndTest {
  private static final Duration COLD_START = Duration.ofSeconds(45);
  private static final Duration CATCH_UP = Duration.ofSeconds(10);
  private static final List<String> NODES = List.of("n1", "n2", "n3");
  private LocalCluster cluster;

  @BeforeAll
  void start() {
    cluster = new LocalCluster(3, "");
    await(() -> cluster.agreedLeader(NODES), COLD_START, "the cluster's first leader");
  }

  @AfterAll
  void stop() {
    cluster.close();
  }

  private JsonNode txn(String via, String body, Map<String, String> headers) {
    LocalCluster.Response r = cluster.request(via, "POST", "/v1/txn", body.replace('\'', '"'), headers);
    assertEquals(200, r.status(), () -> via + ": " + r.body());
    return r.body();
  }

  private JsonNode txn(String via, String body) {
    return txn(via, body, Map.of());
  }

  @Test
  void aTransactionWritesSeveralKeysAtOneRevisionSeenByEveryNode() {
    String leader = await(() -> cluster.agreedLeader(NODES), CATCH_UP, "a leader");
    String follower = NODES.stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
    JsonNode done = txn(follower, "{'success':[{'put':{'key':'acct/a','value':'90'}},{'put':{'key':'acct/b','value':'110'}},"
        + "{'delete':{'key':'acct/pending'}}]}");
    assertTrue(done.get("succeeded").asBoolean());
    long revision = done.get("revision").asLong();
    for (String id : NODES) {
      await(() -> Optional.of(cluster.get(id, "acct/b", true)).filter(r -> r.status() == 200), CATCH_UP, "acct/b on " + id);
      for (String key : List.of("acct/a", "acct/b")) {
        assertEquals(revision, cluster.get(id, key, true).body().get("revision").asLong(), key + " on " + id);
      }
    }
  }

  /** Two clients compete for a lock through different nodes: exactly one takes it; the other reads the holder. */
  @Test
  void exactlyOneOfTwoCompetingClientsTakesTheLock() {
    String take = "{'compare':[{'key':'lock','target':'revision','result':'=','revision':0}],"
        + "'success':[{'put':{'key':'lock','value':'%s'}}],'failure':[{'get':{'key':'lock'}}]}";
    JsonNode a = txn("n1", take.formatted("client-a"));
    JsonNode b = txn("n2", take.formatted("client-b"));
    assertTrue(a.get("succeeded").asBoolean() != b.get("succeeded").asBoolean(), a + " / " + b);
    JsonNode loser = a.get("succeeded").asBoolean() ? b : a;
    String holder = a.get("succeeded").asBoolean() ? "client-a" : "client-b";
    assertEquals(holder, loser.get("results").get(0).get("get").get("value").asText());
    assertEquals(holder, cluster.get("n3", "lock", false).body().get("value").asText());

    // Release only if still ours (compare the value), from the third node.
    JsonNode release = txn("n3", "{'compare':[{'key':'lock','target':'value','result':'=','value':'" + holder + "'}],"
        + "'success':[{'delete':{'key':'lock'}}]}");
    assertTrue(release.get("succeeded").asBoolean());
    assertEquals(true, release.get("results").get(0).get("delete").get("deleted").asBoolean());
    assertEquals(404, cluster.get("n1", "lock", false).status());
  }

  @Test
  void aRetriedTransactionThroughAnotherNodeRunsOnce() {
    String body = "{'compare':[{'key':'seq','target':'exists','result':'=','exists':false}],"
        + "'success':[{'put':{'key':'seq','value':'1'}}],'failure':[{'put':{'key':'seq','value':'2'}}]}";
    Map<String, String> id = Map.of("Request-Id", "e2e-txn-1");
    JsonNode first = txn("n2", body, id);
    assertTrue(first.get("succeeded").asBoolean());
    JsonNode again = txn("n3", body, id);
    assertEquals(first, again, "the first answer: success, not the failure branch a second run would take");
    LocalCluster.Response seq = cluster.get("n1", "seq", false);
    assertEquals("1", seq.body().get("value").asText());
    assertEquals(first.get("revision").asLong(), seq.body().get("revision").asLong());
  }

  @Test
  void aBadBodyIs400FromAnyNode() {
    for (String node : NODES) {
      LocalCluster.Response r = cluster.request(node, "POST", "/v1/txn", "{\"compare\":[{\"key\":\"k\"}]}");
      assertEquals(400, r.status());
      assertEquals("compare[0].target: missing, or not a string", r.body().get("error").asText());
    }
    assertFalse(cluster.get("n1", "k", false).status() == 200);
  }
}

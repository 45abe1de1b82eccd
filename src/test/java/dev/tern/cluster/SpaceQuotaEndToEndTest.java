package dev.tern.cluster;

import static dev.tern.cluster.LocalCluster.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The space quota on a real node over real HTTP (docs/operations.md, "Space quota"): with a quota of 10 KiB, puts
 * succeed until the data reaches it; then puts (plain, compare-and-set, with a lease), transactions with a put and
 * lease grants get 507 with the quota and the data size, while reads, lists, transactions without a put, deletes,
 * compare-and-deletes, lease keepalives and revocations go on; /health is 503 naming the quota, /v1/status and
 * /metrics show the alarm; deleting below the quota clears it and puts succeed again.
 *
 * <p>One node: a write is answered once applied on the node that took it, and {@code SpaceQuota} is updated before
 * that answer, so each step's effect on the alarm is known without waiting.
 */
class SpaceQuotaEndToEndTest {
  private static final long QUOTA = 10 * 1024;
  private static final String BIG = "x".repeat(1000);
  private static final String SMALL = "0123456789";

  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private LocalCluster cluster;

  private LocalCluster.Response call(String method, String path, String body) {
    return cluster.request("n1", method, path, body == null ? null : body.replace('\'', '"'));
  }

  private JsonNode ok(String method, String path, String body) {
    LocalCluster.Response r = call(method, path, body);
    assertEquals(200, r.status(), () -> method + " " + path + ": " + r.body());
    return r.body();
  }

  private void assertQuotaRefusal(LocalCluster.Response r, long dataBytes, String what) {
    assertEquals(507, r.status(), () -> what + ": " + r.body());
    assertEquals(QUOTA, r.body().get("quotaBytes").asLong(), what);
    assertEquals(dataBytes, r.body().get("dataBytes").asLong(), what);
    assertEquals("NOSPACE", r.body().get("alarm").asText(), what);
    String error = r.body().get("error").asText();
    assertTrue(error.contains("tern.storage.quota-bytes") && error.contains("deleting keys")
        && error.contains("revoking leases"), error);
  }

  private JsonNode storage() {
    return ok("GET", "/v1/status", null).get("storage");
  }

  private double metric(String name) {
    String text;
    try {
      text = HTTP.send(HttpRequest.newBuilder(URI.create(cluster.baseUrl("n1") + "/metrics")).build(),
          HttpResponse.BodyHandlers.ofString()).body();
    } catch (java.io.IOException e) {
      throw new AssertionError("GET /metrics", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
    for (String line : text.split("\n")) {
      if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
        return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    throw new AssertionError(name + " is not in /metrics");
  }

  @Test
  void overTheQuotaWritesThatAddDataGet507AndEverythingElseGoesOnUntilDeletesClearIt() {
    try (LocalCluster c = new LocalCluster(1, "tern.storage.quota-bytes = 10KiB")) {
      cluster = c;
      await(() -> cluster.agreedLeader(List.of("n1")), Duration.ofSeconds(30), "n1 leading");
      assertEquals(QUOTA, storage().get("quotaBytes").asLong());
      assertTrue(storage().get("alarm").isNull());

      // A lease holding one small key, and small keys to delete later one by one.
      long lease = ok("POST", "/v1/leases?ttl=60s", null).get("id").asLong();
      ok("PUT", "/v1/kv/leased?lease=" + lease, SMALL);
      for (String k : List.of("s/a", "s/b", "s/c")) ok("PUT", "/v1/kv/" + k, SMALL);
      long data = "leased".length() + 3L * "s/a".length() + 4L * SMALL.length();
      assertEquals(data, storage().get("dataBytes").asLong());

      // Fill with 1000-byte values: every put is taken until the data reaches the quota, the next is refused.
      int taken = 0;
      while (data < QUOTA) {
        String key = String.format("big/%02d", taken++);
        ok("PUT", "/v1/kv/" + key, BIG);
        data += key.length() + BIG.length();
      }
      assertEquals(11, taken, "55 + 11 x 1006 bytes reach 10 KiB");
      long full = data; // 11121 bytes: 945 over the quota (the last put was taken below it)
      assertEquals(full, storage().get("dataBytes").asLong());
      assertEquals("NOSPACE", storage().get("alarm").asText());

      // Refused with 507: puts of every kind, a transaction with a put (even in its failure branch), a lease grant.
      assertQuotaRefusal(call("PUT", "/v1/kv/big/new", BIG), full, "a put of a new key");
      assertQuotaRefusal(call("PUT", "/v1/kv/s/a", "1"), full, "a put that would shrink a value (any put is refused)");
      assertQuotaRefusal(call("PUT", "/v1/kv/big/new?cas=0", BIG), full, "a create-only compare-and-set");
      assertQuotaRefusal(call("PUT", "/v1/kv/leased2?lease=" + lease, SMALL), full, "a put with a lease");
      assertQuotaRefusal(call("POST", "/v1/txn", "{'compare':[{'key':'s/a','target':'exists','result':'=','exists':true}],"
          + "'success':[{'get':{'key':'s/a'}}],'failure':[{'put':{'key':'txn/new','value':'v'}}]}"), full,
          "a transaction with a put");
      assertQuotaRefusal(call("POST", "/v1/leases?ttl=60s", null), full, "a lease grant");
      assertEquals(404, call("GET", "/v1/kv/big/new", null).status(), "nothing refused was written");
      assertEquals(404, call("GET", "/v1/kv/txn/new", null).status());
      assertEquals(full, storage().get("dataBytes").asLong());

      // The alarm is visible: /health 503 naming the quota, the status, the metrics.
      LocalCluster.Response health = call("GET", "/health", null);
      assertEquals(503, health.status());
      assertTrue(health.body().get("reason").asText().contains("tern.storage.quota-bytes"), health.body().toString());
      assertEquals("NOSPACE", health.body().get("storage").get("alarm").asText());
      assertEquals(1.0, metric("tern_storage_quota_alarm"));
      assertEquals((double) QUOTA, metric("tern_storage_quota_bytes"));
      assertEquals((double) full, metric("tern_storage_data_bytes"));

      // Everything that adds no data goes on, while the alarm stays on.
      assertEquals(BIG, ok("GET", "/v1/kv/big/00", null).get("value").asText());
      assertEquals(SMALL, ok("GET", "/v1/kv/s/a?consistency=stale", null).get("value").asText());
      assertEquals(3, ok("GET", "/v1/kv?prefix=s/", null).get("items").size());
      ok("POST", "/v1/txn", "{'compare':[],'success':[{'get':{'key':'s/a'}}],'failure':[]}");
      ok("DELETE", "/v1/kv/s/a", null);
      long revision = ok("GET", "/v1/kv/s/b", null).get("revision").asLong();
      JsonNode cad = ok("POST", "/v1/txn", "{'compare':[{'key':'s/b','target':'revision','result':'=','revision':"
          + revision + "}],'success':[{'delete':{'key':'s/b'}}],'failure':[]}");
      assertTrue(cad.get("succeeded").asBoolean(), "a compare-and-delete: " + cad);
      ok("POST", "/v1/leases/" + lease + "/keepalive", null);
      JsonNode revoked = ok("DELETE", "/v1/leases/" + lease, null);
      assertEquals("leased", revoked.get("deleted").get(0).asText());
      long afterSmallDeletes = full - 2 * ("s/a".length() + SMALL.length()) - ("leased".length() + SMALL.length());
      assertEquals(afterSmallDeletes, storage().get("dataBytes").asLong());
      assertEquals("NOSPACE", storage().get("alarm").asText(), "still at or above the quota");
      assertQuotaRefusal(call("PUT", "/v1/kv/big/new", BIG), afterSmallDeletes, "still refused");

      // Deleting one large key brings the data under the quota: the alarm clears by itself.
      ok("DELETE", "/v1/kv/big/00", null);
      long under = afterSmallDeletes - ("big/00".length() + BIG.length());
      assertTrue(under < QUOTA);
      JsonNode cleared = storage();
      assertEquals(under, cleared.get("dataBytes").asLong());
      assertTrue(cleared.get("alarm").isNull(), cleared.toString());
      assertEquals(200, call("GET", "/health", null).status());
      assertEquals(0.0, metric("tern_storage_quota_alarm"));
      ok("PUT", "/v1/kv/s/a", SMALL);
      ok("POST", "/v1/leases?ttl=60s", null);
      ok("POST", "/v1/txn", "{'compare':[],'success':[{'put':{'key':'txn/new','value':'v'}}],'failure':[]}");
    }
  }
}

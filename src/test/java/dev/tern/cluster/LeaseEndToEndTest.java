package dev.tern.cluster;

import static dev.tern.cluster.LocalCluster.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Leases on three real nodes over real HTTP (docs/api.md, "Leases"): the lock of docs/api.md built from a lease and a
 * transaction (two clients compete, one holds the lock, the holder dies, the other takes it), a lease that outlives
 * its leader (a new leader gives it its whole TTL again) and then expires on every node, and the errors. One cluster
 * for all three (starting one costs seconds): the last test stops its leader.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LeaseEndToEndTest {
  private static final Duration COLD_START = Duration.ofSeconds(45);
  private static final List<String> NODES = List.of("n1", "n2", "n3");
  private LocalCluster cluster;

  @BeforeAll
  void start() {
    cluster = new LocalCluster(3, "");
  }

  @AfterAll
  void stop() {
    cluster.close();
  }

  private JsonNode ok(String via, String method, String path, String body) {
    LocalCluster.Response r = cluster.request(via, method, path, body == null ? null : body.replace('\'', '"'));
    assertEquals(200, r.status(), () -> method + " " + path + " via " + via + ": " + r.body());
    return r.body();
  }

  private long grant(String via, String ttl) {
    return ok(via, "POST", "/v1/leases?ttl=" + ttl, null).get("id").asLong();
  }

  /** The lock recipe of docs/api.md: create the key only if absent, attached to the caller's lease. */
  private boolean tryLock(String via, String owner, long lease) {
    JsonNode done = ok(via, "POST", "/v1/txn", "{'compare':[{'key':'locks/job','target':'exists','result':'=','exists':false}],"
        + "'success':[{'put':{'key':'locks/job','value':'" + owner + "','lease':" + lease + "}}],"
        + "'failure':[{'get':{'key':'locks/job'}}]}");
    return done.get("succeeded").asBoolean();
  }

  @Test
  @Order(2)
  void aLockHeldWithALeasePassesToTheOtherClientWhenItsHolderDies() {
    await(() -> cluster.agreedLeader(NODES), COLD_START, "a leader");
    long a = grant("n1", "2s");
    long b = grant("n2", "2s");
    assertTrue(tryLock("n3", "alice", a), "the lock is free: alice takes it");
    assertFalse(tryLock("n2", "bob", b), "alice holds it");

    // Alice renews her lease past its TTL: she keeps the lock while bob keeps asking.
    long lastRenewalSent = 0;
    long until = System.nanoTime() + Duration.ofMillis(3500).toNanos();
    while (System.nanoTime() < until) {
      lastRenewalSent = System.nanoTime();
      ok("n1", "POST", "/v1/leases/" + a + "/keepalive", null);
      ok("n2", "POST", "/v1/leases/" + b + "/keepalive", null);
      assertFalse(tryLock("n2", "bob", b), "alice renews her lease: she keeps the lock");
      await(() -> System.nanoTime() - until > -Duration.ofMillis(2900).toNanos() ? Optional.of(true) : Optional.empty(),
          Duration.ofSeconds(1), "a renewal interval"); // renew well within the TTL
    }

    // Alice dies: no more renewals. Bob, renewing his own lease, gets the lock once hers expired, not before.
    long renewed = lastRenewalSent;
    List<Boolean> tries = new ArrayList<>();
    long acquiredAt = await(() -> {
      ok("n2", "POST", "/v1/leases/" + b + "/keepalive", null);
      boolean got = tryLock("n2", "bob", b);
      tries.add(got);
      return got ? Optional.of(System.nanoTime()) : Optional.empty();
    }, Duration.ofSeconds(15), "bob to take the lock");
    assertTrue(acquiredAt - renewed >= Duration.ofSeconds(2).toNanos(),
        "alice's lease ended " + (acquiredAt - renewed) / 1_000_000 + " ms after her last renewal, before its TTL");
    assertTrue(tries.size() > 1, "bob waited for it");
    for (String id : NODES) {
      JsonNode lock = await(() -> Optional.of(cluster.get(id, "locks/job", true)).filter(r -> r.status() == 200)
          .filter(r -> r.body().get("value").asText().equals("bob")).map(LocalCluster.Response::body),
          Duration.ofSeconds(10), "bob's lock on " + id);
      assertEquals("bob", lock.get("value").asText());
      assertEquals(404, cluster.request(id, "GET", "/v1/leases/" + a, null).status(), "alice's lease is gone on " + id);
    }
    JsonNode revoked = ok("n3", "DELETE", "/v1/leases/" + b, null);
    assertEquals("locks/job", revoked.get("deleted").get(0).asText(), "revoking bob's lease releases the lock");
    assertEquals(404, cluster.get("n3", "locks/job", false).status());
  }

  @Test
  @Order(3)
  void aLeaseOutlivesItsLeaderWithItsWholeTtlThenExpiresOnEveryNode() {
    String leader = await(() -> cluster.agreedLeader(NODES), COLD_START, "a leader");
    long ttlMs = 4000;
    long granted = System.nanoTime();
    long lease = grant(leader, ttlMs + "ms");
    ok(leader, "PUT", "/v1/kv/session/a?lease=" + lease, "present");
    JsonNode attached = ok(leader, "GET", "/v1/leases/" + lease, null);
    assertEquals("session/a", attached.get("keys").get(0).asText());

    // Half the TTL later, the leader stops (handing its leadership over at once): the new leader must count the
    // lease's TTL from its own start, not from the grant.
    await(() -> System.nanoTime() - granted > Duration.ofMillis(ttlMs / 2).toNanos() ? Optional.of(true) : Optional.empty(),
        Duration.ofSeconds(5), "half the lease's TTL");
    long stopped = System.nanoTime(); // before the stop: the hand-over, and so the new leader, come at its start
    cluster.stopNode(leader);
    List<String> rest = NODES.stream().filter(id -> !id.equals(leader)).toList();
    String next = await(() -> cluster.agreedLeader(rest), Duration.ofSeconds(20), "a new leader");
    // Past the TTL counted from the grant, but within the TTL counted from the old leader's end (the earliest the new
    // leader can have started counting): the lease must still be there.
    await(() -> System.nanoTime() - granted > Duration.ofMillis(ttlMs + 300).toNanos() ? Optional.of(true) : Optional.empty(),
        Duration.ofSeconds(10), "the lease's first TTL to pass");
    LocalCluster.Response still = cluster.get(next, "session/a", false);
    long checked = System.nanoTime();
    if (checked - stopped < Duration.ofMillis(ttlMs).toNanos()) {
      assertEquals(200, still.status(), "the new leader expired the lease early: " + still.body());
    } else {
      System.out.println("LeaseEndToEndTest: the check came too late to tell whether the lease got a full TTL again");
    }
    // Nobody renews it: it expires, on every node, at one revision.
    for (String id : rest) {
      await(() -> Optional.of(cluster.get(id, "session/a", true)).filter(r -> r.status() == 404), Duration.ofSeconds(20),
          "session/a to expire on " + id);
      assertEquals(404, cluster.request(id, "GET", "/v1/leases/" + lease, null).status());
    }
  }

  @Test
  @Order(1)
  void badLeaseRequestsGetClearErrorsAndLeasesSurviveARestart() {
    await(() -> cluster.agreedLeader(NODES), COLD_START, "a leader");
    assertEquals(400, cluster.request("n1", "POST", "/v1/leases", null).status(), "no ttl");
    assertEquals(400, cluster.request("n1", "POST", "/v1/leases?ttl=soon", null).status());
    assertEquals(400, cluster.request("n1", "POST", "/v1/leases?ttl=10ms", null).status(), "below tern.lease.min-ttl");
    assertEquals(400, cluster.request("n1", "POST", "/v1/leases?ttl=48h", null).status(), "above tern.lease.max-ttl");
    LocalCluster.Response put = cluster.request("n2", "PUT", "/v1/kv/k?lease=999999", "v");
    assertEquals(404, put.status());
    assertEquals("lease not found", put.body().get("error").asText());
    assertEquals(404, cluster.get("n2", "k", false).status(), "nothing written");
    assertEquals(404, cluster.request("n3", "POST", "/v1/leases/999999/keepalive", null).status());
    assertEquals(404, cluster.request("n3", "DELETE", "/v1/leases/999999", null).status());
    assertEquals(400, cluster.request("n3", "DELETE", "/v1/leases/abc", null).status());
    assertEquals(400, cluster.request("n3", "PUT", "/v1/kv/k?lease=1&cas=0", "v").status());
    assertEquals(405, cluster.request("n3", "PUT", "/v1/leases", null).status());
    long lease = grant("n1", "60s");
    JsonNode list = ok("n1", "GET", "/v1/leases", null);
    assertTrue(list.toString().contains("\"id\":" + lease), list.toString());

    // Leases survive a restart of every node (from their logs and snapshots), with their keys.
    ok("n2", "PUT", "/v1/kv/kept?lease=" + lease, "v");
    for (String id : NODES) cluster.stopNode(id);
    for (String id : NODES) cluster.startAgain(id, false);
    await(() -> cluster.agreedLeader(NODES), COLD_START, "a leader after the restart");
    for (String id : NODES) {
      JsonNode back = await(() -> Optional.of(cluster.request(id, "GET", "/v1/leases/" + lease, null))
          .filter(r -> r.status() == 200).map(LocalCluster.Response::body), Duration.ofSeconds(10), "the lease on " + id);
      assertEquals("kept", back.get("keys").get(0).asText(), id);
    }
    JsonNode revoked = ok("n3", "DELETE", "/v1/leases/" + lease, null);
    assertEquals("kept", revoked.get("deleted").get(0).asText());
  }
}

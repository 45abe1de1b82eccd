package dev.tern.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.tern.http.KvFront;
import dev.tern.kv.Bytes;
import dev.tern.kv.KvResult;
import dev.tern.raft.Configuration;
import dev.tern.raft.LogEntry;
import dev.tern.raft.RaftMessage;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

/** The meters behind /metrics, fed directly: names, labels and values (MetricsEndpointTest scrapes a real node). */
class NodeMetricsTest {
  private final MeterRegistry registry = new SimpleMeterRegistry();

  private double counter(String name, String... tags) {
    return registry.get(name).tags(tags).counter().count();
  }

  private double gauge(String name, String... tags) {
    return registry.get(name).tags(tags).gauge().value();
  }

  @Test
  void writesAndReadsAreCountedTimedAndTheirFailuresSortedByCause() {
    Writes kv = new Writes(new KvRequestMetrics(registry, List.of(Duration.ofMillis(1), Duration.ofSeconds(1))));
    CompletableFuture<KvFront.Reply> written = kv.put(KvFront.Put.UNCONDITIONAL);
    CompletableFuture<KvFront.Reply> conflicted = kv.put(3);
    CompletableFuture<KvFront.Reply> unavailable = kv.put(KvFront.Put.UNCONDITIONAL);
    CompletableFuture<KvFront.Reply> overdue = new CompletableFuture<>();
    kv.metrics.onRequest(new KvFront.Delete("k", overdue));
    assertEquals(2, counter("tern.kv.proposals", "op", "put"));
    assertEquals(1, counter("tern.kv.proposals", "op", "cas"));
    assertEquals(1, counter("tern.kv.proposals", "op", "delete"));
    assertEquals(0, registry.get("tern.kv.proposal.duration").timer().count(), "none answered yet");

    written.complete(new KvFront.Reply.Done(new KvResult.Written("k", Bytes.utf8("v"), 4)));
    conflicted.complete(new KvFront.Reply.Done(new KvResult.CasConflict("k", 4)));
    unavailable.complete(new KvFront.Reply.Unavailable("no leader"));
    overdue.completeExceptionally(new TimeoutException("the front did not answer"));
    assertEquals(4, registry.get("tern.kv.proposal.duration").timer().count());
    assertEquals(1, counter("tern.kv.cas.conflicts"));
    assertEquals(1, counter("tern.kv.proposal.failures", "cause", "unavailable"));
    assertEquals(1, counter("tern.kv.proposal.failures", "cause", "timeout"));
    assertEquals(0, counter("tern.kv.proposal.failures", "cause", "error"));

    CompletableFuture<KvFront.Reply> stale = new CompletableFuture<>();
    CompletableFuture<KvFront.Reply> linearizable = new CompletableFuture<>();
    CompletableFuture<KvFront.Reply> list = new CompletableFuture<>();
    kv.metrics.onRequest(new KvFront.Get("k", false, stale));
    kv.metrics.onRequest(new KvFront.Get("k", true, linearizable));
    kv.metrics.onRequest(new KvFront.ListKeys("", 10, list));
    stale.complete(new KvFront.Reply.Done(new KvResult.NotFound("k")));
    linearizable.complete(new KvFront.Reply.Unavailable("no quorum"));
    list.completeExceptionally(new IllegalStateException("boom"));
    assertEquals(1, counter("tern.kv.reads", "op", "get", "consistency", "stale"));
    assertEquals(1, counter("tern.kv.reads", "op", "get", "consistency", "linearizable"));
    assertEquals(1, counter("tern.kv.reads", "op", "list", "consistency", "linearizable"));
    assertEquals(1, registry.get("tern.kv.read.duration").tags("consistency", "stale").timer().count());
    assertEquals(2, registry.get("tern.kv.read.duration").tags("consistency", "linearizable").timer().count());
    assertEquals(1, counter("tern.kv.read.failures", "cause", "unavailable"), "not found is an answer, not a failure");
    assertEquals(1, counter("tern.kv.read.failures", "cause", "error"));
  }

  @Test
  void failureCauses() {
    assertEquals(null, KvRequestMetrics.causeOf(new KvFront.Reply.Items(List.of()), null));
    assertEquals(KvRequestMetrics.Cause.ERROR,
        KvRequestMetrics.causeOf(new KvFront.Reply.Done(new KvResult.Invalid("bad")), null));
    assertEquals(KvRequestMetrics.Cause.TIMEOUT, KvRequestMetrics.causeOf(null,
        new java.util.concurrent.CompletionException(new TimeoutException())));
    assertEquals(KvRequestMetrics.Cause.ERROR, KvRequestMetrics.causeOf(null, null));
  }

  /** The request side of the front's protocol, for feeding {@link KvRequestMetrics}. */
  private record Writes(KvRequestMetrics metrics) {
    CompletableFuture<KvFront.Reply> put(long expectedRevision) {
      CompletableFuture<KvFront.Reply> reply = new CompletableFuture<>();
      metrics.onRequest(new KvFront.Put("k", Bytes.utf8("v"), expectedRevision, reply));
      return reply;
    }
  }

  @Test
  void raftMessagesAreCountedByTypeAndAppendBatchesBySize() {
    RaftMetrics raft = new RaftMetrics(registry);
    List<RaftMessage.PeerMessage> delivered = new java.util.ArrayList<>();
    var transport = raft.counting((to, m) -> delivered.add(m));
    var three = List.of(LogEntry.noop(1, 1), LogEntry.noop(2, 1), LogEntry.noop(3, 1));
    transport.send("n2", new RaftMessage.AppendEntries(1, "n1", 0, 0, three, 0));
    transport.send("n2", new RaftMessage.AppendEntries(1, "n1", 3, 1, List.of(), 3)); // a heartbeat
    transport.send("n3", new RaftMessage.RequestVote(2, "n1", 3, 1, true, false));
    assertEquals(3, delivered.size(), "every message still goes out");
    assertEquals(2, counter("tern.raft.messages.sent", "type", "append_entries"));
    assertEquals(1, counter("tern.raft.messages.sent", "type", "pre_vote"));
    assertEquals(0, counter("tern.raft.messages.sent", "type", "request_vote"));
    var batch = registry.get("tern.raft.append.batch").summary();
    assertEquals(1, batch.count(), "a heartbeat is no batch");
    assertEquals(3, batch.totalAmount());
    raft.onReceived(RaftMessage.AppendEntriesResponse.success(1, "n2", 3));
    raft.onReceived(new RaftMessage.RequestVoteResponse(2, "n3", true, false));
    raft.onReceived(new RaftMessage.ReadIndex(null, 1)); // a forwarded read: not a Raft RPC
    assertEquals(1, counter("tern.raft.messages.received", "type", "append_entries_response"));
    assertEquals(1, counter("tern.raft.messages.received", "type", "request_vote_response"));
    raft.electionStarted(2);
    raft.leaderChanged(2, "n1");
    raft.leaderChanged(3, "n2");
    assertEquals(1, counter("tern.raft.elections"));
    assertEquals(2, counter("tern.raft.leader.changes"));
  }

  @Test
  void raftGaugesShowTheLastStatusAndNaNWithoutOne() {
    RaftStatusGauges gauges = new RaftStatusGauges(registry);
    RaftMessage.Status leader = new RaftMessage.Status("n1", RaftMessage.Role.LEADER, 7, "n1", 40, 39, 42, 7, 11, 10,
        List.of(new RaftMessage.FollowerStatus("n2", 42, 43, 0, 20, false),
            new RaftMessage.FollowerStatus("n3", 30, 31, 12, 1500, true)), null, null,
        Configuration.ofVoters(List.of("n1", "n2", "n3")), 1);
    gauges.update(leader);
    assertEquals(1, gauge("tern.raft.status.available"));
    assertEquals(7, gauge("tern.raft.term"));
    assertEquals(1, gauge("tern.raft.role", "role", "leader"));
    assertEquals(0, gauge("tern.raft.role", "role", "follower"));
    assertEquals(0, gauge("tern.raft.role", "role", "candidate"));
    assertEquals(1, gauge("tern.raft.leader.known"));
    assertEquals(40, gauge("tern.raft.commit.index"));
    assertEquals(39, gauge("tern.raft.applied.index"));
    assertEquals(42, gauge("tern.raft.log.last.index"));
    assertEquals(11, gauge("tern.raft.log.first.index"));
    assertEquals(32, gauge("tern.raft.log.size"));
    assertEquals(10, gauge("tern.raft.snapshot.index"));
    assertEquals(0, gauge("tern.raft.commit.stalled"));
    assertEquals(30, gauge("tern.raft.follower.match.index", "follower", "n3"));
    assertEquals(12, gauge("tern.raft.follower.lag", "follower", "n3"));
    assertEquals(1.5, gauge("tern.raft.follower.last.contact", "follower", "n3"));
    assertEquals(1, gauge("tern.raft.follower.sending.snapshot", "follower", "n3"));
    assertEquals(0, gauge("tern.raft.follower.lag", "follower", "n2"));

    gauges.update(new RaftMessage.Status("n1", RaftMessage.Role.FOLLOWER, 8, null, 40, 40, 42, 7, 11, 10, List.of(),
        "stalled", null, Configuration.ofVoters(List.of("n1", "n2", "n3")), 1));
    assertEquals(0, gauge("tern.raft.leader.known"));
    assertEquals(1, gauge("tern.raft.commit.stalled"));
    assertEquals(1, gauge("tern.raft.role", "role", "follower"));
    assertTrue(registry.find("tern.raft.follower.match.index").gauges().isEmpty(), "a follower has no followers");

    gauges.update(null);
    assertEquals(0, gauge("tern.raft.status.available"));
    assertTrue(Double.isNaN(gauge("tern.raft.term")));
    assertTrue(Double.isNaN(gauge("tern.raft.role", "role", "follower")));
  }

  @Test
  void routesAreTemplatesNeverPaths() {
    String[] r = HttpMetrics.ROUTES;
    assertEquals("/v1/kv/{key}", r[HttpMetrics.routeOf("/v1/kv/some/key")]);
    assertEquals("/v1/kv/{key}", r[HttpMetrics.routeOf("/v1/kv/")]);
    assertEquals("/v1/kv", r[HttpMetrics.routeOf("/v1/kv")]);
    assertEquals("other", r[HttpMetrics.routeOf("/v1/kvx")]);
    assertEquals("/v1/status", r[HttpMetrics.routeOf("/v1/status")]);
    assertEquals("/health", r[HttpMetrics.routeOf("/health")]);
    assertEquals("/v1/snapshot", r[HttpMetrics.routeOf("/v1/snapshot")]);
    assertEquals("/v1/members", r[HttpMetrics.routeOf("/v1/members")]);
    assertEquals("/v1/members/{id}", r[HttpMetrics.routeOf("/v1/members/n4")]);
    assertEquals("/v1/watch", r[HttpMetrics.routeOf("/v1/watch")]);
    assertEquals("/v1/txn", r[HttpMetrics.routeOf("/v1/txn")]);
    assertEquals("other", r[HttpMetrics.routeOf("/v1/members/n4/x")]);
    assertEquals("/v1/leader/transfer", r[HttpMetrics.routeOf("/v1/leader/transfer")]);
    assertEquals("/v1/testing/partition", r[HttpMetrics.routeOf("/v1/testing/partition")]);
    assertEquals("/metrics", r[HttpMetrics.routeOf("/metrics")]);
    assertEquals("other", r[HttpMetrics.routeOf("/")]);
    assertEquals("other", r[HttpMetrics.routeOf("/v1/anything")]);
    assertEquals("other", r[HttpMetrics.routeOf("/a-client-chosen-path")]);
  }

  @Test
  void theInflightGaugeFollowsTheCurrentApi() {
    HttpMetrics http = new HttpMetrics(registry);
    assertEquals(0, gauge("tern.http.inflight.requests"));
    http.inflightFrom(() -> 7);
    assertEquals(7, gauge("tern.http.inflight.requests"));
    http.inflightFrom(() -> 2); // the API of an actor system started again
    assertEquals(2, gauge("tern.http.inflight.requests"));
  }

  @Test
  void settingsComeFromApplicationConfAndBadOnesAreRefused() {
    NodeMetrics.Settings s = NodeMetrics.Settings.fromConfig(tern(""));
    assertTrue(s.enabled());
    assertEquals(Duration.ofSeconds(1), s.statusTimeout());
    assertEquals(Duration.ofMillis(1), s.requestBuckets().get(0));
    assertEquals(Duration.ofNanos(2_500_000), s.fsyncBuckets().get(4));
    assertThrows(IllegalArgumentException.class, () -> NodeMetrics.Settings.fromConfig(
        tern("tern.metrics.request-latency-buckets = [10ms, 5ms]")));
    assertThrows(IllegalArgumentException.class, () -> NodeMetrics.Settings.fromConfig(
        tern("tern.metrics.fsync-latency-buckets = []")));
    assertThrows(IllegalArgumentException.class, () -> NodeMetrics.Settings.fromConfig(
        tern("tern.metrics.status-timeout = 0s")));
  }

  /**
   * A node that starts a second actor system (after the Pekko cluster removed it) has a new member directory: the
   * peer counters must read it, not the first one's (they did: a second registration returned the first meter).
   */
  @Test
  void thePeerDropCountersReadTheDirectoryOfTheActorSystemInUse(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
      throws Exception {
    Members members = Members.parse("n1=127.0.0.1:2551:8081,n2=127.0.0.1:2552:8082,n3=127.0.0.1:2553:8083");
    try (dev.tern.storage.FileStorage storage = dev.tern.storage.FileStorage.open(dir, false, 1 << 20)) {
      dev.tern.storage.StorageHealth health = new dev.tern.storage.StorageHealth(dir, 0,
          dev.tern.storage.StorageHealth.FreeSpaceProbe.fileStore(), storage.fsyncStats());
      try (NodeMetrics metrics = new NodeMetrics(NodeMetrics.Settings.fromConfig(tern("")), "n1", "c1", storage, health)) {
        MemberDirectory first = new MemberDirectory(members);
        metrics.bindPeers(first);
        first.countNotMember();
        assertTrue(metrics.scrape().contains("tern_peer_messages_dropped_total{reason=\"not_member\"} 1.0"), metrics.scrape());
        MemberDirectory second = new MemberDirectory(members);
        metrics.bindPeers(second);
        for (int i = 0; i < 3; i++) second.countNotMember();
        second.countIgnored();
        System.gc(); // the meters must not lose what they read
        String scrape = metrics.scrape();
        assertTrue(scrape.contains("tern_peer_messages_dropped_total{reason=\"not_member\"} 3.0"), scrape);
        assertTrue(scrape.contains("tern_peer_messages_dropped_total{reason=\"lost_state\"} 1.0"), scrape);
      }
    }
  }

  private static Config tern(String overrides) {
    return ConfigFactory.parseString(overrides).withFallback(ConfigFactory.parseResources("application.conf"))
        .resolve().getConfig("tern");
  }
}

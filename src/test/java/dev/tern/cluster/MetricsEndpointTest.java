package dev.tern.cluster;

import static dev.tern.cluster.LocalCluster.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * {@code GET /metrics} on a real 3-node cluster: the Tern meters move with the requests and the Raft state they
 * describe, and a real scrape passes {@code promtool check metrics} (Prometheus's own parser and linter).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MetricsEndpointTest {
  private static final List<String> IDS = List.of("n1", "n2", "n3");
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private LocalCluster cluster;
  private String leader;
  private String follower;

  @BeforeAll
  void start() {
    cluster = new LocalCluster(3, "");
    leader = await(() -> cluster.agreedLeader(IDS), Duration.ofSeconds(45), "a leader");
    follower = IDS.stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
  }

  @AfterAll
  void stop() {
    if (cluster != null) cluster.close();
  }

  @Test
  void putsAndReadsMoveTheirCountersAndTheRaftGaugesMatchTheStatus() {
    // Micrometer holds the objects its function meters read by weak references: a collection must not blank them.
    System.gc();
    Scrape before = scrape(leader);
    Scrape followerBefore = scrape(follower);
    for (int i = 0; i < 3; i++) assertEquals(200, cluster.put(leader, "metrics-secret-key-" + i, "v" + i).status());
    assertEquals(200, cluster.put(follower, "metrics-secret-key-f", "via a follower").status());
    assertEquals(200, cluster.get(leader, "metrics-secret-key-0", false).status());
    assertEquals(200, cluster.get(leader, "metrics-secret-key-0", true).status());
    assertEquals(404, cluster.get(leader, "metrics-no-such-key", false).status());
    var status = cluster.status(leader).body();
    Scrape after = scrape(leader);
    Scrape followerAfter = scrape(follower);

    String put = "tern_kv_proposals_total{op=\"put\"}";
    assertEquals(3, after.value(put) - before.value(put), "three puts reached the leader's front");
    assertEquals(1, followerAfter.value(put) - followerBefore.value(put), "one the follower's");
    String puts = "tern_http_requests_seconds_count{method=\"PUT\",route=\"/v1/kv/{key}\",status=\"200\"}";
    assertEquals(3, after.value(puts) - before.value(puts));
    String linearizable = "tern_kv_reads_total{consistency=\"linearizable\",op=\"get\"}";
    assertEquals(2, after.value(linearizable) - before.value(linearizable));
    String stale = "tern_kv_reads_total{consistency=\"stale\",op=\"get\"}";
    assertEquals(1, after.value(stale) - before.value(stale));
    assertEquals(1, after.value("tern_http_requests_seconds_count{method=\"GET\",route=\"/v1/kv/{key}\",status=\"404\"}")
        - before.valueOr("tern_http_requests_seconds_count{method=\"GET\",route=\"/v1/kv/{key}\",status=\"404\"}", 0));
    String written = "tern_kv_proposal_duration_seconds_count";
    assertEquals(3, after.value(written) - before.value(written), "each put answered, and timed");
    assertEquals(0, after.value("tern_kv_proposal_failures_total{cause=\"unavailable\"}"));
    assertFalse(after.text.contains("metrics-secret-key"), "a key must never become a label");
    // The three new keys' puts each looked up an old value (none cached: misses) and cached the new one; the reads
    // of metrics-secret-key-0 were answered from the cache.
    assertTrue(after.value("tern_kv_value_cache_misses_total") - before.value("tern_kv_value_cache_misses_total") >= 3);
    assertTrue(after.value("tern_kv_value_cache_hits_total") - before.value("tern_kv_value_cache_hits_total") >= 2);
    assertTrue(after.value("tern_kv_value_cache_bytes") > 0, "the cache holds the values just written");
    assertTrue(after.value("tern_kv_disk_bytes") >= 0, "the store's files");
    assertTrue(after.value("tern_kv_engine_memory_bytes") > 0, "the engine's memory");

    // The gauges read the same state /v1/status shows (both read after the last write: nothing moved since).
    assertEquals(1, after.value("tern_raft_status_available"));
    assertEquals(status.get("term").asLong(), (long) after.value("tern_raft_term"));
    assertEquals(1, after.value("tern_raft_role{role=\"leader\"}"));
    assertEquals(0, after.value("tern_raft_role{role=\"follower\"}"));
    assertEquals(1, followerAfter.value("tern_raft_role{role=\"follower\"}"));
    assertEquals(status.get("commitIndex").asLong(), (long) after.value("tern_raft_commit_index"));
    assertTrue(after.value("tern_raft_commit_index") >= before.value("tern_raft_commit_index") + 4,
        "four writes committed");
    // Idle now: a leader applies what it commits at once (ReplicaState.commitTo).
    assertEquals(after.value("tern_raft_commit_index"), after.value("tern_raft_applied_index"));
    assertEquals(status.get("firstLogIndex").asLong(), (long) after.value("tern_raft_log_first_index"));
    assertEquals(after.value("tern_raft_log_last_index") - after.value("tern_raft_log_first_index") + 1,
        after.value("tern_raft_log_size_entries"));
    assertTrue(after.value("tern_raft_leader_changes_total") >= 1);
    assertTrue(followerAfter.value("tern_raft_leader_changes_total") >= 1);
    // Leader only: each follower's match index and lag.
    for (String id : IDS) {
      if (id.equals(leader)) continue;
      assertTrue(after.value("tern_raft_follower_match_index{follower=\"" + id + "\"}") >= 0);
      assertTrue(after.value("tern_raft_follower_lag_entries{follower=\"" + id + "\"}") >= 0);
    }
    assertFalse(followerAfter.text.contains("tern_raft_follower_match_index{"), "a follower has no followers");

    // Raft traffic, fsyncs and batches.
    String appends = "tern_raft_messages_sent_total{type=\"append_entries\"}";
    assertTrue(after.value(appends) > before.value(appends), "the leader replicated the puts");
    String received = "tern_raft_messages_received_total{type=\"append_entries\"}";
    assertTrue(followerAfter.value(received) > followerBefore.value(received), "and its followers got them");
    assertTrue(after.value("tern_raft_append_batch_entries_count") > 0);
    assertTrue(after.value("tern_storage_fsync_duration_seconds_count") > before.value("tern_storage_fsync_duration_seconds_count"));
    assertTrue(after.value("tern_storage_write_batch_entries_sum") >= before.value("tern_storage_write_batch_entries_sum") + 3);
    // The JVM's own.
    assertTrue(after.value("jvm_threads_live_threads") > 0);
    assertTrue(after.text.contains("jvm_memory_used_bytes{"));
    assertTrue(after.text.contains("process_cpu_usage"));
    assertTrue(after.text.contains("tern_peer_messages_dropped_total{") && after.text.contains("reason=\"not_member\""),
        "dropped peer messages are counted");
  }

  @Test
  void onlyGetIsAllowed() throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(address(leader) + "/metrics"))
        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(405, r.statusCode());
    assertTrue(r.body().contains("\"error\""), r.body());
  }

  /**
   * Prometheus's own check of a real scrape: it must parse, and lint clean (names, units, _total on counters, help
   * text). promtool comes from Debian's prometheus package, installed here when missing if we may.
   */
  @Test
  void promtoolFindsNothingToSayAboutARealScrape() throws Exception {
    String promtool = Promtool.find();
    assumeTrue(promtool != null, "promtool is not installed and could not be installed (apt-get install prometheus,"
        + " as root); skipping the promtool check of /metrics");
    assertEquals(200, cluster.put(leader, "k", "v").status()); // histograms with observations, not just zeros
    for (String id : List.of(leader, follower)) {
      Path file = Files.createTempFile("tern-metrics", ".txt");
      try {
        Files.writeString(file, scrape(id).text);
        Process p = new ProcessBuilder(promtool, "check", "metrics").redirectErrorStream(true)
            .redirectInput(file.toFile()).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "promtool did not finish");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertEquals(0, p.exitValue(), "promtool check metrics on " + id + ":\n" + out);
        assertEquals("", out, "promtool's lint of " + id + "'s scrape");
      } finally {
        Files.deleteIfExists(file);
      }
    }
  }

  @Test
  void withMetricsOffThereIsNoMetricsRoute() throws Exception {
    try (LocalCluster alone = new LocalCluster(1, "tern.metrics.enabled = off")) {
      assertEquals(null, alone.node("n1").metrics());
      await(() -> alone.status("n1").status() == 200 ? java.util.Optional.of(true) : java.util.Optional.empty(),
          Duration.ofSeconds(30), "n1 serving HTTP");
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(
          URI.create(alone.node("n1").self().httpAddress() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(404, r.statusCode());
    }
  }

  private String address(String id) {
    return cluster.node(id).self().httpAddress();
  }

  private Scrape scrape(String id) {
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(address(id) + "/metrics"))
          .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(200, r.statusCode(), r.body());
      assertEquals("text/plain; version=0.0.4; charset=utf-8",
          r.headers().firstValue("Content-Type").orElse("").toLowerCase(java.util.Locale.ROOT));
      return new Scrape(r.body());
    } catch (IOException e) {
      throw new AssertionError("cannot scrape " + id, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** A scrape in the Prometheus text format: {@code series value} lines, series as printed. */
  record Scrape(String text) {
    double value(String series) {
      double v = valueOr(series, Double.NaN);
      if (Double.isNaN(v)) throw new AssertionError("no series " + series + " in the scrape:\n" + text);
      return v;
    }

    double valueOr(String series, double otherwise) {
      for (String line : text.split("\n")) {
        if (line.startsWith("#")) continue;
        int space = line.lastIndexOf(' ');
        if (space > 0 && line.substring(0, space).equals(series)) return Double.parseDouble(line.substring(space + 1));
      }
      return otherwise;
    }
  }
}

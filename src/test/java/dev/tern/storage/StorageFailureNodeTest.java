package dev.tern.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import dev.tern.cluster.TernNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real node whose storage starts failing its fsyncs: it acknowledges nothing more (the write that hit the
 * failure is not answered 200), never retries the fsync, stops its Raft part, and then answers /health 503 with
 * the reason.
 */
class StorageFailureNodeTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  @TempDir Path dir;

  private HttpResponse<String> send(String method, String url, String body) {
    try {
      return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
          .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
          .build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  private static void await(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting for " + what);
      Thread.sleep(25); // polling a real node: bounded by the deadline
    }
  }

  @Test
  void aFailedFsyncStopsTheNodeFromAcknowledgingAndHealthSaysWhy() throws Exception {
    int httpPort = dev.tern.FreePorts.one();
    String base = "http://127.0.0.1:" + httpPort;
    TernNode node = new TernNode(ConfigFactory.parseString(String.join("\n",
            "tern.node-id = n1",
            "tern.data-dir = \"" + dir.resolve("n1").toString().replace("\\", "/") + "\"",
            "tern.cluster.members-spec = \"n1=127.0.0.1:" + dev.tern.FreePorts.one() + ":" + httpPort + "\"",
            "tern.raft.election-timeout-min = 200ms",
            "tern.raft.election-timeout-max = 400ms",
            "tern.raft.heartbeat-interval = 40ms",
            "tern.http.request-timeout = 2s",
            "pekko.loglevel = WARNING"))
        .withFallback(ConfigFactory.parseResources("application.conf"))
        .withFallback(ConfigFactory.defaultReference())
        .resolve());
    Thread reporter = null;
    try {
      node.start();
      await(() -> {
        HttpResponse<String> r = send("PUT", base + "/v1/kv/before", "1");
        return r != null && r.statusCode() == 200;
      }, "a first write");

      AtomicInteger fsyncs = new AtomicInteger();
      node.storage().forcerForTests((ch, meta) -> {
        fsyncs.incrementAndGet();
        throw new IOException("Input/output error");
      });
      HttpResponse<String> during = send("PUT", base + "/v1/kv/after", "2");
      assertTrue(during == null || during.statusCode() != 200, "a write whose fsync failed was acknowledged");
      await(() -> node.health().failure() != null, "the failure to be recorded");
      await(() -> !node.isRunning(), "the Raft part to stop");
      assertEquals(1, fsyncs.get(), "the failed fsync is never retried");

      reporter = new Thread(node::reportFailureUntilStopped, "failure-report");
      reporter.start();
      await(() -> {
        HttpResponse<String> r = send("GET", base + "/health", null);
        return r != null && r.statusCode() == 503;
      }, "/health to report the failure");
      JsonNode health = JSON.readTree(send("GET", base + "/health", null).body());
      assertEquals("storage failed", health.get("error").asText());
      assertTrue(health.get("reason").asText().contains("Input/output error"), health.toString());
      HttpResponse<String> refused = send("PUT", base + "/v1/kv/later", "3");
      assertEquals(503, refused.statusCode());
      assertNotEquals(-1, refused.body().indexOf("storage failed"));
    } finally {
      node.stop();
      if (reporter != null) reporter.join(10_000);
    }
  }
}

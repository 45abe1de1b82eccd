package dev.tern.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.tern.storage.DataDirIdentity;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node's start on its data directory: the older on-disk format (before identity files) is read and adopted, a
 * directory of another node or cluster is refused, and the free-space reserve turns the node read-only and back.
 */
class DataDirStartTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long MIB = 1 << 20;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  @TempDir Path tmp;

  private static Config config(String id, Path dataDir, String spec, String token) {
    return ConfigFactory.parseString(String.join("\n",
            "tern.node-id = " + id,
            "tern.data-dir = \"" + dataDir.toString().replace("\\", "/") + "\"",
            "tern.cluster.members-spec = \"" + spec + "\"",
            "tern.cluster.token = \"" + token + "\"",
            "tern.storage.health-check-interval = 1h", // the test runs every check itself
            "tern.raft.election-timeout-min = 200ms",
            "tern.raft.election-timeout-max = 400ms",
            "tern.raft.heartbeat-interval = 40ms",
            "tern.http.request-timeout = 3s",
            "pekko.cluster.jmx.multi-mbeans-in-same-jvm = on",
            "pekko.loglevel = WARNING"))
        .withFallback(ConfigFactory.parseResources("application.conf"))
        .withFallback(ConfigFactory.defaultReference())
        .resolve();
  }

  private record Answer(int status, JsonNode json) {}

  private Answer request(TernNode node, String method, String path, String body) {
    HttpRequest r = HttpRequest.newBuilder(URI.create(node.self().httpAddress() + path)).timeout(Duration.ofSeconds(10))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
        .build();
    try {
      HttpResponse<String> a = http.send(r, HttpResponse.BodyHandlers.ofString());
      return new Answer(a.statusCode(), a.body().isEmpty() ? null : JSON.readTree(a.body()));
    } catch (IOException e) {
      return new Answer(-1, null);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  private Answer awaitStatus(TernNode node, String method, String path, String body, int status) {
    return LocalCluster.await(() -> {
      Answer a = request(node, method, path, body);
      return a.status() == status ? Optional.of(a) : Optional.empty();
    }, Duration.ofSeconds(30), method + " " + path + " answering " + status);
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (var paths = Files.walk(from)) {
      for (Path p : (Iterable<Path>) paths::iterator) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) Files.createDirectories(target);
        else Files.copy(p, target);
      }
    }
  }

  /** src/test/resources/fixtures/datadir-format1-n1: a log and hard state as Tern wrote them before identity files. */
  @Test
  void aNodeReadsTheOlderFormatAndRecordsItsIdentity() throws Exception {
    Path dir = tmp.resolve("n1");
    copyTree(Path.of(getClass().getResource("/fixtures/datadir-format1-n1").toURI()), dir);
    String spec = "n1=127.0.0.1:" + dev.tern.FreePorts.one() + ":" + dev.tern.FreePorts.one();
    TernNode node = new TernNode(config("n1", dir, spec, "upgrade"));
    try {
      node.start();
      Answer greeting = awaitStatus(node, "GET", "/v1/kv/greeting", null, 200);
      assertEquals("hi", greeting.json().get("value").asText());
      assertEquals(5, greeting.json().get("revision").asLong());
      assertEquals("postgres://db:5432", request(node, "GET", "/v1/kv/config%2Fdb", null).json().get("value").asText());
      DataDirIdentity recorded = DataDirIdentity.read(dir);
      assertEquals(new DataDirIdentity(DataDirIdentity.clusterId("upgrade", java.util.List.of("n1")), "n1",
          recorded.incarnation()), recorded);
      assertNotEquals(DataDirIdentity.NO_INCARNATION, recorded.incarnation(), "an incarnation is drawn on upgrade");
    } finally {
      node.stop();
    }
    var wrongCluster = assertThrows(DataDirIdentity.MismatchException.class,
        () -> new TernNode(config("n1", dir, spec, "another-cluster")));
    assertTrue(wrongCluster.getMessage().contains("belongs to cluster"), wrongCluster.getMessage());
    String twoSpec = spec + ",n2=127.0.0.1:" + dev.tern.FreePorts.one() + ":" + dev.tern.FreePorts.one();
    var wrongNode = assertThrows(DataDirIdentity.MismatchException.class,
        () -> new TernNode(config("n2", dir, twoSpec, "upgrade")));
    assertTrue(wrongNode.getMessage().contains("belongs to node n1"), wrongNode.getMessage());
  }

  @Test
  void belowTheReserveTheNodeIsReadOnlyAndRecoversByItself() throws Exception {
    AtomicLong free = new AtomicLong(10_000 * MIB);
    String spec = "n1=127.0.0.1:" + dev.tern.FreePorts.one() + ":" + dev.tern.FreePorts.one();
    TernNode node = new TernNode(config("n1", tmp.resolve("n1"), spec, "space"), dir -> free.get());
    try {
      node.start();
      awaitStatus(node, "PUT", "/v1/kv/a", "1", 200);
      Answer health = awaitStatus(node, "GET", "/health", null, 200);
      assertEquals(10_000 * MIB, health.json().get("storage").get("freeBytes").asLong());
      assertEquals(256 * MIB, health.json().get("storage").get("minFreeBytes").asLong());

      free.set(100 * MIB);
      node.health().check();
      Answer refused = request(node, "PUT", "/v1/kv/b", "2");
      assertEquals(503, refused.status());
      assertTrue(refused.json().get("reason").asText().startsWith("read-only: 100 MiB free"), refused.json().toString());
      assertEquals(503, request(node, "DELETE", "/v1/kv/a", null).status());
      assertEquals("1", request(node, "GET", "/v1/kv/a", null).json().get("value").asText(), "reads go on");
      Answer sick = request(node, "GET", "/health", null);
      assertEquals(503, sick.status());
      assertTrue(sick.json().get("storage").get("readOnly").asBoolean());
      Answer status = request(node, "GET", "/v1/status", null);
      assertEquals(200, status.status());
      assertEquals(100 * MIB, status.json().get("storage").get("freeBytes").asLong());
      assertNotNull(status.json().get("clusterId"));

      free.set(300 * MIB);
      node.health().check();
      assertEquals(200, request(node, "PUT", "/v1/kv/b", "2").status());
      assertEquals(200, request(node, "GET", "/health", null).status());
    } finally {
      node.stop();
    }
  }

  @Test
  void aNodeWhoseStorageFailedAnswersEveryRequest503WithTheReason() throws Exception {
    int port = dev.tern.FreePorts.one();
    try (FailedNodeServer server = FailedNodeServer.start("127.0.0.1", port, "n3",
        "storage in /data/n3 failed: java.io.IOException: Input/output error")) {
      for (String path : new String[] {"/health", "/v1/status", "/v1/kv/x"}) {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
            HttpResponse.BodyHandlers.ofString());
        assertEquals(503, r.statusCode());
        JsonNode body = JSON.readTree(r.body());
        assertEquals("storage failed", body.get("error").asText());
        assertEquals("n3", body.get("id").asText());
        assertTrue(body.get("reason").asText().contains("Input/output error"));
      }
    }
  }
}

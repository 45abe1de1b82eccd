package dev.tern.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Comparator;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #25 §6: a data directory written by the release before the on-disk store (commit 60feabd: the state in a
 * snapshot file plus the log after it; fixtures/upgrade-60feabd/README.md says how it was made) is converted on its
 * first start: the node streams the snapshot into RocksDB, replays the log after it, and serves exactly what the old
 * release served, keys, revisions, leases and the exactly-once window; after a restart it opens the store as it is.
 */
class UpgradeInPlaceTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path FIXTURE = Path.of("src/test/resources/fixtures/upgrade-60feabd");

  @TempDir Path tmp;

  @Test
  void aDataDirectoryOfTheHeapReleaseOpensWithItsWholeState() throws Exception {
    Path dataDir = tmp.resolve("n1");
    copyTree(FIXTURE.resolve("n1"), dataDir);
    Config config = ConfigFactory.parseString(String.join("\n",
            "tern.node-id = n1",
            "tern.data-dir = \"" + dataDir.toString().replace("\\", "/") + "\"",
            "tern.cluster.members-spec = \"n1=127.0.0.1:" + dev.tern.FreePorts.one() + ":" + dev.tern.FreePorts.one() + "\"",
            "pekko.cluster.jmx.multi-mbeans-in-same-jvm = on",
            "pekko.loglevel = WARNING"))
        .withFallback(ConfigFactory.parseResources("application.conf"))
        .withFallback(ConfigFactory.defaultReference())
        .resolve();
    JsonNode expectedKv = JSON.readTree(FIXTURE.resolve("expected-kv.json").toFile()).get("items");
    JsonNode expectedLease = JSON.readTree(FIXTURE.resolve("expected-leases.json").toFile()).get("byId").get("352");
    TernNode node = new TernNode(config);
    try {
      node.start();
      String base = "http://127.0.0.1:" + node.self().httpPort();
      assertServesTheFixture(base, expectedKv, expectedLease);
      assertTrue(Files.exists(dataDir.resolve("kv").resolve("CURRENT")), "the state moved into the on-disk store");
      // The exactly-once window came across: a retried write answers its first result and changes nothing.
      JsonNode retried = send(base, "DELETE", "/v1/kv/fx/key-089", "fixture-del-089").orElseThrow();
      assertEquals(337, retried.get("revision").asLong(), retried.toString());
      long applied = status(base).get("lastApplied").asLong();

      node.terminate(); // as a crash: the store is opened as it is, not restored again
      node.start();
      assertServesTheFixture(base, expectedKv, expectedLease);
      assertTrue(status(base).get("lastApplied").asLong() >= applied);
    } finally {
      node.stop();
    }
  }

  private static void assertServesTheFixture(String base, JsonNode expectedKv, JsonNode expectedLease) {
    JsonNode items = LocalCluster.await(() -> send(base, "GET", "/v1/kv?prefix=fx/&limit=1000", null)
        .map(b -> b.get("items")), Duration.ofSeconds(30), "the node to serve");
    assertEquals(expectedKv, items);
    JsonNode lease = send(base, "GET", "/v1/leases/352", null).orElseThrow();
    assertEquals(expectedLease.get("ttlMs"), lease.get("ttlMs"));
    assertEquals(expectedLease.get("keys"), lease.get("keys"));
  }

  private static JsonNode status(String base) {
    return send(base, "GET", "/v1/status", null).orElseThrow();
  }

  /** The JSON body of a 200 answer, or empty (not serving yet, or any other answer). */
  private static Optional<JsonNode> send(String base, String method, String path, String requestId) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(5))
        .method(method, HttpRequest.BodyPublishers.noBody());
    if (requestId != null) b.header("Request-Id", requestId);
    try {
      HttpResponse<String> r = HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 ? Optional.of(JSON.readTree(r.body())) : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> walk = Files.walk(from)) {
      for (Path p : walk.sorted(Comparator.naturalOrder()).toList()) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) Files.createDirectories(target);
        else Files.copy(p, target, StandardCopyOption.REPLACE_EXISTING);
      }
    }
  }

}

package dev.tern.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Real Tern nodes in this JVM, each its own ActorSystem, talking over Artery on loopback on free ports, with
 * their HTTP APIs: for end-to-end tests. Waits are bounded polls of observable state, never fixed sleeps.
 */
final class LocalCluster implements AutoCloseable {
  static final ObjectMapper JSON = new ObjectMapper();

  record Response(int status, JsonNode body, HttpResponse<String> raw) {}

  final List<TernNode> nodes = new ArrayList<>();
  private final List<Config> configs = new ArrayList<>();
  private final java.nio.file.Path dataRoot;
  private volatile HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  /** "http", or "https" once {@link #useHttps} was called. */
  private volatile String scheme = "http";

  /** Asks the nodes over HTTPS, trusting the CAs of {@code ssl} (for a cluster with tern.security.http-tls on). */
  void useHttps(javax.net.ssl.SSLContext ssl) {
    http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).sslContext(ssl).build();
    scheme = "https";
  }

  /** The base URL of node {@code id}'s API, with the scheme the cluster serves. */
  String baseUrl(String id) {
    Member m = node(id).self();
    return scheme + "://" + m.host() + ":" + m.httpPort();
  }

  LocalCluster(int size, String extraConfig) {
    this(size, extraConfig, null);
  }

  /** A cluster of {@code size} members of which only those in {@code startNow} start (null: all); {@link #start}. */
  LocalCluster(int size, String extraConfig, java.util.Set<String> startNow) {
    try {
      dataRoot = java.nio.file.Files.createTempDirectory("tern-cluster-test");
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    this.extraConfig = extraConfig;
    for (int i = 1; i <= size; i++) {
      if (i > 1) spec.append(',');
      spec.append("n").append(i).append("=127.0.0.1:").append(dev.tern.FreePorts.one()).append(':').append(dev.tern.FreePorts.one());
    }
    for (int i = 1; i <= size; i++) {
      Config c = nodeConfig("n" + i, spec.toString(), false);
      configs.add(c);
      nodes.add(new TernNode(c));
    }
    for (TernNode n : nodes) if (startNow == null || startNow.contains(n.id())) n.start();
  }

  /** Starts a member created but not started by the constructor. */
  TernNode start(String id) {
    TernNode n = node(id);
    n.start();
    return n;
  }

  private final String extraConfig;
  /** The members of the bootstrap configuration, then each node added. */
  private final StringBuilder spec = new StringBuilder();

  /**
   * Starts a new node that joins the running cluster (tern.cluster.join): it knows the members so far and itself,
   * and waits to be added through the membership API.
   */
  TernNode addNode(String id) {
    spec.append(',').append(id).append("=127.0.0.1:").append(dev.tern.FreePorts.one()).append(':').append(dev.tern.FreePorts.one());
    Config c = nodeConfig(id, spec.toString(), true);
    configs.add(c);
    TernNode n = new TernNode(c);
    nodes.add(n);
    n.start();
    return n;
  }

  private Config nodeConfig(String id, String members, boolean join) {
      return ConfigFactory.parseString(String.join("\n",
              "tern.node-id = " + id,
              "tern.cluster.join = " + join,
              "tern.data-dir = \"" + dataRoot.resolve(id).toString().replace("\\", "/") + "\"",
              "tern.cluster.members-spec = \"" + members + "\"",
              "tern.testing.fault-injection = on",
              "tern.raft.election-timeout-min = 200ms",
              "tern.raft.election-timeout-max = 400ms",
              "tern.raft.heartbeat-interval = 40ms",
              "tern.http.request-timeout = 3s",
              "pekko.cluster.jmx.multi-mbeans-in-same-jvm = on",
              "pekko.loglevel = WARNING",
              extraConfig))
          .withFallback(ConfigFactory.parseResources("application.conf"))
          .withFallback(ConfigFactory.defaultReference())
          .resolve();
  }

  /** Stops a node for good (as a crash or a shutdown would); {@link #startAgain} brings it back. */
  void stopNode(String id) {
    node(id).stop();
  }

  /**
   * Starts a stopped node again on its data folder, or on an empty one with {@code wipe} and its members-list
   * configuration: what a lost disk looks like (its peers ignore it; see {@link #replace} for the way back).
   */
  TernNode startAgain(String id, boolean wipe) {
    return startAgain(id, wipe, "");
  }

  /** As above, with {@code extra} settings over the node's own this time. */
  TernNode startAgain(String id, boolean wipe, String extra) {
    int i = indexOf(id);
    if (wipe) deleteTree(dataRoot.resolve(id));
    TernNode fresh = new TernNode(ConfigFactory.parseString(extra).withFallback(configs.get(i)));
    nodes.set(i, fresh);
    fresh.start();
    return fresh;
  }

  /**
   * Replaces stopped member {@code id} by a machine with an empty disk, as docs/operations.md says ("Replacing a
   * node"): removes it through {@code via}, starts it empty as a joining node at the same addresses, and adds it.
   */
  TernNode replace(String id, String via, Duration within) {
    int i = indexOf(id);
    Member m = nodes.get(i).self();
    await(() -> Optional.of(request(via, "DELETE", "/v1/members/" + id, null)).filter(r -> r.status() == 200),
        within, id + " removed");
    deleteTree(dataRoot.resolve(id));
    Config joining = ConfigFactory.parseString("tern.cluster.join = true").withFallback(configs.get(i));
    configs.set(i, joining);
    TernNode fresh = new TernNode(joining);
    nodes.set(i, fresh);
    fresh.start();
    String body = "{\"host\":\"" + m.host() + "\",\"arteryPort\":" + m.arteryPort() + ",\"httpPort\":" + m.httpPort() + "}";
    await(() -> Optional.of(request(via, "PUT", "/v1/members/" + id, body)).filter(r -> r.status() == 200),
        within, id + " added again");
    return fresh;
  }

  private int indexOf(String id) {
    for (int i = 0; i < nodes.size(); i++) if (nodes.get(i).id().equals(id)) return i;
    throw new IllegalArgumentException(id);
  }

  java.nio.file.Path dataDir(String id) {
    return dataRoot.resolve(id);
  }

  private static void deleteTree(java.nio.file.Path root) {
    try (var paths = java.nio.file.Files.walk(root)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new IllegalStateException("cannot delete " + root, e);
    }
  }

  TernNode node(String id) {
    return nodes.stream().filter(n -> n.id().equals(id)).findFirst().orElseThrow();
  }

  static String path(String key) {
    return URLEncoder.encode(key, StandardCharsets.UTF_8).replace("+", "%20");
  }

  Response request(String id, String method, String path, String body) {
    return request(id, method, path, body, java.util.Map.of());
  }

  /**
   * Headers sent with every request unless the request gives its own of the same name (a secured cluster's tests
   * put an admin token here, so that the helpers that poll the status work; a request drops one by giving "").
   */
  volatile java.util.Map<String, String> defaultHeaders = java.util.Map.of();

  /** As above, with these request headers. */
  Response request(String id, String method, String path, String body, java.util.Map<String, String> headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(baseUrl(id) + path))
        .timeout(Duration.ofSeconds(10))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    java.util.Map<String, String> all = new java.util.HashMap<>(defaultHeaders);
    all.putAll(headers);
    all.values().removeIf(String::isEmpty); // an empty value given for a default header: none sent
    all.forEach(b::header);
    try {
      HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
      JsonNode json = r.body().isEmpty() ? null : JSON.readTree(r.body());
      return new Response(r.statusCode(), json, r);
    } catch (IOException e) {
      return new Response(-1, null, null);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  Response put(String id, String key, String value) {
    return request(id, "PUT", "/v1/kv/" + path(key), value);
  }

  Response get(String id, String key, boolean stale) {
    return request(id, "GET", "/v1/kv/" + path(key) + (stale ? "?consistency=stale" : ""), null);
  }

  Response status(String id) {
    return request(id, "GET", "/v1/status", null);
  }

  /** The leader every live node agrees on, if they do. */
  Optional<String> agreedLeader(List<String> among) {
    String leader = null;
    for (String id : among) {
      Response s = status(id);
      if (s.status() != 200 || s.body().get("leader").isNull()) return Optional.empty();
      String l = s.body().get("leader").asText();
      if (leader != null && !leader.equals(l)) return Optional.empty();
      leader = l;
    }
    return Optional.ofNullable(leader);
  }

  /** Polls until the supplier yields a value or the deadline passes. */
  static <T> T await(Supplier<Optional<T>> probe, Duration within, String what) {
    long deadline = System.nanoTime() + within.toNanos();
    while (true) {
      Optional<T> v = probe.get();
      if (v.isPresent()) return v.get();
      if (System.nanoTime() > deadline) throw new AssertionError("timed out after " + within + " waiting for " + what);
      try {
        Thread.sleep(25); // polling a real cluster: the wait is bounded by the deadline above
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }

  @Override
  public void close() {
    for (TernNode n : nodes) n.stop();
    try {
      deleteTree(dataRoot);
    } catch (IllegalStateException e) {
      // best effort: the folder is under the system's temp folder
    }
  }
}

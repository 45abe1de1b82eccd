package dev.tern.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import dev.tern.cluster.LeadershipEvents;
import dev.tern.cluster.Member;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The dashboard's routes on a real HTTP server: the page and its files from the jar's resources, the redirect from
 * {@code /}, the events this node saw, and every member's status with the unreachable ones marked (one refuses
 * connections, one accepts and never answers). The page itself runs in a browser in DashboardBrowserTest.
 */
class UiRoutesTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final KvLimits LIMITS = new KvLimits(32, 64, 50, Duration.ofSeconds(5), 100);
  private static final HttpClient client = HttpClient.newHttpClient();
  private static ActorTestKit testKit;
  private static ServerBinding binding;
  private static ServerSocket silent;
  private static com.sun.net.httpserver.HttpServer refusingStatus;
  private static String base;
  private static final AtomicReference<List<Member>> members = new AtomicReference<>(List.of());

  @BeforeAll
  static void start() throws Exception {
    testKit = ActorTestKit.create(ConfigFactory.parseString("pekko.actor.provider=local").withFallback(ConfigFactory.load()));
    // The front answers the status requests /v1/status makes, as a node's would.
    ActorRef<KvFront.Command> front = testKit.spawn(Behaviors.receiveMessage(m -> {
      if (m instanceof KvFront.GetNodeStatus s) {
        s.reply().complete(new NodeStatus("n1", "LEADER", 7, "n1", 41, 40, List.of(), true, 1, 30));
      }
      return Behaviors.same();
    }), "front");
    LeadershipEvents events = new LeadershipEvents();
    events.electionStarted(7);
    events.leaderChanged(7, "n1");
    // A member that answers must be heard within the bound even on a loaded machine (300 ms failed at load average 15).
    UiRoutes ui = new UiRoutes("n1", members::get, events, new UiRoutes.Settings(true, Duration.ofMillis(1500)));
    binding = new HttpApi(testKit.system(), front, LIMITS, null, List.of(ui.route()))
        .bind("127.0.0.1", 0).toCompletableFuture().get(10, TimeUnit.SECONDS);
    base = "http://127.0.0.1:" + binding.localAddress().getPort();
    // Accepts connections (the backlog) and never answers: a member that hangs.
    silent = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
    int refusing;
    try (ServerSocket closed = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
      refusing = closed.getLocalPort();
    }
    // Answers, but an error instead of its status (as a node requiring a token the dashboard's node lacks would).
    refusingStatus = com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 0);
    refusingStatus.createContext("/", exchange -> {
      byte[] body = "{\"error\":\"not allowed\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(403, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    refusingStatus.start();
    members.set(List.of(new Member("n1", "127.0.0.1", 7101, binding.localAddress().getPort()),
        new Member("n2", "127.0.0.1", 7102, refusing), new Member("n3", "127.0.0.1", 7103, silent.getLocalPort()),
        new Member("n4", "127.0.0.1", 7104, refusingStatus.getAddress().getPort())));
  }

  @AfterAll
  static void stop() throws Exception {
    if (silent != null) silent.close();
    if (refusingStatus != null) refusingStatus.stop(0);
    if (binding != null) binding.unbind().toCompletableFuture().get(10, TimeUnit.SECONDS);
    testKit.shutdownTestKit();
  }

  private static HttpResponse<String> send(String method, String path) throws Exception {
    return client.send(HttpRequest.newBuilder(URI.create(base + path)).method(method, HttpRequest.BodyPublishers.noBody())
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String contentType(HttpResponse<String> r) {
    return r.headers().firstValue("Content-Type").orElse("");
  }

  @Test
  void theRootRedirectsToThePage() throws Exception {
    for (String path : List.of("/", "/ui/")) {
      HttpResponse<String> r = send("GET", path);
      assertEquals(302, r.statusCode(), path);
      assertEquals("/ui", r.headers().firstValue("Location").orElse(""), path);
    }
  }

  @Test
  void thePageAndItsFilesComeFromTheJarAndAreNotCached() throws Exception {
    HttpResponse<String> page = send("GET", "/ui");
    assertEquals(200, page.statusCode());
    assertTrue(contentType(page).startsWith("text/html"), contentType(page));
    assertTrue(page.body().contains("<script src=\"/ui/app.js\"></script>"), page.body());
    assertTrue(page.body().contains("href=\"/ui/app.css\""), page.body());
    assertEquals("no-cache", page.headers().firstValue("Cache-Control").orElse(""));
    assertFalse(page.body().contains("http://") || page.body().contains("https://"), "nothing is fetched from elsewhere");

    HttpResponse<String> js = send("GET", "/ui/app.js");
    assertEquals(200, js.statusCode());
    assertTrue(contentType(js).startsWith("application/javascript"), contentType(js));
    assertTrue(js.body().contains("/ui/api/cluster"), "the script polls the cluster view");
    assertFalse(js.body().contains("innerHTML"), "values from the node are written as text, never as HTML");

    HttpResponse<String> css = send("GET", "/ui/app.css");
    assertEquals(200, css.statusCode());
    assertTrue(contentType(css).startsWith("text/css"), contentType(css));
  }

  @Test
  void anythingElseUnderUiIsAJsonError() throws Exception {
    for (String path : List.of("/ui/nothing.js", "/ui/index.html", "/ui/api/nothing")) {
      HttpResponse<String> r = send("GET", path);
      assertEquals(404, r.statusCode(), path);
      assertTrue(JSON.readTree(r.body()).has("error"), path + ": " + r.body());
    }
    HttpResponse<String> post = send("POST", "/ui");
    assertEquals(405, post.statusCode());
    assertTrue(JSON.readTree(post.body()).has("error"), post.body());
    assertEquals(405, send("DELETE", "/").statusCode());
  }

  @Test
  void eventsAreWhatThisNodeSawOldestFirst() throws Exception {
    HttpResponse<String> r = send("GET", "/ui/api/events");
    assertEquals(200, r.statusCode());
    JsonNode body = JSON.readTree(r.body());
    assertEquals("n1", body.path("self").asText());
    JsonNode events = body.path("events");
    assertEquals(2, events.size());
    assertEquals("election", events.get(0).path("kind").asText());
    assertEquals(7, events.get(0).path("term").asLong());
    assertFalse(events.get(0).has("leader"));
    assertEquals("leader", events.get(1).path("kind").asText());
    assertEquals("n1", events.get(1).path("leader").asText());
    assertTrue(events.get(1).path("at").asLong() >= events.get(0).path("at").asLong());
  }

  @Test
  void theClusterViewHasEachMembersStatusOrWhyItHasNone() throws Exception {
    HttpResponse<String> r = send("GET", "/ui/api/cluster");
    assertEquals(200, r.statusCode());
    JsonNode body = JSON.readTree(r.body());
    assertEquals("n1", body.path("self").asText());
    JsonNode list = body.path("members");
    assertEquals(4, list.size());

    JsonNode up = list.get(0);
    assertEquals("n1", up.path("id").asText());
    assertTrue(up.path("reachable").asBoolean());
    assertEquals("LEADER", up.path("status").path("role").asText());
    assertEquals(7, up.path("status").path("term").asLong());
    assertEquals(30, up.path("status").path("snapshotIndex").asLong());

    JsonNode refused = list.get(1);
    assertEquals("n2", refused.path("id").asText());
    assertFalse(refused.path("reachable").asBoolean());
    assertFalse(refused.has("status"));
    assertEquals("connection refused", refused.path("error").asText(), refused.toString());

    JsonNode hanging = list.get(2);
    assertEquals("n3", hanging.path("id").asText());
    assertFalse(hanging.path("reachable").asBoolean());
    assertEquals("no answer within 1500 ms", hanging.path("error").asText(), hanging.toString());

    JsonNode erring = list.get(3);
    assertEquals("n4", erring.path("id").asText());
    assertTrue(erring.path("reachable").asBoolean(), "it answered");
    assertEquals(403, erring.path("httpStatus").asInt());
    assertFalse(erring.has("status"), "an error is not a status");
    assertEquals("answered HTTP 403: not allowed instead of its status", erring.path("error").asText());
  }

  @Test
  void settingsComeFromTheConfigAndATimeoutMustBePositive() {
    UiRoutes.Settings defaults = UiRoutes.Settings.fromConfig(ConfigFactory.parseResources("application.conf")
        .resolve().getConfig("tern"));
    assertTrue(defaults.enabled());
    assertEquals(Duration.ofSeconds(1), defaults.peerStatusTimeout());
    assertThrows(IllegalArgumentException.class, () -> new UiRoutes.Settings(true, Duration.ZERO));
  }
}

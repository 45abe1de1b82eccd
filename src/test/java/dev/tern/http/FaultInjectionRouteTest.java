package dev.tern.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import dev.tern.cluster.Members;
import dev.tern.cluster.PeerGateway;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The test-only {@code /v1/testing/partition} route over real HTTP: absent (404) unless the API is given a
 * {@link HttpApi.FaultInjection}; when present it validates the body and tells the gateway to cut or heal, and
 * answers with the cut the gateway reports.
 */
class FaultInjectionRouteTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final KvLimits LIMITS = new KvLimits(32, 64, 50, Duration.ofSeconds(5), 100);
  private static final Set<String> IDS = Set.of("n1", "n2", "n3");
  private static final Members MEMBERS =
      Members.parse("n1=127.0.0.1:7101:8101,n2=127.0.0.1:7102:8102,n3=127.0.0.1:7103:8103");

  private static ActorTestKit testKit;
  private static HttpClient client;
  private static final List<ServerBinding> bindings = new ArrayList<>();
  /** Fault injection off: no partition route. */
  private static String plainBase;
  /** A fake gateway that reports every Cut to {@link #cuts} and answers as an enabled gateway would. */
  private static String fakeBase;
  /** A real PeerGateway with fault injection on. */
  private static String realBase;
  /** A real PeerGateway with fault injection off (the node never wires it so; the route must still say so). */
  private static String offBase;
  private static TestProbe<PeerGateway.Cut> cuts;

  @BeforeAll
  static void start() throws Exception {
    testKit = ActorTestKit.create(ConfigFactory.parseString("pekko.actor.provider=local").withFallback(ConfigFactory.load()));
    client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
    ActorRef<KvFront.Command> front = testKit.spawn(Behaviors.ignore(), "front");
    cuts = testKit.createTestProbe(PeerGateway.Cut.class);
    ActorRef<PeerGateway.Command> fake = testKit.spawn(fakeGateway(cuts.ref()), "fake-gateway");
    ActorRef<PeerGateway.Command> real = testKit.spawn(PeerGateway.create("n1", MEMBERS, true), "gateway-on");
    ActorRef<PeerGateway.Command> off = testKit.spawn(PeerGateway.create("n1", MEMBERS, false), "gateway-off");
    plainBase = bind(new HttpApi(testKit.system(), front, LIMITS));
    fakeBase = bind(new HttpApi(testKit.system(), front, LIMITS, new HttpApi.FaultInjection("n1", IDS, fake)));
    realBase = bind(new HttpApi(testKit.system(), front, LIMITS, new HttpApi.FaultInjection("n1", IDS, real)));
    offBase = bind(new HttpApi(testKit.system(), front, LIMITS, new HttpApi.FaultInjection("n1", IDS, off)));
  }

  private static Behavior<PeerGateway.Command> fakeGateway(ActorRef<PeerGateway.Cut> seen) {
    return Behaviors.receive(PeerGateway.Command.class)
        .onMessage(PeerGateway.Cut.class, c -> {
          seen.tell(c);
          c.replyTo().tell(new PeerGateway.CutState(c.nodes(), true));
          return Behaviors.same();
        })
        .build();
  }

  private static String bind(HttpApi api) throws Exception {
    ServerBinding b = api.bind("127.0.0.1", 0).toCompletableFuture().get(10, TimeUnit.SECONDS);
    bindings.add(b);
    return "http://127.0.0.1:" + b.localAddress().getPort();
  }

  @AfterAll
  static void stop() throws Exception {
    for (ServerBinding b : bindings) b.unbind().toCompletableFuture().get(10, TimeUnit.SECONDS);
    testKit.shutdownTestKit();
  }

  private record Answer(int status, JsonNode body) {}

  private static Answer send(String base, String method, String body) throws Exception {
    return send(base, "/v1/testing/partition", method, body);
  }

  private static Answer send(String base, String path, String method, String body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10));
    b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    HttpResponse<String> r = client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    return new Answer(r.statusCode(), JSON.readTree(r.body()));
  }

  @Test
  void theRouteDoesNotExistWithoutFaultInjection() throws Exception {
    for (String method : List.of("POST", "DELETE", "GET", "PUT")) {
      Answer a = send(plainBase, method, "{\"cut\":[\"n2\"]}");
      assertEquals(404, a.status(), method + ": " + a.body());
      assertEquals("not found", a.body().path("error").asText());
    }
  }

  @Test
  void postCutsTheNamedMembersAndDeleteHeals() throws Exception {
    Answer cut = send(fakeBase, "POST", "{\"cut\":[\"n3\",\"n2\"]}");
    assertEquals(200, cut.status(), cut.body().toString());
    assertEquals(Set.of("n2", "n3"), cuts.receiveMessage().nodes());
    assertEquals("{\"id\":\"n1\",\"cut\":[\"n2\",\"n3\"]}", cut.body().toString());

    Answer heal = send(fakeBase, "DELETE", null);
    assertEquals(200, heal.status(), heal.body().toString());
    assertEquals(Set.of(), cuts.receiveMessage().nodes());
    assertEquals("{\"id\":\"n1\",\"cut\":[]}", heal.body().toString());

    Answer empty = send(fakeBase, "POST", "{\"cut\":[]}");
    assertEquals(200, empty.status(), empty.body().toString());
    assertEquals(Set.of(), cuts.receiveMessage().nodes());
  }

  @Test
  void badBodiesAre400AndReachNoGateway() throws Exception {
    for (String body : List.of("", "nope", "[]", "{}", "{\"cut\":\"n2\"}", "{\"cut\":[\"n9\"]}", "{\"cut\":[2]}",
        "{\"cut\":[\"n1\"]}")) {
      Answer a = send(fakeBase, "POST", body);
      assertEquals(400, a.status(), body + ": " + a.body());
      assertTrue(a.body().hasNonNull("error"), a.body().toString());
    }
    cuts.expectNoMessage(Duration.ofMillis(200));
  }

  @Test
  void otherMethodsGet405() throws Exception {
    Answer a = send(fakeBase, "GET", null);
    assertEquals(405, a.status());
    assertEquals("POST, DELETE", a.body().path("allow").asText());
  }

  @Test
  void aRealGatewayConfirmsTheCut() throws Exception {
    Answer cut = send(realBase, "POST", "{\"cut\":[\"n2\"]}");
    assertEquals(200, cut.status(), cut.body().toString());
    assertEquals("{\"id\":\"n1\",\"cut\":[\"n2\"]}", cut.body().toString());
    Answer heal = send(realBase, "DELETE", null);
    assertEquals("{\"id\":\"n1\",\"cut\":[]}", heal.body().toString());
  }

  @Test
  void aGatewayWithFaultInjectionOffRefuses() throws Exception {
    Answer a = send(offBase, "POST", "{\"cut\":[\"n2\"]}");
    assertEquals(500, a.status(), a.body().toString());
  }

  @Test
  void aRealGatewayTakesAndLiftsADelay() throws Exception {
    Answer slow = send(realBase, "/v1/testing/delay", "POST", "{\"delayMs\": 25}");
    assertEquals(200, slow.status(), slow.body().toString());
    assertEquals("{\"id\":\"n1\",\"delayMs\":25.0}", slow.body().toString());
    Answer fast = send(realBase, "/v1/testing/delay", "DELETE", null);
    assertEquals("{\"id\":\"n1\",\"delayMs\":0.0}", fast.body().toString());
  }

  @Test
  void badDelaysAre400AndTheDelayRouteNeedsFaultInjection() throws Exception {
    for (String body : List.of("", "nope", "{}", "{\"delayMs\":\"5\"}", "{\"delayMs\":-1}", "{\"delayMs\":10001}")) {
      Answer a = send(realBase, "/v1/testing/delay", "POST", body);
      assertEquals(400, a.status(), body + ": " + a.body());
      assertTrue(a.body().path("error").asText().contains("delayMs"), a.body().toString());
    }
    assertEquals(404, send(plainBase, "/v1/testing/delay", "POST", "{\"delayMs\":5}").status());
    assertEquals(500, send(offBase, "/v1/testing/delay", "POST", "{\"delayMs\":5}").status());
    assertEquals(405, send(realBase, "/v1/testing/delay", "GET", null).status());
  }
}

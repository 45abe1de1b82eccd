package dev.tern.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import dev.tern.cluster.Member;
import dev.tern.kv.KeyValue;
import dev.tern.kv.KvResult;
import dev.tern.raft.RaftMessage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.server.Directives;
import org.apache.pekko.http.javadsl.server.Rejections;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.scaladsl.model.EntityStreamSizeException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Drives {@link HttpApi} over real HTTP (java.net.http.HttpClient) against fake front actors: an in-memory
 * one with the front's semantics that records every command it receives, and a silent one that never answers.
 */
class HttpApiTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration WAIT = Duration.ofSeconds(10);

  /** Small limits so the size checks are easy to hit. */
  private static final KvLimits LIMITS = new KvLimits(32, 64, 50, Duration.ofSeconds(5), 100);
  /** For the silent front: two requests at once, short timeout. */
  private static final KvLimits TIGHT = new KvLimits(32, 64, 50, Duration.ofMillis(300), 2);
  /** maxListLimit above the default list limit of 1000. */
  private static final KvLimits WIDE = new KvLimits(32, 64, 5000, Duration.ofSeconds(5), 100);

  private static final List<Member> MEMBERS = List.of(
      new Member("n1", "127.0.0.1", 7101, 8101),
      new Member("n2", "127.0.0.1", 7102, 8102),
      new Member("n3", "127.0.0.1", 7103, 8103));

  private static ActorTestKit testKit;
  private static HttpClient client;
  /** Every command the in-memory front receives goes to the current test's probe. */
  private static final AtomicReference<TestProbe<KvFront.Command>> seen = new AtomicReference<>();
  private static final AtomicBoolean serving = new AtomicBoolean(true);
  /** When set, the fake front reports a leader that cannot commit, for this reason. */
  private static final java.util.concurrent.atomic.AtomicReference<String> stall =
      new java.util.concurrent.atomic.AtomicReference<>();
  private static TestProbe<KvFront.Command> silentSeen;

  private static HttpApi api;
  private static HttpApi tightApi;
  private static final List<ServerBinding> bindings = new ArrayList<>();
  private static String base;
  private static String tightBase;
  private static String wideBase;
  /** Misbehaving routes inside {@link HttpApi#guarded}, and one of them without it. */
  private static String guardedBase;

  private TestProbe<KvFront.Command> probe;

  @BeforeAll
  static void start() throws Exception {
    testKit = ActorTestKit.create(ConfigFactory.parseString("pekko.actor.provider=local").withFallback(ConfigFactory.load()));
    client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(WAIT).build();
    ActorRef<KvFront.Command> front = testKit.spawn(inMemoryFront(), "front");
    silentSeen = testKit.createTestProbe(KvFront.Command.class);
    ActorRef<KvFront.Command> silent = testKit.spawn(silentFront(silentSeen.ref()), "silent-front");

    api = new HttpApi(testKit.system(), front, LIMITS);
    tightApi = new HttpApi(testKit.system(), silent, TIGHT);
    base = bind(api);
    tightBase = bind(tightApi);
    wideBase = bind(new HttpApi(testKit.system(), front, WIDE));
    guardedBase = bindRoute(Directives.concat(
        Directives.path("unguarded", HttpApiTest::throwingRoute),
        ApiErrors.guarded(LIMITS, () -> Directives.concat(
            Directives.path("boom", HttpApiTest::throwingRoute),
            Directives.path("boom-later", () -> Directives.completeWithFuture(
                CompletableFuture.failedFuture(new IllegalStateException("async boom")))),
            Directives.path("too-big", () -> Directives.extractUri(uri -> {
              throw new EntityStreamSizeException(64, scala.Option.empty());
            })),
            Directives.path("get-only", () -> Directives.get(() -> Directives.complete("ok"))),
            Directives.path("needs-param", () -> Directives.parameter("p", p -> Directives.complete(p))),
            Directives.path("invalid", () -> Directives.reject(Rejections.validationRejection("nope")))))));
  }

  private static Route throwingRoute() {
    return Directives.extractUri(uri -> {
      throw new IllegalStateException("boom");
    });
  }

  private static String bindRoute(Route route) throws Exception {
    ServerBinding binding = Http.get(testKit.system()).newServerAt("127.0.0.1", 0).bind(route)
        .toCompletableFuture().get(10, TimeUnit.SECONDS);
    bindings.add(binding);
    return "http://127.0.0.1:" + binding.localAddress().getPort();
  }

  private static String bind(HttpApi a) throws Exception {
    ServerBinding binding = a.bind("127.0.0.1", 0).toCompletableFuture().get(10, TimeUnit.SECONDS);
    bindings.add(binding);
    return "http://127.0.0.1:" + binding.localAddress().getPort();
  }

  @AfterAll
  static void stop() throws Exception {
    for (ServerBinding b : bindings) b.unbind().toCompletableFuture().get(10, TimeUnit.SECONDS);
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void freshProbe() {
    probe = testKit.createTestProbe(KvFront.Command.class);
    seen.set(probe);
    serving.set(true);
    stall.set(null);
  }

  // ---------------------------------------------------------------------------------------- fake fronts

  /**
   * The front's semantics over a TreeMap, revision = a counter bumped by every write. Keys "unavailable",
   * "invalid" and "odd" get canned replies: Unavailable, Done(Invalid) and a wrong reply type.
   */
  private static Behavior<KvFront.Command> inMemoryFront() {
    return Behaviors.setup(ctx -> {
      TreeMap<String, KeyValue> data = new TreeMap<>();
      long[] index = {0};
      return Behaviors.receive(KvFront.Command.class)
          .onMessage(KvFront.Command.class, cmd -> {
            TestProbe<KvFront.Command> p = seen.get();
            if (p != null) p.ref().tell(cmd);
            if (cmd instanceof KvFront.Put put) {
              if (put.key().equals("unavailable")) {
                put.reply().complete(new KvFront.Reply.Unavailable("no leader"));
              } else if (put.key().equals("invalid")) {
                put.reply().complete(new KvFront.Reply.Done(new KvResult.Invalid("entry did not decode")));
              } else if (put.key().equals("odd")) {
                put.reply().complete(new KvFront.Reply.Items(List.of()));
              } else {
                KeyValue current = data.get(put.key());
                long currentRevision = current == null ? 0 : current.revision();
                if (put.expectedRevision() != KvFront.Put.UNCONDITIONAL && put.expectedRevision() != currentRevision) {
                  put.reply().complete(new KvFront.Reply.Done(new KvResult.CasConflict(put.key(), currentRevision)));
                } else {
                  long rev = ++index[0];
                  data.put(put.key(), new KeyValue(put.key(), put.value(), rev));
                  put.reply().complete(new KvFront.Reply.Done(new KvResult.Written(put.key(), put.value(), rev)));
                }
              }
            } else if (cmd instanceof KvFront.Delete del) {
              KeyValue removed = data.remove(del.key());
              del.reply().complete(new KvFront.Reply.Done(removed == null
                  ? new KvResult.NotFound(del.key())
                  : new KvResult.Deleted(del.key(), ++index[0])));
            } else if (cmd instanceof KvFront.Get get) {
              KeyValue kv = data.get(get.key());
              get.reply().complete(new KvFront.Reply.Done(kv == null
                  ? new KvResult.NotFound(get.key())
                  : new KvResult.Value(kv.key(), kv.value(), kv.revision())));
            } else if (cmd instanceof KvFront.ListKeys list) {
              List<KeyValue> items = new ArrayList<>();
              for (Map.Entry<String, KeyValue> e : data.tailMap(list.prefix(), true).entrySet()) {
                if (!e.getKey().startsWith(list.prefix()) || items.size() >= list.limit()) break;
                items.add(e.getValue());
              }
              list.reply().complete(new KvFront.Reply.Items(items));
            } else if (cmd instanceof KvFront.GetNodeStatus st) {
              boolean s = serving.get();
              if (stall.get() != null) {
                st.reply().complete(new NodeStatus("n1", "LEADER", 7, "n1", 42, 41, MEMBERS, false, 30, 29,
                    List.of(new RaftMessage.FollowerStatus("n2", 42, 44, 3, 5200, false),
                        new RaftMessage.FollowerStatus("n3", 40, 41, 5, -1, false)), stall.get()));
              } else {
                st.reply().complete(new NodeStatus("n1", s ? "leader" : "candidate", 7, s ? "n1" : null, 42, 41, MEMBERS, s, 30, 29));
              }
            }
            return Behaviors.same();
          })
          .build();
    });
  }

  /** Records every command and never answers. */
  private static Behavior<KvFront.Command> silentFront(ActorRef<KvFront.Command> record) {
    return Behaviors.receive(KvFront.Command.class)
        .onMessage(KvFront.Command.class, cmd -> {
          record.tell(cmd);
          return Behaviors.same();
        })
        .build();
  }

  // ------------------------------------------------------------------------------------------- client

  private record Resp(int status, String contentType, JsonNode json, HttpResponse<byte[]> raw) {
    String header(String name) {
      return raw.headers().firstValue(name).orElse(null);
    }
  }

  private static Resp send(String baseUrl, String method, String path, byte[] body) throws Exception {
    return toResp(client.send(request(baseUrl, method, path, body), HttpResponse.BodyHandlers.ofByteArray()));
  }

  private static CompletableFuture<Resp> sendAsync(String baseUrl, String method, String path) {
    return client.sendAsync(request(baseUrl, method, path, null), HttpResponse.BodyHandlers.ofByteArray())
        .thenApply(HttpApiTest::toResp);
  }

  private static HttpRequest request(String baseUrl, String method, String path, byte[] body) {
    return HttpRequest.newBuilder(URI.create(baseUrl + path))
        .timeout(WAIT)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body))
        .build();
  }

  private static Resp toResp(HttpResponse<byte[]> r) {
    JsonNode json;
    try {
      json = JSON.readTree(r.body());
    } catch (IOException e) {
      throw new AssertionError("body is not JSON: " + new String(r.body(), StandardCharsets.UTF_8), e);
    }
    return new Resp(r.statusCode(), r.headers().firstValue("Content-Type").orElse(null), json, r);
  }

  private Resp put(String path, String value) throws Exception {
    return send(base, "PUT", path, value.getBytes(StandardCharsets.UTF_8));
  }

  private Resp get(String path) throws Exception {
    return send(base, "GET", path, null);
  }

  /** Asserts the status, a JSON content type and a JSON object body with an "error" string. */
  private static Resp assertError(Resp r, int status) {
    assertEquals(status, r.status(), () -> "body: " + r.json());
    assertEquals("application/json", r.contentType());
    assertTrue(r.json().isObject(), () -> "not an object: " + r.json());
    assertTrue(r.json().path("error").isTextual(), () -> "no error field: " + r.json());
    assertFalse(r.json().path("error").asText().isEmpty());
    return r;
  }

  private static void assertOk(Resp r) {
    assertEquals(200, r.status(), () -> "body: " + r.json());
    assertEquals("application/json", r.contentType());
  }

  private <T extends KvFront.Command> T received(Class<T> type) {
    return probe.expectMessageClass(type, WAIT);
  }

  // ------------------------------------------------------------------------------------------ puts

  @Test
  void putWritesAndAnswersKeyValueRevision() throws Exception {
    Resp r = put("/v1/kv/alpha", "one");
    assertOk(r);
    assertEquals("alpha", r.json().get("key").asText());
    assertEquals("one", r.json().get("value").asText());
    assertTrue(r.json().get("revision").asLong() > 0);

    KvFront.Put cmd = received(KvFront.Put.class);
    assertEquals("alpha", cmd.key());
    assertEquals("one", cmd.value().utf8());
    assertEquals(KvFront.Put.UNCONDITIONAL, cmd.expectedRevision());
  }

  @Test
  void putKeepsRawBodyBytesAndUnicode() throws Exception {
    String value = "{\"not\": \"parsed\"} é ✓ \uD83D\uDE00";
    Resp r = put("/v1/kv/raw", value);
    assertOk(r);
    assertEquals(value, r.json().get("value").asText());
    assertEquals(value, received(KvFront.Put.class).value().utf8());
  }

  @Test
  void putEmptyValueIsAllowed() throws Exception {
    Resp r = put("/v1/kv/empty-value", "");
    assertOk(r);
    assertEquals("", r.json().get("value").textValue());
    assertEquals("", received(KvFront.Put.class).value().utf8());
  }

  @Test
  void keyMayContainSlashes() throws Exception {
    assertOk(put("/v1/kv/users/42", "ann"));
    assertEquals("users/42", received(KvFront.Put.class).key());
    Resp r = get("/v1/kv/users/42");
    assertOk(r);
    assertEquals("users/42", r.json().get("key").asText());
    assertEquals("ann", r.json().get("value").asText());
    assertEquals("users/42", received(KvFront.Get.class).key());
  }

  @Test
  void keyIsUrlDecoded() throws Exception {
    Resp r = put("/v1/kv/a%20b%2Fc%C3%A9+d", "v");
    assertOk(r);
    assertEquals("a b/cé+d", r.json().get("key").asText());
    assertEquals("a b/cé+d", received(KvFront.Put.class).key());
  }

  @Test
  void casPutPassesExpectedRevisionAndSucceeds() throws Exception {
    Resp created = put("/v1/kv/cas-key?cas=0", "v1");
    assertOk(created);
    assertEquals(0, received(KvFront.Put.class).expectedRevision());
    long rev = created.json().get("revision").asLong();

    Resp updated = put("/v1/kv/cas-key?cas=" + rev, "v2");
    assertOk(updated);
    assertEquals("v2", updated.json().get("value").asText());
    KvFront.Put cmd = received(KvFront.Put.class);
    assertEquals(rev, cmd.expectedRevision());
    assertEquals("v2", cmd.value().utf8());
  }

  @Test
  void casMismatchIs409WithCurrentRevision() throws Exception {
    long rev = put("/v1/kv/cas-conflict", "v1").json().get("revision").asLong();
    Resp r = assertError(put("/v1/kv/cas-conflict?cas=" + (rev + 100), "v2"), 409);
    assertEquals("revision mismatch", r.json().get("error").asText());
    assertEquals(rev, r.json().get("revision").asLong());

    Resp absent = assertError(put("/v1/kv/cas-absent?cas=5", "x"), 409);
    assertEquals(0, absent.json().get("revision").asLong());
  }

  @Test
  void badCasIs400AndNeverReachesTheFront() throws Exception {
    for (String cas : List.of("abc", "-1", "", "1.5", "99999999999999999999")) {
      assertError(put("/v1/kv/k?cas=" + cas, "v"), 400);
    }
    probe.expectNoMessage(Duration.ofMillis(100));
  }

  @Test
  void emptyKeyIs400() throws Exception {
    assertError(put("/v1/kv/", "v"), 400);
    assertError(get("/v1/kv/"), 400);
    assertError(send(base, "DELETE", "/v1/kv/", null), 400);
  }

  // Issue 11: values are any bytes. JSON answers carry a value that is not UTF-8 in "valueBase64", never altered.
  @Test
  void aValueThatIsNotUtf8IsKeptAndAnsweredInBase64() throws Exception {
    byte[] binary = {'o', 'k', (byte) 0xC3, (byte) 0x28, 0, (byte) 0xff};
    Resp r = send(base, "PUT", "/v1/kv/binary", binary);
    assertOk(r);
    String base64 = java.util.Base64.getEncoder().encodeToString(binary);
    assertEquals(base64, r.json().get("valueBase64").asText());
    assertFalse(r.json().has("value"), "a value that is not text has no \"value\" field");
    assertArrayEquals(binary, received(KvFront.Put.class).value().toArray());

    Resp got = get("/v1/kv/binary");
    assertOk(got);
    assertEquals(base64, got.json().get("valueBase64").asText());
    Resp listed = get("/v1/kv?prefix=binary");
    assertEquals(base64, listed.json().get("items").get(0).get("valueBase64").asText());
    assertFalse(listed.json().get("items").get(0).has("value"));
  }

  @Test
  void theRawFormAnswersTheValueItselfWithItsRevisionInAHeader() throws Exception {
    byte[] binary = {(byte) 0xff, 0, 'x', (byte) 0x80};
    long revision = send(base, "PUT", "/v1/kv/raw-read", binary).json().get("revision").asLong();
    for (HttpRequest req : List.of(
        request(base, "GET", "/v1/kv/raw-read?raw", null),
        HttpRequest.newBuilder(URI.create(base + "/v1/kv/raw-read")).timeout(WAIT)
            .header("Accept", "application/octet-stream").GET().build())) {
      HttpResponse<byte[]> raw = client.send(req, HttpResponse.BodyHandlers.ofByteArray());
      assertEquals(200, raw.statusCode());
      assertEquals("application/octet-stream", raw.headers().firstValue("Content-Type").orElse(null));
      assertEquals(Long.toString(revision), raw.headers().firstValue("X-Tern-Revision").orElse(null));
      assertArrayEquals(binary, raw.body());
    }
    // A client that also takes JSON gets JSON; a missing key is a JSON 404 in either form.
    HttpResponse<byte[]> either = client.send(HttpRequest.newBuilder(URI.create(base + "/v1/kv/raw-read")).timeout(WAIT)
        .header("Accept", "application/octet-stream, application/json").GET().build(), HttpResponse.BodyHandlers.ofByteArray());
    assertEquals("application/json", either.headers().firstValue("Content-Type").orElse(null));
    assertError(get("/v1/kv/raw-missing?raw"), 404);
  }

  @Test
  void invalidUtf8KeyIs400() throws Exception {
    assertError(put("/v1/kv/%FF%FE", "v"), 400);
    assertError(get("/v1/kv/ok%C3"), 400);
  }

  @Test
  void tooLongKeyIs413() throws Exception {
    assertOk(put("/v1/kv/" + "k".repeat(32), "v"));
    assertError(put("/v1/kv/" + "k".repeat(33), "v"), 413);
    // 11 three-byte characters: 33 UTF-8 bytes though only 11 chars.
    assertError(put("/v1/kv/" + "€".repeat(11).replace("€", "%E2%82%AC"), "v"), 413);
    assertError(get("/v1/kv/" + "k".repeat(33)), 413);
  }

  @Test
  void tooLargeValueIs413() throws Exception {
    assertOk(put("/v1/kv/big", "v".repeat(64)));
    // One byte over: read in full, then refused.
    Resp justOver = assertError(put("/v1/kv/big", "v".repeat(65)), 413);
    assertTrue(justOver.json().get("error").asText().contains("64"));
    // Far over: Pekko's entity size limit trips; still a JSON 413.
    assertError(put("/v1/kv/big", "v".repeat(4096)), 413);
    // Counted in UTF-8 bytes: 22 two-byte characters = 44 bytes fits, 33 = 66 bytes does not.
    assertOk(put("/v1/kv/big", "é".repeat(22)));
    assertError(put("/v1/kv/big", "é".repeat(33)), 413);
  }

  /**
   * A body declared larger than the limit but within tern.http.max-discard-bytes (1 MiB here, against 64 bytes and
   * the default 4 MiB) is read and thrown away, so that a client that sends it all before reading gets its 413 rather
   * than a reset connection; the connection stays usable.
   */
  @Test
  void aBodyOverTheLimitButWithinTheDiscardBoundIsReadAndAnswered413() throws Exception {
    java.net.URI uri = URI.create(base);
    try (java.net.Socket socket = new java.net.Socket(uri.getHost(), uri.getPort())) {
      socket.setSoTimeout((int) WAIT.toMillis());
      var out = socket.getOutputStream();
      int size = 1024 * 1024;
      out.write(("PUT /v1/kv/huge HTTP/1.1\r\nHost: test\r\nContent-Length: " + size + "\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      out.write(new byte[size]); // a reset would throw here
      out.flush();
      String response = readResponse(socket.getInputStream());
      assertTrue(response.startsWith("HTTP/1.1 413"), response);
      assertTrue(response.contains("\"error\":\"value is larger than the limit of 64 bytes\""), response);
      // The same connection still serves.
      out.write("GET /health HTTP/1.1\r\nHost: test\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      assertTrue(readResponse(socket.getInputStream()).startsWith("HTTP/1.1 200"));
    }
    received(KvFront.GetNodeStatus.class); // the /health above, and no Put before it
  }

  /**
   * A body declared larger than tern.http.max-discard-bytes (64 MiB) is not read at all: the 413 comes at once,
   * before a byte of the body is sent (within 3 s, while the request timeout that reading would wait for is 5 s), and
   * the node closes the connection after it.
   */
  @Test
  void aHugeDeclaredBodyIs413AtOnceAndNotRead() throws Exception {
    java.net.URI uri = URI.create(base);
    try (java.net.Socket socket = new java.net.Socket(uri.getHost(), uri.getPort())) {
      socket.setSoTimeout(3000);
      socket.getOutputStream().write(("PUT /v1/kv/huge HTTP/1.1\r\nHost: test\r\nContent-Length: 67108864\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      String response = readResponse(socket.getInputStream());
      assertTrue(response.startsWith("HTTP/1.1 413"), response);
      assertTrue(response.toLowerCase(java.util.Locale.ROOT).contains("connection: close"), response);
      assertEquals(-1, socket.getInputStream().read(), "the node closed the connection");
    }
  }

  /**
   * A body of unknown length (chunked) that goes on and on is read up to the limit plus tern.http.max-discard-bytes
   * (4 MiB), then the node stops reading: it answers 413, closes the connection, and does not wait for the body's end
   * (which never comes here).
   */
  @Test
  void anEndlessChunkedBodyIs413OnceItPassesTheDiscardBound() throws Exception {
    java.net.URI uri = URI.create(base);
    try (java.net.Socket socket = new java.net.Socket(uri.getHost(), uri.getPort())) {
      socket.setSoTimeout(3000);
      var out = socket.getOutputStream();
      out.write("PUT /v1/kv/endless HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n"
          .getBytes(StandardCharsets.US_ASCII));
      byte[] chunk = new byte[64 * 1024];
      byte[] head = (Integer.toHexString(chunk.length) + "\r\n").getBytes(StandardCharsets.US_ASCII);
      long sent = 0;
      try {
        // Past the bound, and then some; the body never ends. Writing may fail once the node closed: that is fine.
        while (sent < KvLimits.DEFAULT_MAX_DISCARD_BYTES + 2L * 1024 * 1024) {
          out.write(head);
          out.write(chunk);
          out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
          sent += chunk.length;
        }
        out.flush();
      } catch (IOException closedByTheNode) {
        // the node stopped reading and closed the connection; its answer is queued before the reset
      }
      String response = readResponse(socket.getInputStream());
      assertTrue(response.startsWith("HTTP/1.1 413"), response);
      assertTrue(response.toLowerCase(java.util.Locale.ROOT).contains("connection: close"), response);
    }
  }

  /** A client that asks before sending (Expect: 100-continue) is answered 413 at once and sends nothing. */
  @Test
  void aHugeBodyAnnouncedWithExpectContinueIs413BeforeItIsSent() throws Exception {
    java.net.URI uri = URI.create(base);
    try (java.net.Socket socket = new java.net.Socket(uri.getHost(), uri.getPort())) {
      socket.setSoTimeout((int) WAIT.toMillis());
      socket.getOutputStream().write(("PUT /v1/kv/huge HTTP/1.1\r\nHost: test\r\nContent-Length: 67108864\r\n"
          + "Expect: 100-continue\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      String response = readResponse(socket.getInputStream());
      assertTrue(response.startsWith("HTTP/1.1 413"), "a final answer, not 100 Continue: " + response);
    }
  }

  /** A body of unknown length (chunked) that turns out too large, but ends within the discard bound, is answered 413. */
  @Test
  void aChunkedBodyOverTheLimitIs413() throws Exception {
    HttpRequest chunked = HttpRequest.newBuilder(URI.create(base + "/v1/kv/chunked"))
        .timeout(WAIT)
        .PUT(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(new byte[1024 * 1024])))
        .build();
    Resp r = toResp(client.send(chunked, HttpResponse.BodyHandlers.ofByteArray()));
    assertError(r, 413);
    HttpRequest fits = HttpRequest.newBuilder(URI.create(base + "/v1/kv/chunked"))
        .timeout(WAIT)
        .PUT(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream("small".getBytes())))
        .build();
    assertOk(toResp(client.send(fits, HttpResponse.BodyHandlers.ofByteArray())));
  }

  /** Reads one HTTP/1.1 response with a Content-Length body, as text. */
  private static String readResponse(java.io.InputStream in) throws IOException {
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) throw new IOException("connection closed after " + head);
      head.append((char) b);
    }
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?i)content-length: *(\\d+)").matcher(head);
    int length = m.find() ? Integer.parseInt(m.group(1)) : 0;
    byte[] body = in.readNBytes(length);
    return head + new String(body, StandardCharsets.UTF_8);
  }

  // ------------------------------------------------------------------------------------------ gets

  @Test
  void getIsLinearizableByDefault() throws Exception {
    put("/v1/kv/g", "gv");
    received(KvFront.Put.class);
    Resp r = get("/v1/kv/g");
    assertOk(r);
    assertEquals("g", r.json().get("key").asText());
    assertEquals("gv", r.json().get("value").asText());
    assertTrue(r.json().get("revision").asLong() > 0);
    assertTrue(received(KvFront.Get.class).linearizable());

    assertOk(get("/v1/kv/g?consistency=linearizable"));
    assertTrue(received(KvFront.Get.class).linearizable());
  }

  @Test
  void staleGetIsNotLinearizable() throws Exception {
    put("/v1/kv/s", "sv");
    received(KvFront.Put.class);
    Resp r = get("/v1/kv/s?consistency=stale");
    assertOk(r);
    assertEquals("sv", r.json().get("value").asText());
    KvFront.Get cmd = received(KvFront.Get.class);
    assertEquals("s", cmd.key());
    assertFalse(cmd.linearizable());
  }

  @Test
  void badConsistencyIs400() throws Exception {
    assertError(get("/v1/kv/s?consistency=eventual"), 400);
    assertError(get("/v1/kv/s?consistency="), 400);
    assertError(get("/v1/kv?consistency=sometimes"), 400);
  }

  @Test
  void getOfAbsentKeyIs404WithKey() throws Exception {
    Resp r = assertError(get("/v1/kv/no-such-key"), 404);
    assertEquals("key not found", r.json().get("error").asText());
    assertEquals("no-such-key", r.json().get("key").asText());
  }

  // --------------------------------------------------------------------------------------- deletes

  @Test
  void deleteAnswersKeyAndRevisionThen404() throws Exception {
    long written = put("/v1/kv/d/1", "x").json().get("revision").asLong();
    received(KvFront.Put.class);
    Resp r = send(base, "DELETE", "/v1/kv/d/1", null);
    assertOk(r);
    assertEquals("d/1", r.json().get("key").asText());
    assertTrue(r.json().get("revision").asLong() > written);
    assertFalse(r.json().has("value"));
    assertEquals("d/1", received(KvFront.Delete.class).key());

    Resp again = assertError(send(base, "DELETE", "/v1/kv/d/1", null), 404);
    assertEquals("d/1", again.json().get("key").asText());
    assertError(get("/v1/kv/d/1"), 404);
  }

  @Test
  void deleteWithCasIs400() throws Exception {
    assertError(send(base, "DELETE", "/v1/kv/x?cas=1", null), 400);
    probe.expectNoMessage(Duration.ofMillis(100));
  }

  // ----------------------------------------------------------------------------------------- lists

  @Test
  void listByPrefixWithLimit() throws Exception {
    for (String k : List.of("list/a", "list/b", "list/c", "listx")) assertOk(put("/v1/kv/" + k, "v-" + k));
    Resp r = get("/v1/kv?prefix=list/&limit=2");
    assertOk(r);
    JsonNode items = r.json().get("items");
    assertEquals(2, items.size());
    assertEquals("list/a", items.get(0).get("key").asText());
    assertEquals("v-list/a", items.get(0).get("value").asText());
    assertTrue(items.get(0).get("revision").asLong() > 0);
    assertEquals("list/b", items.get(1).get("key").asText());

    for (int i = 0; i < 4; i++) received(KvFront.Put.class);
    KvFront.ListKeys cmd = received(KvFront.ListKeys.class);
    assertEquals("list/", cmd.prefix());
    assertEquals(2, cmd.limit());
  }

  @Test
  void listDefaultsToEmptyPrefixAndCappedDefaultLimit() throws Exception {
    Resp r = get("/v1/kv");
    assertOk(r);
    assertTrue(r.json().get("items").isArray());
    KvFront.ListKeys cmd = received(KvFront.ListKeys.class);
    assertEquals("", cmd.prefix());
    assertEquals(50, cmd.limit()); // min(1000, maxListLimit = 50)

    assertOk(send(wideBase, "GET", "/v1/kv", null));
    assertEquals(1000, received(KvFront.ListKeys.class).limit());
    assertOk(send(wideBase, "GET", "/v1/kv?limit=5000", null));
    assertEquals(5000, received(KvFront.ListKeys.class).limit());
  }

  @Test
  void listWithEmptyResult() throws Exception {
    Resp r = get("/v1/kv?prefix=nothing-here%2F");
    assertOk(r);
    assertEquals(0, r.json().get("items").size());
    assertEquals("nothing-here/", received(KvFront.ListKeys.class).prefix());
  }

  @Test
  void listPrefixIsQueryDecoded() throws Exception {
    assertOk(get("/v1/kv?prefix=a+b%20c%2Bd%2F%C3%A9"));
    assertEquals("a b c+d/é", received(KvFront.ListKeys.class).prefix());
    assertError(get("/v1/kv?prefix=%FF"), 400);
  }

  @Test
  void badListLimitIs400() throws Exception {
    for (String limit : List.of("0", "-1", "51", "abc", "", "2.5")) {
      assertError(get("/v1/kv?limit=" + limit), 400);
    }
    assertOk(get("/v1/kv?limit=50"));
    assertEquals(50, received(KvFront.ListKeys.class).limit());
    assertOk(get("/v1/kv?limit=1"));
    assertEquals(1, received(KvFront.ListKeys.class).limit());
  }

  // --------------------------------------------------------------------------------- status, health

  @Test
  void statusIsNodeStatusJson() throws Exception {
    Resp r = get("/v1/status");
    assertOk(r);
    JsonNode s = r.json();
    assertEquals("n1", s.get("id").asText());
    assertEquals("leader", s.get("role").asText());
    assertEquals(7, s.get("term").asLong());
    assertEquals("n1", s.get("leader").asText());
    assertEquals(42, s.get("commitIndex").asLong());
    assertEquals(41, s.get("lastApplied").asLong());
    assertTrue(s.get("serving").asBoolean());
    assertEquals(3, s.get("members").size());
    JsonNode m2 = s.get("members").get(1);
    assertEquals("n2", m2.get("id").asText());
    assertEquals("127.0.0.1", m2.get("host").asText());
    assertEquals(7102, m2.get("arteryPort").asInt());
    assertEquals(8102, m2.get("httpPort").asInt());
    assertEquals(30, s.get("firstLogIndex").asLong());
    assertEquals(29, s.get("snapshotIndex").asLong());
    assertEquals(List.of("id", "role", "term", "leader", "commitIndex", "lastApplied", "firstLogIndex", "snapshotIndex",
        "members", "followers", "serving"), fieldNames(s));
    received(KvFront.GetNodeStatus.class);

    serving.set(false);
    JsonNode notServing = get("/v1/status").json();
    assertTrue(notServing.get("leader").isNull());
    assertFalse(notServing.get("serving").asBoolean());
  }

  @Test
  void healthIs200WhenServingAnd503WhenNot() throws Exception {
    Resp ok = get("/health");
    assertOk(ok);
    assertEquals("serving", ok.json().get("status").asText());
    assertEquals("n1", ok.json().get("id").asText());
    received(KvFront.GetNodeStatus.class);

    serving.set(false);
    Resp down = assertError(get("/health"), 503);
    assertEquals("not serving", down.json().get("error").asText());
    assertEquals("no leader known in term 7", down.json().get("reason").asText());
    assertEquals("1", down.header("Retry-After"));
  }

  /** A leader that cannot commit is not serving, and says why; its status shows how far each follower is. */
  @Test
  void healthIs503WithTheReasonWhenTheLeaderCannotCommit() throws Exception {
    stall.set("cannot commit for 5000 ms: entries 43..45 lack a majority");
    Resp down = assertError(get("/health"), 503);
    assertEquals("leader cannot commit for 5000 ms: entries 43..45 lack a majority", down.json().get("reason").asText());
    assertEquals("LEADER", down.json().get("role").asText());

    JsonNode status = get("/v1/status").json();
    assertFalse(status.get("serving").asBoolean());
    assertEquals(stall.get(), status.get("commitStall").asText());
    JsonNode n2 = status.get("followers").get(0);
    assertEquals("n2", n2.get("id").asText());
    assertEquals(42, n2.get("matchIndex").asLong());
    assertEquals(44, n2.get("nextIndex").asLong());
    assertEquals(3, n2.get("behind").asLong());
    assertEquals(5200, n2.get("lastAnsweredMsAgo").asLong());
    assertEquals(-1, status.get("followers").get(1).get("lastAnsweredMsAgo").asLong());
  }

  // ---------------------------------------------------------------------------------- front failures

  @Test
  void unavailableIs503WithRetryAfter() throws Exception {
    Resp r = assertError(put("/v1/kv/unavailable", "v"), 503);
    assertEquals("1", r.header("Retry-After"));
    assertEquals("no leader", r.json().get("reason").asText());
  }

  @Test
  void invalidResultIs500Json() throws Exception {
    assertError(put("/v1/kv/invalid", "v"), 500);
  }

  @Test
  void unexpectedReplyIs500Json() throws Exception {
    assertError(put("/v1/kv/odd", "v"), 500);
    // The node keeps serving afterwards.
    assertOk(put("/v1/kv/after-odd", "v"));
  }

  @Test
  void askTimeoutIs503WithRetryAfter() throws Exception {
    Resp r = assertError(send(tightBase, "GET", "/v1/kv/whatever", null), 503);
    assertEquals("1", r.header("Retry-After"));
    assertEquals("whatever", silentSeen.expectMessageClass(KvFront.Get.class, WAIT).key());
  }

  @Test
  void inflightLimitAnswers503AtOnceAndRecovers() throws Exception {
    CompletableFuture<Resp> first = sendAsync(tightBase, "GET", "/v1/kv/slow-1");
    CompletableFuture<Resp> second = sendAsync(tightBase, "PUT", "/v1/kv/slow-2");
    silentSeen.expectMessageClass(KvFront.Command.class, WAIT);
    silentSeen.expectMessageClass(KvFront.Command.class, WAIT);
    assertEquals(2, tightApi.inflightRequests());

    Resp third = assertError(send(tightBase, "GET", "/v1/kv/slow-3", null), 503);
    assertEquals("1", third.header("Retry-After"));
    assertTrue(third.json().get("error").asText().contains("too many"), third.json()::toString);
    assertFalse(first.isDone()); // refused at once, while the first two still wait for the front

    // The two waiting requests time out (503) and free their slots.
    assertEquals(503, first.get(10, TimeUnit.SECONDS).status());
    assertEquals("1", second.get(10, TimeUnit.SECONDS).header("Retry-After"));
    assertEquals(0, tightApi.inflightRequests());
    CompletableFuture<Resp> fourth = sendAsync(tightBase, "GET", "/v1/kv/slow-4");
    assertEquals("slow-4", silentSeen.expectMessageClass(KvFront.Get.class, WAIT).key());
    assertError(fourth.get(10, TimeUnit.SECONDS), 503);
  }

  // ------------------------------------------------------------------------------ routing errors

  @Test
  void unknownPathsAre404Json() throws Exception {
    for (String path : List.of("/", "/nope", "/v1", "/v1/kvx/a", "/v1/statusx", "/v2/kv/a", "/healthz")) {
      Resp r = assertError(get(path), 404);
      assertEquals("not found", r.json().get("error").asText(), path);
    }
    probe.expectNoMessage(Duration.ofMillis(100));
  }

  @Test
  void wrongMethodIs405WithAllow() throws Exception {
    Resp r = assertError(send(base, "POST", "/v1/kv/a", "x".getBytes(StandardCharsets.UTF_8)), 405);
    assertEquals("GET, PUT, DELETE", r.header("Allow"));
    assertEquals("GET", assertError(send(base, "PUT", "/v1/kv", new byte[0]), 405).header("Allow"));
    assertEquals("GET", assertError(send(base, "DELETE", "/v1/status", null), 405).header("Allow"));
    assertEquals("GET", assertError(send(base, "POST", "/health", new byte[0]), 405).header("Allow"));
    assertError(send(base, "PATCH", "/v1/kv/", new byte[0]), 405);
    probe.expectNoMessage(Duration.ofMillis(100));
  }

  @Test
  void tooLongUriIsJsonFromTheParser() throws Exception {
    Resp r = assertError(get("/v1/kv/" + "a".repeat(5000)), 414);
    assertNotNull(r.json().get("error"));
  }

  @Test
  void malformedRequestsGetJsonErrors() throws Exception {
    int port = URI.create(base).getPort();
    // Bad percent-escapes in the query and the path, a space in the target (so a bad protocol version), and
    // a character not allowed in a URI: all refused by Pekko itself, before or while routing.
    Map<String, Integer> expected = Map.of(
        "/v1/kv/a?cas=%ZZ", 400, "/v1/kv/a%ZZ", 400, "/v1/kv/a b", 505, "/v1/kv/a\"b", 400);
    for (Map.Entry<String, Integer> e : expected.entrySet()) {
      String target = e.getKey();
      RawResponse r = raw(port, "GET " + target + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
      assertEquals(e.getValue(), r.status(), () -> target + " -> " + r.body());
      assertTrue(r.head().toLowerCase().contains("content-type: application/json"), r.head());
      assertTrue(JSON.readTree(r.body()).path("error").isTextual(), r.body());
    }
    probe.expectNoMessage(Duration.ofMillis(100));
  }

  @Test
  void exceptionsInsideTheRouteBecome500Json() throws Exception {
    // Without the guard Pekko answers in plain text; inside it the same failure is a JSON 500.
    HttpResponse<String> plain = client.send(request(guardedBase, "GET", "/unguarded", null), HttpResponse.BodyHandlers.ofString());
    assertEquals(500, plain.statusCode());
    assertTrue(plain.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"));

    Resp r = assertError(send(guardedBase, "GET", "/boom", null), 500);
    assertEquals("internal error", r.json().get("error").asText());
    assertError(send(guardedBase, "GET", "/boom-later", null), 500);
    assertError(send(guardedBase, "GET", "/too-big", null), 413);
  }

  @Test
  void rejectionsInsideTheRouteBecomeJson() throws Exception {
    assertEquals("GET", assertError(send(guardedBase, "POST", "/get-only", new byte[0]), 405).header("Allow"));
    assertError(send(guardedBase, "GET", "/needs-param", null), 400);
    assertError(send(guardedBase, "GET", "/invalid", null), 400);
    assertError(send(guardedBase, "GET", "/nowhere", null), 404);
  }

  private record RawResponse(int status, String head, String body) {}

  private static RawResponse raw(int port, String request) throws IOException {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout((int) WAIT.toMillis());
      OutputStream out = s.getOutputStream();
      out.write(request.getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      InputStream in = s.getInputStream();
      ByteArrayOutputStream all = new ByteArrayOutputStream();
      in.transferTo(all);
      String text = all.toString(StandardCharsets.UTF_8);
      int split = text.indexOf("\r\n\r\n");
      String head = text.substring(0, split);
      return new RawResponse(Integer.parseInt(head.split(" ")[1]), head, text.substring(split + 4));
    }
  }

  private static List<String> fieldNames(JsonNode node) {
    List<String> names = new ArrayList<>();
    node.fieldNames().forEachRemaining(names::add);
    return names;
  }
}

package dev.tern.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import dev.tern.kv.Bytes;
import dev.tern.kv.KvResult;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The {@code Request-Id} header over real HTTP: validated, namespaced, handed to the front with the write. */
class RequestIdApiTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static ActorTestKit testKit;
  private static TestProbe<KvFront.Command> seen;
  private static ServerBinding binding;
  private static String base;
  private static final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  static void start() throws Exception {
    testKit = ActorTestKit.create(ConfigFactory.parseString("pekko.actor.provider=local").withFallback(ConfigFactory.load()));
    seen = testKit.createTestProbe(KvFront.Command.class);
    // Answers a put of key "forgotten" as a retry whose first value is no longer known; every other write normally.
    ActorRef<KvFront.Command> front = testKit.spawn(Behaviors.receive(KvFront.Command.class)
        .onMessage(KvFront.Put.class, p -> {
          seen.ref().tell(p);
          Bytes value = p.key().equals("forgotten") ? null : p.value();
          p.reply().complete(new KvFront.Reply.Done(new KvResult.Written(p.key(), value, 7)));
          return Behaviors.same();
        })
        .onMessage(KvFront.Delete.class, d -> {
          seen.ref().tell(d);
          d.reply().complete(new KvFront.Reply.Done(new KvResult.Deleted(d.key(), 8)));
          return Behaviors.same();
        })
        .build());
    HttpApi api = new HttpApi(testKit.system(), front, new KvLimits(64, 64, 10, Duration.ofSeconds(5), 10, 12));
    binding = api.bind("127.0.0.1", 0).toCompletableFuture().get(10, TimeUnit.SECONDS);
    base = "http://127.0.0.1:" + binding.localAddress().getPort();
  }

  @AfterAll
  static void stop() throws Exception {
    binding.unbind().toCompletableFuture().get(10, TimeUnit.SECONDS);
    testKit.shutdownTestKit();
  }

  private static HttpResponse<String> send(String method, String path, String requestId) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10))
        .method(method, method.equals("PUT") ? HttpRequest.BodyPublishers.ofString("v") : HttpRequest.BodyPublishers.noBody());
    if (requestId != null) b.header("Request-Id", requestId);
    return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void aPutAndADeleteCarryTheNamespacedId() throws Exception {
    assertEquals(200, send("PUT", "/v1/kv/a", "abc-123").statusCode());
    assertEquals("req:abc-123", seen.expectMessageClass(KvFront.Put.class).commandId());
    assertEquals(200, send("PUT", "/v1/kv/a?cas=3", "abc-124").statusCode());
    KvFront.Put cas = seen.expectMessageClass(KvFront.Put.class);
    assertEquals("req:abc-124", cas.commandId());
    assertEquals(3, cas.expectedRevision());
    assertEquals(200, send("DELETE", "/v1/kv/a", "abc-125").statusCode());
    assertEquals("req:abc-125", seen.expectMessageClass(KvFront.Delete.class).commandId());
  }

  @Test
  void withoutTheHeaderTheFrontMakesTheId() throws Exception {
    assertEquals(200, send("PUT", "/v1/kv/a", null).statusCode());
    assertNull(seen.expectMessageClass(KvFront.Put.class).commandId());
    assertEquals(200, send("DELETE", "/v1/kv/a", null).statusCode());
    assertNull(seen.expectMessageClass(KvFront.Delete.class).commandId());
  }

  @Test
  void aBadIdIs400WithAJsonErrorAndNothingReachesTheFront() throws Exception {
    String[][] cases = {
      {"PUT", "a b", "Request-Id may only contain A-Z a-z 0-9 - _ . : ~ (found ' ' at position 1)"},
      {"PUT", "x".repeat(13), "Request-Id is 13 characters, more than the limit of 12"},
      {"DELETE", "a/b", "Request-Id may only contain A-Z a-z 0-9 - _ . : ~ (found '/' at position 1)"},
      {"PUT", "", "Request-Id must not be empty"},
    };
    for (String[] c : cases) {
      HttpResponse<String> r = send(c[0], "/v1/kv/a", c[1]);
      assertEquals(400, r.statusCode(), r.body());
      assertEquals(c[2], JSON.readTree(r.body()).get("error").asText());
    }
    assertEquals(200, send("PUT", "/v1/kv/a", "x".repeat(12)).statusCode(), "the limit itself is allowed");
    seen.expectMessageClass(KvFront.Put.class);
    seen.expectNoMessage(Duration.ofMillis(100));
  }

  /** A retry whose first value is no longer known is answered with the key and revision only. */
  @Test
  void aWrittenResultWithoutAValueHasNoValueField() throws Exception {
    JsonNode body = JSON.readTree(send("PUT", "/v1/kv/forgotten", "r1").body());
    assertEquals("{\"key\":\"forgotten\",\"revision\":7}", body.toString());
    seen.expectMessageClass(KvFront.Put.class);
  }
}

package dev.tern.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import dev.tern.cluster.Member;
import dev.tern.cluster.Members;
import dev.tern.cluster.PeerGateway;
import dev.tern.kv.KvStateMachine;
import dev.tern.raft.LogEntry;
import dev.tern.raft.RaftMessage;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code POST /v1/txn} over real HTTP, through the real front and state machine; the "replica" is a single leader
 * that commits each proposal at once (Raft itself is not under test here).
 */
class TxnApiTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static ActorTestKit testKit;
  private static ServerBinding binding;
  private static String base;
  private static KvStateMachine kv;
  private static final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  static void start() throws Exception {
    testKit = ActorTestKit.create(ConfigFactory.parseString("pekko.actor.provider=local").withFallback(ConfigFactory.load()));
    Members members = new Members(List.of(new Member("n1", "127.0.0.1", 7101, 8101)));
    KvLimits limits = new KvLimits(16, 64, 10, Duration.ofSeconds(5), 10, 128, new TxnLimits(4, 4, 600));
    ActorRef<KvFront.Command> front = testKit.spawn(KvFront.create("n1", members, limits));
    kv = new KvStateMachine((index, command, result) -> front.tell(new KvFrontBehavior.Applied(index, command, result)));
    ActorRef<RaftMessage> leader = testKit.spawn(Behaviors.receive(RaftMessage.class)
        .onMessage(RaftMessage.Propose.class, p -> {
          long index = kv.lastApplied() + 1;
          p.replyTo().tell(new RaftMessage.ProposeResponse.Accepted(index, 1, p.requestId()));
          kv.apply(LogEntry.command(index, 1, p.command()));
          return Behaviors.same();
        })
        .build());
    front.tell(KvFront.init(leader, testKit.<PeerGateway.Command>createTestProbe().getRef(), kv));
    binding = new HttpApi(testKit.system(), front, limits).bind("127.0.0.1", 0).toCompletableFuture().get(10, TimeUnit.SECONDS);
    base = "http://127.0.0.1:" + binding.localAddress().getPort();
  }

  @AfterAll
  static void stop() throws Exception {
    binding.unbind().toCompletableFuture().get(10, TimeUnit.SECONDS);
    testKit.shutdownTestKit();
  }

  private static HttpResponse<String> send(String method, String path, String body, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body.replace('\'', '"')));
    if (headers.length > 0) b.headers(headers);
    return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static JsonNode txn(String body, String... headers) throws Exception {
    HttpResponse<String> r = send("POST", "/v1/txn", body, headers);
    assertEquals(200, r.statusCode(), r.body());
    return JSON.readTree(r.body());
  }

  @Test
  void aLockIsTakenOnceAndTheLoserSeesTheHolder() throws Exception {
    String take = "{'compare':[{'key':'lock','target':'exists','result':'=','exists':false}],"
        + "'success':[{'put':{'key':'lock','value':'%s'}}],'failure':[{'get':{'key':'lock'}}]}";
    JsonNode first = txn(take.formatted("alice"));
    assertTrue(first.get("succeeded").asBoolean());
    long rev = first.get("revision").asLong();
    assertEquals("{\"put\":{\"key\":\"lock\",\"revision\":" + rev + "}}", first.get("results").get(0).toString());
    JsonNode second = txn(take.formatted("bob"));
    assertEquals(false, second.get("succeeded").asBoolean());
    assertEquals("{\"get\":{\"key\":\"lock\",\"found\":true,\"value\":\"alice\",\"revision\":" + rev + "}}",
        second.get("results").get(0).toString());
    assertEquals("alice", kv.get("lock").orElseThrow().value().utf8());
  }

  @Test
  void aRetriedTransactionWithItsRequestIdRunsOnce() throws Exception {
    String body = "{'success':[{'put':{'key':'counter','value':'1'}},{'get':{'key':'counter'}}]}";
    JsonNode first = txn(body, "Request-Id", "txn-retry-1");
    long applied = kv.lastApplied();
    assertEquals(first, txn(body, "Request-Id", "txn-retry-1"));
    assertEquals(first.get("revision").asLong(), kv.get("counter").orElseThrow().revision(), "not written again");
    assertEquals(applied + 1, kv.lastApplied(), "the retry was a no-op entry");
    // The id names the first request, whatever comes with it later: a PUT with it gets the transaction's answer.
    HttpResponse<String> put = send("PUT", "/v1/kv/counter", "2", "Request-Id", "txn-retry-1");
    assertEquals(first, JSON.readTree(put.body()));
    assertEquals("1", kv.get("counter").orElseThrow().value().utf8());
  }

  @Test
  void badBodiesAre400NamingTheField() throws Exception {
    HttpResponse<String> r = send("POST", "/v1/txn", "{'success':[{'put':{'key':'k','valueBase64':'%%'}}]}");
    assertEquals(400, r.statusCode());
    assertEquals("success[0].put.valueBase64: not valid base64 (Illegal base64 character 25)",
        JSON.readTree(r.body()).get("error").asText());
    HttpResponse<String> tooMany = send("POST", "/v1/txn", "{'success':[{'get':{'key':'a'}},{'get':{'key':'a'}},"
        + "{'get':{'key':'a'}},{'get':{'key':'a'}},{'get':{'key':'a'}}]}");
    assertEquals(400, tooMany.statusCode());
    assertEquals("success: 5 entries, more than the limit of 4 (tern.txn.max-operations)",
        JSON.readTree(tooMany.body()).get("error").asText());
    HttpResponse<String> badId = send("POST", "/v1/txn", "{}", "Request-Id", "a b");
    assertEquals(400, badId.statusCode());
    assertTrue(JSON.readTree(badId.body()).get("error").asText().startsWith("Request-Id may only contain"));
  }

  @Test
  void aBodyOverTheLimitIs413() throws Exception {
    String big = "{'success':[{'put':{'key':'k','value':'" + "x".repeat(600) + "'}}]}";
    HttpResponse<String> r = send("POST", "/v1/txn", big);
    assertEquals(413, r.statusCode());
    assertEquals("transaction body is larger than the limit of 600 bytes (tern.txn.max-bytes)",
        JSON.readTree(r.body()).get("error").asText());
    // Without a declared length (streamed in chunks), the same.
    HttpRequest chunked = HttpRequest.newBuilder(URI.create(base + "/v1/txn")).timeout(Duration.ofSeconds(10))
        .POST(HttpRequest.BodyPublishers.ofInputStream(
            () -> new java.io.ByteArrayInputStream(big.replace('\'', '"').getBytes())))
        .build();
    HttpResponse<String> streamed = client.send(chunked, HttpResponse.BodyHandlers.ofString());
    assertEquals(413, streamed.statusCode(), streamed.body());
    HttpResponse<String> atLimit = send("POST", "/v1/txn", "{'success':[{'get':{'key':'k'}}]}" + " ".repeat(600 - 35));
    assertEquals(200, atLimit.statusCode(), atLimit.body());
  }

  @Test
  void onlyPostIsAllowed() throws Exception {
    HttpResponse<String> r = send("GET", "/v1/txn", null);
    assertEquals(405, r.statusCode());
    assertEquals("POST", r.headers().firstValue("Allow").orElseThrow());
  }

  @Test
  void anEmptyTransactionStillTakesARevision() throws Exception {
    long before = kv.lastApplied();
    JsonNode done = txn("{}");
    assertEquals("{\"succeeded\":true,\"revision\":" + (before + 1) + ",\"results\":[]}", done.toString());
  }
}

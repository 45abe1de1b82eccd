package dev.tern.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import dev.tern.cluster.Member;
import dev.tern.cluster.Members;
import dev.tern.raft.RaftMessage;
import dev.tern.raft.RaftMessage.TransferLeadershipResponse;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * {@code POST /v1/leader/transfer} over real HTTP, against fake replicas: n1 leads and answers as scripted per
 * target; n2 follows n1 and forwards to it; n3 knows no leader.
 */
class LeaderTransferApiTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final KvLimits LIMITS = new KvLimits(32, 64, 50, Duration.ofSeconds(5), 100);
  private static ActorTestKit testKit;
  private static final HttpClient client = HttpClient.newHttpClient();
  private static final List<ServerBinding> bindings = new ArrayList<>();
  private static String leader;
  private static String follower;
  private static String orphan;

  /** The leader's scripted answers, by target ("" for none). */
  private static TransferLeadershipResponse leaderAnswer(String target) {
    return switch (target == null ? "" : target) {
      case "n2" -> new TransferLeadershipResponse.Transferred("n2", 8);
      case "n3" -> new TransferLeadershipResponse.Refused("a transfer to n2 is already in progress");
      case "n4" -> new TransferLeadershipResponse.UnknownTarget("n4");
      case "n5" -> new TransferLeadershipResponse.NotLeader("n2"); // leadership moved while the request travelled
      default -> new TransferLeadershipResponse.Failed("n2 did not take over within 600 ms");
    };
  }

  private static Behavior<RaftMessage> replica(Function<String, TransferLeadershipResponse> answer) {
    return Behaviors.receiveMessage(m -> {
      if (m instanceof RaftMessage.TransferLeadership t) t.replyTo().tell(answer.apply(t.target()));
      return Behaviors.same();
    });
  }

  private static String serve(String name, Function<String, TransferLeadershipResponse> answer, Members members)
      throws Exception {
    return serve(name, answer, () -> members);
  }

  private static String serve(String name, Function<String, TransferLeadershipResponse> answer,
      java.util.function.Supplier<Members> members) throws Exception {
    ActorRef<RaftMessage> replica = testKit.spawn(replica(answer), name);
    ActorRef<KvFront.Command> front = testKit.spawn(Behaviors.empty(), name + "-front");
    HttpApi api = new HttpApi(testKit.system(), front, LIMITS, null,
        List.of(new LeaderTransferApi(testKit.system(), replica, members, Duration.ofSeconds(3)).route()));
    ServerBinding binding = api.bind("127.0.0.1", 0).toCompletableFuture().get(10, TimeUnit.SECONDS);
    bindings.add(binding);
    return "http://127.0.0.1:" + binding.localAddress().getPort();
  }

  private static Members members(int leaderPort) {
    return new Members(List.of(new Member("n1", "127.0.0.1", 7101, leaderPort), new Member("n2", "127.0.0.1", 7102, 1),
        new Member("n3", "127.0.0.1", 7103, 1), new Member("n4", "127.0.0.1", 7104, 1),
        new Member("n5", "127.0.0.1", 7105, 1)));
  }

  @BeforeAll
  static void start() throws Exception {
    testKit = ActorTestKit.create(ConfigFactory.parseString("pekko.actor.provider=local").withFallback(ConfigFactory.load()));
    leader = serve("n1", LeaderTransferApiTest::leaderAnswer, members(1));
    int leaderPort = URI.create(leader).getPort();
    follower = serve("n2", t -> new TransferLeadershipResponse.NotLeader("n1"), members(leaderPort));
    orphan = serve("n3", t -> new TransferLeadershipResponse.NotLeader(null), members(leaderPort));
  }

  @AfterAll
  static void stop() throws Exception {
    for (ServerBinding b : bindings) b.unbind().toCompletableFuture().get(10, TimeUnit.SECONDS);
    testKit.shutdownTestKit();
  }

  private static HttpResponse<String> send(String method, String uri) throws Exception {
    return client.send(HttpRequest.newBuilder(URI.create(uri)).method(method, HttpRequest.BodyPublishers.noBody())
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private static JsonNode json(HttpResponse<String> r) throws Exception {
    return JSON.readTree(r.body());
  }

  @ParameterizedTest(name = "{0} to={1}: {2} {3}")
  @CsvSource({
    // asked,   to,  status, error or leader
    "leader,    n2,  200, n2",
    "follower,  n2,  200, n2", // forwarded to the leader
    "leader,    n3,  409, transfer refused",
    "follower,  n3,  409, transfer refused",
    "leader,    '',  503, transfer failed", // no target: the leader's transfer timed out in this script
    "leader,    n4,  404, no such member", // a member the replica does not count as a voter
    "leader,    n9,  404, no such member", // not a member at all: refused before asking the replica
    "orphan,    n2,  503, no leader known to transfer from",
    "follower,  n5,  503, no leader known to transfer from", // forwarded once only, never again
  })
  void answers(String asked, String to, int status, String expected) throws Exception {
    String base = switch (asked) {
      case "leader" -> leader;
      case "follower" -> follower;
      default -> orphan;
    };
    HttpResponse<String> r = send("POST", base + "/v1/leader/transfer" + (to.isEmpty() ? "" : "?to=" + to));
    assertEquals(status, r.statusCode(), r.body());
    JsonNode body = json(r);
    if (status == 200) {
      assertEquals(expected, body.path("leader").asText());
      assertEquals(8, body.path("term").asLong());
    } else {
      assertEquals(expected, body.path("error").asText(), r.body());
    }
    if (status == 503) assertEquals("1", r.headers().firstValue("Retry-After").orElse(null));
  }

  /**
   * A node forwards to the leader at the address the configuration in force gives it, read at each request: a leader
   * added after the node started (not in its bootstrap list) is reached once the configuration names it.
   */
  @Test
  void forwardsToALeaderTheConfigurationInForceNamesNow() throws Exception {
    int leaderPort = URI.create(leader).getPort();
    Members bootstrap = new Members(List.of(new Member("n2", "127.0.0.1", 7102, 1), new Member("n6", "127.0.0.1", 7106, 1)));
    java.util.concurrent.atomic.AtomicReference<Members> inForce = new java.util.concurrent.atomic.AtomicReference<>(bootstrap);
    String late = serve("n6", t -> new TransferLeadershipResponse.NotLeader("n1"), inForce::get);
    HttpResponse<String> before = send("POST", late + "/v1/leader/transfer?to=n2");
    assertEquals(503, before.statusCode(), before.body());
    assertEquals("no leader known to transfer from", json(before).path("error").asText());
    inForce.set(members(leaderPort)); // the configuration now names n1, with its address
    HttpResponse<String> after = send("POST", late + "/v1/leader/transfer?to=n2");
    assertEquals(200, after.statusCode(), after.body());
    assertEquals("n2", json(after).path("leader").asText());
  }

  @Test
  void anEmptyTargetIsABadRequest() throws Exception {
    HttpResponse<String> r = send("POST", leader + "/v1/leader/transfer?to=");
    assertEquals(400, r.statusCode());
    assertTrue(json(r).path("error").asText().contains("to must name a member"), r.body());
  }

  @Test
  void onlyPostIsAllowed() throws Exception {
    HttpResponse<String> r = send("GET", leader + "/v1/leader/transfer?to=n2");
    assertEquals(405, r.statusCode());
    assertEquals("POST", r.headers().firstValue("Allow").orElse(null));
  }
}

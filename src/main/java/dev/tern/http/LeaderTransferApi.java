package dev.tern.http;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.optionalHeaderValueByName;
import static org.apache.pekko.http.javadsl.server.Directives.parameterOptional;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import dev.tern.cluster.Member;
import dev.tern.cluster.Members;
import dev.tern.raft.RaftMessage;
import dev.tern.raft.RaftMessage.TransferLeadershipResponse;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.Route;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /v1/leader/transfer[?to=ID]}: hands leadership to member {@code ID}, or to the most up-to-date voter
 * (Raft dissertation 3.10). Any node takes it: one that does not lead forwards it, over HTTP, to the leader it knows
 * (once: a forwarded request that finds no leader is answered 503, never forwarded again). The answer comes once a
 * new leader is elected: 200 {@code {"leader":..., "term":...}}; 404 for an id that is not a member; 409 when a
 * transfer is already under way or there is no other voter; 503 (with Retry-After) when no leader is known or the
 * transfer did not complete within an election timeout (the leader then accepts writes again).
 *
 * <p>An operator's request, rare and slow by nature (an election), so it may cost an ask per request, unlike the
 * key-value routes.
 */
public final class LeaderTransferApi {
  private static final Logger log = LoggerFactory.getLogger(LeaderTransferApi.class);
  private static final List<String> POST_ONLY = List.of("POST");
  /** Marks a request one node forwarded to the leader it knew: it is not forwarded again. */
  static final String FORWARDED = "forwarded";

  private final ActorSystem<?> system;
  private final ActorRef<RaftMessage> replica;
  /** The members of the configuration in force (a leader added later is reached at its own address). */
  private final java.util.function.Supplier<Members> members;
  private final Duration timeout;
  /** How this node calls the leader's API: null for plain HTTP, else HTTPS trusting the cluster's CA. */
  private volatile org.apache.pekko.http.javadsl.HttpsConnectionContext peerHttps;

  /**
   * @param timeout how long to wait for the replica's answer: more than the transfer's own deadline
   *     (election-timeout-max), which it always answers by
   */
  public LeaderTransferApi(ActorSystem<?> system, ActorRef<RaftMessage> replica, Members members, Duration timeout) {
    this(system, replica, constant(members), timeout);
  }

  /** As above, with the members of the configuration in force read at each request (a node's MemberDirectory). */
  public LeaderTransferApi(
      ActorSystem<?> system, ActorRef<RaftMessage> replica, java.util.function.Supplier<Members> members, Duration timeout) {
    this.system = Objects.requireNonNull(system, "system");
    this.replica = Objects.requireNonNull(replica, "replica");
    this.members = Objects.requireNonNull(members, "members");
    this.timeout = Objects.requireNonNull(timeout, "timeout");
  }

  private static java.util.function.Supplier<Members> constant(Members members) {
    Objects.requireNonNull(members, "members");
    return () -> members;
  }

  /** Forwards over HTTPS with {@code https} (the API of every node is HTTPS then: tern.security.http-tls). */
  public LeaderTransferApi overHttps(org.apache.pekko.http.javadsl.HttpsConnectionContext https) {
    this.peerHttps = https;
    return this;
  }

  public Route route() {
    // Built once: the Java DSL calls a directive's inner supplier for every request.
    Route inner = HttpApi.onlyMethods(POST_ONLY, method ->
        parameterOptional("to", to -> parameterOptional(FORWARDED, forwarded ->
            // The caller's credentials go along to the leader, which checks them again (docs/security.md).
            optionalHeaderValueByName("Authorization", auth -> transfer(to, forwarded.isPresent(), auth.orElse(null))))));
    return path(segment("v1").slash("leader").slash("transfer"), () -> inner);
  }

  private Route transfer(Optional<String> to, boolean forwarded, String authorization) {
    if (to.isPresent() && to.get().isBlank()) {
      return complete(HttpJson.error(StatusCodes.BAD_REQUEST, "to must name a member (or be left out)"));
    }
    if (to.isPresent() && members.get().byId(to.get()).isEmpty()) {
      return complete(unknown(to.get()));
    }
    String target = to.orElse(null);
    CompletionStage<TransferLeadershipResponse> asked = AskPattern.ask(
        replica, replyTo -> new RaftMessage.TransferLeadership(target, replyTo), timeout, system.scheduler());
    return completeWithFuture(asked.handle((answer, failure) -> answer)
        .thenCompose(answer -> answer(answer, target, forwarded, authorization)));
  }

  private CompletionStage<HttpResponse> answer(TransferLeadershipResponse answer, String target, boolean forwarded,
      String authorization) {
    if (answer == null) {
      return done(HttpJson.error(StatusCodes.SERVICE_UNAVAILABLE, "no answer from this node's replica within "
          + timeout.toMillis() + " ms"));
    }
    if (answer instanceof TransferLeadershipResponse.Transferred t) {
      return done(HttpJson.ok(HttpJson.object().put("leader", t.leaderId()).put("term", t.term())));
    }
    if (answer instanceof TransferLeadershipResponse.UnknownTarget u) return done(unknown(u.target()));
    if (answer instanceof TransferLeadershipResponse.Refused r) {
      return done(HttpJson.response(StatusCodes.CONFLICT, HttpJson.error("transfer refused").put("reason", r.reason())));
    }
    if (answer instanceof TransferLeadershipResponse.Failed f) {
      return done(HttpJson.response(StatusCodes.SERVICE_UNAVAILABLE,
          HttpJson.error("transfer failed").put("reason", f.reason())));
    }
    TransferLeadershipResponse.NotLeader n = (TransferLeadershipResponse.NotLeader) answer;
    Optional<Member> leader = n.leaderHint() == null ? Optional.empty() : members.get().byId(n.leaderHint());
    if (leader.isEmpty() || forwarded) {
      return done(HttpJson.response(StatusCodes.SERVICE_UNAVAILABLE, HttpJson.error("no leader known to transfer from")
          .put("reason", forwarded ? "this node was named leader but no longer leads" : "no leader known")));
    }
    return forward(leader.get(), target, authorization);
  }

  /** Passes the request on to the leader's HTTP server, and its answer back. */
  private CompletionStage<HttpResponse> forward(Member leader, String target, String authorization) {
    var https = peerHttps;
    String uri = (https == null ? "http://" : "https://") + leader.host() + ":" + leader.httpPort() + "/v1/leader/transfer?" + FORWARDED + "=true"
        + (target == null ? "" : "&to=" + URLEncoder.encode(target, StandardCharsets.UTF_8));
    log.info("forwarding a leadership transfer to the leader {} ({})", leader.id(), uri);
    HttpRequest request = HttpRequest.POST(uri);
    if (authorization != null) request = request.addHeader(RawHeader.create("Authorization", authorization));
    return (https == null ? Http.get(system).singleRequest(request) : Http.get(system).singleRequest(request, https))
        .thenCompose(response -> response.entity().toStrict(timeout.toMillis(), system)
            .thenApply(response::withEntity))
        .exceptionally(failure -> HttpJson.response(StatusCodes.SERVICE_UNAVAILABLE,
            HttpJson.error("could not reach the leader " + leader.id()).put("reason", String.valueOf(failure))));
  }

  private static HttpResponse unknown(String id) {
    return HttpJson.response(StatusCodes.NOT_FOUND, HttpJson.error("no such member").put("id", id));
  }

  private static CompletionStage<HttpResponse> done(HttpResponse response) {
    return CompletableFuture.completedFuture(response);
  }
}

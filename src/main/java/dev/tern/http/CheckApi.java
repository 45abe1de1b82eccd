package dev.tern.http;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.optionalHeaderValueByName;
import static org.apache.pekko.http.javadsl.server.Directives.parameterOptional;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tern.cluster.Member;
import dev.tern.cluster.Members;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The consistency check's routes (docs/api.md, "Consistency checks"):
 *
 * <ul>
 *   <li>{@code POST /v1/check[?timeout=30s]}: run a check now, from this node ({@link ConsistencyCheck#run});
 *   <li>{@code GET /v1/check}: this node's CORRUPT alarm, and the last check it ran;
 *   <li>{@code GET /v1/check/I}: this node's digest at index I (members ask each other this);
 *   <li>{@code POST /v1/check/alarm?index=I}: a member's word that this node's digest at I differs: it verifies
 *       ({@link ConsistencyCheck#verify}) and raises its alarm if so;
 *   <li>{@code POST /v1/check/disarm[?node=ID]}: an operator clears the alarm of this node or of member ID.
 * </ul>
 */
public final class CheckApi {
  private static final List<String> GET_POST = List.of("GET", "POST");
  private static final List<String> GET_ONLY = List.of("GET");
  private static final List<String> POST_ONLY = List.of("POST");

  private final String selfId;
  private final ConsistencyCheck check;
  private final Supplier<Members> members;
  /** Storage and quota admission: a node that takes no writes proposes no check. Null: none. */
  private final OpsRoutes ops;
  private final HttpClient client;
  private final String scheme;

  public CheckApi(String selfId, ConsistencyCheck check, Supplier<Members> members, OpsRoutes ops,
      javax.net.ssl.SSLContext peerSsl) {
    this.selfId = Objects.requireNonNull(selfId, "selfId");
    this.check = Objects.requireNonNull(check, "check");
    this.members = Objects.requireNonNull(members, "members");
    this.ops = ops;
    this.scheme = peerSsl == null ? "http" : "https";
    HttpClient.Builder b = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(2));
    if (peerSsl != null) b.sslContext(peerSsl);
    this.client = b.build();
  }

  public Route route() {
    Route run = HttpApi.onlyMethods(GET_POST, method -> method.equals("GET") ? complete(HttpJson.ok(state()))
        : optionalHeaderValueByName("Authorization", auth -> parameterOptional("timeout", timeout ->
            runRoute(auth.orElse(null), timeout))));
    Route told = HttpApi.onlyMethods(POST_ONLY, m -> optionalHeaderValueByName("Authorization", auth ->
        parameterOptional("index", index -> {
          long i = index.map(HttpParsing::parseNonNegativeLong).orElse(-1L);
          if (i < 1) return complete(ApiErrors.badRequest("index must be a positive integer (the check's log index)"));
          return completeWithFuture(check.verify(i, auth.orElse(null)).handle((json, failure) ->
              failure == null ? HttpJson.ok(json) : failed(failure)));
        })));
    Route disarm = HttpApi.onlyMethods(POST_ONLY, m -> optionalHeaderValueByName("Authorization", auth ->
        parameterOptional("node", node -> disarmRoute(node.filter(n -> !n.isBlank()).orElse(selfId), auth.orElse(null)))));
    return concat(
        path(segment("v1").slash("check"), () -> run),
        path(segment("v1").slash("check").slash("alarm"), () -> told),
        path(segment("v1").slash("check").slash("disarm"), () -> disarm),
        path(segment("v1").slash("check").slash(segment()), index -> HttpApi.onlyMethods(GET_ONLY, m -> {
          long i = HttpParsing.parseNonNegativeLong(index);
          if (i < 1) return complete(ApiErrors.badRequest("the index must be a positive integer"));
          return complete(HttpJson.ok(check.localAnswer(i)));
        })));
  }

  private Route runRoute(String authorization, Optional<String> timeoutParam) {
    Duration timeout = null;
    if (timeoutParam.isPresent()) {
      timeout = dev.tern.kv.Lease.parseTtl(timeoutParam.get());
      if (timeout == null || timeout.isZero()) {
        return complete(ApiErrors.badRequest("timeout must be a duration like 30s or 500ms"));
      }
    }
    if (ops != null) {
      HttpResponse refused = ops.refuseWrite(WriteAdmission.Write.ADDS_NONE);
      if (refused != null) return complete(refused);
    }
    return completeWithFuture(check.run(authorization, timeout).handle((json, failure) ->
        failure == null ? HttpJson.ok(json) : failed(failure)));
  }

  /** GET /v1/check: {@code {"id", "alarm": null|{...}, "lastCheck": report|null, "interval", "timeout"}}. */
  private ObjectNode state() {
    ObjectNode body = HttpJson.object().put("id", selfId);
    check.alarm().describe(body);
    body.set("lastCheck", check.lastReport());
    body.put("intervalMs", check.settings().interval().toMillis()).put("timeoutMs", check.settings().timeout().toMillis());
    return body;
  }

  private Route disarmRoute(String node, String authorization) {
    if (node.equals(selfId)) {
      boolean was = check.alarm().disarm();
      return complete(HttpJson.ok(HttpJson.object().put("id", selfId).put("disarmed", was).put("alarm", false)));
    }
    Member m = members.get().byId(node).orElse(null);
    if (m == null) {
      return complete(HttpJson.response(StatusCodes.NOT_FOUND, HttpJson.error("no such member: " + node)));
    }
    // The caller's own token goes on: the member checks it as it would the caller's own call.
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(scheme + "://" + m.host() + ":" + m.httpPort()
        + "/v1/check/disarm")).timeout(Duration.ofSeconds(10)).POST(HttpRequest.BodyPublishers.noBody());
    if (authorization != null) b.header("Authorization", authorization);
    CompletionStage<HttpResponse> forwarded = client.sendAsync(b.build(), java.net.http.HttpResponse.BodyHandlers.ofString())
        .handle((r, failure) -> {
          if (failure != null) {
            return ApiErrors.unavailable("member " + node + " did not answer: " + ConsistencyCheck.describe(failure));
          }
          JsonNode body;
          try {
            body = HttpJson.MAPPER.readTree(r.body());
          } catch (Exception e) {
            body = null;
          }
          ObjectNode out = body instanceof ObjectNode o ? o : HttpJson.error("member " + node + " answered: " + r.body());
          return HttpJson.response(StatusCodes.get(r.statusCode()), out);
        });
    return completeWithFuture(forwarded);
  }

  private static HttpResponse failed(Throwable failure) {
    Throwable cause = ApiErrors.unwrap(failure);
    if (cause instanceof ConsistencyCheck.Unavailable u) return ApiErrors.unavailable(u.getMessage());
    return ApiErrors.internalError(cause);
  }
}

package dev.tern.http;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.extractMethod;
import static org.apache.pekko.http.javadsl.server.Directives.extractRequest;
import static org.apache.pekko.http.javadsl.server.Directives.extractRequestEntity;
import static org.apache.pekko.http.javadsl.server.Directives.extractUri;
import static org.apache.pekko.http.javadsl.server.Directives.handleExceptions;
import static org.apache.pekko.http.javadsl.server.Directives.handleRejections;
import static org.apache.pekko.http.javadsl.server.Directives.parameterOptional;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;
import static org.apache.pekko.http.javadsl.server.Directives.withRequestTimeoutResponse;
import static org.apache.pekko.http.javadsl.server.PathMatchers.remaining;
import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.fasterxml.jackson.databind.JsonNode;
import dev.tern.cluster.Member;
import dev.tern.cluster.PeerGateway;
import dev.tern.kv.Bytes;
import dev.tern.kv.KeyValue;
import dev.tern.kv.KvResult;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.RequestEntity;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.ExceptionHandler;
import org.apache.pekko.http.javadsl.server.MalformedQueryParamRejection;
import org.apache.pekko.http.javadsl.server.MethodRejection;
import org.apache.pekko.http.javadsl.server.MissingQueryParamRejection;
import org.apache.pekko.http.javadsl.server.Rejection;
import org.apache.pekko.http.javadsl.server.RejectionHandler;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.server.UnsupportedRequestContentTypeRejection;
import org.apache.pekko.http.javadsl.settings.ServerSettings;
import org.apache.pekko.http.scaladsl.model.EntityStreamSizeException;
import org.apache.pekko.http.scaladsl.model.IllegalHeaderException;
import org.apache.pekko.http.scaladsl.model.IllegalRequestException;
import org.apache.pekko.http.scaladsl.model.IllegalUriException;
import org.apache.pekko.stream.javadsl.Sink;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tern's client-facing HTTP API (see {@code docs/api.md}): validates each request, asks the node's front actor
 * ({@link KvFront}) and turns its reply into JSON.
 *
 * <p>Every answer, including every error, is a JSON object; errors carry an {@code "error"} string. Rejections
 * and exceptions inside the route are handled here, and {@link #bind} also installs
 * {@link HttpParsingErrorHandler} for requests too malformed to reach the route.
 *
 * <p>At most {@link KvLimits#maxInflightRequests()} requests are worked on at once (reading a body or waiting
 * for the front); any request beyond that is answered 503 at once. A request rejected by validation is
 * answered without counting.
 *
 * <p>Test-only: given a {@link FaultInjection} (a node does so only when {@code tern.testing.fault-injection}
 * is on), the API also serves {@code POST} and {@code DELETE /v1/testing/partition}, which cut and heal this
 * node's Raft traffic with other members through its {@link PeerGateway}. Without it that path does not exist
 * (404 like any unknown path).
 */
public final class HttpApi {
  private static final Logger log = LoggerFactory.getLogger(HttpApi.class);

  /** The list limit when the request gives none (capped at {@link KvLimits#maxListLimit()}). */
  public static final int DEFAULT_LIST_LIMIT = 1000;

  private static final List<String> KEY_METHODS = List.of("GET", "PUT", "DELETE");
  private static final List<String> GET_ONLY = List.of("GET");
  private static final List<String> PARTITION_METHODS = List.of("POST", "DELETE");
  /** The largest body {@code POST /v1/testing/partition} reads: a list of member ids. */
  private static final long MAX_PARTITION_BODY_BYTES = 64 * 1024;

  /**
   * Test-only fault injection: this node's id, every member's id, and the node's gateway, which honours
   * {@link PeerGateway.Cut}. Give it to the API only when {@code tern.testing.fault-injection} is on.
   */
  public record FaultInjection(String selfId, Set<String> memberIds, ActorRef<PeerGateway.Command> gateway) {
    public FaultInjection {
      Objects.requireNonNull(selfId, "selfId");
      memberIds = Set.copyOf(memberIds);
      Objects.requireNonNull(gateway, "gateway");
    }
  }

  private final ActorSystem<?> system;
  private final ActorRef<KvFront.Command> front;
  private final KvLimits limits;
  /** Null unless fault injection is on: then the test-only partition route exists. */
  private final FaultInjection faultInjection;
  /** Routes served next to the key-value API, under the same guards (the leader transfer, LeaderTransferApi). */
  private final List<Route> extraRoutes;
  /** Storage health and backups; null in tests that need neither. */
  private final OpsRoutes ops;
  /** The front answers within the request timeout; the ask gives it one second more. */
  private final Duration askTimeout;
  private final AtomicInteger inflight = new AtomicInteger();
  private final OverdueReplies overdue;
  private final Route route;
  /** The membership routes (a node's; null in tests of the KV API alone). */

  public HttpApi(ActorSystem<?> system, ActorRef<KvFront.Command> front, KvLimits limits) {
    this(system, front, limits, null);
  }

  /**
   * @param faultInjection null for a production node; otherwise the test-only partition route is served
   */
  public HttpApi(ActorSystem<?> system, ActorRef<KvFront.Command> front, KvLimits limits, FaultInjection faultInjection) {
    this(system, front, limits, faultInjection, List.of(), null);
  }

  /** @param extraRoutes served too, with the same JSON errors and request limits (e.g. {@link LeaderTransferApi}) */
  public HttpApi(ActorSystem<?> system, ActorRef<KvFront.Command> front, KvLimits limits, FaultInjection faultInjection,
      List<Route> extraRoutes) {
    this(system, front, limits, faultInjection, extraRoutes, null);
  }

  /** @param ops storage health (read-only below the reserve) and {@code GET /v1/snapshot}; null for neither */
  public HttpApi(ActorSystem<?> system, ActorRef<KvFront.Command> front, KvLimits limits, FaultInjection faultInjection,
      OpsRoutes ops) {
    this(system, front, limits, faultInjection, List.of(), ops);
  }

  public HttpApi(ActorSystem<?> system, ActorRef<KvFront.Command> front, KvLimits limits, FaultInjection faultInjection,
      List<Route> extraRoutes, OpsRoutes ops) {
    this.extraRoutes = List.copyOf(extraRoutes);
    this.ops = ops;
    this.system = Objects.requireNonNull(system, "system");
    this.front = Objects.requireNonNull(front, "front");
    this.limits = Objects.requireNonNull(limits, "limits");
    this.faultInjection = faultInjection;
    if (limits.maxKeyBytes() < 1 || limits.maxValueBytes() < 0 || limits.maxListLimit() < 1
        || limits.maxInflightRequests() < 1 || limits.requestTimeout().isNegative() || limits.requestTimeout().isZero()) {
      throw new IllegalArgumentException("bad HTTP limits: " + limits);
    }
    this.askTimeout = limits.requestTimeout().plusSeconds(1);
    this.route = buildRoute();
    this.overdue = new OverdueReplies(askTimeout);
    Duration sweep = Duration.ofMillis(100);
    system.scheduler().scheduleWithFixedDelay(sweep, sweep, overdue::sweep, system.executionContext());
  }

  /** The whole API as one route; it never lets a non-JSON error out. */
  public Route route() {
    return route;
  }

  /**
   * Starts serving {@link #route()} on host:port (port 0 picks a free port; see
   * {@link ServerBinding#localAddress()}). The server settings come from the system's config, adjusted so that
   * Pekko's own errors are JSON too, a maximal key fits in the URI, and Pekko's request timeout only fires
   * after the ask timeout.
   */
  public CompletionStage<ServerBinding> bind(String host, int port) {
    return Http.get(system).newServerAt(host, port).withSettings(serverSettings()).bind(route());
  }

  /** Requests being worked on now (reading their body or waiting for the front). */
  public int inflightRequests() {
    return inflight.get();
  }

  ServerSettings serverSettings() {
    Config base = system.settings().config();
    // A key of maxKeyBytes bytes may be percent-encoded to three times as many characters.
    String serverMaxUri = "pekko.http.server.parsing.max-uri-length";
    long configuredMaxUri = base.getBytes(base.hasPath(serverMaxUri) ? serverMaxUri : "pekko.http.parsing.max-uri-length");
    long maxUri = Math.max(configuredMaxUri, 3L * limits.maxKeyBytes() + 2048);
    // Reading a PUT body may take up to the request timeout, then the ask up to askTimeout.
    long timeoutMs = limits.requestTimeout().plus(askTimeout).plusSeconds(1).toMillis();
    Config overrides = ConfigFactory.parseString(
        "pekko.http.server.parsing.error-handler = \"" + HttpParsingErrorHandler.class.getName() + "\"\n"
            + "pekko.http.server.parsing.max-uri-length = " + maxUri + "\n"
            + "pekko.http.server.request-timeout = " + timeoutMs + "ms\n");
    return ServerSettings.create(overrides.withFallback(base));
  }

  // ---------------------------------------------------------------------------------------------- routes

  private Route buildRoute() {
    // The inner routes are built here once, not in the suppliers, which the Java DSL calls for every request.
    Route list = onlyMethods(GET_ONLY, method -> listRoute());
    Route status = onlyMethods(GET_ONLY, method -> statusRoute());
    Route health = onlyMethods(GET_ONLY, method -> healthRoute());
    Route api = concat(
        path(segment("v1").slash("kv"), () -> list),
        pathPrefix(segment("v1").slash("kv").slash(remaining()), this::keyRoute),
        path(segment("v1").slash("status"), () -> status),
        path("health", () -> health));
    if (!extraRoutes.isEmpty()) api = concat(api, extraRoutes.toArray(Route[]::new));
    if (ops != null) {
      Route snapshot = onlyMethods(GET_ONLY, method -> completeWithFuture(admit(ops::backup)));
      api = concat(api, path(segment("v1").slash("snapshot"), () -> snapshot));
    }
    Route all = faultInjection == null ? api : concat(api,
        path(segment("v1").slash("testing").slash("partition"),
            () -> onlyMethods(PARTITION_METHODS, this::partitionRoute)));
    return guarded(limits, () -> all);
  }

  // ------------------------------------------------------------------------ test-only fault injection

  /**
   * {@code POST /v1/testing/partition} with {@code {"cut":["n2","n3"]}} replaces the set of members this node
   * exchanges no Raft traffic with; {@code DELETE} heals (an empty set). Answers the cut now in effect, once the
   * gateway has taken it. Not counted against maxInflightRequests: a test must be able to heal an overloaded
   * node.
   */
  private Route partitionRoute(String method) {
    if (method.equals("DELETE")) return completeWithFuture(cut(Set.of()));
    return extractRequestEntity(entity -> completeWithFuture(
        entity.withSizeLimit(MAX_PARTITION_BODY_BYTES).toStrict(limits.requestTimeout().toMillis(), system)
            .thenCompose(strict -> {
              PartitionRequest parsed = parsePartition(strict.getData().toArray());
              return parsed.error() != null ? CompletableFuture.completedFuture(parsed.error()) : cut(parsed.nodes());
            })
            .exceptionally(failure -> unwrap(failure) instanceof EntityStreamSizeException
                ? tooLarge("the body is larger than " + MAX_PARTITION_BODY_BYTES + " bytes")
                : bodyFailure(unwrap(failure)))));
  }

  /** The member ids of a partition request, or the response to answer instead. */
  private record PartitionRequest(Set<String> nodes, HttpResponse error) {
    static PartitionRequest error(HttpResponse error) {
      return new PartitionRequest(null, error);
    }
  }

  private PartitionRequest parsePartition(byte[] body) {
    JsonNode json;
    try {
      json = HttpJson.MAPPER.readTree(body);
    } catch (IOException e) {
      return PartitionRequest.error(badRequest("the body must be a JSON object {\"cut\": [member ids]}"));
    }
    if (json == null || !json.isObject() || !json.path("cut").isArray()) {
      return PartitionRequest.error(badRequest("the body must be a JSON object {\"cut\": [member ids]}"));
    }
    Set<String> nodes = new TreeSet<>();
    for (JsonNode id : json.get("cut")) {
      if (!id.isTextual() || !faultInjection.memberIds().contains(id.asText())) {
        return PartitionRequest.error(badRequest("not a member id: " + id));
      }
      if (id.asText().equals(faultInjection.selfId())) {
        return PartitionRequest.error(badRequest("a node cannot be cut off from itself"));
      }
      nodes.add(id.asText());
    }
    return new PartitionRequest(Set.copyOf(nodes), null);
  }

  private CompletionStage<HttpResponse> cut(Set<String> nodes) {
    CompletionStage<PeerGateway.CutState> reply = AskPattern.ask(faultInjection.gateway(),
        replyTo -> new PeerGateway.Cut(Set.copyOf(nodes), replyTo), askTimeout, system.scheduler());
    return reply.handle((state, failure) -> {
      if (failure != null) return unavailable("the gateway did not answer: " + unwrap(failure));
      if (!state.enabled()) {
        return HttpJson.error(StatusCodes.INTERNAL_SERVER_ERROR, "fault injection is off in this node's gateway");
      }
      ObjectNode body = HttpJson.object().put("id", faultInjection.selfId());
      ArrayNode cut = body.putArray("cut");
      new TreeSet<>(state.nodes()).forEach(cut::add);
      return HttpJson.ok(body);
    });
  }

  /**
   * Wraps {@code inner} so that every rejection, exception and Pekko request timeout becomes a JSON error: the
   * safety net around the whole API (package-private so tests can put a misbehaving route inside it).
   */
  static Route guarded(KvLimits limits, Supplier<Route> inner) {
    // Built once: the Java DSL calls a directive's inner supplier for every request, and building the two
    // handlers there was 5% of what a node allocated per write (async-profiler, alloc).
    ExceptionHandler exceptions = exceptionHandler(limits);
    RejectionHandler rejections = rejectionHandler();
    Route handled = handleExceptions(exceptions, () -> handleRejections(rejections, inner));
    return withRequestTimeoutResponse(
        request -> HttpJson.error(StatusCodes.SERVICE_UNAVAILABLE, "request timed out"), () -> handled);
  }

  /** Dispatches the allowed methods to {@code inner}, and answers 405 with an Allow header for the others. */
  static Route onlyMethods(List<String> allowed, Function<String, Route> inner) {
    return extractMethod(method -> allowed.contains(method.name())
        ? inner.apply(method.name())
        : complete(methodNotAllowed(allowed)));
  }

  private static HttpResponse methodNotAllowed(List<String> allowed) {
    return HttpJson.response(StatusCodes.METHOD_NOT_ALLOWED,
        HttpJson.error("method not allowed").put("allow", String.join(", ", allowed)),
        RawHeader.create("Allow", String.join(", ", allowed)));
  }

  /** {@code /v1/kv/{key}}; {@code rawKey} is the rest of the path, still percent-encoded. */
  private Route keyRoute(String rawKey) {
    return onlyMethods(KEY_METHODS, method -> {
      String key = decodePath(rawKey);
      if (key == null) return complete(badRequest("key is not valid UTF-8 or not properly percent-encoded"));
      if (key.isEmpty()) return complete(badRequest("key must not be empty"));
      int keyBytes = utf8Length(key);
      if (keyBytes > limits.maxKeyBytes()) {
        return complete(tooLarge("key is " + keyBytes + " bytes, more than the limit of " + limits.maxKeyBytes()));
      }
      switch (method) {
        case "GET":
          return parameterOptional("consistency", consistency -> parameterOptional("raw", raw ->
              extractRequest(request -> getRoute(key, consistency, raw.isPresent() || wantsRaw(request)))));
        case "PUT":
          return parameterOptional("cas", cas -> putRoute(key, cas));
        default:
          HttpResponse refused = ops == null ? null : ops.refuseWrite();
          if (refused != null) return complete(refused);
          return parameterOptional("cas", cas -> cas.isPresent()
              ? complete(badRequest("cas is only supported on PUT"))
              : completeWithFuture(admit(() -> ask(
                  replyTo -> new KvFront.Delete(key, replyTo), this::kvReply))));
      }
    });
  }

  private Route getRoute(String key, Optional<String> consistency, boolean raw) {
    Boolean linearizable = parseConsistency(consistency);
    if (linearizable == null) return complete(badConsistency());
    return completeWithFuture(admit(() -> this.<KvFront.Reply>ask(
        replyTo -> new KvFront.Get(key, linearizable, replyTo), reply -> kvReplyIn(reply, raw))));
  }

  /** A client that accepts only {@code application/octet-stream}, not JSON, asks for the raw form. */
  static boolean wantsRaw(HttpRequest request) {
    return request.getHeader("Accept").map(h -> {
      String accept = h.value().toLowerCase(java.util.Locale.ROOT);
      return accept.contains("application/octet-stream") && !accept.contains("json") && !accept.contains("*/*");
    }).orElse(false);
  }

  private Route putRoute(String key, Optional<String> casParam) {
    long expectedRevision = KvFront.Put.UNCONDITIONAL;
    if (casParam.isPresent()) {
      expectedRevision = parseNonNegativeLong(casParam.get());
      if (expectedRevision < 0) return complete(badRequest("cas must be a non-negative integer revision"));
    }
    long expected = expectedRevision;
    return extractRequest(request -> {
      HttpResponse refused = ops == null ? null : ops.refuseWrite(); // read-only: a volatile read, no disk access
      if (refused != null) return completeWithFuture(refuseBody(request, refused));
      RequestEntity entity = request.entity();
      OptionalLong declared = entity.getContentLengthOption();
      if (declared.isPresent() && declared.getAsLong() > limits.maxValueBytes()) {
        return completeWithFuture(refuseBody(request, valueTooLarge()));
      }
      return completeWithFuture(admit(() -> readValue(entity).thenCompose(read -> {
        if (read.error() != null) return CompletableFuture.completedFuture(read.error());
        return ask(replyTo -> new KvFront.Put(key, read.value(), expected, replyTo), this::kvReply);
      })));
    });
  }

  /** The value, or the error response to answer instead. */
  private record ValueRead(Bytes value, HttpResponse error) {}

  /**
   * Answers {@code response} to a request whose body will not be used, without cutting off its upload: a client
   * that waits for "100 Continue" is answered at once and sends nothing; any other client is still sending, so the
   * body is read and thrown away first (closing a socket with unread data resets the connection, and the client
   * would see a reset instead of the 413). The request timeout bounds the reading.
   */
  private CompletionStage<HttpResponse> refuseBody(HttpRequest request, HttpResponse response) {
    boolean waitsForContinue = request.getHeader("Expect")
        .map(h -> h.value().trim().equalsIgnoreCase("100-continue")).orElse(false);
    if (waitsForContinue) return CompletableFuture.completedFuture(response);
    return request.entity().withoutSizeLimit().getDataBytes()
        .completionTimeout(limits.requestTimeout())
        .runWith(Sink.ignore(), system)
        .handle((done, failure) -> response);
  }

  /**
   * Reads the body: the value, any bytes. A body of unknown length that turns out larger than the value
   * limit is read to its end but not kept (see {@link #refuseBody}), and answered 413.
   */
  private CompletionStage<ValueRead> readValue(RequestEntity entity) {
    int maxBytes = limits.maxValueBytes();
    if (entity instanceof HttpEntity.Strict strict) { // the whole body came with the headers: no stream to run
      return CompletableFuture.completedFuture(strict.getData().size() > maxBytes
          ? new ValueRead(null, valueTooLarge()) : decodedValue(strict.getData().toArray()));
    }
    return entity.withoutSizeLimit().getDataBytes()
        .completionTimeout(limits.requestTimeout())
        .runFold(new BoundedBody(maxBytes), BoundedBody::add, system)
        .handle((body, failure) -> {
          if (failure != null) return new ValueRead(null, bodyFailure(unwrap(failure)));
          if (body.overflowed()) return new ValueRead(null, valueTooLarge());
          return decodedValue(body.bytes());
        });
  }

  private static ValueRead decodedValue(byte[] bytes) {
    return new ValueRead(Bytes.wrap(bytes), null); // a fresh array, handed over
  }

  private HttpResponse bodyFailure(Throwable failure) {
    if (failure instanceof EntityStreamSizeException) return valueTooLarge();
    if (failure instanceof TimeoutException) {
      return HttpJson.error(StatusCodes.REQUEST_TIMEOUT, "the request body did not arrive in time");
    }
    log.warn("Could not read a request body", failure);
    return HttpJson.error(StatusCodes.BAD_REQUEST, "could not read the request body");
  }

  private Route listRoute() {
    return parameterOptional("prefix", prefix -> parameterOptional("limit", limitParam ->
        parameterOptional("consistency", consistency -> {
          // A list is always linearizable; "stale" is accepted and still served linearizably.
          if (parseConsistency(consistency) == null) return complete(badConsistency());
          int limit = Math.min(DEFAULT_LIST_LIMIT, limits.maxListLimit());
          if (limitParam.isPresent()) {
            long parsed = parseNonNegativeLong(limitParam.get());
            if (parsed < 1 || parsed > limits.maxListLimit()) {
              return complete(badRequest("limit must be an integer from 1 to " + limits.maxListLimit()));
            }
            limit = (int) parsed;
          }
          int finalLimit = limit;
          String p = prefix.orElse("");
          // Pekko decodes the query leniently: undecodable bytes arrive as U+FFFD (see decodePath).
          if (p.indexOf('\uFFFD') >= 0) return complete(badRequest("prefix is not valid UTF-8"));
          return completeWithFuture(admit(() -> ask(
              replyTo -> new KvFront.ListKeys(p, finalLimit, replyTo), this::listReply)));
        })));
  }

  private Route statusRoute() {
    return completeWithFuture(admit(() -> this.<NodeStatus>ask(KvFront.GetNodeStatus::new, status -> {
      ObjectNode body = statusJson(status);
      if (ops != null) ops.describeStorage(body);
      return HttpJson.ok(body);
    })));
  }

  private Route healthRoute() {
    return completeWithFuture(admit(() -> this.<NodeStatus>ask(KvFront.GetNodeStatus::new, status -> {
      String storageProblem = ops == null ? null : ops.storageProblem();
      boolean healthy = status.serving() && storageProblem == null;
      ObjectNode body = healthy ? HttpJson.object().put("status", "serving") : HttpJson.error("not serving");
      body.put("id", status.id()).put("role", status.role()).put("term", status.term()).put("leader", status.leader());
      if (!status.serving()) {
        body.put("reason", status.commitStall() != null ? "leader " + status.commitStall()
            : status.quorumLost() != null ? status.quorumLost()
            : status.leader() == null ? "no leader known in term " + status.term() : "not serving");
      } else if (storageProblem != null) {
        body.put("reason", storageProblem);
      }
      if (ops != null) ops.describeStorage(body);
      return HttpJson.response(healthy ? StatusCodes.OK : StatusCodes.SERVICE_UNAVAILABLE, body);
    })));
  }

  // ------------------------------------------------------------------------------- asking the front

  /**
   * Runs {@code work} if fewer than maxInflightRequests requests are being worked on, else answers 503 at once.
   * The count drops when the work's response is ready, whatever happens; the returned stage never fails.
   */
  private CompletionStage<HttpResponse> admit(Supplier<CompletionStage<HttpResponse>> work) {
    if (inflight.incrementAndGet() > limits.maxInflightRequests()) {
      inflight.decrementAndGet();
      return CompletableFuture.completedFuture(HttpJson.response(StatusCodes.SERVICE_UNAVAILABLE,
          HttpJson.error("too many requests in progress").put("limit", limits.maxInflightRequests())));
    }
    CompletionStage<HttpResponse> started;
    try {
      started = work.get();
    } catch (RuntimeException | Error e) {
      inflight.decrementAndGet();
      return CompletableFuture.completedFuture(internalError(e));
    }
    return started.handle((response, failure) -> {
      inflight.decrementAndGet();
      return failure == null && response != null ? response : internalError(unwrap(failure));
    });
  }

  /**
   * Hands the front a request with the future it completes, and maps the answer; any failure of {@code onReply}
   * is a 500. The stage never fails. No ask (a temporary actor and a timer task per request): the front answers
   * every request within the request timeout itself. Should it ever not, {@link OverdueReplies} answers 503 one
   * second later, so that no request holds its slot of maxInflightRequests for good.
   */
  private <T> CompletionStage<HttpResponse> ask(
      Function<CompletableFuture<T>, KvFront.Command> message, Function<T, HttpResponse> onReply) {
    CompletableFuture<T> reply = new CompletableFuture<>();
    overdue.add(reply);
    front.tell(message.apply(reply));
    return reply.handle((value, failure) -> {
      if (failure != null) {
        Throwable cause = unwrap(failure);
        if (cause instanceof TimeoutException) {
          return unavailable("no answer from this node within " + askTimeout.toMillis() + " ms");
        }
        return internalError(cause);
      }
      try {
        return onReply.apply(value);
      } catch (RuntimeException e) {
        return internalError(e);
      }
    });
  }

  private HttpResponse kvReply(KvFront.Reply reply) {
    return kvReplyIn(reply, false);
  }

  /** {@code raw}: a found value is answered as the body itself (see {@link KvJson#raw}). */
  private HttpResponse kvReplyIn(KvFront.Reply reply, boolean raw) {
    if (reply instanceof KvFront.Reply.Unavailable u) return unavailable(u.reason());
    if (!(reply instanceof KvFront.Reply.Done done)) return internalError(new IllegalStateException("unexpected reply " + reply));
    KvResult result = done.result();
    if (result instanceof KvResult.Written w) {
      return KvJson.ok(w.key(), w.value(), w.revision());
    }
    if (result instanceof KvResult.Value v) {
      return raw ? KvJson.raw(v) : KvJson.ok(v.key(), v.value(), v.revision());
    }
    if (result instanceof KvResult.Deleted d) {
      return HttpJson.ok(HttpJson.object().put("key", d.key()).put("revision", d.revision()));
    }
    if (result instanceof KvResult.NotFound nf) {
      return HttpJson.response(StatusCodes.NOT_FOUND, HttpJson.error("key not found").put("key", nf.key()));
    }
    if (result instanceof KvResult.CasConflict c) {
      return HttpJson.response(StatusCodes.CONFLICT,
          HttpJson.error("revision mismatch").put("key", c.key()).put("revision", c.currentRevision()));
    }
    if (result instanceof KvResult.Invalid inv) {
      log.error("The front answered Invalid: {}", inv.reason());
      return HttpJson.response(StatusCodes.INTERNAL_SERVER_ERROR,
          HttpJson.error("the command could not be applied").put("reason", inv.reason()));
    }
    return internalError(new IllegalStateException("unexpected result " + result));
  }

  private HttpResponse listReply(KvFront.Reply reply) {
    if (reply instanceof KvFront.Reply.Unavailable u) return unavailable(u.reason());
    if (!(reply instanceof KvFront.Reply.Items items)) return internalError(new IllegalStateException("unexpected reply " + reply));
    ObjectNode body = HttpJson.object();
    ArrayNode array = body.putArray("items");
    for (KeyValue kv : items.items()) {
      array.add(KvJson.value(kv.key(), kv.value(), kv.revision()));
    }
    return HttpJson.ok(body);
  }

  static ObjectNode statusJson(NodeStatus s) {
    ObjectNode body = HttpJson.object()
        .put("id", s.id())
        .put("role", s.role())
        .put("term", s.term())
        .put("leader", s.leader())
        .put("commitIndex", s.commitIndex())
        .put("lastApplied", s.lastApplied())
        .put("firstLogIndex", s.firstLogIndex())
        .put("snapshotIndex", s.snapshotIndex());
    ArrayNode members = body.putArray("members");
    if (s.members() != null) {
      for (Member m : s.members()) {
        members.addObject().put("id", m.id()).put("host", m.host())
            .put("arteryPort", m.arteryPort()).put("httpPort", m.httpPort());
      }
    }
    ArrayNode followers = body.putArray("followers");
    for (var f : s.followers()) {
      followers.addObject().put("id", f.id()).put("matchIndex", f.matchIndex()).put("nextIndex", f.nextIndex())
          .put("behind", f.behind()).put("lastAnsweredMsAgo", f.lastHeardMillisAgo())
          .put("sendingSnapshot", f.sendingSnapshot());
    }
    if (s.configuration() != null) MembersApi.putConfiguration(body.putObject("configuration"), s);
    if (s.commitStall() != null) body.put("commitStall", s.commitStall());
    if (s.quorumLost() != null) body.put("quorumLost", s.quorumLost());
    body.put("serving", s.serving());
    return body;
  }

  // ------------------------------------------------------------------------------ errors and handlers

  private static HttpResponse badRequest(String message) {
    return HttpJson.error(StatusCodes.BAD_REQUEST, message);
  }

  private static HttpResponse badConsistency() {
    return badRequest("consistency must be linearizable or stale");
  }

  private static HttpResponse tooLarge(String message) {
    return HttpJson.error(StatusCodes.CONTENT_TOO_LARGE, message);
  }

  private HttpResponse valueTooLarge() {
    return valueTooLarge(limits);
  }

  private static HttpResponse valueTooLarge(KvLimits limits) {
    return tooLarge("value is larger than the limit of " + limits.maxValueBytes() + " bytes");
  }

  private static HttpResponse unavailable(String reason) {
    return HttpJson.response(StatusCodes.SERVICE_UNAVAILABLE,
        HttpJson.error("unavailable").put("reason", reason));
  }

  private static HttpResponse internalError(Throwable t) {
    log.error("Internal error while handling a request", t);
    return HttpJson.error(StatusCodes.INTERNAL_SERVER_ERROR, "internal error");
  }

  private static ExceptionHandler exceptionHandler(KvLimits limits) {
    return ExceptionHandler.newBuilder()
        .match(EntityStreamSizeException.class, e -> complete(valueTooLarge(limits)))
        .match(IllegalRequestException.class, e -> complete(clientError(e.status(), e.info().summary())))
        .match(IllegalUriException.class, e -> complete(badRequest(e.info().summary())))
        .match(IllegalHeaderException.class, e -> complete(badRequest(e.info().summary())))
        .matchAny(e -> complete(internalError(e)))
        .build();
  }

  private static HttpResponse clientError(StatusCode status, String message) {
    return HttpJson.error(status.isFailure() ? status : StatusCodes.BAD_REQUEST, message);
  }

  private static RejectionHandler rejectionHandler() {
    return RejectionHandler.newBuilder()
        .handleAll(MethodRejection.class, rejections -> complete(methodNotAllowed(
            rejections.stream().map(r -> r.supported().name()).distinct().toList())))
        .handle(MissingQueryParamRejection.class, r -> complete(badRequest("missing query parameter " + r.parameterName())))
        .handle(MalformedQueryParamRejection.class, r -> complete(badRequest(
            "malformed query parameter " + r.parameterName() + ": " + r.errorMsg())))
        .handle(UnsupportedRequestContentTypeRejection.class, r -> complete(HttpJson.error(
            StatusCodes.UNSUPPORTED_MEDIA_TYPE, "unsupported content type")))
        .handle(Rejection.class, r -> complete(badRequest("bad request: " + r)))
        .handleNotFound(extractUri(uri -> complete(HttpJson.response(StatusCodes.NOT_FOUND,
            HttpJson.error("not found").put("path", uri.path())))))
        .build();
  }

  // ----------------------------------------------------------------------------------------- parsing

  /** "linearizable" or absent: true; "stale": false; anything else: null. */
  private static Boolean parseConsistency(Optional<String> consistency) {
    if (consistency.isEmpty() || consistency.get().equals("linearizable")) return true;
    if (consistency.get().equals("stale")) return false;
    return null;
  }

  /** A decimal integer of digits only, or -1 when it is not one (or overflows). */
  static long parseNonNegativeLong(String s) {
    if (s.isEmpty()) return -1;
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) < '0' || s.charAt(i) > '9') return -1;
    }
    try {
      return Long.parseLong(s);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /**
   * Percent-decodes a URI path (where '+' is a plain '+') and decodes the bytes as strict UTF-8; null when an
   * escape is malformed or the bytes are not UTF-8. A U+FFFD in the input also gives null: Pekko substitutes it
   * for undecodable bytes before the route sees the path, so it almost always stands for invalid UTF-8.
   */
  static String decodePath(String encoded) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(encoded.length());
    for (int i = 0; i < encoded.length(); ) {
      char c = encoded.charAt(i);
      if (c == '%') {
        if (i + 2 >= encoded.length()) return null;
        int hi = Character.digit(encoded.charAt(i + 1), 16);
        int lo = Character.digit(encoded.charAt(i + 2), 16);
        if (hi < 0 || lo < 0) return null;
        out.write(hi * 16 + lo);
        i += 3;
      } else if (c < 0x80) {
        out.write(c);
        i++;
      } else {
        int cp = encoded.codePointAt(i);
        byte[] b = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8);
        out.write(b, 0, b.length);
        i += Character.charCount(cp);
      }
    }
    String decoded = decodeUtf8(out.toByteArray());
    return decoded == null || decoded.indexOf('\uFFFD') >= 0 ? null : decoded;
  }

  /** Strict UTF-8: null for malformed or unmappable input (no silent replacement). */
  static String decodeUtf8(byte[] bytes) {
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes))
          .toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }

  static int utf8Length(String s) {
    return s.getBytes(StandardCharsets.UTF_8).length;
  }

  private static Throwable unwrap(Throwable t) {
    while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }
}

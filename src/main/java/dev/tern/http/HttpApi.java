package dev.tern.http;

import static dev.tern.http.ApiErrors.badConsistency;
import static dev.tern.http.ApiErrors.unwrap;
import static dev.tern.http.ApiErrors.badRequest;
import static dev.tern.http.ApiErrors.guarded;
import static dev.tern.http.ApiErrors.internalError;
import static dev.tern.http.ApiErrors.methodNotAllowed;
import static dev.tern.http.ApiErrors.tooLarge;
import static dev.tern.http.ApiErrors.unavailable;
import static dev.tern.http.ApiErrors.valueTooLarge;
import static dev.tern.http.HttpParsing.decodePath;
import static dev.tern.http.HttpParsing.parseConsistency;
import static dev.tern.http.HttpParsing.parseNonNegativeLong;
import static dev.tern.http.HttpParsing.utf8Length;
import static dev.tern.http.HttpParsing.wantsRaw;
import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.extractMethod;
import static org.apache.pekko.http.javadsl.server.Directives.extractRequest;
import static org.apache.pekko.http.javadsl.server.Directives.optionalHeaderValueByName;
import static org.apache.pekko.http.javadsl.server.Directives.parameterOptional;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;
import static org.apache.pekko.http.javadsl.server.PathMatchers.remaining;
import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.tern.cluster.Member;
import dev.tern.cluster.PeerGateway;
import dev.tern.kv.KvResult;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.RequestEntity;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.settings.ServerSettings;
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
 * node's Raft traffic with other members through its {@link PeerGateway}, and {@code /v1/testing/delay}, which
 * makes every Raft message it sends leave late. Without it those paths do not exist (404 like any unknown path).
 */
public final class HttpApi {
  private static final Logger log = LoggerFactory.getLogger(HttpApi.class);

  /** The list limit when the request gives none (capped at {@link KvLimits#maxListLimit()}). */
  public static final int DEFAULT_LIST_LIMIT = 1000;

  private static final List<String> KEY_METHODS = List.of("GET", "PUT", "DELETE");
  private static final List<String> GET_ONLY = List.of("GET");
  private static final List<String> POST_ONLY = List.of("POST");
  private static final List<String> PARTITION_METHODS = List.of("POST", "DELETE");
  /** The largest body {@code POST /v1/testing/partition} reads: a list of member ids. */

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
  /** The 413 for a value over the limit: made once, not for every PUT (it showed in a profile of writes). */
  private final HttpResponse valueTooLarge;
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
  /** Reads request bodies within their limits, and drains those that are refused. */
  private final RequestBodies bodies;
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
    this.valueTooLarge = valueTooLarge(limits);
    this.faultInjection = faultInjection;
    if (limits.maxKeyBytes() < 1 || limits.maxValueBytes() < 0 || limits.maxListLimit() < 1
        || limits.maxInflightRequests() < 1 || limits.maxRequestIdLength() < 1 || limits.requestTimeout().isNegative() || limits.requestTimeout().isZero()) {
      throw new IllegalArgumentException("bad HTTP limits: " + limits);
    }
    this.askTimeout = limits.requestTimeout().plusSeconds(1);
    this.bodies = new RequestBodies(system, limits);
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
    return bind(host, port, r -> r);
  }

  /** As {@link #bind(String, int)}, serving {@code around} applied to the route (a node counts its requests so). */
  public CompletionStage<ServerBinding> bind(String host, int port, java.util.function.UnaryOperator<Route> around) {
    return bind(host, port, around, null);
  }

  /** As above, over HTTPS with {@code https} (null: plain HTTP; see {@link HttpTls}). */
  public CompletionStage<ServerBinding> bind(String host, int port, java.util.function.UnaryOperator<Route> around,
      org.apache.pekko.http.javadsl.HttpsConnectionContext https) {
    var server = Http.get(system).newServerAt(host, port).withSettings(serverSettings());
    return (https == null ? server : server.enableHttps(https)).bind(around.apply(route()));
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
    Route txn = onlyMethods(POST_ONLY, method -> withCommandId(this::txnRoute));
    Route api = concat(
        path(segment("v1").slash("kv"), () -> list),
        pathPrefix(segment("v1").slash("kv").slash(remaining()), this::keyRoute),
        path(segment("v1").slash("status"), () -> status),
        path(segment("v1").slash("txn"), () -> txn),
        path("health", () -> health));
    if (!extraRoutes.isEmpty()) api = concat(api, extraRoutes.toArray(Route[]::new));
    if (ops != null) {
      Route snapshot = onlyMethods(GET_ONLY, method -> completeWithFuture(admit(ops::backup)));
      api = concat(api, path(segment("v1").slash("snapshot"), () -> snapshot));
    }
    PartitionRoute faults = faultInjection == null ? null : new PartitionRoute(system, faultInjection, limits, askTimeout);
    Route all = faults == null ? api : concat(api,
        path(segment("v1").slash("testing").slash("partition"), () -> onlyMethods(PARTITION_METHODS, faults::route)),
        path(segment("v1").slash("testing").slash("delay"), () -> onlyMethods(PARTITION_METHODS, faults::delayRoute)));
    return guarded(limits, () -> all);
  }

  /** Dispatches the allowed methods to {@code inner}, and answers 405 with an Allow header for the others. */
  static Route onlyMethods(List<String> allowed, Function<String, Route> inner) {
    return extractMethod(method -> allowed.contains(method.name())
        ? inner.apply(method.name())
        : complete(methodNotAllowed(allowed)));
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
          return withCommandId(id -> parameterOptional("cas", cas -> parameterOptional("lease", lease ->
              putRoute(key, cas, lease, id))));
        default:
          return withCommandId(id -> {
            HttpResponse refused = refuseWrite(WriteAdmission.Write.ADDS_NONE); // a delete frees data
            if (refused != null) return complete(refused);
            return parameterOptional("cas", cas -> cas.isPresent()
                ? complete(badRequest("cas is only supported on PUT"))
                : completeWithFuture(admit(() -> ask(
                    replyTo -> new KvFront.Delete(key, id, replyTo), this::kvReply))));
          });
      }
    });
  }

  /** A write's command id from its {@code Request-Id} header (null without one); a bad one is answered 400. */
  private Route withCommandId(Function<String, Route> inner) {
    return withCommandId(limits, inner);
  }

  static Route withCommandId(KvLimits limits, Function<String, Route> inner) {
    return optionalHeaderValueByName(RequestIds.HEADER, header -> {
      RequestIds.Parsed id = RequestIds.parse(header, limits.maxRequestIdLength());
      return id.error() != null ? complete(badRequest(id.error())) : inner.apply(id.commandId());
    });
  }

  private Route getRoute(String key, Optional<String> consistency, boolean raw) {
    Boolean linearizable = parseConsistency(consistency);
    if (linearizable == null) return complete(badConsistency());
    return completeWithFuture(admit(() -> this.<KvFront.Reply>ask(
        replyTo -> new KvFront.Get(key, linearizable, replyTo), reply -> kvReplyIn(reply, raw))));
  }

  private Route putRoute(String key, Optional<String> casParam, Optional<String> leaseParam, String commandId) {
    long expectedRevision = KvFront.Put.UNCONDITIONAL;
    if (casParam.isPresent()) {
      expectedRevision = parseNonNegativeLong(casParam.get());
      if (expectedRevision < 0) return complete(badRequest("cas must be a non-negative integer revision"));
    }
    long lease = dev.tern.kv.KvCommand.NO_LEASE;
    if (leaseParam.isPresent()) {
      lease = parseNonNegativeLong(leaseParam.get());
      if (lease < 1) return complete(badRequest("lease must be a lease id (a positive integer)"));
      if (casParam.isPresent()) return complete(badRequest("cas and lease together: use a transaction (POST /v1/txn)"));
    }
    long expected = expectedRevision;
    long withLease = lease;
    return extractRequest(request -> {
      // Read-only or over the space quota: volatile reads, no disk access.
      HttpResponse refused = refuseWrite(WriteAdmission.Write.ADDS_DATA);
      if (refused != null) return completeWithFuture(bodies.refuse(request, refused));
      RequestEntity entity = request.entity();
      OptionalLong declared = entity.getContentLengthOption();
      if (declared.isPresent() && declared.getAsLong() > limits.maxValueBytes()) {
        return completeWithFuture(bodies.refuse(request, valueTooLarge));
      }
      return completeWithFuture(admit(() -> readValue(entity).thenCompose(read -> {
        if (read.error() != null) return CompletableFuture.completedFuture(read.error());
        if (withLease != dev.tern.kv.KvCommand.NO_LEASE) {
          return ask(replyTo -> new KvFront.Submit(id -> new dev.tern.kv.KvCommand.Put(id, key, read.value(), withLease),
              commandId, replyTo), this::kvReply);
        }
        return ask(replyTo -> new KvFront.Put(key, read.value(), expected, commandId, replyTo), this::kvReply);
      })));
    });
  }

  /** {@code POST /v1/txn}: the body as {@link TxnJson} reads it, one command through the log. */
  private Route txnRoute(String commandId) {
    int maxBytes = limits.txn().maxBytes();
    HttpResponse tooLarge = tooLarge("transaction body is larger than the limit of " + maxBytes + " bytes (tern.txn.max-bytes)");
    return extractRequest(request -> {
      // Whether it adds data is known once its body is read (below); storage refuses any write at once.
      HttpResponse refused = refuseWrite(WriteAdmission.Write.ADDS_NONE);
      if (refused != null) return completeWithFuture(bodies.refuse(request, refused));
      OptionalLong declared = request.entity().getContentLengthOption();
      if (declared.isPresent() && declared.getAsLong() > maxBytes) return completeWithFuture(bodies.refuse(request, tooLarge));
      return completeWithFuture(admit(() -> bodies.read(request.entity(), maxBytes, tooLarge).thenCompose(read -> {
        if (read.error() != null) return CompletableFuture.completedFuture(read.error());
        TxnJson.Parsed parsed = TxnJson.parse(read.value().toArray(), limits);
        if (parsed.error() != null) return CompletableFuture.completedFuture(badRequest(parsed.error()));
        TxnJson.Request t = parsed.request();
        HttpResponse overQuota = refuseWrite(addsData(t) ? WriteAdmission.Write.ADDS_DATA : WriteAdmission.Write.ADDS_NONE);
        if (overQuota != null) return CompletableFuture.completedFuture(overQuota);
        return ask(replyTo -> new KvFront.Txn(t.compares(), t.success(), t.failure(), commandId, replyTo), this::kvReply);
      })));
    });
  }

  /** The answer to refuse such a write with now (storage 503, space quota 507), or null to take it. */
  private HttpResponse refuseWrite(WriteAdmission.Write write) {
    return ops == null ? null : ops.refuseWrite(write);
  }

  /** Whether a transaction may add data: a put in either branch (which branch runs is known only when applied). */
  static boolean addsData(TxnJson.Request t) {
    return t.success().stream().anyMatch(op -> op instanceof dev.tern.kv.TxnOp.Put)
        || t.failure().stream().anyMatch(op -> op instanceof dev.tern.kv.TxnOp.Put);
  }

  /** The value (any bytes, up to the value limit), or the error response to answer instead. */
  private CompletionStage<RequestBodies.Read> readValue(RequestEntity entity) {
    return bodies.read(entity, limits.maxValueBytes(), valueTooLarge);
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
      if (ops != null) {
        ops.describeStorage(body);
        ops.describeAlarms(body);
      }
      return HttpJson.ok(body);
    })));
  }

  private Route healthRoute() {
    return completeWithFuture(admit(() -> this.<NodeStatus>ask(KvFront.GetNodeStatus::new, status -> {
      String storageProblem = ops == null ? null : ops.healthProblem();
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
      if (ops != null) {
        ops.describeStorage(body);
        ops.describeAlarms(body);
      }
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
    if (result instanceof KvResult.TxnDone t) {
      return TxnJson.ok(t); // a transaction's, or the first result of a request id a transaction used first
    }
    if (result instanceof KvResult.Deleted d) {
      return HttpJson.ok(HttpJson.object().put("key", d.key()).put("revision", d.revision()));
    }
    if (result instanceof KvResult.NotFound nf) {
      return HttpJson.response(StatusCodes.NOT_FOUND, HttpJson.error("key not found").put("key", nf.key()));
    }
    if (result instanceof KvResult.LeaseNotFound nf) return LeaseApi.notFound(nf.lease());
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
    return KvJson.items(items.items());
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
}

package dev.tern.http;

import static dev.tern.http.ApiErrors.badRequest;
import static dev.tern.http.ApiErrors.internalError;
import static dev.tern.http.ApiErrors.unavailable;
import static dev.tern.http.HttpApi.onlyMethods;
import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.parameterOptional;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.Config;
import dev.tern.kv.KvCommand;
import dev.tern.kv.KvResult;
import dev.tern.kv.KvStateMachine;
import dev.tern.kv.Lease;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * Leases (docs/api.md, "Leases"): {@code POST /v1/leases?ttl=10s} grants one, {@code POST /v1/leases/ID/keepalive}
 * renews it, {@code DELETE /v1/leases/ID} revokes it and deletes its keys, {@code GET /v1/leases[/ID]} shows them as
 * this node has applied them. Grants, keepalives and revocations are commands through the log like any write, so any
 * node takes them and the leader sees every renewal ({@code dev.tern.cluster.LeaseKeeper} expires the others).
 */
public final class LeaseApi {

  /** {@code tern.lease.*}. */
  public record Settings(Duration minTtl, Duration maxTtl, Duration checkInterval, int maxLeases) {
    public Settings {
      Objects.requireNonNull(minTtl, "minTtl");
      Objects.requireNonNull(maxTtl, "maxTtl");
      if (minTtl.isNegative() || minTtl.isZero() || maxTtl.compareTo(minTtl) < 0) {
        throw new IllegalArgumentException("tern.lease: need 0 < min-ttl <= max-ttl, got " + minTtl + " and " + maxTtl);
      }
      if (maxLeases < 1) throw new IllegalArgumentException("tern.lease.max-leases must be >= 1");
    }

    public static Settings fromConfig(Config tern) {
      return new Settings(tern.getDuration("lease.min-ttl"), tern.getDuration("lease.max-ttl"),
          tern.getDuration("lease.check-interval"), tern.getInt("lease.max-leases"));
    }
  }

  private final ActorRef<KvFront.Command> front;
  private final KvStateMachine kv;
  private final Settings settings;
  private final KvLimits limits;
  /** Refuses grants on a full disk or over the space quota; revocations and keepalives are never refused here. */
  private final WriteAdmission admission;

  public LeaseApi(ActorRef<KvFront.Command> front, KvStateMachine kv, Settings settings, KvLimits limits) {
    this(front, kv, settings, limits, WriteAdmission.none());
  }

  public LeaseApi(ActorRef<KvFront.Command> front, KvStateMachine kv, Settings settings, KvLimits limits,
      WriteAdmission admission) {
    this.admission = Objects.requireNonNull(admission, "admission");
    this.limits = Objects.requireNonNull(limits, "limits");
    this.front = Objects.requireNonNull(front, "front");
    this.kv = Objects.requireNonNull(kv, "kv");
    this.settings = Objects.requireNonNull(settings, "settings");
  }

  public Route route() {
    Route leases = onlyMethods(List.of("GET", "POST"), method -> method.equals("POST") ? grant() : list());
    return concat(
        path(segment("v1").slash("leases"), () -> leases),
        path(segment("v1").slash("leases").slash(segment()).slash("keepalive"),
            id -> onlyMethods(List.of("POST"), method -> withId(id, lease -> submit(
                commandId -> new KvCommand.LeaseKeepAlive(commandId, lease))))),
        path(segment("v1").slash("leases").slash(segment()),
            id -> onlyMethods(List.of("GET", "DELETE"), method -> withId(id, lease -> method.equals("GET") ? show(lease)
                : submit(commandId -> new KvCommand.LeaseRevoke(commandId, lease))))));
  }

  private Route grant() {
    return parameterOptional("ttl", ttlParam -> {
      if (ttlParam.isEmpty()) return complete(badRequest("ttl is required, e.g. ?ttl=10s"));
      Duration ttl = Lease.parseTtl(ttlParam.get());
      if (ttl == null) return complete(badRequest("ttl must be a duration such as 500ms, 10s, 5m or 1h (a bare number is seconds)"));
      if (ttl.compareTo(settings.minTtl()) < 0 || ttl.compareTo(settings.maxTtl()) > 0) {
        return complete(badRequest("ttl must be from " + settings.minTtl().toMillis() + " ms to "
            + settings.maxTtl().toMillis() + " ms (tern.lease.min-ttl, max-ttl)"));
      }
      // A lease exists to hold keys: under the NOSPACE alarm a grant is refused (507) like a put.
      HttpResponse refused = admission.refuse(WriteAdmission.Write.ADDS_DATA);
      if (refused != null) return complete(refused);
      if (kv.leaseCount() >= settings.maxLeases()) {
        return complete(unavailable("there are " + settings.maxLeases() + " leases already (tern.lease.max-leases)"));
      }
      return submit(commandId -> new KvCommand.LeaseGrant(commandId, ttl.toMillis()));
    });
  }

  private Route list() {
    ObjectNode body = HttpJson.object();
    ArrayNode items = body.putArray("leases");
    for (Lease l : kv.leases()) items.addObject().put("id", l.id()).put("ttlMs", l.ttlMillis()).put("keys", l.keys().size());
    return complete(HttpJson.ok(body));
  }

  private Route show(long id) {
    Lease l = kv.lease(id).orElse(null);
    if (l == null) return complete(notFound(id));
    ObjectNode body = HttpJson.object().put("id", l.id()).put("ttlMs", l.ttlMillis()).put("renewedAt", l.renewedAt());
    ArrayNode keys = body.putArray("keys");
    l.keys().forEach(keys::add);
    return complete(HttpJson.ok(body));
  }

  private Route submit(Function<String, KvCommand> command) {
    return HttpApi.withCommandId(limits, commandId -> {
      CompletableFuture<KvFront.Reply> reply = new CompletableFuture<>();
      front.tell(new KvFront.Submit(command, commandId, reply));
      return completeWithFuture(reply.handle((r, failure) -> failure != null ? internalError(failure) : answer(r)));
    });
  }

  private static Route withId(String raw, Function<Long, Route> inner) {
    long id = HttpParsing.parseNonNegativeLong(raw);
    return id < 1 ? complete(badRequest("a lease id is a positive integer, got '" + raw + "'")) : inner.apply(id);
  }

  /** The answer to a lease command, or to a put naming a lease. */
  static HttpResponse answer(KvFront.Reply reply) {
    if (reply instanceof KvFront.Reply.Unavailable u) return unavailable(u.reason());
    if (!(reply instanceof KvFront.Reply.Done done)) return internalError(new IllegalStateException("unexpected reply " + reply));
    KvResult result = done.result();
    if (result instanceof KvResult.LeaseGranted g) {
      return HttpJson.ok(HttpJson.object().put("id", g.lease()).put("ttlMs", g.ttlMillis()).put("revision", g.revision()));
    }
    if (result instanceof KvResult.LeaseAlive a) return HttpJson.ok(HttpJson.object().put("id", a.lease()).put("ttlMs", a.ttlMillis()));
    if (result instanceof KvResult.LeaseRevoked r) {
      ObjectNode body = HttpJson.object().put("id", r.lease()).put("revision", r.revision());
      ArrayNode keys = body.putArray("deleted");
      r.keys().forEach(keys::add);
      return HttpJson.ok(body);
    }
    if (result instanceof KvResult.LeaseNotFound nf) return notFound(nf.lease());
    return internalError(new IllegalStateException("unexpected result " + result));
  }

  static HttpResponse notFound(long lease) {
    return HttpJson.response(StatusCodes.NOT_FOUND, HttpJson.error("lease not found").put("lease", lease));
  }
}

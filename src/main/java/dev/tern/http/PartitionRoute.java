package dev.tern.http;

import static dev.tern.http.ApiErrors.badRequest;
import static dev.tern.http.ApiErrors.bodyFailure;
import static dev.tern.http.ApiErrors.tooLarge;
import static dev.tern.http.ApiErrors.unavailable;
import static dev.tern.http.ApiErrors.unwrap;
import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.extractRequestEntity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tern.cluster.PeerGateway;
import java.io.IOException;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.scaladsl.model.EntityStreamSizeException;

/** The test-only fault-injection route, served only when {@code tern.testing.fault-injection} is on. */
final class PartitionRoute {
  private static final long MAX_PARTITION_BODY_BYTES = 64 * 1024;

  private final ActorSystem<?> system;
  private final HttpApi.FaultInjection faultInjection;
  private final KvLimits limits;
  private final Duration askTimeout;

  PartitionRoute(ActorSystem<?> system, HttpApi.FaultInjection faultInjection, KvLimits limits, Duration askTimeout) {
    this.system = system;
    this.faultInjection = faultInjection;
    this.limits = limits;
    this.askTimeout = askTimeout;
  }

  /**
   * {@code POST /v1/testing/partition} with {@code {"cut":["n2","n3"]}} replaces the set of members this node
   * exchanges no Raft traffic with; {@code DELETE} heals (an empty set). Answers the cut now in effect, once the
   * gateway has taken it. Not counted against maxInflightRequests: a test must be able to heal an overloaded
   * node.
   */
  Route route(String method) {
    if (method.equals("DELETE")) return completeWithFuture(cut(Set.of()));
    return extractRequestEntity(entity -> completeWithFuture(
        entity.withSizeLimit(MAX_PARTITION_BODY_BYTES).toStrict(limits.requestTimeout().toMillis(), system)
            .thenCompose(strict -> {
              PartitionRequest parsed = parsePartition(strict.getData().toArray());
              return parsed.error() != null ? CompletableFuture.completedFuture(parsed.error()) : cut(parsed.nodes());
            })
            .exceptionally(failure -> unwrap(failure) instanceof EntityStreamSizeException
                ? tooLarge("the body is larger than " + MAX_PARTITION_BODY_BYTES + " bytes")
                : bodyFailure(unwrap(failure), limits))));
  }

  /** The longest delay {@link #delayRoute} takes: beyond it a node is as good as cut off (use a partition). */
  static final double MAX_DELAY_MS = 10_000;

  /**
   * {@code POST /v1/testing/delay} with {@code {"delayMs": 50}} makes every Raft message this node sends leave
   * that many milliseconds late (a slow link: the experiments' stragglers); {@code DELETE} (or 0) sends at once
   * again. Answers the delay now in effect, once the gateway has taken it.
   */
  Route delayRoute(String method) {
    if (method.equals("DELETE")) return completeWithFuture(delay(Duration.ZERO));
    return extractRequestEntity(entity -> completeWithFuture(
        entity.withSizeLimit(MAX_PARTITION_BODY_BYTES).toStrict(limits.requestTimeout().toMillis(), system)
            .thenCompose(strict -> {
              String usage = "the body must be a JSON object {\"delayMs\": milliseconds from 0 to "
                  + (long) MAX_DELAY_MS + "}";
              JsonNode json;
              try {
                json = HttpJson.MAPPER.readTree(strict.getData().toArray());
              } catch (IOException e) {
                return CompletableFuture.completedFuture(badRequest(usage));
              }
              JsonNode ms = json == null ? null : json.get("delayMs");
              if (ms == null || !ms.isNumber() || !(ms.asDouble() >= 0) || ms.asDouble() > MAX_DELAY_MS) {
                return CompletableFuture.completedFuture(badRequest(usage));
              }
              return delay(Duration.ofNanos(Math.round(ms.asDouble() * 1e6)));
            })
            .exceptionally(failure -> unwrap(failure) instanceof EntityStreamSizeException
                ? tooLarge("the body is larger than " + MAX_PARTITION_BODY_BYTES + " bytes")
                : bodyFailure(unwrap(failure), limits))));
  }

  private CompletionStage<HttpResponse> delay(Duration delay) {
    CompletionStage<PeerGateway.DelayState> reply = AskPattern.ask(faultInjection.gateway(),
        replyTo -> new PeerGateway.Delay(delay, replyTo), askTimeout, system.scheduler());
    return reply.handle((state, failure) -> {
      if (failure != null) return unavailable("the gateway did not answer: " + unwrap(failure));
      if (!state.enabled()) {
        return HttpJson.error(StatusCodes.INTERNAL_SERVER_ERROR, "fault injection is off in this node's gateway");
      }
      return HttpJson.ok(HttpJson.object().put("id", faultInjection.selfId())
          .put("delayMs", state.delay().toNanos() / 1e6));
    });
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
}

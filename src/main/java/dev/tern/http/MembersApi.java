package dev.tern.http;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.extractMethod;
import static org.apache.pekko.http.javadsl.server.Directives.extractRequestEntity;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tern.raft.Configuration;
import dev.tern.raft.RaftMessage;
import dev.tern.raft.RaftMessage.Change;
import dev.tern.raft.RaftMessage.ChangeMembership;
import dev.tern.raft.RaftMessage.ChangeMembershipResponse;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BiConsumer;
import java.util.regex.Pattern;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The operators' membership API (dissertation chapter 4): {@code GET /v1/members} lists the configuration in force
 * on the node asked (on the leader with each server's matchIndex and last contact), {@code PUT /v1/members/{id}}
 * with {@code {"host": ..., "arteryPort": ..., "httpPort": ...}} adds a server as a learner (the leader promotes it
 * once it has caught up), {@code DELETE /v1/members/{id}} removes one. Any node takes a change: it asks its own
 * replica and, if that one is not the leader, forwards the change to the leader it names, like a write; the answer
 * comes once the change is committed (or why it was refused). A change is one message and one temporary actor per
 * request: operator traffic, far off the hot path.
 */
public final class MembersApi {
  private static final List<String> LIST_METHODS = List.of("GET");
  private static final List<String> CHANGE_METHODS = List.of("PUT", "DELETE");
  private static final int MAX_BODY_BYTES = 4096;
  private static final Pattern ID = Pattern.compile("[A-Za-z0-9_.-]{1,64}");

  /** Sends a change to another node's replica (the node's routes to its peers). */
  public record Forward(String to, RaftMessage message) {}

  private final ActorSystem<?> system;
  private final String selfId;
  private final ActorRef<KvFront.Command> front;
  private final ActorRef<RaftMessage> replica;
  private final ActorRef<Forward> forwarder;
  private final Duration timeout;

  public MembersApi(ActorSystem<?> system, String selfId, ActorRef<KvFront.Command> front, ActorRef<RaftMessage> replica,
      ActorRef<Forward> forwarder, Duration timeout) {
    this.system = system;
    this.selfId = selfId;
    this.front = front;
    this.replica = replica;
    this.forwarder = forwarder;
    this.timeout = timeout;
  }

  /** The actor that hands forwarded changes to {@code send} (the node's peer routes). */
  public static Behavior<Forward> forwarder(BiConsumer<String, RaftMessage> send) {
    return Behaviors.receive(Forward.class).onMessage(Forward.class, f -> {
      send.accept(f.to(), f.message());
      return Behaviors.same();
    }).build();
  }

  public Route route() {
    return concat(
        path(segment("v1").slash("members"), () -> only(LIST_METHODS, method -> completeWithFuture(list()))),
        path(segment("v1").slash("members").slash(segment()), id -> only(CHANGE_METHODS, method -> {
          if (!ID.matcher(id).matches()) return complete(HttpJson.error(StatusCodes.BAD_REQUEST, "bad member id '" + id
              + "': 1 to 64 of A-Z a-z 0-9 _ . -"));
          if (method.equals("DELETE")) return completeWithFuture(change(new Change.Remove(id)));
          return extractRequestEntity(entity -> completeWithFuture(
              entity.withSizeLimit(MAX_BODY_BYTES).toStrict(timeout.toMillis(), system)
                  .thenCompose(strict -> {
                    Object parsed = parseServer(id, strict.getData().toArray());
                    return parsed instanceof HttpResponse error ? CompletableFuture.completedFuture(error)
                        : change(new Change.AddLearner((Configuration.Server) parsed));
                  })
                  .exceptionally(failure -> HttpJson.error(StatusCodes.BAD_REQUEST,
                      "could not read the body (at most " + MAX_BODY_BYTES + " bytes of JSON): " + failure.getMessage()))));
        })));
  }

  private static Route only(List<String> allowed, java.util.function.Function<String, Route> inner) {
    return extractMethod(method -> allowed.contains(method.name()) ? inner.apply(method.name())
        : complete(HttpJson.response(StatusCodes.METHOD_NOT_ALLOWED,
            HttpJson.error("method not allowed").put("allow", String.join(", ", allowed)),
            RawHeader.create("Allow", String.join(", ", allowed)))));
  }

  /** The server to add, or the 400 response to answer. */
  static Object parseServer(String id, byte[] body) {
    String usage = "the body must be a JSON object {\"host\": ..., \"arteryPort\": ..., \"httpPort\": ...}";
    JsonNode json;
    try {
      json = HttpJson.MAPPER.readTree(body);
    } catch (IOException e) {
      return HttpJson.error(StatusCodes.BAD_REQUEST, usage);
    }
    if (json == null || !json.isObject() || !json.path("host").isTextual() || json.path("host").asText().isBlank()
        || !json.path("arteryPort").canConvertToInt() || !json.path("httpPort").canConvertToInt()
        || !json.path("arteryPort").isIntegralNumber() || !json.path("httpPort").isIntegralNumber()) {
      return HttpJson.error(StatusCodes.BAD_REQUEST, usage);
    }
    int artery = json.path("arteryPort").asInt();
    int http = json.path("httpPort").asInt();
    if (artery < 1 || artery > 65535 || http < 1 || http > 65535) {
      return HttpJson.error(StatusCodes.BAD_REQUEST, "ports must be in 1..65535");
    }
    return new Configuration.Server(id, json.path("host").asText(), artery, http, false);
  }

  /** Asks this node's replica; if it is not the leader, the leader it names. Never fails. */
  private CompletionStage<HttpResponse> change(Change change) {
    return AskPattern.<RaftMessage, ChangeMembershipResponse>ask(replica, r -> new ChangeMembership(change, r),
            timeout, system.scheduler())
        .thenCompose(answer -> {
          if (answer instanceof ChangeMembershipResponse.NotLeader nl && nl.leaderHint() != null
              && !nl.leaderHint().equals(selfId)) {
            return AskPattern.<Forward, ChangeMembershipResponse>ask(forwarder,
                r -> new Forward(nl.leaderHint(), new ChangeMembership(change, r)), timeout, system.scheduler());
          }
          return CompletableFuture.completedFuture(answer);
        })
        .handle((answer, failure) -> failure != null
            ? HttpJson.error(StatusCodes.SERVICE_UNAVAILABLE, "no answer from the leader within " + timeout.toMillis()
                + " ms: the change may or may not commit; check GET /v1/members before retrying")
            : respond(answer));
  }

  static HttpResponse respond(ChangeMembershipResponse answer) {
    if (answer instanceof ChangeMembershipResponse.Done done) {
      ObjectNode body = HttpJson.object();
      putServers(body.put("index", done.index()), done.configuration(), null);
      return HttpJson.ok(body);
    }
    if (answer instanceof ChangeMembershipResponse.NotLeader nl) {
      return HttpJson.response(StatusCodes.SERVICE_UNAVAILABLE,
          HttpJson.error("no leader known to take the change; retry").put("leader", nl.leaderHint()));
    }
    ChangeMembershipResponse.Failed f = (ChangeMembershipResponse.Failed) answer;
    StatusCode status = switch (f.reason()) {
      case UNKNOWN_MEMBER -> StatusCodes.NOT_FOUND;
      case ALREADY_MEMBER, LAST_VOTER -> StatusCodes.CONFLICT;
      case IN_PROGRESS, LEADERSHIP_LOST -> StatusCodes.SERVICE_UNAVAILABLE;
    };
    return HttpJson.response(status, HttpJson.error(f.message()).put("reason", f.reason().name()));
  }

  private CompletionStage<HttpResponse> list() {
    CompletableFuture<NodeStatus> reply = new CompletableFuture<>();
    front.tell(new KvFront.GetNodeStatus(reply));
    return reply.orTimeout(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS).handle((s, failure) -> {
      if (failure != null || s == null || s.configuration() == null) {
        return HttpJson.error(StatusCodes.SERVICE_UNAVAILABLE, "the replica did not answer");
      }
      ObjectNode body = HttpJson.object().put("id", s.id()).put("leader", s.leader()).put("role", s.role());
      putConfiguration(body, s);
      return HttpJson.ok(body);
    });
  }

  /** The configuration in force on the node, each server with its role and, on the leader, its progress. */
  static void putConfiguration(ObjectNode body, NodeStatus s) {
    body.put("configurationIndex", s.configurationIndex());
    putServers(body, s.configuration(), "LEADER".equals(s.role()) ? s : null);
  }

  private static void putServers(ObjectNode body, Configuration c, NodeStatus leader) {
    ArrayNode servers = body.putArray("members");
    for (Configuration.Server server : c.servers()) {
      ObjectNode o = servers.addObject().put("id", server.id()).put("host", server.host())
          .put("arteryPort", server.arteryPort()).put("httpPort", server.httpPort())
          .put("role", server.voter() ? "voter" : "learner");
      if (server.published()) o.put("incarnation", String.format("%016x", server.incarnation()));
      if (leader == null) continue;
      if (server.id().equals(leader.id())) {
        o.put("matchIndex", leader.commitIndex()).put("lastContactMsAgo", 0);
        continue;
      }
      for (RaftMessage.FollowerStatus f : leader.followers()) {
        if (f.id().equals(server.id())) o.put("matchIndex", f.matchIndex()).put("lastContactMsAgo", f.lastHeardMillisAgo());
      }
    }
  }
}

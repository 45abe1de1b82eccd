package dev.tern.http;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.optionalHeaderValueByName;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;
import static org.apache.pekko.http.javadsl.server.Directives.pathSingleSlash;
import static org.apache.pekko.http.javadsl.server.Directives.redirect;
import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.Config;
import dev.tern.cluster.LeadershipEvents;
import dev.tern.cluster.Member;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse.BodyHandlers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpCharsets;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.Uri;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The live dashboard every node serves (docs/operations.md, "The dashboard"): {@code GET /ui} is one page whose
 * script and style ({@code /ui/app.js}, {@code /ui/app.css}) come from the jar's {@code ui/} resources, and
 * {@code GET /} redirects there. The page polls this node's own JSON endpoints, and two of its own:
 * {@code GET /ui/api/cluster}, every member's {@code /v1/status} as this node fetches it (the browser may only ask
 * the node it loaded the page from), each marked unreachable when it does not answer within
 * {@code tern.ui.peer-status-timeout}; and {@code GET /ui/api/events}, the elections and leaders this node saw
 * ({@link LeadershipEvents}).
 *
 * <p>Operator traffic only: nothing here touches a key-value request.
 */
public final class UiRoutes {
  private static final List<String> GET_ONLY = List.of("GET");
  private static final ContentType JS = MediaTypes.APPLICATION_JAVASCRIPT.toContentType(HttpCharsets.UTF_8);
  private static final ContentType CSS = MediaTypes.TEXT_CSS.toContentType(HttpCharsets.UTF_8);
  /** A new node version serves a new page: browsers must ask again rather than run an old script. */
  private static final RawHeader NO_CACHE = RawHeader.create("Cache-Control", "no-cache");

  /** The dashboard's settings ({@code tern.ui}). */
  public record Settings(boolean enabled, Duration peerStatusTimeout) {
    public Settings {
      Objects.requireNonNull(peerStatusTimeout, "peerStatusTimeout");
      if (peerStatusTimeout.isNegative() || peerStatusTimeout.isZero()) {
        throw new IllegalArgumentException("tern.ui.peer-status-timeout must be positive: " + peerStatusTimeout);
      }
    }

    public static Settings fromConfig(Config tern) {
      return new Settings(tern.getBoolean("ui.enabled"), tern.getDuration("ui.peer-status-timeout"));
    }
  }

  private final String selfId;
  private final Supplier<List<Member>> members;
  private final LeadershipEvents events;
  private final Settings settings;
  private final HttpClient client;
  /** "http", or "https" when the members serve their API over TLS. */
  private final String scheme;
  private final Map<String, HttpResponse> assets;

  /**
   * @param members the members of the configuration in force (asked at each request: they change)
   * @param events what this node's replica saw of elections and leaders
   */
  public UiRoutes(String selfId, Supplier<List<Member>> members, LeadershipEvents events, Settings settings) {
    this(selfId, members, events, settings, null);
  }

  /** @param peerSsl how to trust the members' HTTPS API (tern.security.http-tls), or null for plain HTTP */
  public UiRoutes(String selfId, Supplier<List<Member>> members, LeadershipEvents events, Settings settings,
      javax.net.ssl.SSLContext peerSsl) {
    this.selfId = Objects.requireNonNull(selfId, "selfId");
    this.members = Objects.requireNonNull(members, "members");
    this.events = Objects.requireNonNull(events, "events");
    this.settings = Objects.requireNonNull(settings, "settings");
    this.scheme = peerSsl == null ? "http" : "https";
    HttpClient.Builder b = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(settings.peerStatusTimeout());
    if (peerSsl != null) b.sslContext(peerSsl);
    this.client = b.build();
    // Read once: the files are small and a missing one is a broken build, which must show at start, not per request.
    this.assets = Map.of(
        "index.html", asset("index.html", ContentTypes.TEXT_HTML_UTF8),
        "app.js", asset("app.js", JS),
        "app.css", asset("app.css", CSS));
  }

  public Route route() {
    Route page = HttpApi.onlyMethods(GET_ONLY, m -> complete(assets.get("index.html")));
    Route home = HttpApi.onlyMethods(GET_ONLY, m -> redirect(Uri.create("/ui"), StatusCodes.FOUND));
    // The caller's token (tern.security) goes on to the members: they check it as they would the caller's own call.
    Route cluster = HttpApi.onlyMethods(GET_ONLY, m -> optionalHeaderValueByName("Authorization",
        auth -> completeWithFuture(cluster(auth.orElse(null)))));
    Route recent = HttpApi.onlyMethods(GET_ONLY, m -> complete(HttpJson.ok(eventsJson(selfId, events.recent()))));
    return concat(
        pathSingleSlash(() -> home),
        path("ui", () -> page),
        pathPrefix("ui", () -> pathSingleSlash(() -> home)), // "/ui/"
        path(segment("ui").slash("api").slash("cluster"), () -> cluster),
        path(segment("ui").slash("api").slash("events"), () -> recent),
        path(segment("ui").slash(segment()), name -> {
          HttpResponse file = assets.get(name);
          return file == null || name.equals("index.html")
              ? complete(HttpJson.error(StatusCodes.NOT_FOUND, "no such file: /ui/" + name))
              : HttpApi.onlyMethods(GET_ONLY, m -> complete(file));
        }));
  }

  /** {@code {"self": id, "members": [{"id", "address", "reachable", "status" or "error"}, ...]}}, in member order. */
  private CompletionStage<HttpResponse> cluster(String authorization) {
    List<CompletableFuture<ObjectNode>> asked = new ArrayList<>();
    for (Member m : members.get()) asked.add(statusOf(m, authorization));
    return CompletableFuture.allOf(asked.toArray(CompletableFuture[]::new)).thenApply(done -> {
      ObjectNode body = HttpJson.object().put("self", selfId);
      ArrayNode list = body.putArray("members");
      for (CompletableFuture<ObjectNode> a : asked) list.add(a.join());
      return HttpJson.ok(body);
    });
  }

  /** One member's status; never fails: a member that does not answer in time is unreachable, with the reason. */
  private CompletableFuture<ObjectNode> statusOf(Member m, String authorization) {
    String address = scheme + "://" + m.host() + ":" + m.httpPort();
    ObjectNode entry = HttpJson.object().put("id", m.id()).put("address", address);
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(address + "/v1/status"))
        .timeout(settings.peerStatusTimeout()).GET();
    if (authorization != null) b.header("Authorization", authorization);
    HttpRequest request = b.build();
    return client.sendAsync(request, BodyHandlers.ofString()).handle((response, failure) -> {
      if (failure != null) {
        Throwable cause = failure.getCause() != null ? failure.getCause() : failure;
        return entry.put("reachable", false).put("error", describe(cause));
      }
      // It answered: reachable, though the answer may be an error (then the page shows it instead of a status).
      entry.put("reachable", true).put("httpStatus", response.statusCode());
      JsonNode body;
      try {
        body = HttpJson.MAPPER.readTree(response.body());
      } catch (IOException | RuntimeException e) {
        body = null;
      }
      if (response.statusCode() == 200 && body != null && body.isObject() && body.path("term").isIntegralNumber()) {
        return entry.set("status", body);
      }
      String why = body != null && body.path("error").isTextual() ? ": " + body.path("error").asText() : "";
      return entry.put("error", "answered HTTP " + response.statusCode() + why + " instead of its status");
    });
  }

  private String describe(Throwable cause) {
    if (cause instanceof java.net.http.HttpTimeoutException) {
      return "no answer within " + settings.peerStatusTimeout().toMillis() + " ms";
    }
    if (cause instanceof java.net.ConnectException) return "connection refused";
    String message = cause.getMessage();
    return cause.getClass().getSimpleName() + (message == null ? "" : ": " + message);
  }

  /** {@code {"self": id, "events": [{"at": epoch ms, "kind": "election" or "leader", "term", "leader"}, ...]}}. */
  static ObjectNode eventsJson(String selfId, List<LeadershipEvents.Event> recent) {
    ObjectNode body = HttpJson.object().put("self", selfId);
    ArrayNode list = body.putArray("events");
    for (LeadershipEvents.Event e : recent) {
      ObjectNode o = list.addObject().put("at", e.atMillis()).put("kind", e.kind().name().toLowerCase(Locale.ROOT))
          .put("term", e.term());
      if (e.leader() != null) o.put("leader", e.leader());
    }
    return body;
  }

  private static HttpResponse asset(String name, ContentType type) {
    try (InputStream in = UiRoutes.class.getResourceAsStream("/ui/" + name)) {
      if (in == null) throw new IllegalStateException("the jar lacks the dashboard's resource ui/" + name);
      return HttpResponse.create().withStatus(StatusCodes.OK).addHeader(NO_CACHE).withEntity(type, in.readAllBytes());
    } catch (IOException e) {
      throw new IllegalStateException("cannot read the dashboard's resource ui/" + name, e);
    }
  }
}

package dev.tern.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tern.storage.DataDirIdentity;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Asks the other members whether the cluster publishes another incarnation for this node (see
 * {@code Configuration.Server}): if one does, this data directory is not the one the cluster knew, which has lost its
 * term, vote and log. As etcd refuses to bootstrap a member that was already published, the node is then refused at
 * its start, or stopped if it learns it later (its peers were unreachable when it started); in both cases it says how
 * to recover. Its peers' transport ignores it meanwhile ({@link PeerInbound}), so this check makes the refusal clear,
 * not safe. A member that does not answer tells nothing.
 */
final class IncarnationCheck {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String selfId;
  private final long incarnation;
  private final Duration timeout;
  private final HttpClient http;
  /** tern.security.peer-token, or null: the members' API may need a token (docs/security.md). */
  private final String token;

  /** "http", or "https" when the members' API is (then {@code ssl} trusts their CA). */
  private final String scheme;

  IncarnationCheck(String selfId, long incarnation, Duration timeout, String token) {
    this(selfId, incarnation, timeout, token, null);
  }

  /** @param ssl null for plain HTTP; else the members' API is HTTPS, trusted through this context */
  IncarnationCheck(String selfId, long incarnation, Duration timeout, String token, javax.net.ssl.SSLContext ssl) {
    this.token = token;
    this.selfId = selfId;
    this.incarnation = incarnation;
    this.timeout = timeout;
    this.scheme = ssl == null ? "http" : "https";
    HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(timeout);
    if (ssl != null) b.sslContext(ssl);
    this.http = b.build();
  }

  /**
   * Why this node must not run, or null: the incarnation that the most up-to-date of {@code members} publishes for this
   * node, if it is not its own ({@code incarnation}; for a directory not created yet, any incarnation at all).
   */
  String conflict(Members members) {
    Map<String, JsonNode> statuses = new LinkedHashMap<>();
    for (Member m : members.all()) {
      if (m.id().equals(selfId)) continue;
      JsonNode status = statusOf(m);
      if (status != null) statuses.put(m.id(), status);
    }
    return verdict(selfId, incarnation, statuses);
  }

  /**
   * The verdict from the statuses that members gave ({@code statuses}, by member id). Only the most up-to-date member
   * counts: the one with the highest commit index among those still in their own configuration. A member that was
   * removed keeps running with the configuration it last knew, which may still publish the incarnation a replaced
   * node had; and a node that catches up replays old configurations, asking those members too. Committed entries
   * only grow, so the member with the highest commit index knows the newest committed configuration (or one being
   * committed after it).
   */
  static String verdict(String selfId, long incarnation, Map<String, JsonNode> statuses) {
    String newest = null;
    long newestCommit = -1;
    for (Map.Entry<String, JsonNode> e : statuses.entrySet()) {
      if (!listsItself(e.getValue(), e.getKey())) continue;
      long commit = e.getValue().path("commitIndex").asLong(-1);
      if (commit > newestCommit) {
        newest = e.getKey();
        newestCommit = commit;
      }
    }
    if (newest == null) return null;
    String published = incarnationIn(statuses.get(newest), selfId);
    if (published == null || published.equals(DataDirIdentity.hex(incarnation))) return null;
    return message(selfId, newest, published, incarnation);
  }

  private static boolean listsItself(JsonNode status, String id) {
    for (JsonNode s : status.path("configuration").path("members")) {
      if (id.equals(s.path("id").asText())) return true;
    }
    return false;
  }

  /** Member {@code m}'s /v1/status, or null (down, starting, or not a Tern node: it tells nothing). */
  private JsonNode statusOf(Member m) {
    try {
      HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(scheme + "://" + m.host() + ":" + m.httpPort() + "/v1/status")).timeout(timeout).GET();
      if (token != null) b.header("Authorization", "Bearer " + token);
      HttpRequest request = b.build();
      HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 ? JSON.readTree(r.body()) : null;
    } catch (IOException | IllegalArgumentException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  /** The incarnation a status's configuration publishes for {@code id}, or null. */
  static String incarnationIn(JsonNode status, String id) {
    if (status == null) return null;
    for (JsonNode s : status.path("configuration").path("members")) {
      if (id.equals(s.path("id").asText()) && s.path("incarnation").isTextual()) return s.path("incarnation").asText();
    }
    return null;
  }

  static String message(String id, String member, String published, long own) {
    String mine = own == DataDirIdentity.NO_INCARNATION ? "this data directory is empty"
        : "this data directory is incarnation " + DataDirIdentity.hex(own);
    return "member " + member + " knows " + id + " as incarnation " + published + ", but " + mine + ": " + id
        + " ran before and has lost its term, its vote and its log (a wiped or replaced disk, or another"
        + " tern.data-dir). As a voter it could vote twice in a term or help elect a leader that lacks committed"
        + " entries; its peers ignore it. To recover: restore the directory from a copy taken while the node was"
        + " stopped, or start it with its usual tern.data-dir; or remove the member (tern member remove " + id
        + "), empty the directory, start the node with --join URL --advertise HOST:ARTERY-PORT:HTTP-PORT and add it"
        + " (tern member add " + id + " ...) (docs/operations.md, \"Replacing a node\").";
  }
}

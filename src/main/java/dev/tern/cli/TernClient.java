package dev.tern.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.StringJoiner;

/**
 * A small blocking client for a cluster's HTTP API ({@code /v1/kv}, {@code /v1/status}). Given several
 * endpoints it fails over: a request that meets a refused connection, a timeout or a 503 (no leader, no quorum,
 * a node that is read-only or whose storage failed) is sent to the next endpoint, each endpoint once, starting
 * from the one that answered last. The answer (or the failure) of the last one tried is returned.
 */
public final class TernClient {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** An HTTP answer; {@code json} is null when the body is empty or not JSON. */
  public record Response(int status, String body, JsonNode json) {
    public boolean ok() {
      return status >= 200 && status < 300;
    }

    /**
     * The server's {@code "error"} message (with its {@code "reason"}, if any), or else the start of the body,
     * or else the status.
     */
    public String errorMessage() {
      if (json != null && json.hasNonNull("error")) {
        String error = json.get("error").asText();
        return json.hasNonNull("reason") ? error + ": " + json.get("reason").asText() : error;
      }
      String b = body == null ? "" : body.strip();
      if (b.isEmpty()) return "HTTP " + status + " with no message";
      return b.length() > 300 ? b.substring(0, 300) + "..." : b;
    }
  }

  /** The node could not be reached: connection refused, reset, or no answer within the timeout. */
  public static final class UnreachableException extends Exception {
    public UnreachableException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  private final java.util.List<URI> endpoints;
  private final Duration timeout;
  private final HttpClient http;
  /** The bearer token sent with every request, or null (docs/security.md). */
  private final String token;
  /** The endpoint that answered last: the next request starts there. */
  private volatile int current;

  public TernClient(URI base, Duration timeout) {
    this(java.util.List.of(base), timeout);
  }

  /** A client that tries {@code endpoints} in order, moving on as described above. */
  public TernClient(java.util.List<URI> endpoints, Duration timeout) {
    this(endpoints, timeout, null);
  }

  /** As above, sending {@code Authorization: Bearer token} with every request ({@code token} null: none). */
  public TernClient(java.util.List<URI> endpoints, Duration timeout, String token) {
    this(endpoints, timeout, token, null);
  }

  /** As above, trusting {@code ssl}'s CAs for https:// endpoints ({@code ssl} null: the JDK's own CAs). */
  public TernClient(java.util.List<URI> endpoints, Duration timeout, String token, javax.net.ssl.SSLContext ssl) {
    if (endpoints.isEmpty()) throw new IllegalArgumentException("no endpoint");
    this.token = token == null || token.isBlank() ? null : token.strip();
    this.endpoints = java.util.List.copyOf(endpoints);
    this.timeout = timeout;
    HttpClient.Builder builder = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(timeout)
        .followRedirects(HttpClient.Redirect.NEVER);
    if (ssl != null) builder.sslContext(ssl);
    this.http = builder.build();
  }

  /** The endpoint that answered last (the first one before any request). */
  public URI base() {
    return endpoints.get(current);
  }

  public java.util.List<URI> endpoints() {
    return endpoints;
  }

  /** Parses a comma-separated list of node addresses (see {@link #parseNode}). */
  public static java.util.List<URI> parseEndpoints(String list) {
    java.util.List<URI> out = new java.util.ArrayList<>();
    for (String part : (list == null ? "" : list).split(",")) {
      if (!part.isBlank()) out.add(parseNode(part));
    }
    if (out.isEmpty()) throw new IllegalArgumentException("no endpoint given");
    return out;
  }

  /**
   * Parses a node address: {@code http://host:port}, or {@code host:port} (http assumed).
   *
   * @throws IllegalArgumentException when it is not an http(s) URL with a host
   */
  public static URI parseNode(String node) {
    String s = node == null ? "" : node.strip();
    if (!s.contains("://")) s = "http://" + s;
    while (s.endsWith("/")) s = s.substring(0, s.length() - 1);
    URI uri;
    try {
      uri = new URI(s);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("bad node address '" + node + "': " + e.getMessage());
    }
    if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) || uri.getHost() == null) {
      throw new IllegalArgumentException("bad node address '" + node + "': expected http://host:port");
    }
    if (uri.getRawPath() != null && !uri.getRawPath().isEmpty()
        || uri.getRawQuery() != null || uri.getRawFragment() != null) {
      throw new IllegalArgumentException("bad node address '" + node + "': expected http://host:port, without a path");
    }
    return uri;
  }

  /**
   * The key as a URL path: each {@code /}-separated part is percent-encoded, the slashes are kept.
   * "." and ".." parts are encoded too, so that no one normalises them away.
   */
  public static String keyPath(String key) {
    StringJoiner joined = new StringJoiner("/");
    for (String part : key.split("/", -1)) {
      if (part.equals(".") || part.equals("..")) {
        joined.add(part.replace(".", "%2E"));
      } else {
        joined.add(encode(part));
      }
    }
    return joined.toString();
  }

  /** Percent-encodes for a path segment or a query value: UTF-8, spaces as %20 (never '+'). */
  public static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  /** "?a=1&b=2" from the non-null values, or "" when there are none. */
  public static String query(Map<String, ?> params) {
    StringJoiner q = new StringJoiner("&", "?", "");
    q.setEmptyValue("");
    params.forEach((k, v) -> {
      if (v != null) q.add(encode(k) + "=" + encode(String.valueOf(v)));
    });
    return q.toString();
  }

  public static Map<String, Object> params() {
    return new LinkedHashMap<>();
  }

  public Response get(String pathAndQuery) throws UnreachableException {
    return send("GET", pathAndQuery, null);
  }

  public Response put(String pathAndQuery, String body) throws UnreachableException {
    return send("PUT", pathAndQuery, body);
  }

  /** A PUT whose body is {@code body}'s bytes as they are ({@code application/octet-stream}). */
  public Response put(String pathAndQuery, byte[] body) throws UnreachableException {
    return send("PUT", pathAndQuery, body, "application/octet-stream", null);
  }

  public Response delete(String pathAndQuery) throws UnreachableException {
    return send("DELETE", pathAndQuery, null);
  }

  /**
   * A write sent with the {@code Request-Id} header {@code requestId} (null: none), the same on every endpoint it
   * fails over to: the cluster applies it at most once however many of them received it (docs/api.md,
   * "Exactly-once writes"). {@code body} null sends none.
   */
  public Response write(String method, String pathAndQuery, byte[] body, String contentType, String requestId)
      throws UnreachableException {
    return send(method, pathAndQuery, body, contentType, requestId);
  }

  /** A fresh request id for one write: random (a UUID), so no two clients' ids meet. */
  public static String newRequestId() {
    return java.util.UUID.randomUUID().toString();
  }

  /**
   * Sends one request, failing over between the endpoints; {@code pathAndQuery} is already encoded and starts
   * with '/'. A write that timed out may have been applied by the node that did not answer before it is sent to
   * the next one (as with any retry: docs/api.md, "Retrying safely").
   */
  public Response send(String method, String pathAndQuery, String body) throws UnreachableException {
    return send(method, pathAndQuery, body == null ? null : body.getBytes(StandardCharsets.UTF_8), TEXT, null);
  }

  /** The content type of a text body. */
  public static final String TEXT = "text/plain; charset=UTF-8";

  private Response send(String method, String pathAndQuery, byte[] body, String contentType, String requestId)
      throws UnreachableException {
    int start = current;
    UnreachableException unreachable = null;
    Response unavailable = null;
    for (int i = 0; i < endpoints.size(); i++) {
      int at = (start + i) % endpoints.size();
      try {
        Response r = sendTo(endpoints.get(at), method, pathAndQuery, body, contentType, requestId);
        if (r.status() != 503 || i == endpoints.size() - 1) {
          current = at;
          return r;
        }
        unavailable = r;
      } catch (UnreachableException e) {
        unreachable = e;
      }
    }
    if (unavailable != null) return unavailable;
    throw endpoints.size() == 1 ? unreachable
        : new UnreachableException("no endpoint answered; last: " + unreachable.getMessage(), unreachable);
  }

  /** Sends {@code method} to {@code base + pathAndQuery}, the body streamed into {@code handler}. */
  public <T> HttpResponse<T> sendRaw(URI base, String method, String pathAndQuery,
      HttpResponse.BodyHandler<T> handler) throws UnreachableException {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + pathAndQuery)).timeout(timeout)
        .method(method, HttpRequest.BodyPublishers.noBody());
    if (token != null) request.header("Authorization", "Bearer " + token);
    return exchange(base, request.build(), handler);
  }

  private Response sendTo(URI base, String method, String pathAndQuery, byte[] body, String contentType,
      String requestId) throws UnreachableException {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + pathAndQuery)).timeout(timeout);
    if (requestId != null) request.header("Request-Id", requestId);
    if (token != null) request.header("Authorization", "Bearer " + token);
    if (body == null) {
      request.method(method, HttpRequest.BodyPublishers.noBody());
    } else {
      request.header("Content-Type", contentType);
      request.method(method, HttpRequest.BodyPublishers.ofByteArray(body));
    }
    HttpResponse<String> response = exchange(base, request.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    return new Response(response.statusCode(), response.body(), parseJson(response.body()));
  }

  private <T> HttpResponse<T> exchange(URI base, HttpRequest request, HttpResponse.BodyHandler<T> handler)
      throws UnreachableException {
    try {
      return http.send(request, handler);
    } catch (HttpConnectTimeoutException e) {
      throw new UnreachableException("could not connect to " + base + " within " + seconds(timeout), e);
    } catch (HttpTimeoutException e) {
      throw new UnreachableException("no answer from " + base + " within " + seconds(timeout), e);
    } catch (ConnectException e) {
      throw new UnreachableException("cannot connect to " + base + ": "
          + (e.getMessage() == null ? "connection refused" : e.getMessage()), e);
    } catch (IOException e) {
      throw new UnreachableException("request to " + base + " failed: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new UnreachableException("interrupted while waiting for " + base, e);
    }
  }

  private static JsonNode parseJson(String body) {
    if (body == null || body.isBlank()) return null;
    try {
      return JSON.readTree(body);
    } catch (IOException e) {
      return null;
    }
  }

  private static String seconds(Duration d) {
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
  }
}

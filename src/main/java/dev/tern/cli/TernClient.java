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

/** A small blocking client for one node's HTTP API ({@code /v1/kv}, {@code /v1/status}). */
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

  private final URI base;
  private final Duration timeout;
  private final HttpClient http;

  public TernClient(URI base, Duration timeout) {
    this.base = base;
    this.timeout = timeout;
    this.http = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(timeout)
        .followRedirects(HttpClient.Redirect.NEVER)
        .build();
  }

  public URI base() {
    return base;
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

  public Response delete(String pathAndQuery) throws UnreachableException {
    return send("DELETE", pathAndQuery, null);
  }

  /** Sends one request; {@code pathAndQuery} is already encoded and starts with '/'. */
  public Response send(String method, String pathAndQuery, String body) throws UnreachableException {
    URI uri = URI.create(base + pathAndQuery);
    HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(timeout);
    if (body == null) {
      request.method(method, HttpRequest.BodyPublishers.noBody());
    } else {
      request.header("Content-Type", "text/plain; charset=UTF-8");
      request.method(method, HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
    }
    HttpResponse<String> response;
    try {
      response = http.send(request.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
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
    return new Response(response.statusCode(), response.body(), parseJson(response.body()));
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

package dev.tern.fault;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * A small JSON client for one node's HTTP API. Every request has a timeout; a timeout, a refused or lost connection
 * is an IOException. (java.net.http retries at most a GET whose pooled connection turned out closed, never a PUT,
 * DELETE or POST, so a write is sent once.)
 */
final class TernHttp {
  static final ObjectMapper JSON = new ObjectMapper();

  /** A status and its JSON body (null when the body is not JSON). */
  record Answer(int status, JsonNode body, String raw) {
    long revision() {
      return body == null ? -1 : body.path("revision").asLong(-1);
    }
  }

  private final HttpClient client;
  private final Duration timeout;

  TernHttp(Duration timeout) {
    this.timeout = timeout;
    this.client = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(timeout.compareTo(Duration.ofSeconds(1)) < 0 ? timeout : Duration.ofSeconds(1))
        .build();
  }

  Answer get(String base, String path) throws IOException, InterruptedException {
    return send(request(base, path).GET());
  }

  Answer put(String base, String path, String body) throws IOException, InterruptedException {
    return send(request(base, path).PUT(HttpRequest.BodyPublishers.ofString(body)));
  }

  Answer post(String base, String path, String body) throws IOException, InterruptedException {
    return send(request(base, path).POST(HttpRequest.BodyPublishers.ofString(body)));
  }

  Answer delete(String base, String path) throws IOException, InterruptedException {
    return send(request(base, path).DELETE());
  }

  private HttpRequest.Builder request(String base, String path) {
    return HttpRequest.newBuilder(URI.create(base + path)).timeout(timeout);
  }

  private Answer send(HttpRequest.Builder request) throws IOException, InterruptedException {
    HttpResponse<String> r = client.send(request.build(), HttpResponse.BodyHandlers.ofString());
    JsonNode body;
    try {
      body = JSON.readTree(r.body());
    } catch (IOException e) {
      body = null;
    }
    return new Answer(r.statusCode(), body, r.body());
  }
}

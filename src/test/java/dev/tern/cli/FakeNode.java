package dev.tern.cli;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/** A tiny HTTP server on 127.0.0.1 that records each request and answers with a canned response. */
final class FakeNode implements AutoCloseable {
  /** One request as the server saw it; paths and queries are still percent-encoded. */
  record Request(String method, String rawPath, String rawQuery, String body, String contentType, String requestId) {}

  private final HttpServer server;
  private final ExecutorService executor = Executors.newCachedThreadPool();
  private final List<Request> requests = new CopyOnWriteArrayList<>();
  private final CountDownLatch released = new CountDownLatch(1);
  private volatile int status = 200;
  private volatile String body = "{}";
  private volatile boolean hang;

  FakeNode() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 0);
    server.setExecutor(executor);
    server.createContext("/", this::handle);
    server.start();
  }

  String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /** Answer every following request with this status and JSON body. */
  FakeNode respond(int status, String json) {
    this.status = status;
    this.body = json;
    return this;
  }

  /** Never answer (until closed). */
  FakeNode hang() {
    this.hang = true;
    return this;
  }

  List<Request> requests() {
    return requests;
  }

  Request only() {
    if (requests.size() != 1) throw new AssertionError("expected one request, got " + requests);
    return requests.get(0);
  }

  private void handle(HttpExchange ex) throws IOException {
    String requestBody = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
    requests.add(new Request(ex.getRequestMethod(), ex.getRequestURI().getRawPath(), ex.getRequestURI().getRawQuery(),
        requestBody, ex.getRequestHeaders().getFirst("Content-Type"), ex.getRequestHeaders().getFirst("Request-Id")));
    if (hang) {
      try {
        released.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "application/json");
    ex.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Override
  public void close() {
    released.countDown();
    server.stop(0);
    executor.shutdownNow();
  }
}

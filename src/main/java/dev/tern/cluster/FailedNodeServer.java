package dev.tern.cluster;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;

/**
 * What a node whose storage failed serves on its HTTP port once its Raft part has stopped: every request,
 * {@code /health} included, is answered 503 with {@code {"error": "storage failed", "reason": ...}}, so that
 * monitoring and clients see why (and clients with several endpoints move on). A plain JDK server: the node's
 * ActorSystem, and Pekko HTTP with it, is gone.
 */
final class FailedNodeServer implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpServer server;

  private FailedNodeServer(HttpServer server) {
    this.server = server;
  }

  static FailedNodeServer start(String host, int port, String nodeId, String reason) throws IOException {
    ObjectNode body = JSON.createObjectNode()
        .put("error", "storage failed")
        .put("status", "failed")
        .put("id", nodeId)
        .put("reason", reason);
    byte[] bytes = JSON.writeValueAsBytes(body);
    HttpServer server = HttpServer.create(new InetSocketAddress(host, port), 16);
    server.createContext("/", exchange -> answer(exchange, bytes));
    server.start();
    return new FailedNodeServer(server);
  }

  private static void answer(HttpExchange exchange, byte[] body) throws IOException {
    try (exchange) {
      exchange.getRequestBody().readAllBytes();
      exchange.getResponseHeaders().set("Content-Type", "application/json");
      exchange.getResponseHeaders().set("Retry-After", "60");
      exchange.sendResponseHeaders(503, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    }
  }

  int port() {
    return server.getAddress().getPort();
  }

  @Override
  public void close() {
    server.stop(0);
  }

}

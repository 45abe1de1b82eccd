package dev.tern.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;

/** Builds the HTTP API's JSON responses. Every error body is an object with an {@code "error"} string. */
final class HttpJson {
  private HttpJson() {}

  /** Thread-safe once configured; shared by every response. */
  static final ObjectMapper MAPPER = new ObjectMapper();

  /** The {@code Retry-After} header sent with every 503. */
  static final HttpHeader RETRY_AFTER = RawHeader.create("Retry-After", "1");

  static ObjectNode object() {
    return MAPPER.createObjectNode();
  }

  static ObjectNode error(String message) {
    return object().put("error", message);
  }

  static HttpResponse response(StatusCode status, ObjectNode body, HttpHeader... headers) {
    byte[] bytes;
    try {
      bytes = MAPPER.writeValueAsBytes(body);
    } catch (JsonProcessingException e) {
      // Cannot happen for a tree of plain nodes; answer with a fixed body rather than fail.
      status = StatusCodes.INTERNAL_SERVER_ERROR;
      bytes = "{\"error\":\"internal error\"}".getBytes(StandardCharsets.UTF_8);
    }
    List<HttpHeader> all = new ArrayList<>(List.of(headers));
    if (status.intValue() == 503 && !all.contains(RETRY_AFTER)) all.add(RETRY_AFTER);
    return HttpResponse.create()
        .withStatus(status)
        .addHeaders(all)
        .withEntity(ContentTypes.APPLICATION_JSON, bytes);
  }

  static HttpResponse ok(ObjectNode body) {
    return response(StatusCodes.OK, body);
  }

  /** An error response {@code {"error": message}}; a 503 also carries {@code Retry-After: 1}. */
  static HttpResponse error(StatusCode status, String message) {
    return response(status, error(message));
  }
}

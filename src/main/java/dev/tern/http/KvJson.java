package dev.tern.http;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tern.kv.Bytes;
import dev.tern.kv.KvResult;
import java.io.IOException;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.util.ByteString;

/**
 * How values appear in the API's answers. Values are any bytes. In JSON a value that is well-formed UTF-8 is the
 * string {@code "value"}, as it always was; any other value is {@code "valueBase64"} (standard base64, with
 * padding), so a JSON answer never alters bytes. The raw form ({@code ?raw} or {@code Accept:
 * application/octet-stream}) answers a get with the value itself as the body and its revision in a header.
 */
final class KvJson {
  private KvJson() {}

  /** The header of a raw answer that carries the value's revision. */
  static final String REVISION_HEADER = "X-Tern-Revision";

  /** Adds {@code value} to {@code node}, as text when it is UTF-8, else as base64. */
  static ObjectNode putValue(ObjectNode node, Bytes value) {
    String text = value.utf8OrNull();
    return text != null ? node.put("value", text) : node.put("valueBase64", value.base64());
  }

  /**
   * A 200 answer {@code {"key", "value" or "valueBase64", "revision"}}, written straight to bytes: every put and
   * get answers one, and building a JSON tree first was 3% of what a node allocated per write.
   */
  static HttpResponse ok(String key, Bytes value, long revision) {
    ByteArrayBuilder out = new ByteArrayBuilder(64 + (value == null ? 0 : value.length()));
    try (JsonGenerator json = HttpJson.MAPPER.getFactory().createGenerator(out)) {
      json.writeStartObject();
      json.writeStringField("key", key);
      String text = value == null ? null : value.utf8OrNull();
      if (text != null || value == null) json.writeStringField("value", text); // null: never expected, still JSON
      else json.writeStringField("valueBase64", value.base64());
      json.writeNumberField("revision", revision);
      json.writeEndObject();
    } catch (IOException e) {
      // Writing into memory cannot fail; if it ever did, the tree-based answer says the same.
      return HttpJson.error(org.apache.pekko.http.javadsl.model.StatusCodes.INTERNAL_SERVER_ERROR, "internal error");
    }
    return HttpResponse.create().withEntity(ContentTypes.APPLICATION_JSON, out.toByteArray());
  }

  static ObjectNode value(String key, Bytes value, long revision) {
    return putValue(HttpJson.object().put("key", key), value).put("revision", revision);
  }

  /** A get's value as the body, {@code application/octet-stream}, with its revision and key in headers. */
  static HttpResponse raw(KvResult.Value v) {
    return HttpResponse.create()
        .withStatus(StatusCodes.OK)
        .addHeader(RawHeader.create(REVISION_HEADER, Long.toString(v.revision())))
        .withEntity(ContentTypes.APPLICATION_OCTET_STREAM, ByteString.fromByteBuffer(v.value().asReadOnlyBuffer()));
  }
}

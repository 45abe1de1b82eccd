package dev.tern.http;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tern.kv.Bytes;
import dev.tern.kv.KvResult;
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

  static ObjectNode written(KvResult.Written w) {
    return putValue(HttpJson.object().put("key", w.key()), w.value()).put("revision", w.revision());
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

package dev.tern.http;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import dev.tern.kv.Bytes;
import dev.tern.kv.KeyValue;
import dev.tern.kv.KvResult;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
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
 *
 * <p>The answers are written straight to bytes with a JsonGenerator: every put and get answers one, and building a
 * JSON tree first was 3% of what a node allocated per write.
 */
final class KvJson {
  private KvJson() {}

  /** The header of a raw answer that carries the value's revision. */
  static final String REVISION_HEADER = "X-Tern-Revision";

  private interface Body {
    void write(JsonGenerator json) throws IOException;
  }

  /**
   * A 200 answer {@code {"key", "value" or "valueBase64", "revision"}}; with a null value (a retried write whose
   * first value is no longer known, see {@code FrontRequest.Write#answer}) {@code {"key", "revision"}}.
   */
  static HttpResponse ok(String key, Bytes value, long revision) {
    return json(64 + (value == null ? 0 : value.length()), json -> writeItem(json, key, value, revision));
  }

  /** A 200 answer {@code {"items": [{"key", "value" or "valueBase64", "revision"}, ...]}}. */
  static HttpResponse items(List<KeyValue> items) {
    int size = 16;
    for (KeyValue kv : items) size += 48 + kv.key().length() + kv.value().length();
    return json(size, json -> {
      json.writeStartObject();
      json.writeArrayFieldStart("items");
      for (KeyValue kv : items) writeItem(json, kv.key(), kv.value(), kv.revision());
      json.writeEndArray();
      json.writeEndObject();
    });
  }

  /** A get's value as the body, {@code application/octet-stream}, with its revision in a header. */
  static HttpResponse raw(KvResult.Value v) {
    return HttpResponse.create()
        .withStatus(StatusCodes.OK)
        .addHeader(RawHeader.create(REVISION_HEADER, Long.toString(v.revision())))
        .withEntity(ContentTypes.APPLICATION_OCTET_STREAM, ByteString.fromByteBuffer(v.value().asReadOnlyBuffer()));
  }

  private static void writeItem(JsonGenerator json, String key, Bytes value, long revision) throws IOException {
    json.writeStartObject();
    json.writeStringField("key", key);
    String text = value == null ? null : value.utf8OrNull();
    if (text != null) json.writeStringField("value", text);
    else if (value != null) json.writeStringField("valueBase64", value.base64());
    json.writeNumberField("revision", revision);
    json.writeEndObject();
  }

  private static HttpResponse json(int sizeHint, Body body) {
    ByteArrayBuilder out = new ByteArrayBuilder(sizeHint);
    try (JsonGenerator json = HttpJson.MAPPER.getFactory().createGenerator(out)) {
      body.write(json);
    } catch (IOException e) {
      throw new UncheckedIOException("writing JSON into memory", e); // cannot happen; the guard answers 500
    }
    return HttpResponse.create().withEntity(ContentTypes.APPLICATION_JSON, out.toByteArray());
  }
}

package dev.tern.http;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tern.kv.Bytes;
import dev.tern.kv.KvResult;
import dev.tern.kv.TxnCompare;
import dev.tern.kv.TxnOp;
import dev.tern.kv.TxnOpResult;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.http.javadsl.model.HttpResponse;

/**
 * The JSON of {@code POST /v1/txn} (docs/api.md, "Transactions"): the request body, checked field by field (an error
 * names the field at fault, as {@code success[2].put.value}), and the answer. The shape is etcd's: {@code compare},
 * {@code success}, {@code failure}, each operation an object with one field, {@code put}, {@code delete} or
 * {@code get}.
 */
final class TxnJson {
  private TxnJson() {}

  private static final ObjectReader READER = HttpJson.MAPPER.reader().with(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  /** A valid transaction's parts. */
  record Request(List<TxnCompare> compares, List<TxnOp> success, List<TxnOp> failure) {}

  /** Thrown with the message for a 400; never escapes {@link #parse}. */
  private static final class Bad extends Exception {
    Bad(String message) {
      super(message, null, false, false);
    }
  }

  /** The parsed transaction, or the message of a 400 in {@code error}. */
  record Parsed(Request request, String error) {}

  static Parsed parse(byte[] body, KvLimits limits) {
    JsonNode root;
    try {
      root = READER.readTree(body);
    } catch (JacksonException e) {
      return new Parsed(null, "body is not valid JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      return new Parsed(null, "body is not valid JSON: " + e.getMessage());
    }
    try {
      if (root == null || root.isMissingNode() || !root.isObject()) {
        throw new Bad("body must be a JSON object with compare, success and failure");
      }
      onlyFields(root, "", Set.of("compare", "success", "failure"));
      TxnLimits txn = limits.txn();
      List<TxnCompare> compares = new ArrayList<>();
      JsonNode c = array(root, "compare", txn.maxCompares(), "tern.txn.max-compares");
      for (int i = 0; i < c.size(); i++) compares.add(compare(c.get(i), "compare[" + i + "]", limits));
      return new Parsed(new Request(compares, ops(root, "success", limits), ops(root, "failure", limits)), null);
    } catch (Bad e) {
      return new Parsed(null, e.getMessage());
    }
  }

  /** An optional array field, at most {@code max} long; absent means empty. */
  private static JsonNode array(JsonNode root, String field, int max, String setting) throws Bad {
    JsonNode a = root.get(field);
    if (a == null || a.isNull()) return HttpJson.MAPPER.createArrayNode();
    if (!a.isArray()) throw new Bad(field + ": must be an array");
    if (a.size() > max) throw new Bad(field + ": " + a.size() + " entries, more than the limit of " + max + " (" + setting + ")");
    return a;
  }

  private static List<TxnOp> ops(JsonNode root, String branch, KvLimits limits) throws Bad {
    JsonNode a = array(root, branch, limits.txn().maxOperations(), "tern.txn.max-operations");
    List<TxnOp> ops = new ArrayList<>(a.size());
    for (int i = 0; i < a.size(); i++) ops.add(op(a.get(i), branch + "[" + i + "]", limits));
    return ops;
  }

  private static TxnOp op(JsonNode node, String at, KvLimits limits) throws Bad {
    if (!node.isObject() || node.size() != 1) {
      throw new Bad(at + ": must be an object with one field: put, delete or get");
    }
    Map.Entry<String, JsonNode> only = node.fields().next();
    String kind = only.getKey();
    String where = at + "." + kind;
    JsonNode body = only.getValue();
    if (!body.isObject()) throw new Bad(where + ": must be an object");
    switch (kind) {
      case "put":
        onlyFields(body, where, Set.of("key", "value", "valueBase64", "lease"));
        return new TxnOp.Put(key(body, where, limits), value(body, where, limits), lease(body, where));
      case "delete":
        onlyFields(body, where, Set.of("key"));
        return new TxnOp.Delete(key(body, where, limits));
      case "get":
        onlyFields(body, where, Set.of("key"));
        return new TxnOp.Get(key(body, where, limits));
      default:
        throw new Bad(at + ": unknown operation '" + kind + "' (put, delete or get)");
    }
  }

  private static TxnCompare compare(JsonNode node, String at, KvLimits limits) throws Bad {
    if (!node.isObject()) throw new Bad(at + ": must be an object");
    String key = key(node, at, limits);
    String target = text(node, "target", at);
    TxnCompare.Relation relation = relation(text(node, "result", at), at);
    switch (target) {
      case "value":
        onlyFields(node, at, Set.of("key", "target", "result", "value", "valueBase64"));
        return TxnCompare.value(key, relation, value(node, at, limits));
      case "revision":
        onlyFields(node, at, Set.of("key", "target", "result", "revision"));
        JsonNode r = node.get("revision");
        if (r == null || !r.isIntegralNumber() || !r.canConvertToLong() || r.asLong() < 0) {
          throw new Bad(at + ".revision: must be a non-negative integer (0: the key is absent)");
        }
        return TxnCompare.revision(key, relation, r.asLong());
      case "exists":
        onlyFields(node, at, Set.of("key", "target", "result", "exists"));
        if (relation != TxnCompare.Relation.EQUAL && relation != TxnCompare.Relation.NOT_EQUAL) {
          throw new Bad(at + ".result: existence takes = or != only");
        }
        JsonNode e = node.get("exists");
        if (e == null || !e.isBoolean()) throw new Bad(at + ".exists: must be true or false");
        return TxnCompare.exists(key, relation, e.asBoolean());
      default:
        throw new Bad(at + ".target: must be value, revision or exists");
    }
  }

  private static TxnCompare.Relation relation(String s, String at) throws Bad {
    return switch (s) {
      case "=", "EQUAL" -> TxnCompare.Relation.EQUAL;
      case "!=", "NOT_EQUAL" -> TxnCompare.Relation.NOT_EQUAL;
      case "<", "LESS" -> TxnCompare.Relation.LESS;
      case ">", "GREATER" -> TxnCompare.Relation.GREATER;
      default -> throw new Bad(at + ".result: must be =, !=, < or >");
    };
  }

  private static String text(JsonNode node, String field, String at) throws Bad {
    JsonNode v = node.get(field);
    if (v == null || !v.isTextual()) throw new Bad(at + "." + field + ": missing, or not a string");
    return v.asText();
  }

  /** A key as the rest of the API takes them: not empty, well-formed text, at most max-key-bytes. */
  /** A put's lease: a positive integer id, or none. */
  private static long lease(JsonNode node, String at) throws Bad {
    JsonNode lease = node.get("lease");
    if (lease == null) return dev.tern.kv.KvCommand.NO_LEASE;
    if (!lease.isIntegralNumber() || !lease.canConvertToLong() || lease.asLong() < 1) {
      throw new Bad(at + ".lease: must be a lease id (a positive integer)");
    }
    return lease.asLong();
  }

  private static String key(JsonNode node, String at, KvLimits limits) throws Bad {
    String key = text(node, "key", at);
    if (key.isEmpty()) throw new Bad(at + ".key: must not be empty");
    byte[] utf8 = key.getBytes(StandardCharsets.UTF_8);
    if (key.indexOf('\uFFFD') >= 0 || !new String(utf8, StandardCharsets.UTF_8).equals(key)) {
      throw new Bad(at + ".key: is not valid text (U+FFFD or an unpaired surrogate)");
    }
    if (utf8.length > limits.maxKeyBytes()) {
      throw new Bad(at + ".key: " + utf8.length + " bytes, more than the limit of " + limits.maxKeyBytes()
          + " (tern.kv.max-key-bytes)");
    }
    return key;
  }

  /** {@code value} (text, stored as its UTF-8) or {@code valueBase64} (any bytes), exactly one. */
  private static Bytes value(JsonNode node, String at, KvLimits limits) throws Bad {
    JsonNode text = node.get("value");
    JsonNode base64 = node.get("valueBase64");
    if ((text == null) == (base64 == null)) throw new Bad(at + ": needs value (text) or valueBase64, one of them");
    Bytes value;
    if (text != null) {
      if (!text.isTextual()) throw new Bad(at + ".value: must be a string (valueBase64 for bytes)");
      String s = text.asText();
      byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
      if (!new String(utf8, StandardCharsets.UTF_8).equals(s)) throw new Bad(at + ".value: has an unpaired surrogate");
      value = Bytes.wrap(utf8);
    } else {
      if (!base64.isTextual()) throw new Bad(at + ".valueBase64: must be a base64 string");
      try {
        value = Bytes.wrap(Base64.getDecoder().decode(base64.asText()));
      } catch (IllegalArgumentException e) {
        throw new Bad(at + ".valueBase64: not valid base64 (" + e.getMessage() + ")");
      }
    }
    if (value.length() > limits.maxValueBytes()) {
      throw new Bad(at + ": value of " + value.length() + " bytes, more than the limit of " + limits.maxValueBytes()
          + " (tern.kv.max-value-bytes)");
    }
    return value;
  }

  private static void onlyFields(JsonNode node, String at, Set<String> allowed) throws Bad {
    for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
      String name = names.next();
      if (!allowed.contains(name)) throw new Bad((at.isEmpty() ? "" : at + ".") + name + ": unknown field");
    }
  }

  // ---- the answer ------------------------------------------------------------------------------------------

  /** 200 {@code {"succeeded", "revision", "results": [...]}}, one result per operation of the branch that ran. */
  static HttpResponse ok(KvResult.TxnDone done) {
    ObjectNode body = HttpJson.object().put("succeeded", done.succeeded()).put("revision", done.revision());
    ArrayNode results = body.putArray("results");
    for (TxnOpResult r : done.results()) {
      if (r instanceof TxnOpResult.Put p) {
        results.addObject().putObject("put").put("key", p.key()).put("revision", p.revision());
      } else if (r instanceof TxnOpResult.Delete d) {
        ObjectNode o = results.addObject().putObject("delete").put("key", d.key()).put("deleted", d.deleted());
        if (d.deleted()) o.put("revision", done.revision());
      } else if (r instanceof TxnOpResult.Get g) {
        ObjectNode o = results.addObject().putObject("get").put("key", g.key()).put("found", g.found());
        if (g.found()) {
          if (g.value() != null) putValue(o, g.value());
          o.put("revision", g.revision());
        }
      }
    }
    return HttpJson.ok(body);
  }

  private static void putValue(ObjectNode o, Bytes value) {
    String text = value.utf8OrNull();
    if (text != null) o.put("value", text);
    else o.put("valueBase64", value.base64());
  }
}

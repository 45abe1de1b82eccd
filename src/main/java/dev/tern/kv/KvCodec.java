package dev.tern.kv;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.dataformat.cbor.databind.CBORMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * The byte form of a {@link KvCommand} inside a log entry.
 *
 * <p>Written in a compact binary form (format 1): one format byte, one type byte, then the id and the key as
 * length-prefixed UTF-8, the expected revision of a compare-and-set, and the value last, as length-prefixed UTF-8.
 * Every replica decodes each committed entry, so this sits on the write path of every node: with 1 MiB values,
 * Jackson's CBOR decoding (text into char segments, then a String) took 8% of a node's CPU and a large share of
 * its garbage, where {@code new String(bytes, UTF_8)} is one vectorised pass.
 *
 * <p>Logs written before format 1 hold CBOR maps (Jackson, strict); they are still read, so a node upgraded in
 * place replays its old log and agrees with replicas that are not yet upgraded. A CBOR map's first byte is
 * 0xA0-0xBF, never {@link #FORMAT}, so the first byte tells the two apart.
 */
public final class KvCodec {

  /** The first byte of every command written in the binary form. */
  static final byte FORMAT = 1;

  static final byte PUT = 1;
  static final byte DELETE = 2;
  static final byte CAS = 3;
  static final byte GET = 4;

  // The legacy form. Strict on purpose: every replica must read the same bytes the same way, so a command that is
  // missing a field (a CAS without expectedRevision would otherwise mean "must be absent") is rejected, not
  // defaulted. Jackson's default cap on one string (20 MB) must never make a committed command undecodable.
  private static final CBORMapper LEGACY =
      CBORMapper.builder(com.fasterxml.jackson.dataformat.cbor.CBORFactory.builder()
              .streamReadConstraints(com.fasterxml.jackson.core.StreamReadConstraints.builder()
                  .maxStringLength(Integer.MAX_VALUE).build())
              .build())
          .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES)
          .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .build();
  private static final ObjectReader LEGACY_READER = LEGACY.readerFor(KvCommand.class);

  private KvCodec() {}

  public static byte[] encode(KvCommand command) {
    Objects.requireNonNull(command, "command");
    byte[] id = utf8(command.id());
    byte[] key = utf8(command.key());
    byte type;
    byte[] value = null;
    long expected = 0;
    if (command instanceof KvCommand.Put p) {
      type = PUT;
      value = utf8(p.value());
    } else if (command instanceof KvCommand.CompareAndSet c) {
      type = CAS;
      value = utf8(c.value());
      expected = c.expectedRevision();
    } else if (command instanceof KvCommand.Delete) {
      type = DELETE;
    } else if (command instanceof KvCommand.Get) {
      type = GET;
    } else {
      // Unreachable while KvCommand stays sealed.
      throw new IllegalStateException("unhandled command type " + command.getClass().getName());
    }
    int size = 2 + 4 + id.length + 4 + key.length + (type == CAS ? 8 : 0) + (value != null ? 4 + value.length : 0);
    byte[] out = new byte[size];
    out[0] = FORMAT;
    out[1] = type;
    int at = putBytes(out, 2, id);
    at = putBytes(out, at, key);
    if (type == CAS) at = putLong(out, at, expected);
    if (value != null) at = putBytes(out, at, value);
    return out;
  }

  /** @throws IllegalArgumentException if the bytes are not an encoded command */
  public static KvCommand decode(byte[] bytes) {
    Objects.requireNonNull(bytes, "bytes");
    if (bytes.length > 0 && bytes[0] == FORMAT) return decodeBinary(bytes);
    return decodeLegacy(bytes);
  }

  private static KvCommand decodeBinary(byte[] bytes) {
    try {
      Reader in = new Reader(bytes);
      byte type = in.bytes[1];
      in.at = 2;
      String id = in.string("id");
      String key = in.string("key");
      KvCommand command = switch (type) {
        case PUT -> new KvCommand.Put(id, key, in.string("value"));
        case DELETE -> new KvCommand.Delete(id, key);
        case CAS -> {
          long expected = in.longValue("expectedRevision");
          yield new KvCommand.CompareAndSet(id, key, expected, in.string("value"));
        }
        case GET -> new KvCommand.Get(id, key);
        default -> throw new IllegalArgumentException("unknown command type " + type);
      };
      if (in.at != bytes.length) {
        throw new IllegalArgumentException((bytes.length - in.at) + " trailing bytes");
      }
      return command;
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("not a KvCommand (" + bytes.length + " bytes): " + e.getMessage(), e);
    }
  }

  private static KvCommand decodeLegacy(byte[] bytes) {
    KvCommand command;
    try {
      command = LEGACY_READER.readValue(bytes);
    } catch (IOException | RuntimeException e) {
      // The original message leaves out Jackson's multi-line source location, which says nothing about raw bytes.
      String why = e instanceof JacksonException je ? je.getOriginalMessage() : e.getMessage();
      throw new IllegalArgumentException("not a KvCommand (" + bytes.length + " bytes): " + why, e);
    }
    if (command == null) {
      throw new IllegalArgumentException("not a KvCommand: encoded null");
    }
    return command;
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static int putBytes(byte[] out, int at, byte[] field) {
    at = putInt(out, at, field.length);
    System.arraycopy(field, 0, out, at, field.length);
    return at + field.length;
  }

  private static int putInt(byte[] out, int at, int v) {
    out[at] = (byte) (v >>> 24);
    out[at + 1] = (byte) (v >>> 16);
    out[at + 2] = (byte) (v >>> 8);
    out[at + 3] = (byte) v;
    return at + 4;
  }

  private static int putLong(byte[] out, int at, long v) {
    putInt(out, at, (int) (v >>> 32));
    return putInt(out, at + 4, (int) v);
  }

  /** Bounds-checked reading: a length that runs past the end is an error, never an exception of another kind. */
  private static final class Reader {
    final byte[] bytes;
    int at;

    Reader(byte[] bytes) {
      if (bytes.length < 2) throw new IllegalArgumentException("too short for a command");
      this.bytes = bytes;
    }

    int intValue(String field) {
      need(4, field);
      int v = ((bytes[at] & 0xff) << 24) | ((bytes[at + 1] & 0xff) << 16) | ((bytes[at + 2] & 0xff) << 8)
          | (bytes[at + 3] & 0xff);
      at += 4;
      return v;
    }

    long longValue(String field) {
      need(8, field);
      long v = ((long) intValue(field) << 32) | (intValue(field) & 0xffffffffL);
      if (v < 0) throw new IllegalArgumentException(field + " is negative: " + v);
      return v;
    }

    String string(String field) {
      int length = intValue(field);
      if (length < 0) throw new IllegalArgumentException(field + " has a negative length");
      need(length, field);
      // A malformed sequence becomes U+FFFD the same way on every replica, so replicas still agree; the HTTP API
      // only ever proposes valid UTF-8.
      String s = new String(bytes, at, length, StandardCharsets.UTF_8);
      at += length;
      return s;
    }

    private void need(int n, String field) {
      if (n > bytes.length - at) {
        throw new IllegalArgumentException(field + " runs past the end (" + n + " bytes needed at " + at + ")");
      }
    }
  }
}

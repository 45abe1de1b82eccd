package dev.tern.kv;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.dataformat.cbor.CBORFactory;
import com.fasterxml.jackson.dataformat.cbor.databind.CBORMapper;
import java.io.IOException;

/**
 * Commands as logs written before {@link KvCodec}'s binary form hold them: Jackson CBOR maps with a "type" field
 * and text values. Only read, so a node replays its old log after an upgrade; never written.
 */
final class KvLegacyCbor {
  private KvLegacyCbor() {}

  // Strict on purpose: every replica must read the same bytes the same way, so a command that is missing a field
  // (a CAS without expectedRevision would otherwise mean "must be absent") is rejected, not defaulted. Jackson's
  // default cap on one string (20 MB) must never make a committed command undecodable on some replica.
  private static final CBORMapper MAPPER =
      CBORMapper.builder(CBORFactory.builder()
              .streamReadConstraints(StreamReadConstraints.builder().maxStringLength(Integer.MAX_VALUE).build())
              .build())
          .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES)
          .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .build();
  private static final ObjectReader READER = MAPPER.readerFor(Legacy.class);

  /** The legacy layout, field for field (the names are the format). */
  @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
  @JsonSubTypes({
    @JsonSubTypes.Type(value = Legacy.Put.class, name = "put"),
    @JsonSubTypes.Type(value = Legacy.Delete.class, name = "del"),
    @JsonSubTypes.Type(value = Legacy.CompareAndSet.class, name = "cas"),
    @JsonSubTypes.Type(value = Legacy.Get.class, name = "get")
  })
  sealed interface Legacy {
    KvCommand toCommand();

    record Put(String id, String key, String value) implements Legacy {
      public KvCommand toCommand() {
        return new KvCommand.Put(id, key, value);
      }
    }

    record Delete(String id, String key) implements Legacy {
      public KvCommand toCommand() {
        return new KvCommand.Delete(id, key);
      }
    }

    record CompareAndSet(String id, String key, long expectedRevision, String value) implements Legacy {
      public KvCommand toCommand() {
        return new KvCommand.CompareAndSet(id, key, expectedRevision, value);
      }
    }

    record Get(String id, String key) implements Legacy {
      public KvCommand toCommand() {
        return new KvCommand.Get(id, key);
      }
    }
  }

  /** @throws IllegalArgumentException if the bytes are not a legacy command */
  static KvCommand decode(byte[] bytes) {
    Legacy legacy;
    try {
      legacy = READER.readValue(bytes);
    } catch (IOException | RuntimeException e) {
      // The original message leaves out Jackson's multi-line source location, which says nothing about raw bytes.
      String why = e instanceof JacksonException je ? je.getOriginalMessage() : e.getMessage();
      throw new IllegalArgumentException("not a KvCommand (" + bytes.length + " bytes): " + why, e);
    }
    if (legacy == null) throw new IllegalArgumentException("not a KvCommand: encoded null");
    try {
      // Null fields and a negative revision fail here, as they did when these records were KvCommand's own.
      return legacy.toCommand();
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("not a KvCommand (" + bytes.length + " bytes): " + e.getMessage(), e);
    }
  }
}

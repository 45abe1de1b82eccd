package dev.tern.kv;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.dataformat.cbor.databind.CBORMapper;
import java.io.IOException;
import java.util.Objects;

/** The byte form of a {@link KvCommand} inside a log entry. */
public final class KvCodec {

  // Strict on purpose: every replica must read the same bytes the same way, so a command that is missing a
  // field (a CAS without expectedRevision would otherwise mean "must be absent") is rejected, not defaulted.
  // Values may be raised to many megabytes (tern.kv.max-value-bytes); Jackson's default cap on one string (20 MB)
  // must never make a committed command undecodable on some replica.
  private static final CBORMapper MAPPER =
      CBORMapper.builder(com.fasterxml.jackson.dataformat.cbor.CBORFactory.builder()
              .streamReadConstraints(com.fasterxml.jackson.core.StreamReadConstraints.builder()
                  .maxStringLength(Integer.MAX_VALUE).build())
              .build())
          .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES)
          .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .build();

  // Readers and writers are immutable, hence safe to share between threads.
  private static final ObjectWriter WRITER = MAPPER.writerFor(KvCommand.class);
  private static final ObjectReader READER = MAPPER.readerFor(KvCommand.class);

  private KvCodec() {}

  public static byte[] encode(KvCommand command) {
    Objects.requireNonNull(command, "command");
    try {
      return WRITER.writeValueAsBytes(command);
    } catch (IOException e) {
      // Records of strings and longs always serialize; reaching this is a programming error.
      throw new IllegalStateException("cannot encode " + command, e);
    }
  }

  /** @throws IllegalArgumentException if the bytes are not an encoded command */
  public static KvCommand decode(byte[] bytes) {
    Objects.requireNonNull(bytes, "bytes");
    KvCommand command;
    try {
      command = READER.readValue(bytes);
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
}

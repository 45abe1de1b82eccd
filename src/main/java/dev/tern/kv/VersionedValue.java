package dev.tern.kv;

import java.util.Objects;

/** A stored value and its revision: the log index of the entry that last wrote the key. */
public record VersionedValue(Bytes value, long revision) {
  public VersionedValue {
    Objects.requireNonNull(value, "value");
  }

  public VersionedValue(String value, long revision) {
    this(Bytes.utf8(value), revision);
  }
}

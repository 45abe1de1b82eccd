package dev.tern.kv;

/** One row of a range read. */
public record KeyValue(String key, Bytes value, long revision) {
  public KeyValue(String key, String value, long revision) {
    this(key, Bytes.utf8(value), revision);
  }
}

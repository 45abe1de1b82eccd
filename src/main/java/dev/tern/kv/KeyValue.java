package dev.tern.kv;

/** One row of a range read. */
public record KeyValue(String key, String value, long revision) {}

package dev.tern.kv;

import java.util.Objects;

/**
 * One change to the store, as watchers see it: a put of {@code value} (a delete when it is null) to {@code key} at
 * {@code revision}, the log index of the command that made it. Every replica applies the same commands in the same
 * order, so every replica makes the same events.
 */
public record KvEvent(long revision, String key, Bytes value) {
  public KvEvent {
    Objects.requireNonNull(key, "key");
  }

  public boolean isDelete() {
    return value == null;
  }

  /** Roughly what keeping this event costs in memory, for the history's byte bound. */
  long weight() {
    return 64L + 2L * key.length() + (value == null ? 0 : value.length());
  }
}

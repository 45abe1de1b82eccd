package dev.tern.raft;

import java.util.ArrayList;
import java.util.List;

/**
 * A state machine for tests: records what it applies and insists on log order, exactly once. Its snapshot is
 * the list of entries applied, so a restored replica holds exactly what the snapshot's taker had applied.
 */
final class RecordingStateMachine implements StateMachine {
  private final List<LogEntry> applied = new ArrayList<>();
  /** How many times a snapshot replaced the state. */
  int restores;

  @Override
  public void apply(LogEntry entry) {
    if (entry.index() != applied.size() + 1L) {
      throw new AssertionError("applied " + entry + " after index " + applied.size());
    }
    applied.add(entry);
  }

  @Override
  public long lastApplied() {
    return applied.size();
  }

  @Override
  public SnapshotData snapshot() {
    List<LogEntry> copy = List.copyOf(applied);
    return out -> EntryListCodec.write(out, copy);
  }

  @Override
  public void restore(long lastIncludedIndex, java.io.InputStream in) {
    byte[] data = readAll(in);
    List<LogEntry> entries = EntryListCodec.read(data);
    if (entries.size() != lastIncludedIndex) {
      throw new AssertionError("snapshot of " + entries.size() + " entries restored as index " + lastIncludedIndex);
    }
    applied.clear();
    applied.addAll(entries);
    restores++;
  }

  List<LogEntry> applied() {
    return applied;
  }

  private static byte[] readAll(java.io.InputStream in) {
    try {
      return in.readAllBytes();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}

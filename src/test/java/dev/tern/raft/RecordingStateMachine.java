package dev.tern.raft;

import java.util.ArrayList;
import java.util.List;

/** A state machine for tests: records what it applies and insists on log order, exactly once. */
final class RecordingStateMachine implements StateMachine {
  private final List<LogEntry> applied = new ArrayList<>();

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

  List<LogEntry> applied() {
    return applied;
  }
}

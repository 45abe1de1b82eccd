package dev.tern.storage;

import dev.tern.raft.HardState;
import dev.tern.raft.LogEntry;
import dev.tern.raft.RaftStorage;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongConsumer;

/**
 * Storage kept in memory: every write is durable the moment it is submitted. It outlives the replica actor
 * that uses it, so tests can "crash" a replica and restart it from what it had persisted. For tests and
 * experiments only: nothing survives the process.
 */
public final class InMemoryStorage implements RaftStorage {
  private HardState hardState = HardState.INITIAL;
  private final List<LogEntry> log = new ArrayList<>();
  private long ticket;

  @Override
  public synchronized Persisted load() {
    return new Persisted(hardState, List.copyOf(log));
  }

  @Override
  public synchronized long submit(Write write) {
    if (write.truncateFrom() > 0) {
      int keep = (int) Math.max(0, Math.min(log.size(), write.truncateFrom() - 1));
      log.subList(keep, log.size()).clear();
    }
    for (LogEntry e : write.entries()) {
      if (e.index() != log.size() + 1L) {
        throw new IllegalStateException("non-contiguous append: " + e + " after index " + log.size());
      }
      log.add(e);
    }
    if (write.hardState() != null) hardState = write.hardState();
    return ++ticket;
  }

  @Override
  public synchronized long durableTicket() {
    return ticket;
  }

  @Override
  public void onDurable(LongConsumer listener) {
    // Every write is durable on submit; there is never anything to report later.
  }

  public synchronized HardState hardState() {
    return hardState;
  }

  public synchronized List<LogEntry> entries() {
    return List.copyOf(log);
  }
}

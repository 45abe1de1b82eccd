package dev.tern.raft;

import java.util.List;
import java.util.function.LongConsumer;

/**
 * Where a replica keeps its persistent state (Figure 2: currentTerm, votedFor, log[]).
 *
 * <p>Writes are submitted, not awaited, so a durable implementation can fsync off the actor's thread and
 * group the writes that arrive together into one fsync. Each write gets a ticket; tickets grow by one and
 * become durable in order. The replica holds back every reply that depends on a write until its ticket is
 * durable ("persist before responding", Figure 2), and a leader counts only its durable entries toward a
 * majority.
 */
public interface RaftStorage {

  /** What a replica finds when it starts: the durable hard state and log. */
  record Persisted(HardState hardState, List<LogEntry> log) {}

  /**
   * One atomic change. Applied in order: drop every entry from {@code truncateFrom} on (0 = keep all), then
   * append {@code entries}, then record {@code hardState} (null = unchanged).
   */
  record Write(HardState hardState, long truncateFrom, List<LogEntry> entries) {
    public Write {
      entries = List.copyOf(entries);
    }
  }

  Persisted load();

  /** Submits a write; returns its ticket. */
  long submit(Write write);

  /** The highest ticket whose write is durable. */
  long durableTicket();

  /**
   * Registers who to tell when {@link #durableTicket()} advances later than {@link #submit} returned. May be
   * called from another thread; the replica turns it into a {@link RaftMessage.StorageSynced} message.
   */
  void onDurable(LongConsumer listener);
}

package dev.tern.raft;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongConsumer;

/**
 * Storage for the simulation that behaves like a disk with a write cache: a write is durable only once the
 * simulation delivers its (group) fsync, and a crash loses every write not yet durable. This is what makes
 * the simulation catch a reply sent before the state it promises was persisted.
 */
final class SimStorage implements RaftStorage {
  /** Asks the simulation to fsync later; it then calls {@link #sync}. */
  interface FsyncScheduler {
    void schedule(SimStorage storage, long upToTicket);
  }

  private final FsyncScheduler fsync;
  private HardState durableHardState = HardState.INITIAL;
  private final List<LogEntry> durableLog = new ArrayList<>();
  private final ArrayDeque<Pending> pending = new ArrayDeque<>();
  private long nextTicket = 1;
  private long durableTicket;
  private boolean fsyncScheduled;
  private LongConsumer listener = t -> {};

  private record Pending(long ticket, Write write) {}

  SimStorage(FsyncScheduler fsync) {
    this.fsync = fsync;
  }

  @Override
  public Persisted load() {
    return new Persisted(durableHardState, List.copyOf(durableLog));
  }

  @Override
  public long submit(Write write) {
    long ticket = nextTicket++;
    pending.add(new Pending(ticket, write));
    // Group commit: one fsync covers every write submitted before it runs.
    if (!fsyncScheduled) {
      fsyncScheduled = true;
      fsync.schedule(this, ticket);
    }
    return ticket;
  }

  /** The fsync completes: everything submitted so far becomes durable. */
  void sync() {
    fsyncScheduled = false;
    while (!pending.isEmpty()) {
      Write w = pending.poll().write();
      if (w.truncateFrom() > 0) {
        durableLog.subList((int) Math.min(durableLog.size(), w.truncateFrom() - 1), durableLog.size()).clear();
      }
      for (LogEntry e : w.entries()) {
        if (e.index() != durableLog.size() + 1L) throw new AssertionError("non-contiguous durable append " + e);
        durableLog.add(e);
      }
      if (w.hardState() != null) durableHardState = w.hardState();
    }
    durableTicket = nextTicket - 1;
    listener.accept(durableTicket);
  }

  /** The process dies: writes not yet durable are gone. */
  void crash() {
    pending.clear();
    fsyncScheduled = false;
    nextTicket = durableTicket + 1;
    listener = t -> {};
  }

  @Override
  public long durableTicket() {
    return durableTicket;
  }

  @Override
  public void onDurable(LongConsumer listener) {
    this.listener = listener;
  }

  /** Whether some write is not yet durable. */
  boolean hasUnsynced() {
    return !pending.isEmpty();
  }

  HardState durableHardState() {
    return durableHardState;
  }
}

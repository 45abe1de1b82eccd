package dev.tern.cluster;

import dev.tern.raft.RaftObserver;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * The last few elections this node started and leaders it learned of, with the wall-clock time it saw each, for
 * the dashboard's timeline ({@code GET /ui/api/events}). Bounded: the oldest event is dropped first.
 *
 * <p>Told by the replica (a {@link RaftObserver}, on its own thread) only when an election starts or a leader
 * becomes known (sections 5.2 and 5.3): a few times per failover, never per request, so a short lock is cheap here.
 */
public final class LeadershipEvents implements RaftObserver {
  /** How many events a node keeps by default. */
  public static final int CAPACITY = 64;

  /** What happened: this node started an election, or learned who leads a term. */
  public enum Kind { ELECTION, LEADER }

  /**
   * One event: {@code leader} is the leader learned (null for an election, which this node started as a candidate
   * in {@code term}).
   */
  public record Event(long atMillis, Kind kind, long term, String leader) {
    public Event {
      Objects.requireNonNull(kind, "kind");
    }
  }

  private final int capacity;
  private final ArrayDeque<Event> events;
  private final LongSupplier clock;

  /** {@link #CAPACITY} events timed by the wall clock. */
  public LeadershipEvents() {
    this(CAPACITY, System::currentTimeMillis);
  }

  LeadershipEvents(int capacity, LongSupplier clock) {
    if (capacity < 1) throw new IllegalArgumentException("capacity must be at least 1: " + capacity);
    this.capacity = capacity;
    this.events = new ArrayDeque<>(capacity);
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  @Override
  public void electionStarted(long term) {
    add(new Event(clock.getAsLong(), Kind.ELECTION, term, null));
  }

  @Override
  public void leaderChanged(long term, String leaderId) {
    add(new Event(clock.getAsLong(), Kind.LEADER, term, leaderId));
  }

  private synchronized void add(Event e) {
    Event last = events.peekLast();
    // The replica tells of a leader again when it hears from it after a spell without one: same term, same leader.
    if (last != null && last.kind() == e.kind() && last.term() == e.term() && Objects.equals(last.leader(), e.leader())) {
      return;
    }
    if (events.size() == capacity) events.removeFirst();
    events.addLast(e);
  }

  /** The events kept, oldest first. */
  public synchronized List<Event> recent() {
    return List.copyOf(events);
  }
}

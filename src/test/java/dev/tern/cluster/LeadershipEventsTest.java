package dev.tern.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tern.cluster.LeadershipEvents.Event;
import dev.tern.cluster.LeadershipEvents.Kind;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The dashboard's record of elections and leaders: what it keeps, in which order, and how much. */
class LeadershipEventsTest {
  private final AtomicLong clock = new AtomicLong(1000);

  @Test
  void keepsElectionsAndLeadersInTheOrderSeenWithTheirTimes() {
    LeadershipEvents events = new LeadershipEvents(8, clock::get);
    events.electionStarted(2);
    clock.set(1200);
    events.leaderChanged(2, "n1");
    clock.set(5000);
    events.leaderChanged(3, "n2");
    assertEquals(List.of(new Event(1000, Kind.ELECTION, 2, null), new Event(1200, Kind.LEADER, 2, "n1"),
        new Event(5000, Kind.LEADER, 3, "n2")), events.recent());
  }

  @Test
  void theSameLeaderOfTheSameTermToldAgainIsOneEvent() {
    LeadershipEvents events = new LeadershipEvents(8, clock::get);
    events.leaderChanged(4, "n3");
    clock.set(2000);
    events.leaderChanged(4, "n3"); // heard from again after a spell without a leader: nothing changed
    events.electionStarted(5);
    events.electionStarted(5);
    events.leaderChanged(5, "n3"); // re-elected in a new term: a change worth showing
    assertEquals(List.of(new Event(1000, Kind.LEADER, 4, "n3"), new Event(2000, Kind.ELECTION, 5, null),
        new Event(2000, Kind.LEADER, 5, "n3")), events.recent());
  }

  @Test
  void dropsTheOldestBeyondItsCapacity() {
    LeadershipEvents events = new LeadershipEvents(3, clock::get);
    for (long term = 1; term <= 5; term++) events.leaderChanged(term, "n" + term);
    assertEquals(List.of(3L, 4L, 5L), events.recent().stream().map(Event::term).toList());
    assertEquals(LeadershipEvents.CAPACITY, 64);
    assertThrows(IllegalArgumentException.class, () -> new LeadershipEvents(0, clock::get));
  }

  @Test
  void recentIsACopy() {
    LeadershipEvents events = new LeadershipEvents(3, clock::get);
    events.leaderChanged(1, "n1");
    List<Event> before = events.recent();
    events.leaderChanged(2, "n2");
    assertEquals(1, before.size());
    assertThrows(UnsupportedOperationException.class, () -> before.add(new Event(0, Kind.ELECTION, 1, null)));
  }
}

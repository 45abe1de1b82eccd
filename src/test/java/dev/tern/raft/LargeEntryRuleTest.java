package dev.tern.raft;

import static dev.tern.raft.RaftFixtures.replica;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.raft.RaftFixtures.AppendEntriesTo;
import dev.tern.raft.RaftFixtures.Replica;
import dev.tern.raft.RaftMessage.AppendEntries;
import dev.tern.raft.RaftMessage.AppendEntriesResponse;
import dev.tern.storage.InMemoryStorage;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.apache.pekko.actor.testkit.typed.javadsl.TestInbox;
import org.junit.jupiter.api.Test;

/**
 * Entries larger than max-append-bytes (big values) and the leader's flow control. Such an entry travels alone,
 * on the transport's large-message lane, which may overtake or be overtaken by the ordinary one; so the leader
 * sends it only once everything before it is acknowledged and sends nothing after it until it is acknowledged
 * (each follower then sees the log in order: Figure 2, AppendEntries step 2 never rejects it), and gives it time
 * to cross before counting it lost.
 */
class LargeEntryRuleTest {
  private static final int MAX_APPEND_BYTES = 4096;

  private static RaftSettings settings() {
    return new RaftSettings(Duration.ofMillis(300), Duration.ofMillis(600), Duration.ofMillis(50), 512,
        MAX_APPEND_BYTES, 8);
  }

  private static Replica leader() {
    Replica r = replica(new InMemoryStorage(), settings());
    r.electLeader();
    r.run(AppendEntriesResponse.success(1, "n2", 1));
    r.run(AppendEntriesResponse.success(1, "n3", 1));
    r.transport.drain();
    return r;
  }

  private static void propose(Replica r, int bytes) {
    TestInbox<RaftMessage.ProposeResponse> inbox = TestInbox.create();
    r.run(new RaftMessage.Propose(new byte[bytes], inbox.getRef()));
    r.runSelf();
  }

  private static List<AppendEntries> withEntriesTo(String peer, List<AppendEntriesTo> sent) {
    return sent.stream().filter(s -> s.to().equals(peer) && !s.ae().entries().isEmpty()).map(AppendEntriesTo::ae)
        .toList();
  }

  @Test
  void aLargeEntryWaitsForTheRequestsBeforeItThenTravelsAloneAndHoldsTheOnesAfterIt() {
    Replica r = leader();
    propose(r, 100); // index 2
    List<AppendEntries> small = withEntriesTo("n2", r.appendsSent());
    assertEquals(1, small.size());
    assertEquals(2, small.get(0).lastIndex());

    propose(r, 100_000); // index 3: unacknowledged requests are before it
    assertEquals(List.of(), withEntriesTo("n2", r.appendsSent()), "must not overtake the unanswered request");

    r.run(AppendEntriesResponse.success(1, "n2", 2));
    List<AppendEntries> large = withEntriesTo("n2", r.appendsSent());
    assertEquals(1, large.size(), "sent once the request before it is answered");
    assertEquals(1, large.get(0).entries().size(), "a large entry travels alone");
    assertEquals(3, large.get(0).entries().get(0).index());

    propose(r, 100); // index 4: must wait behind the large one
    assertEquals(List.of(), withEntriesTo("n2", r.appendsSent()), "nothing may be sent after an unanswered large entry");

    r.run(AppendEntriesResponse.success(1, "n2", 3));
    List<AppendEntries> after = withEntriesTo("n2", r.appendsSent());
    assertEquals(1, after.size());
    assertEquals(4, after.get(0).entries().get(0).index());
  }

  /** An entry of exactly max-append-bytes is an ordinary one: it is pipelined like any other. */
  @Test
  void anEntryOfExactlyMaxAppendBytesIsNotLarge() {
    Replica r = leader();
    propose(r, 100);
    assertEquals(1, withEntriesTo("n2", r.appendsSent()).size());
    propose(r, MAX_APPEND_BYTES - 24); // approximateSize = data + 24 = MAX_APPEND_BYTES
    assertEquals(1, withEntriesTo("n2", r.appendsSent()).size(), "sent at once, behind the unanswered request");
  }

  /** Whatever mix of sizes is proposed, no request holds more than max-append-bytes, unless it holds one entry. */
  @Test
  void neverBuildsARequestLargerThanMaxAppendBytesExceptForOneEntry() {
    Replica r = leader();
    Random random = new Random(7);
    int requests = 0;
    int loneLarge = 0;
    long acked = 1;
    for (int round = 0; round < 200; round++) {
      int proposals = 1 + random.nextInt(5);
      for (int i = 0; i < proposals; i++) {
        int bytes = random.nextInt(10) == 0 ? MAX_APPEND_BYTES + random.nextInt(20_000) : random.nextInt(1500);
        TestInbox<RaftMessage.ProposeResponse> inbox = TestInbox.create();
        r.run(new RaftMessage.Propose(new byte[bytes], inbox.getRef()));
      }
      r.runSelf();
      for (AppendEntriesTo s : r.appendsSent()) {
        AppendEntries ae = s.ae();
        long bytes = ae.entries().stream().mapToLong(LogEntry::approximateSize).sum();
        assertTrue(bytes <= MAX_APPEND_BYTES || ae.entries().size() == 1, "too large a request: " + ae + ", " + bytes);
        if (!ae.entries().isEmpty()) requests++;
        if (bytes > MAX_APPEND_BYTES) loneLarge++;
      }
      // Both followers acknowledge everything so far, in pieces, so requests keep flowing.
      long last = r.log().lastIndex();
      while (acked < last) {
        r.run(AppendEntriesResponse.success(1, "n2", acked + 1));
        r.run(AppendEntriesResponse.success(1, "n3", acked + 1));
        acked++;
        for (AppendEntriesTo s : r.appendsSent()) {
          AppendEntries ae = s.ae();
          long bytes = ae.entries().stream().mapToLong(LogEntry::approximateSize).sum();
          assertTrue(bytes <= MAX_APPEND_BYTES || ae.entries().size() == 1, "too large: " + ae + ", " + bytes);
          if (!ae.entries().isEmpty()) requests++;
          if (bytes > MAX_APPEND_BYTES) loneLarge++;
        }
      }
    }
    assertEquals(r.log().lastIndex(), r.status().commitIndex(), "everything committed");
    assertTrue(loneLarge > 20 && requests > loneLarge, "the mix had large and small requests: " + loneLarge + "/" + requests);
  }

  /** A lost large request is sent again, but only after the time it takes to cross (512 KiB per heartbeat). */
  @Test
  void aLargeRequestCountsAsLostOnlyAfterItsTransferTime() {
    Replica r = leader();
    propose(r, 2 * 1024 * 1024); // about 4 heartbeats' worth of transfer: lost after 2 + 4 ticks
    assertEquals(1, withEntriesTo("n2", r.appendsSent()).size());
    for (int tick = 1; tick <= 5; tick++) {
      r.run(RaftMessage.HeartbeatTick.INSTANCE);
      assertEquals(List.of(), withEntriesTo("n2", r.appendsSent()), "resent too early, at tick " + tick);
    }
    r.run(RaftMessage.HeartbeatTick.INSTANCE);
    List<AppendEntries> resent = withEntriesTo("n2", r.appendsSent());
    assertEquals(1, resent.size(), "sent again once counted lost");
    assertEquals(2, resent.get(0).entries().get(0).index());
  }

  /** Small requests that got no answer are counted lost after two heartbeats, as before. */
  @Test
  void aSmallRequestCountsAsLostAfterTwoHeartbeats() {
    Replica r = leader();
    propose(r, 100);
    assertEquals(1, withEntriesTo("n2", r.appendsSent()).size());
    r.run(RaftMessage.HeartbeatTick.INSTANCE);
    assertEquals(List.of(), withEntriesTo("n2", r.appendsSent()));
    r.run(RaftMessage.HeartbeatTick.INSTANCE);
    assertEquals(1, withEntriesTo("n2", r.appendsSent()).size());
  }
}

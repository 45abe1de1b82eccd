package dev.tern.raft;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.raft.Configuration.Server;
import dev.tern.raft.RaftFixtures.Replica;
import dev.tern.raft.RaftMessage.AppendEntriesResponse;
import dev.tern.raft.RaftMessage.Change;
import dev.tern.raft.RaftMessage.ObservedIncarnation;
import dev.tern.storage.InMemoryStorage;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Incarnations (docs/storage.md, section 5): the leader publishes the incarnation of each server's data directory in
 * the configuration, through the log like any configuration change (dissertation 4.1), so that every node can tell a
 * server that lost its state from the one the cluster knew. These are the leader's rules; the transport that ignores
 * a server of another incarnation is tested in PeerInboundTest.
 */
class IncarnationRuleTest {
  static final Configuration THREE = MembershipRuleTest.THREE;

  // An observed incarnation of a server that has none is published by a configuration entry, in force at once (4.1).
  @Test
  void theLeaderPublishesAnUnpublishedIncarnation() {
    Replica r = MembershipRuleTest.leader();
    r.run(new ObservedIncarnation("n2", 0xabcL));
    r.runSelf();
    Configuration expected = THREE.withIncarnation("n2", 0xabcL);
    assertEquals(LogEntry.config(2, 1, expected), r.log().get(2));
    assertEquals(0xabcL, MembershipRuleTest.state(r).configuration().incarnationOf("n2"));
    assertFalse(MembershipRuleTest.appendsTo(r, "n2").isEmpty(), "replicated like any entry");
    r.run(AppendEntriesResponse.success(1, "n3", 2));
    assertEquals(2, r.status().commitIndex());
    assertEquals(expected, r.status().configuration());
  }

  // Once published, an incarnation is never replaced: a server that comes back with another has lost its state,
  // and only removing it and adding it again gives it a new one.
  @Test
  void aPublishedIncarnationIsNeverReplaced() {
    Replica r = MembershipRuleTest.leader(THREE.withIncarnation("n2", 7));
    r.run(new ObservedIncarnation("n2", 8));
    r.runSelf();
    assertEquals(1, r.log().lastIndex(), "nothing appended");
    assertEquals(7, MembershipRuleTest.state(r).configuration().incarnationOf("n2"));
  }

  // 4.1: one change at a time: while a change is uncommitted, an observation is left for the transport to repeat.
  @Test
  void anIncarnationWaitsForTheUncommittedChangeBeforeIt() {
    Replica r = MembershipRuleTest.leader();
    MembershipRuleTest.change(r, new Change.AddLearner(MembershipRuleTest.N4));
    r.run(new ObservedIncarnation("n3", 5));
    r.runSelf();
    assertEquals(2, r.log().lastIndex(), "only the learner's entry");
    assertEquals(Server.UNPUBLISHED, MembershipRuleTest.state(r).configuration().incarnationOf("n3"));

    r.run(AppendEntriesResponse.success(1, "n2", 2)); // the change commits
    r.run(new ObservedIncarnation("n3", 5));
    r.runSelf();
    assertEquals(3, r.log().lastIndex());
    assertEquals(5, MembershipRuleTest.state(r).configuration().incarnationOf("n3"));
  }

  // The 2015 fix to 4.1: no change before the leader committed an entry of its own term; nor for an unknown server,
  // nor an incarnation that is no incarnation.
  @Test
  void nothingIsPublishedBeforeTheLeadersFirstCommitNorForUnknownServersNorZero() {
    Replica r = new Replica("n1", THREE, TestSettings.DEFAULTS, new InMemoryStorage(), 1);
    r.electLeader();
    r.run(new ObservedIncarnation("n2", 9));
    r.runSelf();
    assertEquals(1, r.log().lastIndex(), "the no-op only: its term has no committed entry yet");

    Replica committed = MembershipRuleTest.leader();
    committed.run(new ObservedIncarnation("n9", 9));
    committed.run(new ObservedIncarnation("n2", Server.UNPUBLISHED));
    committed.runSelf();
    assertEquals(1, committed.log().lastIndex());
  }

  // Followers and candidates ignore observations: only the leader appends.
  @Test
  void aFollowerIgnoresObservations() {
    Replica r = new Replica("n2", THREE, TestSettings.DEFAULTS, new InMemoryStorage(), 1);
    r.run(new ObservedIncarnation("n3", 9));
    assertEquals(0, r.log().lastIndex());
    assertEquals(Server.UNPUBLISHED, r.status().configuration().incarnationOf("n3"));
  }

  // The encoding: format 1 (readable by a Tern before incarnations) while none is published, 2 once one is; both
  // round-trip, and an incarnation survives promotion and address completion.
  @Test
  void configurationsCarryIncarnationsAndStayInFormatOneWithout() {
    assertEquals(1, THREE.encode()[0]);
    Configuration published = THREE.withIncarnation("n3", -42L).with(new Server("n4", "h", 1, 2, false, 77));
    byte[] bytes = published.encode();
    assertEquals(2, bytes[0]);
    Configuration back = Configuration.decode(bytes);
    assertEquals(published, back);
    assertEquals(-42L, back.incarnationOf("n3"));
    assertEquals(77, back.promote("n4").incarnationOf("n4"));
    assertTrue(back.promote("n4").isVoter("n4"));
    Configuration known = new Configuration(List.of(new Server("n3", "10.0.0.3", 7, 8, true)));
    Server completed = back.withAddressesFrom(known).get("n3");
    assertEquals("10.0.0.3", completed.host());
    assertEquals(-42L, completed.incarnation());
    assertEquals(Server.UNPUBLISHED, back.incarnationOf("n9"));
    assertArrayEquals(THREE.encode(), Configuration.decode(THREE.encode()).encode());
    assertThrows(IllegalArgumentException.class, () -> THREE.withIncarnation("n9", 1));
    byte[] truncated = java.util.Arrays.copyOf(bytes, bytes.length - 4);
    assertThrows(IllegalArgumentException.class, () -> Configuration.decode(truncated));
  }
}

package dev.tern.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.raft.Configuration.Server;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The configuration value (dissertation chapter 4), its encoding, and the configurations a log holds (4.1). */
class ConfigurationTest {
  static final Server A = new Server("n1", "10.0.0.1", 7101, 8101, true);
  static final Server B = new Server("n2", "h2", 7102, 8102, true);
  static final Server L = new Server("n3", "h3", 7103, 8103, false);

  @Test
  void encodesAndDecodesServersInIdOrder() {
    Configuration c = new Configuration(List.of(L, A, B));
    assertEquals(List.of("n1", "n2", "n3"), c.ids());
    assertEquals(List.of("n1", "n2"), c.voterIds());
    Configuration back = Configuration.decode(c.encode());
    assertEquals(c, back);
    assertEquals(L, back.get("n3"));
  }

  @Test
  void refusesBytesThatAreNotAConfiguration() {
    byte[] good = new Configuration(List.of(A)).encode();
    assertThrows(IllegalArgumentException.class, () -> Configuration.decode(Arrays.copyOf(good, good.length - 1)));
    assertThrows(IllegalArgumentException.class, () -> Configuration.decode(Arrays.copyOf(good, good.length + 1)));
    byte[] badFormat = good.clone();
    badFormat[0] = 9;
    assertThrows(IllegalArgumentException.class, () -> Configuration.decode(badFormat));
    byte[] badFlag = good.clone();
    badFlag[badFlag.length - 1] = 2;
    assertThrows(IllegalArgumentException.class, () -> Configuration.decode(badFlag));
    assertThrows(IllegalArgumentException.class, () -> new Configuration(List.of(A, A)));
  }

  @Test
  void changesOneServerAtATime() {
    Configuration c = new Configuration(List.of(A, B));
    assertEquals(List.of("n1", "n2", "n3"), c.with(L).ids());
    assertFalse(c.with(L).isVoter("n3"));
    assertTrue(c.with(L).promote("n3").isVoter("n3"));
    assertEquals(List.of("n2"), c.without("n1").ids());
    assertEquals(c, c.without("n9"));
    Configuration idsOnly = Configuration.ofVoters(List.of("n1", "n2", "n3"));
    assertEquals(new Configuration(List.of(A, B, Server.voter("n3"))), idsOnly.withAddressesFrom(c));
  }

  // A majority of the voters, learners aside (4.2.1).
  @ParameterizedTest(name = "{0} voters and {1} learners: {2} votes make a majority: {3}")
  @CsvSource({"1,0,1,true", "1,2,0,false", "2,0,1,false", "2,0,2,true", "3,2,2,true", "3,2,1,false", "4,0,2,false",
      "4,1,3,true", "5,0,3,true", "5,0,2,false"})
  void aQuorumIsAMajorityOfTheVoters(int voters, int learners, int votes, boolean quorum) {
    Configuration c = Configuration.EMPTY;
    for (int i = 0; i < voters; i++) c = c.with(Server.voter("v" + i));
    for (int i = 0; i < learners; i++) c = c.with(new Server("l" + i, "", 0, 0, false));
    assertEquals(voters, c.voterCount());
    assertEquals(quorum, c.isQuorum(votes));
  }

  // 4.1: the latest configuration in the log is in force; truncating it falls back; compaction keeps the one in
  // force at the new base.
  @Test
  void theLogsConfigurationsFollowAppendsTruncationsAndCompaction() {
    Configuration base = new Configuration(List.of(A, B));
    Configuration two = base.with(L);
    Configuration three = two.promote("n3");
    Configurations cs = new Configurations(0, base);
    cs.appended(LogEntry.noop(1, 1));
    cs.appended(LogEntry.config(2, 1, two));
    cs.appended(LogEntry.config(5, 2, three));
    assertEquals(three, cs.latest());
    assertEquals(5, cs.latestIndex());
    assertEquals(base, cs.at(1));
    assertEquals(two, cs.at(4));
    assertEquals(1, cs.countAfter(4));
    assertEquals(2, cs.countAfter(1));
    cs.truncatedFrom(5);
    assertEquals(two, cs.latest());
    assertEquals(2, cs.latestIndex());
    cs.appended(LogEntry.config(5, 3, three));
    cs.compactedTo(3);
    assertEquals(two, cs.at(3));
    assertEquals(three, cs.latest());
    cs.truncatedFrom(4);
    assertEquals(two, cs.latest(), "the base, compacted to 3, holds the configuration in force there");
    assertEquals(3, cs.latestIndex());
    cs.reset(9, base);
    assertEquals(base, cs.latest());
    assertEquals(9, cs.latestIndex());
  }
}

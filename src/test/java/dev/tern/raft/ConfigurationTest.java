package dev.tern.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.raft.Configuration.Server;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

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

  // A server's id names it in every vote and message: it cannot be blank; ports are TCP ports (0 = not known).
  @ParameterizedTest(name = "artery {0}, http {1}: valid {2}")
  @CsvSource({"0,0,true", "65535,65535,true", "-1,0,false", "0,-1,false", "65536,0,false", "0,65536,false",
      "7101,8101,true"})
  void aServersPortsAreTcpPorts(int artery, int http, boolean valid) {
    if (valid) {
      Server s = new Server("n1", "h", artery, http, true);
      assertEquals(artery, s.arteryPort());
      assertEquals(http, s.httpPort());
      assertEquals(s, Configuration.decode(new Configuration(List.of(s)).encode()).get("n1"));
    } else {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> new Server("n1", "h", artery, http, true));
      assertEquals("ports must be in 0..65535, got " + artery + " and " + http, e.getMessage());
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"", " ", "\t"})
  void aServerIdMustNotBeBlank(String id) {
    assertThrows(IllegalArgumentException.class, () -> new Server(id, "h", 1, 2, true));
    assertThrows(NullPointerException.class, () -> new Server(null, "h", 1, 2, true));
  }

  @Test
  void aMissingHostIsEmptyAndMeansNoAddresses() {
    Server s = new Server("n1", null, 0, 0, false);
    assertEquals("", s.host());
    assertTrue(s.sameAddresses(new Server("n9", "", 0, 0, true)));
    assertFalse(s.hasAddresses());
    assertTrue(A.hasAddresses());
    assertFalse(Server.voter("n1").hasAddresses());
  }

  // A server that has addresses keeps them; only one without takes the known ones.
  @Test
  void withAddressesFromFillsOnlyServersWithoutAddresses() {
    Server moved = new Server("n1", "elsewhere", 1, 2, true);
    Configuration c = new Configuration(List.of(moved, Server.voter("n2"), new Server("n3", "", 0, 0, false)));
    Configuration known = new Configuration(List.of(A, B, new Server("n3", "h3", 7103, 8103, true)));
    Configuration filled = c.withAddressesFrom(known);
    assertEquals(moved, filled.get("n1"));
    assertEquals(B, filled.get("n2"));
    assertEquals(L, filled.get("n3"), "addresses taken, the role kept");
  }

  @Test
  void promotingAnUnknownServerIsRefused() {
    Configuration c = new Configuration(List.of(A, L));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> c.promote("n9"));
    assertEquals("no server n9", e.getMessage());
    assertEquals(c.promote("n3"), c.promote("n3").promote("n3"));
  }

  @Test
  void toStringListsIdsAndMarksLearners() {
    assertEquals("{}", Configuration.EMPTY.toString());
    assertEquals("{n1}", new Configuration(List.of(A)).toString());
    assertEquals("{n1 n2 n3(learner)}", new Configuration(List.of(L, B, A)).toString());
    assertEquals("{n3(learner)}", new Configuration(List.of(L)).toString());
  }

  @Test
  void theEmptyConfigurationAndEmptyHostsRoundTrip() {
    assertEquals(Configuration.EMPTY, Configuration.decode(Configuration.EMPTY.encode()));
    Configuration idsOnly = Configuration.ofVoters(List.of("n1", "n2"));
    assertEquals(idsOnly, Configuration.decode(idsOnly.encode()));
  }

  /** The header of an encoding: the format byte and a server count, then {@code rest}. */
  private static byte[] withCount(int count, byte[] rest) {
    return ByteBuffer.allocate(5 + rest.length).put((byte) 1).putInt(count).put(rest).array();
  }

  // The count and the string lengths come from the bytes: a bad one is refused by name, before it sizes anything.
  @Test
  void badCountsAndLengthsAreRefusedWithTheirValue() {
    byte[] one = new Configuration(List.of(A)).encode();
    byte[] server = Arrays.copyOfRange(one, 5, one.length);
    assertEquals(new Configuration(List.of(A)), Configuration.decode(withCount(1, server)));
    assertDecodeError("bad server count -1", withCount(-1, server));
    assertDecodeError("bad server count " + Integer.MAX_VALUE, withCount(Integer.MAX_VALUE, server));
    byte[] countIsLength = withCount(0, server);
    ByteBuffer.wrap(countIsLength).putInt(1, countIsLength.length);
    assertDecodeError("truncated configuration", countIsLength);
    assertDecodeError("bad server count " + (countIsLength.length + 1), withCount(countIsLength.length + 1, server));

    byte[] negative = server.clone();
    ByteBuffer.wrap(negative).putInt(0, -1);
    assertDecodeError("bad string length -1", withCount(1, negative));
    byte[] huge = server.clone();
    ByteBuffer.wrap(huge).putInt(0, Integer.MAX_VALUE);
    assertDecodeError("bad string length " + Integer.MAX_VALUE, withCount(1, huge));
    // An id as long as everything left would leave no room for the rest: the bytes run out, not the length check.
    byte[] allOfIt = server.clone();
    ByteBuffer.wrap(allOfIt).putInt(0, allOfIt.length - 4);
    assertDecodeError("truncated configuration", withCount(1, allOfIt));
    ByteBuffer.wrap(allOfIt).putInt(0, allOfIt.length - 3);
    assertDecodeError("bad string length " + (allOfIt.length - 3), withCount(1, allOfIt));
  }

  private static void assertDecodeError(String message, byte[] bytes) {
    assertEquals(message, assertThrows(IllegalArgumentException.class, () -> Configuration.decode(bytes)).getMessage());
  }

  // 4.1: the configuration at an index is the latest at or before it: an entry's own index included.
  @Test
  void theConfigurationAtAnEntrysIndexIsThatEntrys() {
    Configuration base = new Configuration(List.of(A, B));
    Configuration two = base.with(L);
    Configurations cs = new Configurations(0, base);
    cs.appended(LogEntry.config(2, 1, two));
    assertEquals(base, cs.at(1));
    assertEquals(two, cs.at(2));
    assertEquals(1, cs.countAfter(1));
    assertEquals(0, cs.countAfter(2), "an entry at the index itself does not follow it");
  }

  // Section 7 / 5.1: the base stands for everything at or below it; it is never an entry that follows an index,
  // and neither truncation nor compaction removes it.
  @Test
  void theBaseIsNeverCountedNorRemoved() {
    Configuration base = new Configuration(List.of(A, B));
    Configuration two = base.with(L);
    Configuration three = two.promote("n3");
    Configurations cs = new Configurations(4, base);
    assertEquals(0, cs.countAfter(1), "the base is not an entry");
    cs.truncatedFrom(4);
    assertEquals(base, cs.latest());
    assertEquals(4, cs.latestIndex());

    cs.appended(LogEntry.config(6, 1, two));
    cs.appended(LogEntry.config(8, 1, three));
    cs.compactedTo(6);
    assertEquals(two, cs.at(6));
    assertEquals(1, cs.countAfter(5), "the entry at 6 is now the base: only the one at 8 follows");
    assertEquals(1, cs.countAfter(6));

    cs.reset(9, base);
    assertEquals(base, cs.at(7), "the snapshot's configuration replaces every earlier one");
    assertEquals(0, cs.countAfter(2));
  }
}

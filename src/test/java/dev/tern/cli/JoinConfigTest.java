package dev.tern.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code tern node --join URL}: what a node learns from a member's status, and the settings it starts with. */
class JoinConfigTest {
  static final String STATUS = """
      {"id":"n1","role":"LEADER","clusterId":"c-1234","configuration":{"configurationIndex":7,"members":[
        {"id":"n1","host":"10.0.0.1","arteryPort":7101,"httpPort":8101,"role":"voter"},
        {"id":"n2","host":"10.0.0.2","arteryPort":7102,"httpPort":8102,"role":"voter"},
        {"id":"n4","host":"10.0.0.4","arteryPort":7104,"httpPort":8104,"role":"learner"}]}}""";

  private static JoinConfig.Learned learned() throws Exception {
    return JoinConfig.parse(new ObjectMapper().readTree(STATUS));
  }

  @Test
  void learnsTheClusterIdAndTheConfigurationInForce() throws Exception {
    JoinConfig.Learned l = learned();
    assertEquals("c-1234", l.clusterId());
    Map<String, String> expected = new LinkedHashMap<>();
    expected.put("n1", "10.0.0.1:7101:8101");
    expected.put("n2", "10.0.0.2:7102:8102");
    expected.put("n4", "10.0.0.4:7104:8104");
    assertEquals(expected, l.members());
  }

  @Test
  void aNewNodeJoinsWithTheMembersLearnedPlusItselfAtItsAdvertisedAddress() throws Exception {
    Config c = JoinConfig.overrides("n5", learned(), " 10.0.0.5:7105:8105 ");
    assertEquals("n1=10.0.0.1:7101:8101,n2=10.0.0.2:7102:8102,n4=10.0.0.4:7104:8104,n5=10.0.0.5:7105:8105",
        c.getString("tern.cluster.members-spec"));
    assertTrue(c.getBoolean("tern.cluster.join"));
    assertEquals("c-1234", c.getString("tern.cluster.id"));
  }

  @Test
  void aListedNodeNeedsNoAdvertiseAndMayRepeatItsListedAddress() throws Exception {
    Config restart = JoinConfig.overrides("n4", learned(), null);
    assertEquals("n1=10.0.0.1:7101:8101,n2=10.0.0.2:7102:8102,n4=10.0.0.4:7104:8104",
        restart.getString("tern.cluster.members-spec"));
    assertEquals(restart.getString("tern.cluster.members-spec"),
        JoinConfig.overrides("n4", learned(), "10.0.0.4:7104:8104").getString("tern.cluster.members-spec"));
  }

  @Test
  void refusesWhatCannotWork() throws Exception {
    JoinConfig.Learned l = learned();
    IllegalArgumentException unlisted = assertThrows(IllegalArgumentException.class,
        () -> JoinConfig.overrides("n5", l, ""));
    assertTrue(unlisted.getMessage().contains("--advertise"), unlisted.getMessage());
    IllegalArgumentException moved = assertThrows(IllegalArgumentException.class,
        () -> JoinConfig.overrides("n4", l, "10.0.0.9:7104:8104"));
    assertTrue(moved.getMessage().contains("tern member remove n4"), moved.getMessage());
    for (String bad : new String[] {"10.0.0.5:7105", "10.0.0.5:x:8105", ":7105:8105", "h:0:8105", "h:7105:65536"}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> JoinConfig.overrides("n5", l, bad), bad);
      assertTrue(e.getMessage().contains("HOST:ARTERY-PORT:HTTP-PORT"), e.getMessage());
    }
    ObjectMapper json = new ObjectMapper();
    assertThrows(IllegalStateException.class, () -> JoinConfig.parse(json.readTree("{\"id\":\"n1\"}")));
    assertThrows(IllegalStateException.class, () -> JoinConfig.parse(null));
    assertThrows(IllegalStateException.class, () -> JoinConfig.parse(
        json.readTree("{\"clusterId\":\"c\",\"configuration\":{\"members\":[]}}")));
  }

  /** Issue 17: a voter of the cluster starting empty has lost its state and is refused; a learner may start empty. */
  @Test
  void aVoterStartingOnAnEmptyDirectoryIsRefused(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp)
      throws Exception {
    JoinConfig.Learned l = learned();
    dev.tern.cluster.NodeDataDir.LostStateException lost = assertThrows(
        dev.tern.cluster.NodeDataDir.LostStateException.class,
        () -> JoinConfig.refuseLostVoter("n2", l, tmp.resolve("n2")));
    assertTrue(lost.getMessage().contains("lists n2 as a voter") && lost.getMessage().contains("tern member remove n2"),
        lost.getMessage());
    JoinConfig.refuseLostVoter("n4", l, tmp.resolve("n4")); // a learner: may start empty
    JoinConfig.refuseLostVoter("n5", l, tmp.resolve("n5")); // not a member yet
    new dev.tern.storage.DataDirIdentity("c-1234", "n2").write(java.nio.file.Files.createDirectories(tmp.resolve("n2")), false);
    JoinConfig.refuseLostVoter("n2", l, tmp.resolve("n2")); // its own directory: a restart
  }

  /** The whole command, against a fake member: --print-config shows the members learned and this node. */
  @Test
  void ternNodeJoinAsksTheMemberAndStartsFromItsAnswer() throws Exception {
    try (FakeNode member = new FakeNode()) {
      member.respond(200, STATUS);
      Cli.Result r = Cli.run("node", "--id", "n5", "--join", member.url(), "--advertise", "127.0.0.1:7105:8105",
          "--print-config");
      assertEquals(0, r.code(), r.err());
      assertEquals("/v1/status", member.only().rawPath());
      assertTrue(r.out().contains("n5  artery 127.0.0.1:7105  http http://127.0.0.1:8105  (this node)"), r.out());
      assertTrue(r.out().contains("n4  artery 10.0.0.4:7104"), r.out());
      assertTrue(r.out().contains("c-1234"), r.out());
    }
    // A voter of that cluster on an empty directory: refused (exit 5) with the way back.
    try (FakeNode member = new FakeNode()) {
      member.respond(200, STATUS);
      java.nio.file.Path empty = java.nio.file.Files.createTempDirectory("tern-join-test");
      try {
        Cli.Result lost = Cli.run("node", "--id", "n2", "--join", member.url(), "-Dtern.data-dir=" + empty.resolve("n2"),
            "--print-config");
        assertEquals(ExitCodes.ERROR, lost.code(), lost.out());
        assertTrue(lost.err().contains("lists n2 as a voter"), lost.err());
      } finally {
        System.clearProperty("tern.data-dir"); // tern node's -D sets a system property of this JVM
        java.nio.file.Files.deleteIfExists(empty);
      }
    }
    // No member answers: exit 4 with the reason.
    Cli.Result down = Cli.run("node", "--id", "n5", "--join", "http://127.0.0.1:1", "--advertise",
        "127.0.0.1:7105:8105", "--print-config");
    assertEquals(ExitCodes.UNAVAILABLE, down.code(), down.out());
    assertTrue(down.err().contains("cannot join through http://127.0.0.1:1"), down.err());
    // A bad --advertise is a usage error.
    try (FakeNode member = new FakeNode()) {
      member.respond(200, STATUS);
      Cli.Result bad = Cli.run("node", "--id", "n5", "--join", member.url(), "--advertise", "nowhere",
          "--print-config");
      assertEquals(ExitCodes.USAGE, bad.code(), bad.out());
      assertTrue(bad.err().contains("bad --advertise"), bad.err());
    }
  }
}

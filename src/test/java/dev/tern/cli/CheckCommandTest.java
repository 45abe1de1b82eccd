package dev.tern.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** {@code tern check} against a fake node: its request, its table, and its exit codes. */
class CheckCommandTest {
  private static final String CONSISTENT = "{\"index\":40,\"consistent\":true,\"conclusive\":true,\"reference\":\"aaa\","
      + "\"mismatched\":[],\"unchecked\":[],\"members\":[{\"id\":\"n1\",\"digest\":\"aaa\",\"appliedIndex\":41},"
      + "{\"id\":\"n2\",\"digest\":\"aaa\",\"appliedIndex\":40}]}";
  private static final String MISMATCH = "{\"index\":40,\"consistent\":false,\"conclusive\":true,\"reference\":\"aaa\","
      + "\"mismatched\":[\"n3\"],\"unchecked\":[],\"members\":[{\"id\":\"n1\",\"digest\":\"aaa\",\"appliedIndex\":41},"
      + "{\"id\":\"n2\",\"digest\":\"aaa\",\"appliedIndex\":40},{\"id\":\"n3\",\"digest\":\"bbb\",\"appliedIndex\":40,"
      + "\"alarm\":\"raised\"}]}";
  private static final String INCONCLUSIVE = "{\"index\":40,\"consistent\":false,\"conclusive\":false,\"reference\":null,"
      + "\"mismatched\":[],\"unchecked\":[\"n2\",\"n3\"],\"problem\":\"no digest is held by more than half\","
      + "\"members\":[{\"id\":\"n1\",\"digest\":\"aaa\"},{\"id\":\"n2\",\"error\":\"connection refused\"},"
      + "{\"id\":\"n3\",\"error\":\"connection refused\"}]}";

  @Test
  void aConsistentCheckExitsZeroAndPrintsEachMembersDigest() throws Exception {
    try (FakeNode node = new FakeNode().respond(200, CONSISTENT)) {
      Cli.Result r = Cli.run("check", "--node", node.url(), "--timeout", "20s", "--token", "t0k");
      assertEquals(0, r.code(), r.toString());
      assertTrue(r.out().startsWith("consistent at index 40: every member that answered holds digest aaa\n"), r.out());
      assertTrue(r.out().contains("n2      40       aaa"), r.out());
      FakeNode.Request sent = node.only();
      assertEquals("POST", sent.method());
      assertEquals("/v1/check", sent.rawPath());
      assertEquals("timeout=19000ms", sent.rawQuery());
    }
  }

  @Test
  void aMismatchExitsOneNamingTheMember() throws Exception {
    try (FakeNode node = new FakeNode().respond(200, MISMATCH)) {
      Cli.Result r = Cli.run("check", "--node", node.url());
      assertEquals(CheckCommand.INCONSISTENT, r.code(), r.toString());
      assertTrue(r.err().startsWith("INCONSISTENT at index 40: n3 holds"), r.err());
      assertTrue(r.err().contains("Replacing a node"), r.err());
      assertTrue(r.out().contains("DIFFERS from the majority (alarm raised)"), r.out());
    }
  }

  @Test
  void anInconclusiveCheckExitsOneToo() throws Exception {
    try (FakeNode node = new FakeNode().respond(200, INCONCLUSIVE)) {
      Cli.Result r = Cli.run("check", "--node", node.url());
      assertEquals(CheckCommand.INCONSISTENT, r.code(), r.toString());
      assertTrue(r.err().startsWith("inconclusive at index 40"), r.err());
      assertTrue(r.out().contains("unchecked: connection refused"), r.out());
    }
  }

  @Test
  void disarmAsksForTheNamedMember() throws Exception {
    try (FakeNode node = new FakeNode().respond(200, "{\"id\":\"n3\",\"disarmed\":true,\"alarm\":false}")) {
      Cli.Result r = Cli.run("check", "--disarm", "n3", "--node", node.url());
      assertEquals(0, r.code(), r.toString());
      assertEquals("n3: CORRUPT alarm cleared\n", r.out());
      assertEquals("/v1/check/disarm", node.only().rawPath());
      assertEquals("node=n3", node.only().rawQuery());
    }
  }

  @Test
  void aNodeWithoutChecksOrANodeThatIsDownFailsAsOtherCommandsDo() throws Exception {
    try (FakeNode node = new FakeNode().respond(503, "{\"error\":\"unavailable\",\"reason\":\"no leader\"}")) {
      assertEquals(ExitCodes.UNAVAILABLE, Cli.run("check", "--node", node.url()).code());
    }
    try (FakeNode node = new FakeNode().respond(403, "{\"error\":\"forbidden\"}")) {
      assertEquals(ExitCodes.ERROR, Cli.run("check", "--node", node.url()).code());
    }
  }
}

package dev.tern.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** {@code tern member list|add|remove} against a fake node: requests sent, output, exit codes. */
class MemberCommandsTest extends FakeNodeTest {

  @Test
  void addPutsTheAddressesAndPrintsTheCommittedConfiguration() {
    node.respond(200, "{\"index\":9,\"members\":[{\"id\":\"n1\",\"role\":\"voter\"},{\"id\":\"n4\",\"role\":\"learner\"}]}");
    Cli.Result r = tern("member", "add", "n4", "--host", "10.0.0.4", "--artery-port", "7104", "--http-port", "8104");
    assertEquals(ExitCodes.OK, r.code(), r::toString);
    assertEquals("OK added n4 as a learner; configuration at index 9: n1 n4(learner)\n", r.out());
    FakeNode.Request req = node.only();
    assertEquals("PUT", req.method());
    assertEquals("/v1/members/n4", req.rawPath());
    assertEquals("{\"host\":\"10.0.0.4\",\"arteryPort\":7104,\"httpPort\":8104}", req.body());
  }

  @Test
  void removeDeletesAndRefusalsHaveTheirExitCodes() {
    node.respond(200, "{\"index\":10,\"members\":[{\"id\":\"n2\",\"role\":\"voter\"}]}");
    Cli.Result ok = tern("member", "remove", "n1");
    assertEquals(ExitCodes.OK, ok.code(), ok::toString);
    assertEquals("DELETE", node.only().method());
    assertEquals("/v1/members/n1", node.only().rawPath());

    node.respond(409, "{\"error\":\"removing n2 would leave no voter\",\"reason\":\"LAST_VOTER\"}");
    Cli.Result refused = tern("member", "remove", "n2");
    assertEquals(ExitCodes.CONFLICT, refused.code());
    assertEquals("refused (HTTP 409): removing n2 would leave no voter: LAST_VOTER\n", refused.err());

    node.respond(404, "{\"error\":\"n9 is not a member\"}");
    assertEquals(ExitCodes.NOT_FOUND, tern("member", "remove", "n9").code());
    node.respond(503, "{\"error\":\"in progress\"}");
    assertEquals(ExitCodes.UNAVAILABLE, tern("member", "remove", "n9").code());
  }

  @Test
  void listPrintsRolesAndTheLeadersProgress() {
    node.respond(200, "{\"id\":\"n1\",\"leader\":\"n1\",\"role\":\"LEADER\",\"configurationIndex\":9,\"members\":["
        + "{\"id\":\"n1\",\"host\":\"h1\",\"arteryPort\":7101,\"httpPort\":8101,\"role\":\"voter\",\"matchIndex\":12,\"lastContactMsAgo\":0},"
        + "{\"id\":\"n4\",\"host\":\"h4\",\"arteryPort\":7104,\"httpPort\":8104,\"role\":\"learner\",\"matchIndex\":3,\"lastContactMsAgo\":-1}]}");
    Cli.Result r = tern("member", "list");
    assertEquals(ExitCodes.OK, r.code(), r::toString);
    assertEquals("GET", node.only().method());
    assertEquals("/v1/members", node.only().rawPath());
    String[] lines = r.out().split("\n");
    assertEquals("asked n1; leader n1; configuration of index 9", lines[0]);
    assertTrue(lines[2].matches("n1\\s+h1\\s+7101\\s+8101\\s+voter \\(leader\\)\\s+12\\s+0 ms ago"), lines[2]);
    assertTrue(lines[3].matches("n4\\s+h4\\s+7104\\s+8104\\s+learner\\s+3\\s+never"), lines[3]);
  }

  @Test
  void addNeedsTheAddresses() {
    assertEquals(ExitCodes.USAGE, tern("member", "add", "n4", "--host", "h").code());
    assertTrue(node.requests().isEmpty());
  }
}

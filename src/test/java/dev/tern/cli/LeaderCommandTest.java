package dev.tern.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code tern leader transfer} against a fake node: the request, the output and the exit codes. */
class LeaderCommandTest extends FakeNodeTest {

  @Test
  void transferToANamedMemberPostsItAndPrintsTheNewLeader() {
    node.respond(200, "{\"leader\":\"n2\",\"term\":8}");
    Cli.Result r = tern("leader", "transfer", "n2");
    assertEquals(ExitCodes.OK, r.code(), r::toString);
    assertEquals("leader n2 term=8\n", r.out());
    FakeNode.Request req = node.only();
    assertEquals("POST", req.method());
    assertEquals("/v1/leader/transfer", req.rawPath());
    assertEquals("to=n2", req.rawQuery());
  }

  @Test
  void withoutAnIdTheLeaderChooses() {
    node.respond(200, "{\"leader\":\"n3\",\"term\":9}");
    Cli.Result r = tern("leader", "transfer");
    assertEquals(ExitCodes.OK, r.code(), r::toString);
    assertNull(node.only().rawQuery());
  }

  @ParameterizedTest(name = "HTTP {0} -> exit {1}")
  @CsvSource(delimiter = '|', value = {
    "404 | 1 | {\"error\":\"no such member\",\"id\":\"n9\"}                          | not found (HTTP 404): no such member",
    "409 | 3 | {\"error\":\"transfer refused\",\"reason\":\"a transfer is in progress\"} | refused (HTTP 409): transfer refused: a transfer is in progress",
    "503 | 4 | {\"error\":\"transfer failed\",\"reason\":\"n2 did not take over\"}      | unavailable (HTTP 503): transfer failed: n2 did not take over",
    "200 | 5 | {\"leader\":null}                                                      | unexpected answer",
  })
  void failuresMapToExitCodes(int status, int exit, String body, String message) {
    node.respond(status, body);
    Cli.Result r = tern("leader", "transfer", "n9");
    assertEquals(exit, r.code(), r::toString);
    assertTrue(r.err().contains(message), r::toString);
    assertEquals("", r.out());
  }

  @Test
  void withoutASubcommandItIsAUsageError() {
    Cli.Result r = Cli.run("leader");
    assertEquals(ExitCodes.USAGE, r.code(), r::toString);
    assertTrue(r.err().contains("transfer"), r::toString);
  }
}

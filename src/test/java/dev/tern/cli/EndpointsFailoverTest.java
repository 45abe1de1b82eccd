package dev.tern.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@code --endpoints} and {@code TERN_ENDPOINTS}: the client moves on to the next node, against fake nodes. */
class EndpointsFailoverTest {
  private final Map<String, String> env = new HashMap<>();

  EndpointsFailoverTest() {
    ClientCommand.env = env::get;
  }

  @AfterEach
  void restoreEnvironment() {
    ClientCommand.env = System::getenv;
  }

  /** A port nothing listens on: connecting is refused. */
  private static String deadAddress() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
      return "http://127.0.0.1:" + s.getLocalPort();
    }
  }

  private static final String WRITTEN = "{\"key\":\"k\",\"value\":\"v\",\"revision\":7}";
  private static final String NO_LEADER = "{\"error\":\"unavailable\",\"reason\":\"no leader known\"}";

  @Test
  void aRefusedConnectionMovesOnToTheNextNode() throws Exception {
    try (FakeNode live = new FakeNode().respond(200, WRITTEN)) {
      Cli.Result r = Cli.run("put", "k", "v", "--endpoints", deadAddress() + "," + live.url());
      assertEquals(0, r.code(), r.toString());
      assertEquals("OK revision=7\n", r.out());
      assertEquals("PUT", live.only().method());
    }
  }

  @Test
  void a503WithoutALeaderMovesOnAndTheAnswerOfTheNextCounts() throws Exception {
    try (FakeNode lost = new FakeNode().respond(503, NO_LEADER); FakeNode live = new FakeNode().respond(200, WRITTEN)) {
      Cli.Result r = Cli.run("put", "k", "v", "--endpoints", lost.url() + "," + live.url());
      assertEquals(0, r.code(), r.toString());
      assertEquals(1, lost.requests().size());
      assertEquals(1, live.requests().size());
    }
  }

  /**
   * Exactly-once writes (docs/api.md): each write command sends one fresh Request-Id, the same to every endpoint
   * it fails over to, so the cluster applies it once even when the node that timed out had taken it.
   */
  @Test
  void aWriteKeepsItsRequestIdAcrossFailoverAndEachCommandGetsAFreshOne() throws Exception {
    for (String[] command : new String[][] {{"put", "k", "v"}, {"del", "k"}, {"cas", "k", "3", "v"}}) {
      try (FakeNode lost = new FakeNode().respond(503, NO_LEADER); FakeNode live = new FakeNode().respond(200, WRITTEN)) {
        String[] args = java.util.stream.Stream.concat(java.util.Arrays.stream(command),
            java.util.stream.Stream.of("--endpoints", lost.url() + "," + live.url())).toArray(String[]::new);
        Cli.Result first = Cli.run(args);
        assertEquals(0, first.code(), first.toString());
        Cli.run(args);
        String id = lost.requests().get(0).requestId();
        assertTrue(id != null && id.matches("[0-9a-f-]{36}"), command[0] + ": a UUID request id, got " + id);
        assertEquals(id, live.requests().get(0).requestId(), command[0] + ": the same id on the next endpoint");
        assertTrue(!id.equals(lost.requests().get(1).requestId()), command[0] + ": the next command has a new id");
      }
    }
  }

  @Test
  void readsCarryNoRequestId() throws Exception {
    try (FakeNode live = new FakeNode().respond(200, WRITTEN)) {
      assertEquals(0, Cli.run("get", "k", "--endpoints", live.url()).code());
      assertEquals(null, live.only().requestId());
    }
  }

  @Test
  void aTimeoutMovesOnToTheNextNode() throws Exception {
    try (FakeNode stuck = new FakeNode().hang(); FakeNode live = new FakeNode().respond(200, WRITTEN)) {
      Cli.Result r = Cli.run("put", "k", "v", "--timeout", "2s", "--endpoints", stuck.url() + "," + live.url());
      assertEquals(0, r.code(), r.toString());
      assertEquals(1, live.requests().size());
    }
  }

  @Test
  void otherErrorsAreAnswersAndDoNotMoveOn() throws Exception {
    try (FakeNode first = new FakeNode().respond(404, "{\"error\":\"key not found\"}");
        FakeNode second = new FakeNode().respond(200, WRITTEN)) {
      Cli.Result r = Cli.run("get", "k", "--endpoints", first.url() + "," + second.url());
      assertEquals(ExitCodes.NOT_FOUND, r.code(), r.toString());
      assertEquals(0, second.requests().size());
    }
  }

  @Test
  void whenEveryNodeFailsTheLastAnswerIsReported() throws Exception {
    try (FakeNode a = new FakeNode().respond(503, NO_LEADER); FakeNode b = new FakeNode().respond(503, NO_LEADER)) {
      Cli.Result r = Cli.run("get", "k", "--endpoints", a.url() + "," + b.url());
      assertEquals(ExitCodes.UNAVAILABLE, r.code(), r.toString());
      assertTrue(r.err().contains("no leader known"), r.err());
    }
    Cli.Result down = Cli.run("get", "k", "--endpoints", deadAddress() + "," + deadAddress());
    assertEquals(ExitCodes.UNAVAILABLE, down.code(), down.toString());
    assertTrue(down.err().startsWith("unavailable: no endpoint answered; last: cannot connect to"), down.err());
  }

  @Test
  void theEnvironmentGivesTheEndpointsAndTheOptionsWin() throws Exception {
    try (FakeNode lost = new FakeNode().respond(503, NO_LEADER); FakeNode live = new FakeNode().respond(200, WRITTEN);
        FakeNode other = new FakeNode().respond(200, WRITTEN)) {
      env.put("TERN_ENDPOINTS", lost.url() + "," + live.url());
      env.put("TERN_NODE", other.url());
      assertEquals(0, Cli.run("put", "k", "v").code());
      assertEquals(1, live.requests().size());
      assertEquals(0, other.requests().size(), "TERN_ENDPOINTS wins over TERN_NODE");

      assertEquals(0, Cli.run("put", "k", "v", "--node", other.url()).code());
      assertEquals(1, other.requests().size(), "--node wins over the environment");
      env.remove("TERN_ENDPOINTS");
      assertEquals(0, Cli.run("get", "k").code());
      assertEquals(2, other.requests().size(), "TERN_NODE still works");
    }
  }

  @Test
  void nodeAndEndpointsTogetherOrABadListAreUsageErrors() {
    Cli.Result both = Cli.run("get", "k", "--node", "127.0.0.1:1", "--endpoints", "127.0.0.1:2");
    assertEquals(ExitCodes.USAGE, both.code());
    assertTrue(both.err().contains("either --node or --endpoints"), both.err());
    Cli.Result bad = Cli.run("get", "k", "--endpoints", "ftp://x:1");
    assertEquals(ExitCodes.USAGE, bad.code());
    assertTrue(bad.err().contains("--endpoints: bad node address"), bad.err());
    Cli.Result empty = Cli.run("get", "k", "--endpoints", ",");
    assertEquals(ExitCodes.USAGE, empty.code());
  }
}

package dev.tern.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code tern watch}: prints changes, resumes on the next endpoint from the revision after the last one printed. */
class WatchCommandTest {

  private static String event(String type, long revision, String data) {
    return "event: " + type + "\nid: " + revision + "\ndata: " + data + "\n\n";
  }

  private static final String STARTED = "event: watching\ndata: {\"startRevision\":5,\"oldestRevision\":1}\n\n";

  @Test
  void printsChangesAndResumesOnTheNextNodeFromTheRevisionAfterTheLast() throws Exception {
    String first = STARTED + ": keep-alive\n\n"
        + event("put", 5, "{\"type\":\"put\",\"key\":\"app/a\",\"value\":\"1\",\"revision\":5}");
    String second = "event: watching\ndata: {\"startRevision\":6}\n\n"
        + event("delete", 6, "{\"type\":\"delete\",\"key\":\"app/a\",\"revision\":6}")
        + event("put", 8, "{\"type\":\"put\",\"key\":\"app/b\",\"valueBase64\":\"AP8=\",\"revision\":8}");
    try (FakeNode a = new FakeNode().respond(200, first); FakeNode b = new FakeNode().respond(200, second)) {
      Cli.Result r = Cli.run("watch", "app/", "--count", "3", "--endpoints", a.url() + "," + b.url());
      assertEquals(0, r.code(), r.toString());
      assertEquals("put\tapp/a\t1\t5\ndelete\tapp/a\t\t6\nput\tapp/b\tbase64:AP8=\t8\n", r.out().replace("\r\n", "\n"));
      assertEquals("prefix=app%2F", a.only().rawQuery());
      assertEquals("prefix=app%2F&from=6", b.only().rawQuery(), "resumed after the last revision printed");
    }
  }

  @Test
  void anErrorEventResumesFromTheRevisionItNames() throws Exception {
    String behind = STARTED + event("error", 0, "{\"error\":\"fell behind\",\"resumeFrom\":9}");
    String rest = event("put", 9, "{\"type\":\"put\",\"key\":\"k\",\"value\":\"v\",\"revision\":9}");
    try (FakeNode a = new FakeNode().respond(200, behind); FakeNode b = new FakeNode().respond(200, rest)) {
      Cli.Result r = Cli.run("watch", "--key", "k", "--from", "3", "--count", "1", "--endpoints", a.url() + "," + b.url());
      assertEquals(0, r.code(), r.toString());
      assertEquals("key=k&from=3", a.only().rawQuery());
      assertEquals("key=k&from=9", b.only().rawQuery());
      assertTrue(r.err().contains("fell behind"), r.err());
    }
  }

  @Test
  void aCompactedRevisionAndBadArgumentsAreErrors() throws Exception {
    try (FakeNode a = new FakeNode().respond(410, "{\"error\":\"revision 1 is compacted\",\"oldestRevision\":40}")) {
      Cli.Result r = Cli.run("watch", "--from", "1", "--node", a.url());
      assertEquals(ExitCodes.ERROR, r.code(), r.toString());
      assertTrue(r.err().contains("410") && r.err().contains("compacted"), r.err());
    }
    assertEquals(ExitCodes.USAGE, Cli.run("watch", "p", "--key", "k").code());
    assertEquals(ExitCodes.USAGE, Cli.run("watch", "--from", "-1").code());
  }

  @Test
  void theEventStreamParserFollowsTheFormat() {
    List<ServerSentEvents.Event> got = new ArrayList<>();
    ServerSentEvents p = new ServerSentEvents(got::add);
    for (String line : List.of(": comment", "event: put", "id: 7", "data: a", "data:b", "", "", "data", "retry: 5", "")) {
      p.line(line);
    }
    assertEquals(List.of(new ServerSentEvents.Event("put", "7", "a\nb"), new ServerSentEvents.Event("message", null, "")),
        got);
  }
}

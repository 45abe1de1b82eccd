package dev.tern.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import org.junit.jupiter.api.Test;

/** The client commands against a fake node: requests sent, output, exit codes. */
class ClientCommandsTest extends FakeNodeTest {

  private static void assertExit(int expected, Cli.Result r) {
    assertEquals(expected, r.code(), r::toString);
  }

  // ---- put / cas ----

  @Test
  void putSendsTheValueAndPrintsTheRevision() {
    node.respond(200, "{\"key\":\"greeting\",\"value\":\"hello world\",\"revision\":7}");
    Cli.Result r = tern("put", "greeting", "hello world");
    assertExit(ExitCodes.OK, r);
    assertEquals("OK revision=7\n", r.out());
    assertEquals("", r.err());
    FakeNode.Request req = node.only();
    assertEquals("PUT", req.method());
    assertEquals("/v1/kv/greeting", req.rawPath());
    assertNull(req.rawQuery());
    assertEquals("hello world", req.body());
  }

  @Test
  void keysAreEncodedPartByPartKeepingSlashes() {
    node.respond(200, "{\"key\":\"k\",\"value\":\"v\",\"revision\":1}");
    assertExit(ExitCodes.OK, tern("put", "users/ana maría/a?b#c%d+e", "v"));
    assertEquals("/v1/kv/users/ana%20mar%C3%ADa/a%3Fb%23c%25d%2Be", node.only().rawPath());
  }

  @Test
  void dotSegmentsAreEncodedSoTheyAreNotNormalisedAway() {
    assertEquals("a/%2E%2E/%2E/b", TernClient.keyPath("a/.././b"));
    assertEquals("%2E%2E", TernClient.keyPath(".."));
    assertEquals("a//b/", TernClient.keyPath("a//b/"));
  }

  @Test
  void valuesAreSentAsUtf8() {
    node.respond(200, "{\"revision\":3}");
    assertExit(ExitCodes.OK, tern("put", "k", "héllo ✓"));
    assertEquals("héllo ✓", node.only().body());
    assertTrue(node.only().contentType().contains("UTF-8"), node.only().contentType());
  }

  @Test
  void casSendsTheExpectedRevision() {
    node.respond(200, "{\"key\":\"k\",\"value\":\"v2\",\"revision\":12}");
    Cli.Result r = tern("cas", "k", "11", "v2");
    assertExit(ExitCodes.OK, r);
    assertEquals("OK revision=12\n", r.out());
    assertEquals("PUT", node.only().method());
    assertEquals("cas=11", node.only().rawQuery());
    assertEquals("v2", node.only().body());
  }

  @Test
  void casConflictExits3AndShowsTheCurrentRevision() {
    node.respond(409, "{\"error\":\"revision mismatch\",\"key\":\"k\",\"revision\":15}");
    Cli.Result r = tern("cas", "k", "11", "v2");
    assertExit(ExitCodes.CONFLICT, r);
    assertEquals("", r.out());
    assertTrue(r.err().contains("revision mismatch"), r::toString);
    assertTrue(r.err().contains("current revision=15"), r::toString);
  }

  // ---- get ----

  @Test
  void getPrintsTheValue() {
    node.respond(200, "{\"key\":\"k\",\"value\":\"line one\",\"revision\":4}");
    Cli.Result r = tern("get", "k");
    assertExit(ExitCodes.OK, r);
    assertEquals("line one\n", r.out());
    assertEquals("GET", node.only().method());
    assertEquals("/v1/kv/k", node.only().rawPath());
    assertNull(node.only().rawQuery());
  }

  @Test
  void getVerbosePrintsTheRevisionToo() {
    node.respond(200, "{\"key\":\"k\",\"value\":\"v\",\"revision\":4}");
    Cli.Result r = tern("get", "-v", "k");
    assertExit(ExitCodes.OK, r);
    assertEquals("v\nrevision=4\n", r.out());
  }

  @Test
  void staleGetAsksForStaleConsistency() {
    node.respond(200, "{\"key\":\"k\",\"value\":\"v\",\"revision\":4}");
    assertExit(ExitCodes.OK, tern("get", "k", "--stale"));
    assertEquals("consistency=stale", node.only().rawQuery());
  }

  @Test
  void getOfAMissingKeyExits1WithTheServersMessage() {
    node.respond(404, "{\"error\":\"key not found\",\"key\":\"nope\"}");
    Cli.Result r = tern("get", "nope");
    assertExit(ExitCodes.NOT_FOUND, r);
    assertEquals("", r.out());
    assertTrue(r.err().contains("key not found"), r::toString);
  }

  // ---- del ----

  @Test
  void delPrintsTheDeleteRevision() {
    node.respond(200, "{\"key\":\"k\",\"revision\":21}");
    Cli.Result r = tern("del", "k");
    assertExit(ExitCodes.OK, r);
    assertEquals("deleted revision=21\n", r.out());
    assertEquals("DELETE", node.only().method());
    assertEquals("/v1/kv/k", node.only().rawPath());
  }

  @Test
  void delOfAMissingKeyExits1() {
    node.respond(404, "{\"error\":\"key not found\",\"key\":\"k\"}");
    Cli.Result r = tern("del", "k");
    assertExit(ExitCodes.NOT_FOUND, r);
    assertTrue(r.err().contains("key not found"), r::toString);
  }

  @Test
  void getWritesAValueThatIsNotTextAsItsBytes() {
    byte[] binary = {(byte) 0xff, 0, 'x', '\n'};
    node.respond(200, "{\"key\":\"k\",\"valueBase64\":\"" + java.util.Base64.getEncoder().encodeToString(binary)
        + "\",\"revision\":4}");
    Cli.Result r = tern("get", "-v", "k");
    assertExit(ExitCodes.OK, r);
    org.junit.jupiter.api.Assertions.assertArrayEquals(binary, r.raw(), "the bytes, nothing added");
    assertEquals("", r.out());
    assertTrue(r.err().contains("revision=4"), r.toString());
  }

  @Test
  void putFileSendsTheFilesBytesAsTheValue(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    java.nio.file.Path f = dir.resolve("v.bin");
    java.nio.file.Files.write(f, "line one\nline two\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    node.respond(200, "{\"key\":\"k\",\"revision\":7}");
    Cli.Result r = tern("put", "k", "--file", f.toString());
    assertExit(ExitCodes.OK, r);
    assertEquals("OK revision=7", r.out().strip());
    FakeNode.Request req = node.only();
    assertEquals("PUT", req.method());
    assertEquals("line one\nline two\n", req.body(), "the file's bytes, newlines kept");
    assertEquals("application/octet-stream", req.contentType());
  }

  @Test
  void leaseCommandsAndPutWithALeaseUseTheLeasesApi() throws Exception {
    node.respond(200, "{\"id\":41,\"ttlMs\":10000,\"revision\":41}");
    Cli.Result granted = tern("lease", "grant", "10s");
    assertExit(ExitCodes.OK, granted);
    assertEquals("41", granted.out().strip());
    FakeNode.Request grant = last();
    assertEquals("POST", grant.method());
    assertEquals("/v1/leases", grant.rawPath());
    assertEquals("ttl=10s", grant.rawQuery());

    node.respond(200, "{\"key\":\"lock\",\"value\":\"me\",\"revision\":42}");
    assertExit(ExitCodes.OK, tern("put", "lock", "me", "--lease", "41"));
    FakeNode.Request put = last();
    assertEquals("/v1/kv/lock", put.rawPath());
    assertEquals("lease=41", put.rawQuery());

    node.respond(200, "{\"id\":41,\"ttlMs\":10000}");
    Cli.Result renewed = tern("lease", "keepalive", "41");
    assertExit(ExitCodes.OK, renewed);
    assertTrue(renewed.out().contains("lease 41 renewed: ttl 10000 ms"), renewed::toString);
    assertEquals("/v1/leases/41/keepalive", last().rawPath());

    node.respond(200, "{\"id\":41,\"revision\":44,\"deleted\":[\"lock\"]}");
    Cli.Result revoked = tern("lease", "revoke", "41");
    assertExit(ExitCodes.OK, revoked);
    assertEquals("revoked lease 41 at revision 44\ndeleted lock", revoked.out().strip());
    assertEquals("DELETE", last().method());

    node.respond(404, "{\"error\":\"lease not found\",\"lease\":41}");
    Cli.Result gone = tern("lease", "keepalive", "41", "--every", "1s");
    assertTrue(gone.code() != ExitCodes.OK, gone::toString);
    assertTrue(gone.err().contains("lease not found"), gone::toString);
    int sent = node.requests().size();
    assertExit(ExitCodes.USAGE, tern("lease", "keepalive", "41", "--every", "soon"));
    assertExit(ExitCodes.USAGE, tern("put", "k", "v", "--lease", "0"));
    assertEquals(sent, node.requests().size(), "nothing sent for bad arguments");
  }

  private FakeNode.Request last() {
    java.util.List<FakeNode.Request> all = node.requests();
    return all.get(all.size() - 1);
  }

  @Test
  void putNeedsExactlyOneOfValueAndFile(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    Cli.Result neither = tern("put", "k");
    assertExit(ExitCodes.USAGE, neither);
    assertTrue(neither.err().contains("give either VALUE or --file FILE"), neither::toString);
    java.nio.file.Path f = java.nio.file.Files.writeString(dir.resolve("v"), "x");
    Cli.Result both = tern("put", "k", "v", "--file", f.toString());
    assertExit(ExitCodes.USAGE, both);
    Cli.Result missing = tern("put", "k", "--file", dir.resolve("absent").toString());
    assertExit(ExitCodes.USAGE, missing);
    assertTrue(missing.err().contains("cannot read " + dir.resolve("absent")), missing::toString);
    assertEquals(0, node.requests().size(), "nothing sent");
  }

  @Test
  void getRawWritesATextValueWithNothingAdded() {
    node.respond(200, "{\"key\":\"k\",\"value\":\"hello\\n\",\"revision\":5}");
    Cli.Result r = tern("get", "k", "--raw", "-v");
    assertExit(ExitCodes.OK, r);
    org.junit.jupiter.api.Assertions.assertArrayEquals("hello\n".getBytes(java.nio.charset.StandardCharsets.UTF_8),
        r.raw(), "the value's bytes, no newline added");
    assertEquals("", r.out());
    assertTrue(r.err().contains("revision=5"), r.toString());
  }

  @Test
  void getRefusesABase64FieldThatIsNotBase64() {
    node.respond(200, "{\"key\":\"k\",\"valueBase64\":\"%%%\",\"revision\":4}");
    Cli.Result r = tern("get", "k");
    assertTrue(r.code() != ExitCodes.OK, r.toString());
    assertEquals(0, r.raw().length);
  }

  @Test
  void listShowsAValueThatIsNotTextAsBase64() {
    node.respond(200, "{\"items\":[{\"key\":\"b\",\"valueBase64\":\"/wA=\",\"revision\":2}]}");
    Cli.Result r = tern("list");
    assertExit(ExitCodes.OK, r);
    assertEquals("b\tbase64:/wA=\t2\n", r.out().replace("\r\n", "\n"));
  }

  // ---- list ----

  @Test
  void listPrintsTabSeparatedLines() {
    node.respond(200, "{\"items\":[{\"key\":\"a/1\",\"value\":\"x\",\"revision\":3},"
        + "{\"key\":\"a/2\",\"value\":\"y z\",\"revision\":5}]}");
    Cli.Result r = tern("list", "a/", "--limit", "10");
    assertExit(ExitCodes.OK, r);
    assertEquals("a/1\tx\t3\na/2\ty z\t5\n", r.out());
    assertEquals("GET", node.only().method());
    assertEquals("/v1/kv", node.only().rawPath());
    assertEquals("prefix=a%2F&limit=10", node.only().rawQuery());
  }

  @Test
  void listWithoutPrefixListsEverything() {
    node.respond(200, "{\"items\":[]}");
    Cli.Result r = tern("list");
    assertExit(ExitCodes.OK, r);
    assertEquals("", r.out());
    assertEquals("prefix=", node.only().rawQuery());
  }

  // ---- status ----

  @Test
  void statusPrintsATable() {
    node.respond(200, "{\"id\":\"n2\",\"role\":\"follower\",\"term\":3,\"leader\":\"n1\",\"commitIndex\":42,"
        + "\"lastApplied\":41,\"members\":["
        + "{\"id\":\"n1\",\"host\":\"127.0.0.1\",\"arteryPort\":7101,\"httpPort\":8101},"
        + "{\"id\":\"n2\",\"host\":\"127.0.0.1\",\"arteryPort\":7102,\"httpPort\":8102}],\"serving\":true}");
    Cli.Result r = tern("status");
    assertExit(ExitCodes.OK, r);
    assertEquals("/v1/status", node.only().rawPath());
    String out = r.out();
    assertTrue(out.contains("role          follower"), out);
    assertTrue(out.contains("term          3"), out);
    assertTrue(out.contains("leader        n1"), out);
    assertTrue(out.contains("commit index  42"), out);
    assertTrue(out.contains("last applied  41"), out);
    assertTrue(out.contains("serving       yes"), out);
    assertTrue(out.contains("n1  127.0.0.1  7101    8101  leader"), out);
    assertTrue(out.contains("n2  127.0.0.1  7102    8102  this node"), out);
  }

  @Test
  void statusWithoutALeaderSaysSo() {
    node.respond(200, "{\"id\":\"n1\",\"role\":\"candidate\",\"term\":9,\"leader\":null,\"commitIndex\":0,"
        + "\"lastApplied\":0,\"members\":[],\"serving\":false}");
    Cli.Result r = tern("status");
    assertExit(ExitCodes.OK, r);
    assertTrue(r.out().contains("(none known)"), r::toString);
    assertTrue(r.out().contains("serving       no"), r::toString);
  }

  // ---- failures ----

  @Test
  void unavailableExits4WithTheReason() {
    node.respond(503, "{\"error\":\"unavailable\",\"reason\":\"no leader known\"}");
    Cli.Result r = tern("put", "k", "v");
    assertExit(ExitCodes.UNAVAILABLE, r);
    assertEquals("", r.out());
    assertTrue(r.err().contains("HTTP 503"), r::toString);
    assertTrue(r.err().contains("no leader known"), r::toString);
  }

  @Test
  void otherClientErrorsExit5WithTheServersMessage() {
    node.respond(413, "{\"error\":\"value is larger than the limit of 524288 bytes\"}");
    Cli.Result r = tern("put", "k", "v");
    assertExit(ExitCodes.ERROR, r);
    assertTrue(r.err().contains("HTTP 413"), r::toString);
    assertTrue(r.err().contains("larger than the limit"), r::toString);
  }

  @Test
  void serverErrorsExit5EvenWithoutJson() {
    node.respond(500, "boom");
    Cli.Result r = tern("get", "k");
    assertExit(ExitCodes.ERROR, r);
    assertTrue(r.err().contains("HTTP 500"), r::toString);
    assertTrue(r.err().contains("boom"), r::toString);
  }

  @Test
  void anAnswerThatIsNotTheExpectedJsonExits5() {
    node.respond(200, "<html>not tern</html>");
    Cli.Result r = tern("put", "k", "v");
    assertExit(ExitCodes.ERROR, r);
    assertTrue(r.err().contains("unexpected answer"), r::toString);
  }

  @Test
  void connectionRefusedExits4() throws IOException {
    int port;
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0));
      port = s.getLocalPort();
    }
    Cli.Result r = Cli.run("get", "k", "--node", "http://127.0.0.1:" + port);
    assertExit(ExitCodes.UNAVAILABLE, r);
    assertTrue(r.err().contains("unavailable"), r::toString);
    assertTrue(r.err().contains("127.0.0.1:" + port), r::toString);
  }

  @Test
  void noAnswerWithinTheTimeoutExits4() {
    node.hang();
    Cli.Result r = tern("get", "k", "--timeout", "300ms");
    assertExit(ExitCodes.UNAVAILABLE, r);
    assertTrue(r.err().contains("within 300ms"), r::toString);
  }

  @Test
  void aNodeAddressWithoutSchemeMeansHttp() {
    node.respond(200, "{\"key\":\"k\",\"value\":\"v\",\"revision\":1}");
    Cli.Result r = Cli.run("get", "k", "--node", node.url().substring("http://".length()));
    assertExit(ExitCodes.OK, r);
  }

  // ---- usage errors: exit 2, nothing sent ----

  @Test
  void missingArgumentsAreUsageErrors() {
    assertExit(ExitCodes.USAGE, tern("put", "k"));
    assertExit(ExitCodes.USAGE, tern("get"));
    assertExit(ExitCodes.USAGE, tern("del"));
    assertExit(ExitCodes.USAGE, tern("cas", "k", "1"));
    assertTrue(node.requests().isEmpty());
  }

  @Test
  void badArgumentsAreUsageErrors() {
    Cli.Result r = tern("cas", "k", "notanumber", "v");
    assertExit(ExitCodes.USAGE, r);
    assertTrue(r.err().contains("REV"), r::toString);
    assertExit(ExitCodes.USAGE, tern("cas", "k", "-1", "v"));
    assertExit(ExitCodes.USAGE, tern("put", "", "v"));
    assertExit(ExitCodes.USAGE, tern("list", "--limit", "0"));
    assertExit(ExitCodes.USAGE, tern("get", "k", "--timeout", "soon"));
    assertExit(ExitCodes.USAGE, tern("get", "k", "--bogus"));
    assertExit(ExitCodes.USAGE, Cli.run("get", "k", "--node", "ftp://x:1"));
    assertExit(ExitCodes.USAGE, Cli.run("nosuchcommand"));
    assertTrue(node.requests().isEmpty());
  }
}

package dev.tern.cluster;

import static dev.tern.cluster.LocalCluster.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.cli.Certificates;
import dev.tern.cli.TernCli;
import dev.tern.http.HttpTls;
import dev.tern.http.Tokens;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import picocli.CommandLine;

/**
 * A 3-node cluster with {@code tern.security.enabled} on, serving its API over HTTPS and talking Artery over mutual
 * TLS, with certificates from a CA made for the test (docs/security.md): it elects and serves; who gets 401 and 403
 * on which route, what a token limited to a key prefix can reach, what a client that does not speak TLS, or does not
 * trust the CA, gets, and that a process with a certificate from another CA cannot connect to a node's Artery port. The tests share the cluster
 * and leave it as they found it (no test depends on another's keys).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SecurityEndToEndTest {
  private static final String READ = "read-token";
  private static final String WRITE = "write-token";
  private static final String ADMIN = "admin-token";
  private static final String APP = "app-token"; // write, limited to keys under "app/"
  private static final String APP_READ = "app-read-token"; // read, limited to keys under "app/"
  private LocalCluster cluster;
  private java.nio.file.Path certs;
  private java.nio.file.Path caFile;
  private Certificates.Issued caOf;
  /** The test's client certificate (tern.security.http-tls.client-auth = need) and its key. */
  private java.nio.file.Path clientCert;
  private java.nio.file.Path clientKey;

  /** Few iterations: the tests check the protocol, not the cost of guessing. */
  private static String entry(String name, String token, String role, String prefix) {
    return "{ name = " + name + ", hash = \"" + Tokens.hash(token, 1000) + "\", role = " + role
        + (prefix == null ? "" : ", prefix = \"" + prefix + "\"") + " }";
  }

  @BeforeAll
  void start() throws java.io.IOException {
    certs = java.nio.file.Files.createTempDirectory("tern-certs");
    Certificates.Issued ca = Certificates.newCa("tern test CA", Duration.ofDays(1));
    caOf = ca;
    Certificates.Issued node = Certificates.issue(ca, "tern-node", List.of("127.0.0.1", "localhost"), Duration.ofDays(1));
    caFile = certs.resolve("ca.pem");
    Certificates.writeCertificate(caFile, ca.certificate());
    Certificates.writeCertificate(certs.resolve("node.pem"), node.certificate(), ca.certificate());
    Certificates.writeKey(certs.resolve("node-key.pem"), node.keys().getPrivate());
    cluster = new LocalCluster(3, String.join("\n",
        "tern.security.http-tls.enabled = on",
        "tern.security.http-tls.cert-file = \"" + certs.resolve("node.pem") + "\"",
        "tern.security.http-tls.key-file = \"" + certs.resolve("node-key.pem") + "\"",
        "tern.security.http-tls.ca-file = \"" + caFile + "\"",
        // Client certificates required: every call of these tests presents one the cluster's CA signed.
        "tern.security.http-tls.client-auth = need",
        "tern.security.artery-tls.enabled = on", // the same files as http-tls, by default
        "tern.security.enabled = on",
        "tern.security.peer-token = " + READ,
        "tern.security.tokens = [",
        entry("reader", READ, "read", null) + ",",
        entry("writer", WRITE, "write", null) + ",",
        entry("ops", ADMIN, "admin", null) + ",",
        entry("app", APP, "write", "app/") + ",",
        entry("app-reader", APP_READ, "read", "app/"),
        "]"));
    Certificates.Issued client = Certificates.issue(ca, "test-client", List.of("127.0.0.1"), Duration.ofDays(1));
    clientCert = certs.resolve("client.pem");
    clientKey = certs.resolve("client-key.pem");
    Certificates.writeCertificate(clientCert, client.certificate(), ca.certificate());
    Certificates.writeKey(clientKey, client.keys().getPrivate());
    cluster.useHttps(HttpTls.presenting(clientCert, clientKey, caFile));
    cluster.defaultHeaders = bearer(ADMIN);
    await(() -> cluster.agreedLeader(List.of("n1", "n2", "n3")), Duration.ofSeconds(45), "a leader");
  }

  @AfterAll
  void stop() throws java.io.IOException {
    if (cluster != null) cluster.close();
    try (var files = java.nio.file.Files.list(certs)) {
      for (java.nio.file.Path f : files.toList()) java.nio.file.Files.delete(f);
    }
    java.nio.file.Files.delete(certs);
  }

  private static Map<String, String> bearer(String token) {
    return Map.of("Authorization", token == null ? "" : "Bearer " + token);
  }

  private LocalCluster.Response call(String token, String method, String path, String body) {
    return cluster.request("n1", method, path, body, bearer(token));
  }

  private static void assertStatus(int expected, LocalCluster.Response r, String what) {
    assertEquals(expected, r.status(), () -> what + ": " + (r.body() == null ? "(no body)" : r.body().toString()));
    if (expected >= 400) {
      assertTrue(r.body() != null && r.body().get("error").isTextual(), () -> what + ": JSON error body, got " + r.body());
    }
  }

  @Test
  void healthNeedsNoToken() {
    assertStatus(200, call(null, "GET", "/health", null), "GET /health without a token");
  }

  @Test
  void noTokenOrAnUnknownOneIsUnauthorized() {
    for (String[] c : List.of(new String[] {"GET", "/v1/kv/x"}, new String[] {"PUT", "/v1/kv/x"},
        new String[] {"GET", "/v1/status"}, new String[] {"GET", "/v1/kv"}, new String[] {"GET", "/v1/members"},
        new String[] {"GET", "/v1/no-such-route"})) {
      LocalCluster.Response none = call(null, c[0], c[1], c[0].equals("PUT") ? "v" : null);
      assertStatus(401, none, c[0] + " " + c[1] + " without a token");
      assertEquals("Bearer realm=\"tern\"", none.raw().headers().firstValue("WWW-Authenticate").orElse(null));
      assertStatus(401, call("not-a-token", c[0], c[1], c[0].equals("PUT") ? "v" : null), c[0] + " " + c[1] + " with a bad token");
    }
    LocalCluster.Response basic = cluster.request("n1", "GET", "/v1/kv/x", null, Map.of("Authorization", "Basic " + READ));
    assertStatus(401, basic, "a token sent as Basic credentials");
  }

  @Test
  void readTokenReadsButCannotWrite() {
    assertStatus(200, call(ADMIN, "PUT", "/v1/kv/read-test", "hello"), "admin put");
    LocalCluster.Response got = call(READ, "GET", "/v1/kv/read-test", null);
    assertStatus(200, got, "read get");
    assertEquals("hello", got.body().get("value").asText());
    assertStatus(200, call(READ, "GET", "/v1/kv?prefix=read-", null), "read list");
    assertStatus(200, call(READ, "GET", "/v1/status", null), "read status");
    assertEquals(200, rawStatus(READ, "/metrics"), "read metrics (Prometheus text)");
    LocalCluster.Response put = call(READ, "PUT", "/v1/kv/read-test", "changed");
    assertStatus(403, put, "read put");
    assertEquals("reader", put.body().get("token").asText());
    assertStatus(403, call(READ, "DELETE", "/v1/kv/read-test", null), "read delete");
    // The table sees the path as the routes do: percent-encoding a letter of it changes nothing.
    assertStatus(403, call(READ, "PUT", "/v1/%6Bv/read-test", "changed"), "read put through an encoded path");
    assertStatus(403, call(READ, "GET", "/v1/%6Dembers", null), "read lists members through an encoded path");
    assertStatus(403, call(READ, "POST", "/v1/txn", "{\"success\":[{\"get\":{\"key\":\"read-test\"}}]}"), "read txn");
    assertEquals("hello", call(READ, "GET", "/v1/kv/read-test", null).body().get("value").asText(), "nothing was written");
  }

  @Test
  void writeTokenWritesButCannotAdminister() {
    assertStatus(200, call(WRITE, "PUT", "/v1/kv/write-test", "a"), "write put");
    LocalCluster.Response txn = call(WRITE, "POST", "/v1/txn", "{\"success\":[{\"put\":{\"key\":\"write-test\",\"value\":\"b\"}}]}");
    assertStatus(200, txn, "write txn");
    assertStatus(200, call(WRITE, "DELETE", "/v1/kv/write-test", null), "write delete");
    assertStatus(403, call(WRITE, "GET", "/v1/members", null), "write lists members");
    assertStatus(403, call(WRITE, "DELETE", "/v1/members/n3", null), "write removes a member");
    assertStatus(403, call(WRITE, "POST", "/v1/leader/transfer", null), "write transfers leadership");
    assertStatus(403, call(WRITE, "GET", "/v1/snapshot", null), "write takes a backup");
    assertStatus(403, call(WRITE, "POST", "/v1/testing/partition", "[\"n2\"]"), "write cuts a partition");
    assertEquals(3, cluster.request("n1", "GET", "/v1/members", null).body().get("members").size(), "still 3 members");
  }

  @Test
  void adminTokenReachesAdminRoutes() {
    assertStatus(200, call(ADMIN, "GET", "/v1/members", null), "admin lists members");
    assertEquals(200, rawStatus(ADMIN, "/v1/snapshot"), "admin takes a backup (binary)");
    assertStatus(404, call(ADMIN, "GET", "/v1/no-such-route", null), "admin on an unknown route");
    // Asked of a follower, the transfer is forwarded to the leader with the caller's token, which checks it again.
    String leader = await(() -> cluster.agreedLeader(List.of("n1", "n2", "n3")), Duration.ofSeconds(10), "a leader");
    String follower = List.of("n1", "n2", "n3").stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
    LocalCluster.Response moved = cluster.request(follower, "POST", "/v1/leader/transfer", null, bearer(ADMIN));
    assertStatus(200, moved, "admin transfers leadership through a follower");
    assertTrue(!moved.body().get("leader").asText().equals(leader), "leadership moved: " + moved.body());
  }

  @Test
  void prefixLimitedTokenReachesOnlyItsKeys() {
    assertStatus(200, call(ADMIN, "PUT", "/v1/kv/other", "secret"), "admin put outside app/");
    assertStatus(200, call(APP, "PUT", "/v1/kv/app%2Fa", "1"), "app put inside");
    assertStatus(200, call(APP, "GET", "/v1/kv/app%2Fa", null), "app get inside");
    assertStatus(403, call(APP, "GET", "/v1/kv/other", null), "app get outside");
    assertStatus(403, call(APP, "PUT", "/v1/kv/other", "x"), "app put outside");
    assertStatus(403, call(APP, "DELETE", "/v1/kv/other", null), "app delete outside");
    assertStatus(403, call(APP, "PUT", "/v1/kv/ap", "x"), "app put on a shorter key");
    assertStatus(403, call(APP, "GET", "/v1/kv/%6Fther", null), "app get outside, percent-encoded");
    // Keys are not paths: "app/../other" is a key of its own under app/, not "other".
    assertStatus(404, call(APP, "GET", "/v1/kv/app%2F..%2Fother", null), "app get of app/../other");
    assertStatus(200, call(APP, "GET", "/v1/kv?prefix=app%2F", null), "app list inside");
    assertStatus(403, call(APP, "GET", "/v1/kv", null), "app list of every key");
    assertStatus(403, call(APP, "GET", "/v1/kv?prefix=a", null), "app list of a wider prefix");
    assertStatus(403, call(APP_READ, "GET", "/v1/watch?key=other", null), "app watch of a key outside");
    assertStatus(403, call(APP_READ, "GET", "/v1/watch", null), "app watch of every key");
    assertStatus(403, call(APP_READ, "GET", "/v1/watch?prefix=", null), "app watch of the empty prefix");
    assertStatus(403, call(APP, "GET", "/v1/snapshot", null), "app backup of every key");
    String inside = "{\"compare\":[{\"key\":\"app/a\",\"target\":\"exists\",\"result\":\"=\",\"exists\":true}],"
        + "\"success\":[{\"put\":{\"key\":\"app/b\",\"value\":\"2\"}}],\"failure\":[{\"get\":{\"key\":\"app/a\"}}]}";
    LocalCluster.Response txn = call(APP, "POST", "/v1/txn", inside);
    assertStatus(200, txn, "app txn inside");
    assertTrue(txn.body().get("succeeded").asBoolean(), txn.body().toString());
    for (String outside : List.of(
        "{\"compare\":[{\"key\":\"other\",\"target\":\"exists\",\"result\":\"=\",\"exists\":true}],\"success\":[{\"put\":{\"key\":\"app/c\",\"value\":\"3\"}}]}",
        "{\"success\":[{\"put\":{\"key\":\"app/c\",\"value\":\"3\"}},{\"delete\":{\"key\":\"other\"}}]}",
        "{\"success\":[{\"put\":{\"key\":\"app/c\",\"value\":\"3\"}}],\"failure\":[{\"get\":{\"key\":\"other\"}}]}")) {
      assertStatus(403, call(APP, "POST", "/v1/txn", outside), "app txn touching 'other': " + outside);
    }
    assertStatus(400, call(APP, "POST", "/v1/txn", "{not json"), "app txn that does not parse");
    assertStatus(404, call(APP, "GET", "/v1/kv/app%2Fc", null), "no txn that touched 'other' wrote app/c");
    assertEquals("secret", call(ADMIN, "GET", "/v1/kv/other", null).body().get("value").asText(), "other unchanged");
    assertStatus(200, call(APP_READ, "GET", "/v1/status", null), "a prefix-limited token still reads the status");
  }

  @Test
  void theDashboardPageIsOpenAndItsDataNeedsATokenWhichItPassesOn() {
    assertEquals(200, rawStatus(null, "/ui"), "the page holds no data");
    assertEquals(200, rawStatus(null, "/ui/app.js"));
    assertStatus(401, call(null, "GET", "/ui/api/cluster", null), "the cluster view without a token");
    LocalCluster.Response view = call(READ, "GET", "/ui/api/cluster", null);
    assertStatus(200, view, "the cluster view with a read token");
    for (com.fasterxml.jackson.databind.JsonNode m : view.body().get("members")) {
      // Each member was asked over HTTPS with the caller's token: it answered its status, not 401.
      assertTrue(m.get("reachable").asBoolean() && m.has("status"), m.toString());
      assertTrue(m.get("address").asText().startsWith("https://"), m.toString());
    }
  }

  /** tern.security.http-tls.client-auth = need: no client certificate, or one from another CA, cannot connect. */
  @Test
  void aClientWithoutACertificateOfTheClustersCaCannotConnect() throws Exception {
    Certificates.Issued other = Certificates.newCa("another CA", Duration.ofDays(1));
    Certificates.Issued stranger = Certificates.issue(other, "stranger", List.of("127.0.0.1"), Duration.ofDays(1));
    Certificates.writeCertificate(certs.resolve("stranger.pem"), stranger.certificate(), other.certificate());
    Certificates.writeKey(certs.resolve("stranger-key.pem"), stranger.keys().getPrivate());
    java.net.http.HttpRequest status = java.net.http.HttpRequest.newBuilder(
        java.net.URI.create(cluster.baseUrl("n1") + "/v1/status")).header("Authorization", "Bearer " + READ)
        .timeout(Duration.ofSeconds(10)).build();
    var good = java.net.http.HttpClient.newBuilder().sslContext(HttpTls.presenting(clientCert, clientKey, caFile)).build();
    assertEquals(200, good.send(status, java.net.http.HttpResponse.BodyHandlers.discarding()).statusCode());
    var none = java.net.http.HttpClient.newBuilder().sslContext(HttpTls.trusting(caFile)).build();
    assertThrows(java.io.IOException.class, () -> none.send(status, java.net.http.HttpResponse.BodyHandlers.discarding()),
        "no client certificate");
    var bad = java.net.http.HttpClient.newBuilder().sslContext(
        HttpTls.presenting(certs.resolve("stranger.pem"), certs.resolve("stranger-key.pem"), caFile)).build();
    assertThrows(java.io.IOException.class, () -> bad.send(status, java.net.http.HttpResponse.BodyHandlers.discarding()),
        "a certificate from another CA");
  }

  @Test
  void leasesNeedTheWriteRoleAndNoPrefixLimit() {
    LocalCluster.Response granted = call(WRITE, "POST", "/v1/leases?ttl=60s", null);
    assertStatus(200, granted, "write grants a lease");
    long lease = granted.body().get("id").asLong();
    assertStatus(200, call(ADMIN, "PUT", "/v1/kv/leased?lease=" + lease, "x"), "admin attaches a key outside app/");
    assertStatus(403, call(READ, "POST", "/v1/leases?ttl=60s", null), "read grants");
    assertStatus(200, call(READ, "GET", "/v1/leases/" + lease, null), "read shows a lease");
    assertStatus(403, call(READ, "POST", "/v1/leases/" + lease + "/keepalive", null), "read renews");
    // A lease may hold keys of any prefix: revoking it would delete 'leased', outside app/.
    assertStatus(403, call(APP, "DELETE", "/v1/leases/" + lease, null), "app revokes a lease");
    assertStatus(403, call(APP, "GET", "/v1/leases/" + lease, null), "app shows a lease's keys");
    assertStatus(200, call(ADMIN, "GET", "/v1/kv/leased", null), "the key is still there");
    assertStatus(200, call(WRITE, "DELETE", "/v1/leases/" + lease, null), "write revokes it");
  }

  @Test
  void cliSendsTheToken() {
    String node = cluster.baseUrl("n2");
    Object[] untrusted = cli("get", "cli-key", "--node", node, "--token", READ);
    assertEquals(4, untrusted[0], () -> "without --cacert the node's certificate is not trusted: " + untrusted[1]);
    assertTrue(((String) untrusted[1]).contains("SSLHandshakeException"), (String) untrusted[1]);
    Object[] denied = cli("put", "cli-key", "v", "--node", node, "--cacert", caFile.toString(), "--client-cert", clientCert.toString(),
        "--client-key", clientKey.toString());
    assertEquals(5, denied[0], () -> "exit code without a token: " + denied[1]);
    assertTrue(((String) denied[1]).contains("unauthorized (HTTP 401)"), (String) denied[1]);
    Object[] put = cli("put", "cli-key", "v", "--node", node, "--token", WRITE, "--cacert", caFile.toString(), "--client-cert", clientCert.toString(),
        "--client-key", clientKey.toString());
    assertEquals(0, put[0], () -> "put with a token: " + put[1]);
    Object[] forbidden = cli("put", "cli-key", "w", "--node", node, "--token", READ, "--cacert", caFile.toString(), "--client-cert", clientCert.toString(),
        "--client-key", clientKey.toString());
    assertTrue(((String) forbidden[1]).contains("forbidden (HTTP 403)"), (String) forbidden[1]);
    Object[] status = cli("status", "--node", node, "--token", READ, "--cacert", caFile.toString(), "--client-cert", clientCert.toString(),
        "--client-key", clientKey.toString());
    assertEquals(0, status[0], () -> "status with a read token: " + status[1]);
  }

  @Test
  void plainHttpToTheTlsPortFailsAtOnce() throws Exception {
    java.net.URI plain = java.net.URI.create("http://127.0.0.1:" + cluster.node("n1").self().httpPort() + "/health");
    long start = System.nanoTime();
    java.net.http.HttpClient client = java.net.http.HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    java.net.http.HttpRequest request = java.net.http.HttpRequest.newBuilder(plain).timeout(Duration.ofSeconds(20)).build();
    java.io.IOException failure = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class,
        () -> client.send(request, java.net.http.HttpResponse.BodyHandlers.ofString()));
    long ms = (System.nanoTime() - start) / 1_000_000;
    assertTrue(!(failure instanceof java.net.http.HttpTimeoutException), "closed, not timed out: " + failure);
    assertTrue(ms < 10_000, "the server closed the connection at once, not after " + ms + " ms");
    // The same port still serves HTTPS.
    assertStatus(200, call(null, "GET", "/health", null), "HTTPS after a plain request");
  }

  /**
   * Connects to n1's Artery port with TLS as a peer would, presenting {@code key}'s certificate (null: none), and
   * trusting the cluster's CA; returns how reading the node's first bytes ended (null: it sent some).
   */
  private Throwable arteryHandshake(Certificates.Issued key, java.security.cert.X509Certificate issuer, int readTimeoutMs)
      throws Exception {
    javax.net.ssl.KeyManager[] keys = null;
    if (key != null) {
      java.security.KeyStore ks = java.security.KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      ks.setKeyEntry("k", key.keys().getPrivate(), "pw".toCharArray(),
          new java.security.cert.Certificate[] {key.certificate(), issuer});
      javax.net.ssl.KeyManagerFactory kmf = javax.net.ssl.KeyManagerFactory.getInstance("PKIX");
      kmf.init(ks, "pw".toCharArray());
      keys = kmf.getKeyManagers();
    }
    javax.net.ssl.SSLContext ctx = javax.net.ssl.SSLContext.getInstance("TLSv1.3");
    ctx.init(keys, HttpTls.trustManagers(caFile), null);
    try (javax.net.ssl.SSLSocket s = (javax.net.ssl.SSLSocket) ctx.getSocketFactory()
        .createSocket("127.0.0.1", cluster.node("n1").self().arteryPort())) {
      s.setSoTimeout(readTimeoutMs);
      s.startHandshake(); // in TLS 1.3 the server judges the client's certificate after this returns
      int read = s.getInputStream().read();
      return read < 0 ? new java.io.EOFException("closed") : null;
    } catch (java.io.IOException e) {
      return e;
    }
  }

  @Test
  void aProcessWithACertificateFromAnotherCaCannotConnectToArtery() throws Exception {
    Certificates.Issued otherCa = Certificates.newCa("another CA", Duration.ofDays(1));
    Certificates.Issued rogue = Certificates.issue(otherCa, "tern-node", List.of("127.0.0.1"), Duration.ofDays(1));
    Throwable refused = arteryHandshake(rogue, otherCa.certificate(), 20_000);
    assertTrue(refused instanceof javax.net.ssl.SSLException || refused instanceof java.net.SocketException,
        "a certificate from another CA is refused at once (a TLS alert or a closed connection), got " + refused);
    Throwable anonymous = arteryHandshake(null, null, 20_000);
    assertTrue(anonymous instanceof javax.net.ssl.SSLException || anonymous instanceof java.net.SocketException,
        "a client without a certificate is refused at once, got " + anonymous);
    // The control: with a certificate from the cluster's CA the session holds, and the node waits for Artery's
    // header, which never comes (the read gives up after a second, with no alert and no close).
    Certificates.Issued member = Certificates.issue(caOf, "tern-node", List.of("127.0.0.1"), Duration.ofDays(1));
    Throwable accepted = arteryHandshake(member, caOf.certificate(), 1_000);
    assertTrue(accepted instanceof java.net.SocketTimeoutException, "the cluster's CA is accepted, got " + accepted);
    // Neither disturbed the cluster: it still agrees on a leader and commits writes.
    await(() -> cluster.agreedLeader(List.of("n1", "n2", "n3")), Duration.ofSeconds(10), "a leader after the attempts");
    assertStatus(200, call(WRITE, "PUT", "/v1/kv/after-rogue", "ok"), "a write after the attempts");
  }

  /** Runs the CLI in this JVM: {exit code, stdout + stderr}. */
  private static Object[] cli(String... args) {
    StringWriter out = new StringWriter();
    CommandLine cl = new CommandLine(new TernCli());
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(out, true));
    int code = cl.execute(args);
    return new Object[] {code, out.toString()};
  }

  /** The status of a GET whose answer is not JSON (metrics, a backup), its body discarded. */
  private int rawStatus(String token, String path) {
    try {
      return java.net.http.HttpClient.newBuilder().sslContext(HttpTls.presenting(clientCert, clientKey, caFile)).build().send(java.net.http.HttpRequest.newBuilder(
              java.net.URI.create(cluster.baseUrl("n1") + path)).headers(token == null ? new String[] {"X-No-Token", "1"}
              : new String[] {"Authorization", "Bearer " + token})
              .timeout(Duration.ofSeconds(10)).build(), java.net.http.HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}

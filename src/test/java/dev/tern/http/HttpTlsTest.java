package dev.tern.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.tern.cli.Certificates;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** The node's HTTPS key and certificate from PEM files or PKCS#12, and the CA a client trusts (docs/security.md). */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HttpTlsTest {
  @TempDir
  static Path dir;
  private Certificates.Issued ca;
  private Certificates.Issued node;

  @BeforeAll
  void makeCertificates() throws IOException {
    ca = Certificates.newCa("test CA", Duration.ofDays(1));
    node = Certificates.issue(ca, "n1", List.of("127.0.0.1"), Duration.ofDays(1));
    Certificates.writeCertificate(dir.resolve("ca.pem"), ca.certificate());
    Certificates.writeCertificate(dir.resolve("node.pem"), node.certificate(), ca.certificate());
    Certificates.writeKey(dir.resolve("node-key.pem"), node.keys().getPrivate());
    Certificates.writeKeystore(dir.resolve("node.p12"), node, ca.certificate(), "pw".toCharArray());
  }

  private static HttpTls.Settings settings(String tls) {
    return HttpTls.Settings.fromConfig(ConfigFactory.parseString(tls)
        .withFallback(ConfigFactory.parseResources("application.conf")).resolve().getConfig("tern"));
  }

  /** Completes a TLS handshake between {@code server} and a client trusting {@code trust}; the peer's subject. */
  private static String handshake(SSLContext server, SSLContext trust) throws Exception {
    try (SSLServerSocket listening = (SSLServerSocket) server.getServerSocketFactory()
        .createServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      CompletableFuture<Void> accepted = CompletableFuture.runAsync(() -> {
        try (SSLSocket s = (SSLSocket) listening.accept()) {
          s.startHandshake();
          s.getOutputStream().write(1);
          s.getInputStream().read();
        } catch (IOException e) {
          // the client refused the handshake: the client's side reports it
        }
      });
      try (SSLSocket client = (SSLSocket) trust.getSocketFactory().createSocket("127.0.0.1", listening.getLocalPort())) {
        var params = client.getSSLParameters();
        params.setEndpointIdentificationAlgorithm("HTTPS"); // what an HTTPS client checks: the address in the SAN
        client.setSSLParameters(params);
        client.startHandshake();
        client.getInputStream().read();
        client.getOutputStream().write(1);
        String subject = client.getSession().getPeerPrincipal().getName();
        accepted.get(10, TimeUnit.SECONDS);
        return subject;
      }
    }
  }

  @Test
  void servesWithPemFiles() throws Exception {
    HttpTls.Settings s = settings("tern.security.http-tls { enabled = on, cert-file = \"" + dir.resolve("node.pem")
        + "\", key-file = \"" + dir.resolve("node-key.pem") + "\" }");
    assertEquals("https", s.scheme());
    assertEquals("CN=n1", handshake(s.serverContext(), HttpTls.trusting(dir.resolve("ca.pem"))));
  }

  @Test
  void servesWithAPkcs12Keystore() throws Exception {
    HttpTls.Settings s = settings("tern.security.http-tls { enabled = on, keystore-file = \"" + dir.resolve("node.p12")
        + "\", keystore-password = pw }");
    assertEquals("CN=n1", handshake(s.serverContext(), HttpTls.trusting(dir.resolve("ca.pem"))));
  }

  /**
   * Client certificates (tern.security.http-tls.client-auth = need): a client without one, or with one from another
   * CA, cannot complete the handshake; one with a certificate the cluster's CA signed can. The server side is the
   * engine the node's HTTPS server uses ({@link HttpTls.Settings#serverEngine}), driven over sockets.
   */
  @Test
  void clientAuthNeedRefusesClientsWithoutTheClustersCertificate() throws Exception {
    HttpTls.Settings s = settings("tern.security.http-tls { enabled = on, cert-file = \"" + dir.resolve("node.pem")
        + "\", key-file = \"" + dir.resolve("node-key.pem") + "\", ca-file = \"" + dir.resolve("ca.pem")
        + "\", client-auth = need }");
    assertEquals(HttpTls.ClientAuth.NEED, s.clientAuth());
    SSLContext server = s.serverContext();
    assertTrue(s.serverEngine(server).getNeedClientAuth());
    Certificates.Issued client = Certificates.issue(ca, "client", List.of("127.0.0.1"), Duration.ofDays(1));
    Certificates.writeCertificate(dir.resolve("client.pem"), client.certificate(), ca.certificate());
    Certificates.writeKey(dir.resolve("client-key.pem"), client.keys().getPrivate());
    Certificates.Issued other = Certificates.newCa("another CA", Duration.ofDays(1));
    Certificates.Issued stranger = Certificates.issue(other, "stranger", List.of("127.0.0.1"), Duration.ofDays(1));
    Certificates.writeCertificate(dir.resolve("stranger.pem"), stranger.certificate(), other.certificate());
    Certificates.writeKey(dir.resolve("stranger-key.pem"), stranger.keys().getPrivate());

    SSLContext withCert = HttpTls.presenting(dir.resolve("client.pem"), dir.resolve("client-key.pem"), dir.resolve("ca.pem"));
    assertEquals("CN=n1", handshake(server, withCert, s));
    assertThrows(IOException.class, () -> handshake(server, HttpTls.trusting(dir.resolve("ca.pem")), s), "no certificate");
    SSLContext strangers = HttpTls.presenting(dir.resolve("stranger.pem"), dir.resolve("stranger-key.pem"), dir.resolve("ca.pem"));
    assertThrows(IOException.class, () -> handshake(server, strangers, s), "a certificate from another CA");
    // A node presents its own certificate when it calls another node's API.
    assertEquals("CN=n1", handshake(server, s.peerContext(), s));
  }

  @Test
  void clientAuthNeedsTheCa() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> settings(
        "tern.security.http-tls { enabled = on, cert-file = a, key-file = b, client-auth = need }"));
    assertTrue(e.getMessage().contains("needs ca-file"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> settings(
        "tern.security.http-tls { enabled = on, cert-file = a, key-file = b, ca-file = c, client-auth = maybe }"));
  }

  /** As {@link #handshake(SSLContext, SSLContext)}, the server's sockets asking for client certificates as {@code s} says. */
  private static String handshake(SSLContext server, SSLContext client, HttpTls.Settings s) throws Exception {
    javax.net.ssl.SSLEngine engine = s.serverEngine(server);
    try (SSLServerSocket listening = (SSLServerSocket) server.getServerSocketFactory()
        .createServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      listening.setNeedClientAuth(engine.getNeedClientAuth());
      listening.setWantClientAuth(engine.getWantClientAuth() || engine.getNeedClientAuth());
      if (engine.getNeedClientAuth()) listening.setNeedClientAuth(true);
      CompletableFuture<Void> accepted = CompletableFuture.runAsync(() -> {
        try (SSLSocket sock = (SSLSocket) listening.accept()) {
          sock.startHandshake();
          sock.getOutputStream().write(1);
          sock.getInputStream().read();
        } catch (IOException e) {
          // refused: the client's side reports it
        }
      });
      try (SSLSocket c = (SSLSocket) client.getSocketFactory().createSocket("127.0.0.1", listening.getLocalPort())) {
        c.setSoTimeout(10_000);
        c.startHandshake();
        if (c.getInputStream().read() < 0) throw new IOException("the server closed the connection");
        c.getOutputStream().write(1);
        String subject = c.getSession().getPeerPrincipal().getName();
        accepted.get(10, TimeUnit.SECONDS);
        return subject;
      }
    }
  }

  @Test
  void aClientTrustingAnotherCaRefusesTheServer() throws Exception {
    Certificates.Issued other = Certificates.newCa("other CA", Duration.ofDays(1));
    Certificates.writeCertificate(dir.resolve("other-ca.pem"), other.certificate());
    HttpTls.Settings s = settings("tern.security.http-tls { enabled = on, cert-file = \"" + dir.resolve("node.pem")
        + "\", key-file = \"" + dir.resolve("node-key.pem") + "\" }");
    assertThrows(SSLHandshakeException.class, () -> handshake(s.serverContext(), HttpTls.trusting(dir.resolve("other-ca.pem"))));
  }

  @Test
  void badSettingsSayWhatIsWrong() throws IOException {
    assertEquals("http", settings("").scheme());
    String neither = assertThrows(IllegalArgumentException.class, () -> settings("tern.security.http-tls.enabled = on")).getMessage();
    assertTrue(neither.contains("not neither"), neither);
    String both = assertThrows(IllegalArgumentException.class, () -> settings("tern.security.http-tls { enabled = on,"
        + " cert-file = a, key-file = b, keystore-file = c }")).getMessage();
    assertTrue(both.contains("not both"), both);
    String half = assertThrows(IllegalArgumentException.class, () -> settings("tern.security.http-tls { enabled = on,"
        + " cert-file = a }")).getMessage();
    assertTrue(half.contains("go together"), half);
    String missing = assertThrows(IllegalArgumentException.class, () -> settings("tern.security.http-tls { enabled = on,"
        + " cert-file = \"" + dir.resolve("none.pem") + "\", key-file = \"" + dir.resolve("node-key.pem") + "\" }").serverContext()).getMessage();
    assertTrue(missing.contains("cannot read") && missing.contains("none.pem"), missing);
    Files.writeString(dir.resolve("rsa.pem"), "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n");
    String pkcs1 = assertThrows(IllegalArgumentException.class, () -> HttpTls.privateKey(dir.resolve("rsa.pem"))).getMessage();
    assertTrue(pkcs1.contains("openssl pkcs8"), pkcs1);
    String wrongPassword = assertThrows(IllegalArgumentException.class, () -> settings("tern.security.http-tls { enabled = on,"
        + " keystore-file = \"" + dir.resolve("node.p12") + "\", keystore-password = nope }").serverContext()).getMessage();
    assertTrue(wrongPassword.contains("cannot open the PKCS#12 keystore"), wrongPassword);
    String notPem = assertThrows(IllegalArgumentException.class, () -> HttpTls.trusting(dir.resolve("rsa.pem"))).getMessage();
    assertTrue(notPem.contains("rsa.pem"), notPem);
  }
}

package dev.tern.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.http.HttpTls;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tern certs}: a CA and node certificates that HTTPS and Artery accept (docs/security.md). */
class CertsCommandTest {
  @TempDir
  Path dir;

  @Test
  void makesACaAndNodeCertificatesItSigned() throws Exception {
    Cli.Result r = Cli.run("certs", "--dir", dir.toString(), "--nodes", "n1,n2", "--host", "127.0.0.1", "--host", "db.example");
    assertEquals(0, r.code(), r::toString);
    X509Certificate ca = HttpTls.certificates(dir.resolve("ca.pem")).get(0);
    for (String id : List.of("n1", "n2")) {
      List<X509Certificate> chain = HttpTls.certificates(dir.resolve(id + ".pem"));
      assertEquals(2, chain.size(), "the node's certificate, then the CA's");
      X509Certificate cert = chain.get(0);
      cert.verify(ca.getPublicKey()); // throws unless the CA signed it
      assertEquals("CN=" + id, cert.getSubjectX500Principal().getName());
      assertTrue(cert.getExtendedKeyUsage().containsAll(List.of("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2")), "server and client");
      var names = cert.getSubjectAlternativeNames().stream().map(n -> n.get(1).toString()).toList();
      assertTrue(names.contains("127.0.0.1") && names.contains("db.example"), names.toString());
      HttpTls.privateKey(dir.resolve(id + "-key.pem")); // a key the node can read
      assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve(id + "-key.pem"))));
    }
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("ca-key.pem"))));
  }

  @Test
  void reusesTheCaAlreadyThere() throws Exception {
    assertEquals(0, Cli.run("certs", "--dir", dir.toString(), "--nodes", "n1").code());
    String before = Files.readString(dir.resolve("ca.pem"));
    Cli.Result r = Cli.run("certs", "--dir", dir.toString(), "--nodes", "n4");
    assertEquals(0, r.code(), r::toString);
    assertTrue(r.out().contains("reused"), r.out());
    assertEquals(before, Files.readString(dir.resolve("ca.pem")));
    X509Certificate ca = HttpTls.certificates(dir.resolve("ca.pem")).get(0);
    HttpTls.certificates(dir.resolve("n4.pem")).get(0).verify(ca.getPublicKey());
  }

  @Test
  void refusesBadArguments() throws Exception {
    Cli.Result bad = Cli.run("certs", "--dir", dir.toString(), "--nodes", "n 1");
    assertEquals(ExitCodes.USAGE, bad.code(), bad::toString);
    assertTrue(bad.err().contains("bad node id"), bad.err());
    Files.writeString(dir.resolve("ca.pem"), "x");
    Cli.Result half = Cli.run("certs", "--dir", dir.toString(), "--nodes", "n1");
    assertEquals(ExitCodes.ERROR, half.code(), half::toString);
    assertTrue(half.err().contains("give both or neither"), half.err());
  }
}

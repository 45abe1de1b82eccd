package dev.tern.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import dev.tern.http.Auth;
import dev.tern.http.HttpTls;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@code tern local --secure} writes (docs/security.md): the settings each node resolves from cluster.conf
 * turn on tokens, HTTPS and Artery's mutual TLS with that node's own certificate, and the printed admin token is
 * the admin one. (The nodes themselves are started as by a plain {@code tern local}.)
 */
class LocalSecurityTest {
  @TempDir
  Path dir;

  @Test
  void everyNodeResolvesItsOwnCertificateAndTheTokens() throws Exception {
    LocalCluster cluster = LocalCluster.plan(dir.resolve("c"), 3, false);
    assertNull(LocalSecurity.client(cluster.configFile()), "a plain local cluster is not secured");
    String admin = LocalSecurity.secure(cluster.dir(), cluster.members(), new PrintWriter(new StringWriter()));
    LocalSecurity.Client client = LocalSecurity.client(cluster.configFile());
    assertNotNull(client);
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(cluster.configFile())));
    for (String id : new String[] {"n1", "n3"}) {
      Config config = NodeConfig.load(id, cluster.configFile());
      Config tern = config.getConfig("tern");
      Auth.Settings auth = Auth.Settings.fromConfig(tern);
      assertTrue(auth.enabled());
      Auth.Token adminEntry = auth.tokens().stream().filter(t -> t.hash().matches(admin)).findFirst().orElseThrow();
      assertEquals("ADMIN", String.valueOf((Object) adminEntry.role()));
      Auth.Token nodes = auth.tokens().stream().filter(t -> t.hash().matches(auth.peerToken())).findFirst().orElseThrow();
      assertEquals("READ", String.valueOf((Object) nodes.role()), "the nodes' own token only reads");
      assertEquals(client.readToken(), auth.peerToken());
      HttpTls.Settings https = HttpTls.Settings.fromConfig(tern);
      assertTrue(https.enabled());
      assertEquals(cluster.dir().resolve("certs").resolve(id + ".pem").toString(), https.certFile());
      https.serverContext(); // the files are there and go together
      assertEquals("CN=" + id, HttpTls.certificates(Path.of(https.certFile())).get(0).getSubjectX500Principal().getName());
      HttpTls.Settings artery = HttpTls.Settings.at(tern, "security.artery-tls");
      assertTrue(artery.enabled());
      assertEquals(https.certFile(), artery.certFile());
      assertEquals(client.caFile().toString(), artery.caFile());
    }
  }

  @Test
  void aClusterStartedPlainIsNotSecuredLater() throws Exception {
    LocalCluster.plan(dir.resolve("c"), 1, false);
    Cli.Result r = Cli.run("local", "--secure", "--dir", dir.resolve("c").toString());
    assertEquals(ExitCodes.USAGE, r.code(), r::toString);
    assertTrue(r.err().contains("add --fresh"), r.err());
    assertNull(LocalSecurity.client(dir.resolve("c").resolve(LocalCluster.CONFIG_FILE)));
  }
}

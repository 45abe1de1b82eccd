package dev.tern.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import dev.tern.cluster.Member;
import dev.tern.cluster.Members;
import dev.tern.http.HttpTls;
import dev.tern.http.Tokens;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SSLContext;

/**
 * {@code tern local --secure} (docs/security.md): a fresh CA and node certificates in {@code D/certs}, tokens, and
 * the settings that turn on tokens, HTTPS and Artery's mutual TLS, appended to {@code D/cluster.conf} so that every
 * later start of the same cluster is secured too. The admin token is printed once and stored nowhere; the nodes'
 * own token (read role, for their calls to each other) is in cluster.conf, which only its owner may read.
 */
final class LocalSecurity {
  static final String CERTS_DIR = "certs";
  /** PBKDF2 iterations for the local cluster's tokens: generated, so 256 random bits each. */
  private static final int ITERATIONS = Tokens.DEFAULT_ITERATIONS;

  /** What a client of a secured local cluster needs: its CA (PEM) and a token with the read role. */
  record Client(Path caFile, String readToken) {
    SSLContext ssl() {
      return HttpTls.trusting(caFile);
    }
  }

  private LocalSecurity() {}

  /**
   * Secures the new cluster in {@code dir} (its cluster.conf just written): certificates for every member, a token
   * for each role that a local operator and the nodes need. Returns the admin token, to be printed once.
   */
  static String secure(Path dir, Members members, PrintWriter out) throws IOException {
    Path certs = dir.resolve(CERTS_DIR);
    Duration validity = Duration.ofDays(365);
    Certificates.Issued ca = CertsCommand.makeOrReuse(certs, validity, out);
    for (Member m : members.all()) {
      Certificates.Issued node = Certificates.issue(ca, m.id(), List.of(m.host(), "localhost"), validity);
      Certificates.writeCertificate(certs.resolve(m.id() + ".pem"), node.certificate(), ca.certificate());
      Certificates.writeKey(certs.resolve(m.id() + "-key.pem"), node.keys().getPrivate());
    }
    String admin = Tokens.generate();
    String peer = Tokens.generate();
    String c = certs.toAbsolutePath().toString().replace("\\", "/");
    String block = "\n# Added by `tern local --secure` (docs/security.md): tokens (the admin token was printed once and is\n"
        + "# stored nowhere), HTTPS for the API and mutual TLS between nodes, with the certificates in " + CERTS_DIR + "/.\n"
        + "tern.security {\n"
        + "  enabled = on\n"
        + "  tokens = [\n"
        + "    { name = admin, hash = \"" + Tokens.hash(admin, ITERATIONS) + "\", role = admin }\n"
        + "    { name = nodes, hash = \"" + Tokens.hash(peer, ITERATIONS) + "\", role = read }\n"
        + "  ]\n"
        + "  peer-token = \"" + peer + "\"\n"
        + "  http-tls {\n"
        + "    enabled = on\n"
        + "    cert-file = \"" + c + "/\"${tern.node-id}\".pem\"\n"
        + "    key-file = \"" + c + "/\"${tern.node-id}\"-key.pem\"\n"
        + "    ca-file = \"" + c + "/ca.pem\"\n"
        + "  }\n"
        + "  artery-tls.enabled = on\n"
        + "}\n";
    Path conf = dir.resolve(LocalCluster.CONFIG_FILE);
    try {
      Files.setPosixFilePermissions(conf, PosixFilePermissions.fromString("rw-------")); // it holds the nodes' token
    } catch (UnsupportedOperationException e) {
      // not a POSIX file system: the file keeps its permissions
    }
    Files.writeString(conf, block, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    return admin;
  }

  /** The client settings of the cluster whose cluster.conf is {@code conf}, or null when it is not secured. */
  static Client client(Path conf) {
    try {
      Config c = ConfigFactory.parseFile(conf.toFile());
      if (!c.hasPath("tern.security.http-tls.enabled") || !c.getBoolean("tern.security.http-tls.enabled")) return null;
      return new Client(Path.of(c.getString("tern.security.http-tls.ca-file")), c.getString("tern.security.peer-token"));
    } catch (ConfigException e) {
      return null;
    }
  }
}

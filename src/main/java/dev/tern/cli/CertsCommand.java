package dev.tern.cli;

import dev.tern.http.HttpTls;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code tern certs}: a private CA and a certificate per node, as PEM files, for {@code tern.security.http-tls} and
 * {@code artery-tls} (docs/security.md). An existing CA in the directory is reused, so that the same command makes
 * certificates for new nodes or renews old ones.
 */
@Command(
    name = "certs",
    description = {"Make a CA and a certificate for each node (PEM files in D): D/ca.pem, D/ca-key.pem, and for each"
        + " node D/ID.pem (its certificate, then the CA's) and D/ID-key.pem. A CA already in D is reused, so the same"
        + " command renews node certificates or makes them for new nodes.",
        "Example: ./tern certs --dir certs --nodes n1,n2,n3 --host 127.0.0.1 --host localhost"},
    mixinStandardHelpOptions = true,
    footer = ExitCodes.FOOTER)
final class CertsCommand implements Callable<Integer> {
  private static final Pattern ID = Pattern.compile("[A-Za-z0-9_.-]{1,64}");

  @Spec
  CommandSpec spec;

  @Option(names = "--dir", paramLabel = "D", defaultValue = "certs", description = "Where to write (default: ${DEFAULT-VALUE}).")
  Path dir;

  @Option(names = "--nodes", paramLabel = "ID,ID,...", split = ",", required = true,
      description = "The nodes to make a certificate for (their ids).")
  List<String> nodes;

  @Option(names = "--host", paramLabel = "HOST", defaultValue = "127.0.0.1",
      description = "A host name or IP address the nodes' certificates name (repeat for several; clients check it"
          + " against the address they connect to; default: ${DEFAULT-VALUE}).")
  List<String> hosts;

  @Option(names = "--days", paramLabel = "N", defaultValue = "365",
      description = "How long node certificates are valid (default: ${DEFAULT-VALUE}); a new CA, ten times as long.")
  int days;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (days < 1) return usage(err, "--days must be at least 1");
    for (String id : nodes) if (!ID.matcher(id).matches()) return usage(err, "bad node id '" + id + "': 1 to 64 of A-Z a-z 0-9 _ . -");
    try {
      Certificates.Issued ca = makeOrReuse(dir, Duration.ofDays(days), out);
      for (String id : nodes) {
        Certificates.Issued node = Certificates.issue(ca, id, hosts, Duration.ofDays(days));
        Certificates.writeCertificate(dir.resolve(id + ".pem"), node.certificate(), ca.certificate());
        Certificates.writeKey(dir.resolve(id + "-key.pem"), node.keys().getPrivate());
        out.println("node " + id + ": " + dir.resolve(id + ".pem") + ", " + dir.resolve(id + "-key.pem")
            + " (for " + String.join(", ", hosts) + ")");
      }
    } catch (IOException | IllegalArgumentException e) {
      err.println("tern certs: " + e.getMessage());
      err.flush();
      return ExitCodes.ERROR;
    }
    out.println("Settings for node ID (docs/security.md):");
    out.println("  tern.security.http-tls { enabled = on, cert-file = \"" + dir.toAbsolutePath().resolve("ID.pem")
        + "\", key-file = \"" + dir.toAbsolutePath().resolve("ID-key.pem") + "\", ca-file = \""
        + dir.toAbsolutePath().resolve("ca.pem") + "\" }");
    out.println("  tern.security.artery-tls.enabled = on");
    out.println("Keep " + dir.resolve("ca-key.pem") + " away from the nodes: whoever holds it can admit a node.");
    out.flush();
    return ExitCodes.OK;
  }

  /** The CA in {@code dir}, or a new one written there. */
  static Certificates.Issued makeOrReuse(Path dir, Duration validity, PrintWriter out) throws IOException {
    Files.createDirectories(dir);
    Path caCert = dir.resolve("ca.pem");
    Path caKey = dir.resolve("ca-key.pem");
    if (Files.exists(caCert) && Files.exists(caKey)) {
      X509Certificate cert = HttpTls.certificates(caCert).get(0);
      KeyPair keys = new KeyPair(cert.getPublicKey(), HttpTls.privateKey(caKey));
      out.println("CA: " + caCert + " (reused: " + cert.getSubjectX500Principal().getName() + ")");
      return new Certificates.Issued(keys, cert);
    }
    if (Files.exists(caCert) || Files.exists(caKey)) {
      throw new IllegalArgumentException("found only one of " + caCert + " and " + caKey + ": give both or neither");
    }
    Certificates.Issued ca = Certificates.newCa("Tern CA " + java.util.UUID.randomUUID().toString().substring(0, 8),
        validity.multipliedBy(10));
    Certificates.writeCertificate(caCert, ca.certificate());
    Certificates.writeKey(caKey, ca.keys().getPrivate());
    out.println("CA: " + caCert + " (new), its key " + caKey);
    return ca;
  }

  private int usage(PrintWriter err, String message) {
    err.println("tern certs: " + message);
    err.flush();
    return ExitCodes.USAGE;
  }
}

package dev.tern.cluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.tern.http.HttpTls;
import java.nio.file.Path;
import javax.net.ssl.KeyManager;
import javax.net.ssl.TrustManager;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.remote.artery.tcp.ConfigSSLEngineProvider;

/**
 * Artery over TLS with mutual authentication ({@code tern.security.artery-tls}, docs/security.md): Pekko's
 * {@link ConfigSSLEngineProvider} (TLSv1.3, {@code require-mutual-authentication = on}), with the node's key and
 * certificate from PEM files or PKCS#12 as for HTTPS, and trusting only the cluster's CA ({@code ca-file}). A process
 * whose certificate that CA did not sign cannot complete a handshake with a node, either way: it can send no Raft
 * message and join no Pekko cluster.
 */
public final class ArteryTls extends ConfigSSLEngineProvider {
  private final HttpTls.Settings files;

  /** Called by Artery (pekko.remote.artery.ssl.ssl-engine-provider) with the node's actor system. */
  public ArteryTls(ActorSystem system) {
    super(system);
    this.files = settings(system.settings().config().getConfig("tern"));
  }

  /** {@code tern.security.artery-tls}, checked: a CA file is required. */
  static HttpTls.Settings settings(Config tern) {
    HttpTls.Settings s = HttpTls.Settings.at(tern, "security.artery-tls");
    if (s.enabled() && s.caFile().isEmpty()) {
      throw new IllegalArgumentException("tern.security.artery-tls.ca-file is empty: name the CA (PEM) that signed every"
          + " node's certificate; only those nodes may connect");
    }
    return s;
  }

  /**
   * The Pekko settings that put Artery on TLS through this provider, or none when {@code artery-tls} is off. Reads
   * the files once, so that a missing or bad one stops the node at its start with a clear message.
   */
  static Config pekkoSettings(Config tern) {
    HttpTls.Settings s = settings(tern);
    if (!s.enabled()) return ConfigFactory.empty();
    s.keyManagers();
    HttpTls.trustManagers(Path.of(s.caFile()));
    return ConfigFactory.parseString(String.join("\n",
        "pekko.remote.artery.transport = tls-tcp",
        "pekko.remote.artery.ssl.ssl-engine-provider = " + ArteryTls.class.getName(),
        "pekko.remote.artery.ssl.config-ssl-engine.require-mutual-authentication = on"));
  }

  @Override
  public KeyManager[] keyManagers() {
    return files.keyManagers();
  }

  @Override
  public TrustManager[] trustManagers() {
    return HttpTls.trustManagers(Path.of(files.caFile()));
  }
}

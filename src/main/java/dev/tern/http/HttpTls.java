package dev.tern.http;

import com.typesafe.config.Config;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;

/**
 * HTTPS for the API ({@code tern.security.http-tls}, docs/security.md): the node's key and certificate from PEM
 * files or a PKCS#12 keystore, and the CA a client (the CLI's {@code --cacert}, or a node calling another node)
 * trusts. Only the JDK is used: PEM certificates through {@link CertificateFactory}, PEM keys in PKCS#8.
 */
public final class HttpTls {
  private HttpTls() {}

  /**
   * The settings. {@code certFile} and {@code keyFile} (PEM), or {@code keystoreFile} (PKCS#12) with its
   * password; {@code caFile} (PEM, may be empty) is the CA a node trusts when it calls another node's API.
   */
  public record Settings(boolean enabled, String certFile, String keyFile, String keystoreFile, String keystorePassword,
      String caFile, ClientAuth clientAuth) {

    public Settings(boolean enabled, String certFile, String keyFile, String keystoreFile, String keystorePassword,
        String caFile) {
      this(enabled, certFile, keyFile, keystoreFile, keystorePassword, caFile, ClientAuth.NONE);
    }

    public static Settings fromConfig(Config tern) {
      return at(tern, "security.http-tls");
    }

    /** The same settings under {@code tern.PATH} (Artery's are under security.artery-tls). */
    public static Settings at(Config tern, String path) {
      String where = "tern." + path;
      Config t = tern.getConfig(path);
      ClientAuth clientAuth = ClientAuth.NONE;
      if (t.hasPath("client-auth")) {
        try {
          clientAuth = ClientAuth.valueOf(t.getString("client-auth").strip().toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException(where + ".client-auth: none, want or need, not '" + t.getString("client-auth") + "'");
        }
      }
      Settings s = new Settings(t.getBoolean("enabled"), t.getString("cert-file").strip(), t.getString("key-file").strip(),
          t.getString("keystore-file").strip(), t.getString("keystore-password"), t.getString("ca-file").strip(), clientAuth);
      if (s.enabled() && clientAuth != ClientAuth.NONE && s.caFile().isEmpty()) {
        throw new IllegalArgumentException(where + ".client-auth = " + t.getString("client-auth")
            + " needs ca-file: the CA whose client certificates the node accepts");
      }
      if (s.enabled()) {
        boolean pem = !s.certFile().isEmpty() || !s.keyFile().isEmpty();
        boolean p12 = !s.keystoreFile().isEmpty();
        if (pem == p12) {
          throw new IllegalArgumentException(where + ": give either cert-file and key-file (PEM) or"
              + " keystore-file (PKCS#12), not " + (pem ? "both" : "neither"));
        }
        if (pem && (s.certFile().isEmpty() || s.keyFile().isEmpty())) {
          throw new IllegalArgumentException(where + ": cert-file and key-file go together");
        }
      }
      return s;
    }

    /** "https" with TLS on, else "http". */
    public String scheme() {
      return enabled ? "https" : "http";
    }

    /** The server's context, its key and certificate read now; a clear message if a file is missing or bad. */
    public SSLContext serverContext() {
      try {
        SSLContext ctx = SSLContext.getInstance("TLS");
        // With client certificates, only those ca-file's CA signed are accepted.
        ctx.init(keyManagers(), clientAuth == ClientAuth.NONE ? null : trustManagers(Path.of(caFile)), null);
        return ctx;
      } catch (GeneralSecurityException e) {
        throw new IllegalArgumentException("cannot use the key: " + e.getMessage(), e);
      }
    }

    /** The node's key and certificate chain, read now from the PEM files or the keystore. */
    public KeyManager[] keyManagers() {
      KeyStore keys = keystoreFile.isEmpty()
          ? fromPem(Path.of(certFile), Path.of(keyFile))
          : pkcs12(Path.of(keystoreFile), keystorePassword.toCharArray());
      try {
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, keystoreFile.isEmpty() ? IN_MEMORY : keystorePassword.toCharArray());
        return kmf.getKeyManagers();
      } catch (GeneralSecurityException e) {
        throw new IllegalArgumentException("cannot use the key: " + e.getMessage(), e);
      }
    }

    /** The context a node uses to call another node's API: trusting caFile, or the JDK's CAs when it is empty. */
    public SSLContext peerContext() throws GeneralSecurityException {
      if (clientAuth != ClientAuth.NONE) {
        // The other nodes ask for a client certificate too: present this node's own.
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(keyManagers(), trustManagers(Path.of(caFile)), null);
        return ctx;
      }
      return caFile.isEmpty() ? SSLContext.getDefault() : trusting(Path.of(caFile));
    }

    /** A server engine of {@code server} as this setting wants it: asking for a client certificate or not. */
    public javax.net.ssl.SSLEngine serverEngine(SSLContext server) {
      javax.net.ssl.SSLEngine engine = server.createSSLEngine();
      engine.setUseClientMode(false);
      if (clientAuth == ClientAuth.NEED) engine.setNeedClientAuth(true);
      else if (clientAuth == ClientAuth.WANT) engine.setWantClientAuth(true);
      return engine;
    }
  }

  /** Whether the API asks clients for a certificate: not at all, optionally, or always (refusing those without). */
  public enum ClientAuth { NONE, WANT, NEED }

  /**
   * A client context presenting the certificate and key in the PEM files {@code certFile} and {@code keyFile}, and
   * trusting the CA certificates in {@code caFile} (null: the JDK's own CAs).
   */
  public static SSLContext presenting(Path certFile, Path keyFile, Path caFile) {
    try {
      KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(fromPem(certFile, keyFile), IN_MEMORY);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(kmf.getKeyManagers(), caFile == null ? null : trustManagers(caFile), null);
      return ctx;
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("cannot use the client certificate " + certFile + ": " + e.getMessage(), e);
    }
  }

  /** A client context that trusts the CA certificates in the PEM file {@code caFile} (and no others). */
  public static SSLContext trusting(Path caFile) {
    try {
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, trustManagers(caFile), null);
      return ctx;
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("cannot use " + caFile + " as a CA: " + e.getMessage(), e);
    }
  }

  /** Trust managers that trust the CA certificates in the PEM file {@code caFile}, and no others. */
  public static TrustManager[] trustManagers(Path caFile) {
    try {
      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      int i = 0;
      for (X509Certificate c : certificates(caFile)) trust.setCertificateEntry("ca-" + i++, c);
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      return tmf.getTrustManagers();
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalArgumentException("cannot use " + caFile + " as a CA: " + e.getMessage(), e);
    }
  }

  /** The certificates in a PEM file, in order; at least one. */
  public static List<X509Certificate> certificates(Path pem) {
    try (InputStream in = Files.newInputStream(pem)) {
      List<X509Certificate> out = new ArrayList<>();
      for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) out.add((X509Certificate) c);
      if (out.isEmpty()) throw new IllegalArgumentException(pem + " holds no PEM certificate");
      return out;
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read " + pem + ": " + e.getMessage(), e);
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException(pem + " is not a PEM certificate: " + e.getMessage(), e);
    }
  }

  /** The password of the keystore built in memory from PEM files (it never leaves the process). */
  private static final char[] IN_MEMORY = "tern".toCharArray();

  private static final Pattern PKCS8 = Pattern.compile(
      "-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\\s]+)-----END PRIVATE KEY-----");

  /** An unencrypted PKCS#8 PEM private key (RSA or EC). */
  public static PrivateKey privateKey(Path pem) {
    String text;
    try {
      text = Files.readString(pem, StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read " + pem + ": " + e.getMessage(), e);
    }
    Matcher m = PKCS8.matcher(text);
    if (!m.find()) {
      throw new IllegalArgumentException(pem + " holds no unencrypted PKCS#8 key (\"BEGIN PRIVATE KEY\"); convert one with"
          + " `openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pk8`");
    }
    byte[] der = Base64.getMimeDecoder().decode(m.group(1));
    for (String algorithm : new String[] {"EC", "RSA", "Ed25519"}) {
      try {
        return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
      } catch (GeneralSecurityException e) {
        // not this algorithm: try the next
      }
    }
    throw new IllegalArgumentException(pem + ": the key is not an EC, RSA or Ed25519 key");
  }

  private static KeyStore fromPem(Path certFile, Path keyFile) {
    List<X509Certificate> chain = certificates(certFile);
    PrivateKey key = privateKey(keyFile);
    try {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      ks.setKeyEntry("tern", key, IN_MEMORY, chain.toArray(new Certificate[0]));
      return ks;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalArgumentException(keyFile + " does not go with " + certFile + ": " + e.getMessage(), e);
    }
  }

  private static KeyStore pkcs12(Path file, char[] password) {
    try (InputStream in = Files.newInputStream(file)) {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(in, password);
      return ks;
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException("cannot open the PKCS#12 keystore " + file + ": " + e.getMessage(), e);
    }
  }
}

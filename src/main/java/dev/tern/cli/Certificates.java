package dev.tern.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A private CA and the certificates it signs for nodes (docs/security.md), made with BouncyCastle's certificate
 * builder and the JDK's EC P-256 keys and ECDSA signatures. Each node's certificate serves both as a TLS server
 * certificate (the HTTPS API, Artery) and as a client certificate (Artery's mutual authentication), with the node's
 * host names and addresses as subject alternative names.
 */
public final class Certificates {
  private Certificates() {}

  private static final SecureRandom RANDOM = new SecureRandom();

  /** A key pair and its certificate. */
  public record Issued(KeyPair keys, X509Certificate certificate) {}

  /** A fresh self-signed CA, valid for {@code validity}. */
  public static Issued newCa(String commonName, Duration validity) {
    KeyPair keys = ecKeys();
    X500Name name = new X500Name("CN=" + commonName);
    try {
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder b = builder(name, name, keys, validity)
          .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
          .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
          .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(keys.getPublic()));
      return new Issued(keys, sign(b, keys.getPrivate()));
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException("cannot make a CA certificate: " + e.getMessage(), e);
    }
  }

  /**
   * A certificate signed by {@code ca} for a node named {@code commonName}, valid for {@code validity}, for the
   * host names and IP addresses in {@code hosts} (at least one).
   */
  public static Issued issue(Issued ca, String commonName, List<String> hosts, Duration validity) {
    if (hosts.isEmpty()) throw new IllegalArgumentException("a node certificate needs at least one host name or address");
    KeyPair keys = ecKeys();
    List<GeneralName> names = new ArrayList<>();
    for (String h : hosts) {
      boolean ip = h.matches("[0-9.]+") || h.contains(":");
      names.add(new GeneralName(ip ? GeneralName.iPAddress : GeneralName.dNSName, h));
    }
    try {
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder b = builder(X500Name.getInstance(ca.certificate().getSubjectX500Principal().getEncoded()),
          new X500Name("CN=" + commonName), keys, validity)
          .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
          .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyAgreement))
          .addExtension(Extension.extendedKeyUsage, false,
              new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}))
          .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names.toArray(new GeneralName[0])))
          .addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(ca.certificate()))
          .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(keys.getPublic()));
      return new Issued(keys, sign(b, ca.keys().getPrivate()));
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException("cannot make a certificate for " + commonName + ": " + e.getMessage(), e);
    }
  }

  /** Writes a certificate as PEM. */
  public static void writeCertificate(Path file, X509Certificate... chain) throws IOException {
    StringBuilder pem = new StringBuilder();
    try {
      for (X509Certificate c : chain) pem.append(pem("CERTIFICATE", c.getEncoded()));
    } catch (GeneralSecurityException e) {
      throw new IOException(e);
    }
    Files.writeString(file, pem, StandardCharsets.US_ASCII);
  }

  /** Writes a private key as unencrypted PKCS#8 PEM, readable by its owner only where the file system allows. */
  public static void writeKey(Path file, PrivateKey key) throws IOException {
    Files.deleteIfExists(file);
    createPrivate(file);
    Files.writeString(file, pem("PRIVATE KEY", key.getEncoded()), StandardCharsets.US_ASCII);
  }

  /** Writes a PKCS#12 keystore with the key and its chain under alias "tern" (key and store share the password). */
  public static void writeKeystore(Path file, Issued issued, X509Certificate ca, char[] password) throws IOException {
    try {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      ks.setKeyEntry("tern", issued.keys().getPrivate(), password, new Certificate[] {issued.certificate(), ca});
      Files.deleteIfExists(file);
      createPrivate(file);
      try (OutputStream out = Files.newOutputStream(file)) {
        ks.store(out, password);
      }
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot write the keystore " + file + ": " + e.getMessage(), e);
    }
  }

  /** Writes a PKCS#12 truststore holding only {@code ca}. */
  public static void writeTruststore(Path file, X509Certificate ca, char[] password) throws IOException {
    try {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      ks.setCertificateEntry("ca", ca);
      try (OutputStream out = Files.newOutputStream(file)) {
        ks.store(out, password);
      }
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot write the truststore " + file + ": " + e.getMessage(), e);
    }
  }

  private static void createPrivate(Path file) throws IOException {
    try {
      Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    } catch (UnsupportedOperationException e) {
      Files.createFile(file);
    }
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
        + "\n-----END " + type + "-----\n";
  }

  private static KeyPair ecKeys() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
      return g.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("EC P-256 keys are missing from this JDK", e);
    }
  }

  private static X509v3CertificateBuilder builder(X500Name issuer, X500Name subject, KeyPair keys, Duration validity) {
    Instant now = Instant.now();
    // A little back in time: a peer whose clock is a bit behind must not find the certificate not yet valid.
    return new JcaX509v3CertificateBuilder(issuer, new BigInteger(127, RANDOM).add(BigInteger.ONE),
        Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(validity)), subject, keys.getPublic());
  }

  private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey issuerKey) throws GeneralSecurityException {
    try {
      return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKey)));
    } catch (OperatorCreationException e) {
      throw new GeneralSecurityException(e);
    }
  }
}

package dev.tern.http;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.security.spec.InvalidKeySpecException;
import java.util.Base64;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;

/**
 * Bearer tokens and their salted hashes. A node's settings hold only the hash ({@code tern.security.tokens}), never
 * the token: PBKDF2 with HMAC-SHA256 from the JDK, a random 16-byte salt, and the iteration count in the hash itself
 * so that it can be raised later without invalidating older hashes. The format is
 * {@code pbkdf2-sha256:ITERATIONS:SALT:HASH}, salt and hash in base64 (no padding).
 */
public final class Tokens {
  private Tokens() {}

  /** The prefix of every hash this class makes. */
  public static final String SCHEME = "pbkdf2-sha256";
  /**
   * Iterations for a new hash. A generated token has 256 random bits, so the count matters only for a token that a
   * person chose; each unknown token a client presents costs this many HMACs once per configured token (then the
   * answer is cached), hence not the 600,000 recommended for passwords.
   */
  public static final int DEFAULT_ITERATIONS = 100_000;
  private static final int SALT_BYTES = 16;
  private static final int HASH_BITS = 256;
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Base64.Encoder B64 = Base64.getEncoder().withoutPadding();

  /** A fresh random token: "tern_" and 32 random bytes in URL-safe base64 (fits a header and a shell). */
  public static String generate() {
    byte[] bytes = new byte[32];
    RANDOM.nextBytes(bytes);
    return "tern_" + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  /** The hash of {@code token} with a fresh salt. */
  public static String hash(String token, int iterations) {
    if (token == null || token.isEmpty()) throw new IllegalArgumentException("the token must not be empty");
    if (iterations < 1) throw new IllegalArgumentException("iterations must be at least 1");
    byte[] salt = new byte[SALT_BYTES];
    RANDOM.nextBytes(salt);
    return SCHEME + ":" + iterations + ":" + B64.encodeToString(salt) + ":" + B64.encodeToString(derive(token, salt, iterations));
  }

  /** A parsed hash; {@link #matches} checks a presented token against it. */
  public record Hash(int iterations, byte[] salt, byte[] hash) {
    /** Parses {@code pbkdf2-sha256:ITERATIONS:SALT:HASH}; a message saying what is wrong otherwise. */
    public static Hash parse(String text) {
      String[] parts = text == null ? new String[0] : text.strip().split(":");
      if (parts.length != 4 || !parts[0].equals(SCHEME)) {
        throw new IllegalArgumentException("not a token hash of the form " + SCHEME + ":ITERATIONS:SALT:HASH (make one with `tern token hash`)");
      }
      int iterations;
      try {
        iterations = Integer.parseInt(parts[1]);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("the iteration count '" + parts[1] + "' is not a number");
      }
      if (iterations < 1) throw new IllegalArgumentException("the iteration count must be at least 1");
      try {
        byte[] salt = Base64.getDecoder().decode(parts[2]);
        byte[] hash = Base64.getDecoder().decode(parts[3]);
        if (salt.length < 8 || hash.length != HASH_BITS / 8) throw new IllegalArgumentException("salt or hash has the wrong length");
        return new Hash(iterations, salt, hash);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("the salt or hash is not valid base64 of the right length");
      }
    }

    /** Whether {@code token} hashes to this hash; the comparison takes the same time wherever they differ. */
    public boolean matches(String token) {
      return MessageDigest.isEqual(hash, derive(token, salt, iterations));
    }
  }

  /** SHA-256 of the token: the key under which a verified token is remembered (never the token itself). */
  static String digest(String token) {
    try {
      return B64.encodeToString(MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JDK", e);
    }
  }

  private static byte[] derive(String token, byte[] salt, int iterations) {
    PBEKeySpec spec = new PBEKeySpec(token.toCharArray(), salt, iterations, HASH_BITS);
    try {
      return SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(spec).getEncoded();
    } catch (NoSuchAlgorithmException | InvalidKeySpecException e) {
      throw new IllegalStateException("PBKDF2WithHmacSHA256 is missing from this JDK", e);
    } finally {
      spec.clearPassword();
    }
  }
}

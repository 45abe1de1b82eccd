package dev.tern.http;

import dev.tern.kv.Bytes;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.apache.pekko.http.javadsl.model.HttpRequest;

/** Parsing what a request carries in its path, query and headers, strictly: bad input gives null or -1, never an exception. */
final class HttpParsing {
  private HttpParsing() {}

  /** A client that accepts only {@code application/octet-stream}, not JSON, asks for the raw form. */
  static boolean wantsRaw(HttpRequest request) {
    return request.getHeader("Accept").map(h -> {
      String accept = h.value().toLowerCase(java.util.Locale.ROOT);
      return accept.contains("application/octet-stream") && !accept.contains("json") && !accept.contains("*/*");
    }).orElse(false);
  }

  /** "linearizable" or absent: true; "stale": false; anything else: null. */
  static Boolean parseConsistency(Optional<String> consistency) {
    if (consistency.isEmpty() || consistency.get().equals("linearizable")) return true;
    if (consistency.get().equals("stale")) return false;
    return null;
  }

  /** A decimal integer of digits only, or -1 when it is not one (or overflows). */
  static long parseNonNegativeLong(String s) {
    if (s.isEmpty()) return -1;
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) < '0' || s.charAt(i) > '9') return -1;
    }
    try {
      return Long.parseLong(s);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /**
   * Percent-decodes a URI path (where '+' is a plain '+') and decodes the bytes as strict UTF-8; null when an
   * escape is malformed or the bytes are not UTF-8. A U+FFFD in the input also gives null: Pekko substitutes it
   * for undecodable bytes before the route sees the path, so it almost always stands for invalid UTF-8.
   */
  static String decodePath(String encoded) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(encoded.length());
    for (int i = 0; i < encoded.length(); ) {
      char c = encoded.charAt(i);
      if (c == '%') {
        if (i + 2 >= encoded.length()) return null;
        int hi = Character.digit(encoded.charAt(i + 1), 16);
        int lo = Character.digit(encoded.charAt(i + 2), 16);
        if (hi < 0 || lo < 0) return null;
        out.write(hi * 16 + lo);
        i += 3;
      } else if (c < 0x80) {
        out.write(c);
        i++;
      } else {
        int cp = encoded.codePointAt(i);
        byte[] b = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8);
        out.write(b, 0, b.length);
        i += Character.charCount(cp);
      }
    }
    String decoded = decodeUtf8(out.toByteArray());
    return decoded == null || decoded.indexOf('\uFFFD') >= 0 ? null : decoded;
  }

  /** Strict UTF-8: null for malformed or unmappable input (no silent replacement). */
  static String decodeUtf8(byte[] bytes) {
    return Bytes.wrap(bytes).utf8OrNull();
  }

  static int utf8Length(String s) {
    return s.getBytes(StandardCharsets.UTF_8).length;
  }
}

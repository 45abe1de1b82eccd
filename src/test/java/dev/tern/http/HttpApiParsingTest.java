package dev.tern.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

/** The path and number parsing behind the HTTP API's 400s. */
class HttpApiParsingTest {
  @Test
  void decodePathPercentDecodesStrictUtf8() {
    assertEquals("users/42", HttpParsing.decodePath("users/42"));
    assertEquals("a b/c", HttpParsing.decodePath("a%20b%2Fc"));
    assertEquals("a+b", HttpParsing.decodePath("a+b")); // '+' is not a space in a path
    assertEquals("é€\uD83D\uDE00", HttpParsing.decodePath("%C3%A9%E2%82%AC%F0%9F%98%80"));
    assertEquals("é", HttpParsing.decodePath("é")); // already-decoded characters pass through
    assertEquals("", HttpParsing.decodePath(""));
  }

  @Test
  void decodePathRefusesBadEscapesAndBadUtf8() {
    assertNull(HttpParsing.decodePath("%"));
    assertNull(HttpParsing.decodePath("a%2"));
    assertNull(HttpParsing.decodePath("%ZZ"));
    assertNull(HttpParsing.decodePath("%FF"));
    assertNull(HttpParsing.decodePath("%C3"));
    assertNull(HttpParsing.decodePath("%ED%A0%80")); // an encoded surrogate is not UTF-8
    // Pekko turns undecodable bytes into U+FFFD before the route sees them; that counts as invalid too.
    assertNull(HttpParsing.decodePath("a%EF%BF%BD"));
    assertNull(HttpParsing.decodePath("a\uFFFD"));
  }

  @Test
  void strictUtf8Decoding() {
    assertEquals("ok", HttpParsing.decodeUtf8(new byte[] {'o', 'k'}));
    assertNull(HttpParsing.decodeUtf8(new byte[] {(byte) 0xC3, 0x28}));
    assertNull(HttpParsing.decodeUtf8(new byte[] {(byte) 0xC0, (byte) 0x80})); // overlong NUL
    assertEquals(3, HttpParsing.utf8Length("€"));
  }

  @Test
  void nonNegativeLongs() {
    assertEquals(0, HttpParsing.parseNonNegativeLong("0"));
    assertEquals(42, HttpParsing.parseNonNegativeLong("0042"));
    assertEquals(Long.MAX_VALUE, HttpParsing.parseNonNegativeLong(Long.toString(Long.MAX_VALUE)));
    for (String bad : new String[] {"", "-1", "+1", "1.0", "1e3", " 1", "abc", "99999999999999999999"}) {
      assertEquals(-1, HttpParsing.parseNonNegativeLong(bad), bad);
    }
  }
}

package dev.tern.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

/** The path and number parsing behind the HTTP API's 400s. */
class HttpApiParsingTest {
  @Test
  void decodePathPercentDecodesStrictUtf8() {
    assertEquals("users/42", HttpApi.decodePath("users/42"));
    assertEquals("a b/c", HttpApi.decodePath("a%20b%2Fc"));
    assertEquals("a+b", HttpApi.decodePath("a+b")); // '+' is not a space in a path
    assertEquals("é€\uD83D\uDE00", HttpApi.decodePath("%C3%A9%E2%82%AC%F0%9F%98%80"));
    assertEquals("é", HttpApi.decodePath("é")); // already-decoded characters pass through
    assertEquals("", HttpApi.decodePath(""));
  }

  @Test
  void decodePathRefusesBadEscapesAndBadUtf8() {
    assertNull(HttpApi.decodePath("%"));
    assertNull(HttpApi.decodePath("a%2"));
    assertNull(HttpApi.decodePath("%ZZ"));
    assertNull(HttpApi.decodePath("%FF"));
    assertNull(HttpApi.decodePath("%C3"));
    assertNull(HttpApi.decodePath("%ED%A0%80")); // an encoded surrogate is not UTF-8
    // Pekko turns undecodable bytes into U+FFFD before the route sees them; that counts as invalid too.
    assertNull(HttpApi.decodePath("a%EF%BF%BD"));
    assertNull(HttpApi.decodePath("a\uFFFD"));
  }

  @Test
  void strictUtf8Decoding() {
    assertEquals("ok", HttpApi.decodeUtf8(new byte[] {'o', 'k'}));
    assertNull(HttpApi.decodeUtf8(new byte[] {(byte) 0xC3, 0x28}));
    assertNull(HttpApi.decodeUtf8(new byte[] {(byte) 0xC0, (byte) 0x80})); // overlong NUL
    assertEquals(3, HttpApi.utf8Length("€"));
  }

  @Test
  void nonNegativeLongs() {
    assertEquals(0, HttpApi.parseNonNegativeLong("0"));
    assertEquals(42, HttpApi.parseNonNegativeLong("0042"));
    assertEquals(Long.MAX_VALUE, HttpApi.parseNonNegativeLong(Long.toString(Long.MAX_VALUE)));
    for (String bad : new String[] {"", "-1", "+1", "1.0", "1e3", " 1", "abc", "99999999999999999999"}) {
      assertEquals(-1, HttpApi.parseNonNegativeLong(bad), bad);
    }
  }
}

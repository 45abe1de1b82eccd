package dev.tern.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Validation and namespacing of client request ids (docs/api.md, "Exactly-once writes"). */
class RequestIdsTest {

  @Test
  void aValidIdBecomesANamespacedCommandId() {
    RequestIds.Parsed p = RequestIds.parse("3f1c2a9e-0b7d-4c1e-9a55-1d2e3f4a5b6c", 128);
    assertNull(p.error());
    assertEquals("req:3f1c2a9e-0b7d-4c1e-9a55-1d2e3f4a5b6c", p.commandId());
    assertEquals("req:client-7:seq_42.a~b", RequestIds.parse("client-7:seq_42.a~b", 128).commandId());
    assertEquals("req:Z", RequestIds.parse("Z", 1).commandId(), "one character is enough");
  }

  @Test
  void noHeaderMeansNoCommandId() {
    assertEquals(RequestIds.Parsed.NONE, RequestIds.parse(Optional.empty(), 128));
    assertEquals("req:x", RequestIds.parse(Optional.of("x"), 128).commandId());
  }

  @Test
  void theLengthLimitIsExact() {
    assertNull(RequestIds.parse("a".repeat(16), 16).error());
    RequestIds.Parsed tooLong = RequestIds.parse("a".repeat(17), 16);
    assertNull(tooLong.commandId());
    assertEquals("Request-Id is 17 characters, more than the limit of 16", tooLong.error());
    assertEquals("Request-Id must not be empty", RequestIds.parse("", 16).error());
  }

  @Test
  void everyCharacterOutsideTheAllowedSetIsRefused() {
    for (char c = 0; c < 128; c++) {
      boolean allowed = Character.isLetterOrDigit(c) || "-_.:~".indexOf(c) >= 0;
      RequestIds.Parsed p = RequestIds.parse("ab" + c, 128);
      assertEquals(allowed, p.error() == null, "character " + (int) c);
      if (!allowed) {
        assertNull(p.commandId());
        assertTrue(p.error().contains("at position 2"), p.error());
      }
    }
    assertEquals("Request-Id may only contain A-Z a-z 0-9 - _ . : ~ (found ' ' at position 1)",
        RequestIds.parse("a b", 128).error());
    assertEquals("Request-Id may only contain A-Z a-z 0-9 - _ . : ~ (found '\\u00e9' at position 0)",
        RequestIds.parse("é", 128).error());
    assertEquals("Request-Id may only contain A-Z a-z 0-9 - _ . : ~ (found '\\u0001' at position 0)",
        RequestIds.parse("\u0001", 128).error());
    assertEquals("Request-Id may only contain A-Z a-z 0-9 - _ . : ~ (found '\\u007f' at position 0)",
        RequestIds.parse("\u007f", 128).error());
  }

  /** A client id can never equal an id the front makes: those start with the node id, which has no colon. */
  @Test
  void clientIdsAreTellableFromServerIds() {
    assertTrue(RequestIds.isClientId(RequestIds.parse("n1-abcd1234-5", 128).commandId()));
    assertFalse(RequestIds.isClientId("n1-abcd1234-5"));
    assertFalse(RequestIds.isClientId("req-1"));
  }
}

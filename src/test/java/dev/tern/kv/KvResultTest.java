package dev.tern.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

/** Results compare by content, values included: tests and the deduplication window rely on it. */
class KvResultTest {

  @Test
  void resultsWithEqualValuesAreEqual() {
    assertEquals(new KvResult.Written("k", "v", 3), new KvResult.Written("k", Bytes.copyOf(new byte[] {'v'}), 3));
    assertEquals(new KvResult.Value("k", "v", 3), new KvResult.Value("k", Bytes.wrap(new byte[] {'x', 'v'}, 1, 1), 3));
    assertNotEquals(new KvResult.Value("k", "v", 3), new KvResult.Value("k", "w", 3));
    assertEquals(new KvResult.Written("k", "v", 3).hashCode(), new KvResult.Written("k", Bytes.utf8("v"), 3).hashCode());
  }

  @Test
  void aRememberedWriteHasNoValue() {
    assertNull(new KvResult.Written("k", (String) null, 3).value());
    assertNull(new KvResult.Written("k", (Bytes) null, 3).value());
  }
}

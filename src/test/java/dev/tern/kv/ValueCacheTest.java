package dev.tern.kv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The hot values' cache is bounded by bytes and lets the least recently used go first. */
class ValueCacheTest {

  private static byte[] value(int length, int fill) {
    byte[] v = new byte[length];
    java.util.Arrays.fill(v, (byte) fill);
    return v;
  }

  @Test
  void neverHoldsMoreBytesThanItsSize() {
    long max = 64 << 10;
    ValueCache cache = new ValueCache(max);
    for (int i = 0; i < 10_000; i++) {
      cache.put("key-" + i, value(100 + i % 300, i));
      assertTrue(cache.bytes() <= max, "after " + i + ": " + cache.bytes());
    }
    long sum = 0;
    for (int i = 0; i < 10_000; i++) {
      byte[] v = cache.get("key-" + i);
      if (v != null) sum += ValueCache.cost("key-" + i, v);
    }
    assertEquals(cache.bytes(), sum, "the count is what it holds");
    assertTrue(cache.size() > 100, "it holds many: " + cache.size());
    assertArrayEquals(value(100 + 9_999 % 300, 9_999), cache.get("key-9999"), "the last one in is there");
    assertNull(cache.get("key-0"), "the first one in is gone");
  }

  @Test
  void aKeyReadRecentlyStaysWhileOlderOnesGo() {
    byte[] v = value(200, 1);
    long each = ValueCache.cost("k00", v);
    ValueCache cache = new ValueCache(each * 20);
    for (int i = 0; i < 20; i++) cache.put(String.format("k%02d", i), v);
    assertArrayEquals(v, cache.get("k00")); // now k01 is the least recently used
    cache.put("k20", v);
    assertNull(cache.get("k01"));
    for (int i = 0; i <= 20; i++) {
      if (i != 1) assertArrayEquals(v, cache.get(String.format("k%02d", i)), "k" + i);
    }
  }

  @Test
  void replacingRemovingAndClearingKeepTheCount() {
    ValueCache cache = new ValueCache(1 << 20);
    cache.put("k", value(10, 1));
    cache.put("k", value(1000, 2));
    assertEquals(ValueCache.cost("k", value(1000, 2)), cache.bytes());
    assertArrayEquals(value(1000, 2), cache.get("k"));
    cache.remove("k");
    cache.remove("never");
    assertEquals(0, cache.bytes());
    assertNull(cache.get("k"));
    cache.put("x", value(5, 0));
    cache.clear();
    assertEquals(0, cache.bytes());
    assertEquals(0, cache.size());
  }

  /** A value over a sixteenth of the cache is not kept, and a smaller one cached before it under its key goes. */
  @Test
  void aLargeValueIsNotKeptAndDropsTheOldOne() {
    ValueCache cache = new ValueCache(16 << 10);
    for (int i = 0; i < 10; i++) cache.put("small-" + i, value(100, i));
    cache.put("big", value(100, 9));
    cache.put("big", value(2 << 10, 9));
    assertNull(cache.get("big"), "not the old value either");
    for (int i = 0; i < 10; i++) assertArrayEquals(value(100, i), cache.get("small-" + i), "kept: small-" + i);
  }

  @Test
  void sizeZeroKeepsNothing() {
    ValueCache off = new ValueCache(0);
    off.put("k", value(1, 1));
    assertNull(off.get("k"));
    assertEquals(0, off.bytes());
    assertThrows(IllegalArgumentException.class, () -> new ValueCache(-1));
  }

  @Test
  void countsHitsAndMisses() {
    ValueCache cache = new ValueCache(1 << 20);
    cache.put("k", value(1, 1));
    cache.get("k");
    cache.get("k");
    cache.get("other");
    assertEquals(2, cache.hits());
    assertEquals(1, cache.misses());
  }
}

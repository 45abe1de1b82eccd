package dev.tern.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class KvStoreTest {

  private static MemoryKvStore storeWith(String... keys) {
    MemoryKvStore store = new MemoryKvStore();
    long revision = 1;
    for (String key : keys) store.put(key, Bytes.utf8("v-" + key), revision++);
    return store;
  }

  private static List<String> keys(List<KeyValue> rows) {
    return rows.stream().map(KeyValue::key).toList();
  }

  @Test
  void rangeReturnsPrefixMatchesInKeyOrderUpToTheLimit() {
    MemoryKvStore store = storeWith("apply", "b", "ap", "apple", "a", "app", "aq", "ap\u0000x");

    assertEquals(List.of("ap", "ap\u0000x", "app", "apple", "apply"), keys(store.range("ap", 100)));
    assertEquals(List.of("ap", "ap\u0000x"), keys(store.range("ap", 2)));
    assertEquals(List.of("app", "apple", "apply"), keys(store.range("app", 10)));
    assertEquals(List.of("a", "ap", "ap\u0000x", "app", "apple", "apply", "aq", "b"), keys(store.range("", 100)));
    assertEquals(List.of(), store.range("c", 10));
    assertEquals(List.of(), store.range("apz", 10));
  }

  @Test
  void rangeRowsCarryValueAndRevision() {
    MemoryKvStore store = new MemoryKvStore();
    store.put("user/1", Bytes.utf8("ann"), 5);
    store.put("user/2", Bytes.utf8("bob"), 9);
    store.put("group/1", Bytes.utf8("x"), 2);
    assertEquals(
        List.of(new KeyValue("user/1", "ann", 5), new KeyValue("user/2", "bob", 9)), store.range("user/", 10));
  }

  @Test
  void rangeRejectsANonPositiveLimit() {
    assertThrows(IllegalArgumentException.class, () -> new MemoryKvStore().range("", 0));
  }

  @Test
  void digestFollowsContentNotInsertionOrder() {
    MemoryKvStore a = new MemoryKvStore();
    a.put("x", Bytes.utf8("1"), 1);
    a.put("y", Bytes.utf8("2"), 2);
    MemoryKvStore b = new MemoryKvStore();
    b.put("y", Bytes.utf8("2"), 2);
    b.put("x", Bytes.utf8("1"), 1);
    assertEquals(a.digest(), b.digest());
    assertEquals(a.snapshot(), b.snapshot());

    b.put("x", Bytes.utf8("1"), 3); // same value, other revision
    assertNotEquals(a.digest(), b.digest());
    assertNotEquals(a.snapshot(), b.snapshot());
  }

  @Test
  void digestSeparatesKeyFromValue() {
    MemoryKvStore a = new MemoryKvStore();
    a.put("ab", Bytes.utf8("c"), 1);
    MemoryKvStore b = new MemoryKvStore();
    b.put("a", Bytes.utf8("bc"), 1);
    assertNotEquals(a.digest(), b.digest());
  }

  @Test
  void removeReportsWhetherTheKeyWasThere() {
    MemoryKvStore store = storeWith("k");
    assertTrue(store.remove("k", 9));
    assertEquals(false, store.remove("k", 10));
    assertEquals(0, store.size());
  }
}

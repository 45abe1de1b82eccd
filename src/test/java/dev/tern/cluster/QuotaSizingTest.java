package dev.tern.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import org.junit.jupiter.api.Test;

/** The space quota against the heap (QuotaSizing): the rule, "auto", explicit sizes, 0, and the start-up refusal. */
class QuotaSizingTest {
  private static final long MIB = 1L << 20;
  private static final long GIB = 1L << 30;

  private static Config tern(String quota) {
    return ConfigFactory.parseString("tern.storage.quota-bytes = " + quota).getConfig("tern");
  }

  @Test
  void theHeapHoldsTwoAndAHalfBytesPerByteOfDataAfterItsReserve() {
    assertEquals(128 * MIB, QuotaSizing.maxQuotaFor(512 * MIB), "the default heap of ./tern local: (512 - 192) / 2.5");
    assertEquals(0, QuotaSizing.maxQuotaFor(192 * MIB), "nothing left after the reserve");
    assertEquals(0, QuotaSizing.maxQuotaFor(64 * MIB), "never negative");
    assertEquals(2 * GIB, QuotaSizing.maxQuotaFor(QuotaSizing.minHeapFor(2 * GIB)), "minHeapFor is its inverse");
    assertEquals(5 * GIB + 192 * MIB, QuotaSizing.minHeapFor(2 * GIB));
    assertTrue(QuotaSizing.maxQuotaFor(QuotaSizing.minHeapFor(2 * GIB) - 1) < 2 * GIB);
    assertEquals(Long.MAX_VALUE, QuotaSizing.maxQuotaFor(Long.MAX_VALUE), "a JVM without a heap bound");
  }

  @Test
  void autoIsTheDefaultQuotaOrWhatTheHeapHolds() {
    QuotaSizing.Resolved small = QuotaSizing.resolve(tern("auto"), 512 * MIB);
    assertEquals(128 * MIB, small.quotaBytes());
    assertTrue(small.description().contains("tern.storage.quota-bytes = auto: 128 MiB"), small.description());
    assertEquals(2 * GIB, QuotaSizing.resolve(tern("auto"), 8 * GIB).quotaBytes(), "2 GiB, like etcd, heap permitting");
    assertEquals(2 * GIB, QuotaSizing.resolve(tern("\"AUTO\""), 6 * GIB).quotaBytes());
    var tooSmall = assertThrows(IllegalArgumentException.class, () -> QuotaSizing.resolve(tern("auto"), 128 * MIB));
    assertTrue(tooSmall.getMessage().contains("-Xmx") && tooSmall.getMessage().contains("TERN_HEAP"), tooSmall.getMessage());
  }

  @Test
  void anExplicitQuotaMustFitTheHeap() {
    assertEquals(10 * 1024, QuotaSizing.resolve(tern("10KiB"), 512 * MIB).quotaBytes());
    assertEquals(128 * MIB, QuotaSizing.resolve(tern("128MiB"), 512 * MIB).quotaBytes(), "exactly what it holds");
    assertEquals(1000, QuotaSizing.resolve(tern("1000"), 512 * MIB).quotaBytes(), "a bare number is bytes");
    var tooLarge = assertThrows(IllegalArgumentException.class, () -> QuotaSizing.resolve(tern("2GiB"), 512 * MIB));
    String m = tooLarge.getMessage();
    assertTrue(m.contains("tern.storage.quota-bytes") && m.contains("-Xmx") && m.contains("TERN_JAVA_OPTS"), m);
    assertTrue(m.contains("at least 5312 MiB"), "names the heap it needs: " + m);
    assertThrows(IllegalArgumentException.class, () -> QuotaSizing.resolve(tern("129MiB"), 512 * MIB));
  }

  @Test
  void zeroTurnsTheQuotaOffWhateverTheHeap() {
    QuotaSizing.Resolved off = QuotaSizing.resolve(tern("0"), 64 * MIB);
    assertEquals(0, off.quotaBytes());
    assertTrue(off.description().contains("no space quota"), off.description());
  }

  @Test
  void anythingElseIsABadSetting() {
    assertThrows(ConfigException.class, () -> QuotaSizing.resolve(tern("plenty"), 8 * GIB));
    assertThrows(ConfigException.class, () -> QuotaSizing.resolve(tern("-1"), 8 * GIB), "no negative sizes");
  }

  @Test
  void theShippedDefaultIsAutoAndStartsWithTheLauncherHeap() {
    Config shipped = ConfigFactory.parseResources("application.conf").getConfig("tern");
    assertEquals("auto", shipped.getString("storage.quota-bytes"));
    assertEquals(128 * MIB, QuotaSizing.resolve(shipped, 512 * MIB).quotaBytes(), "./tern local's 512m heap");
    assertEquals((long) (64 * MIB / 2.5), QuotaSizing.resolve(shipped, 256 * MIB).quotaBytes(),
        "tern experiment's 256m heap");
  }

  @Test
  void aNodeWhoseHeapCannotHoldItsQuotaRefusesToStartBeforeTouchingItsData() {
    Config config = ConfigFactory.parseString("tern.storage.quota-bytes = 1TiB\n"
            + "tern.data-dir = \"/nonexistent/tern-quota-test\"")
        .withFallback(ConfigFactory.parseResources("application.conf"))
        .withFallback(ConfigFactory.defaultReference())
        .resolve();
    var refused = assertThrows(IllegalArgumentException.class, () -> new TernNode(config));
    assertTrue(refused.getMessage().contains("tern.storage.quota-bytes") && refused.getMessage().contains("-Xmx"),
        refused.getMessage());
  }
}

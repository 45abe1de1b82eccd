package dev.tern.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import org.junit.jupiter.api.Test;

/** The heap check and the space quota's setting (QuotaSizing): the rule, "auto", explicit sizes, 0, and the start-up refusal. */
class QuotaSizingTest {
  private static final long MIB = 1L << 20;
  private static final long GIB = 1L << 30;

  private static Config withDefaults(String quota) {
    return ConfigFactory.parseString("tern.storage.quota-bytes = " + quota)
        .withFallback(ConfigFactory.parseResources("application.conf")).resolve().getConfig("tern");
  }

  @Test
  void theHeapMustHoldWhatTheSettingsKeepInMemoryNotTheData() {
    Config shipped = withDefaults("auto");
    // 64 MiB of log since the snapshot, 32 MiB kept for followers, 16 MiB of watch history, 16 MiB of hot values,
    // window and runtime.
    assertEquals((64 + 32 + 16 + 16) * MIB + QuotaSizing.WINDOW_BYTES + QuotaSizing.RUNTIME_BYTES, QuotaSizing.heapNeeded(shipped));
    var tooSmall = assertThrows(IllegalArgumentException.class, () -> QuotaSizing.resolve(shipped, 128 * MIB));
    String m = tooSmall.getMessage();
    assertTrue(m.contains("-Xmx") && m.contains("TERN_HEAP") && m.contains("tern.raft.snapshot-threshold")
        && m.contains("tern.storage.value-cache-size"), m);
    // A smaller snapshot threshold fits a smaller heap.
    Config lean = ConfigFactory.parseString("tern.raft.snapshot-threshold = 8MiB\ntern.raft.snapshot-trailing-bytes = 4MiB\n"
            + "tern.storage.value-cache-size = 4MiB")
        .withFallback(ConfigFactory.parseResources("application.conf")).resolve().getConfig("tern");
    assertEquals(8 * GIB, QuotaSizing.resolve(lean, 128 * MIB).quotaBytes());
  }

  @Test
  void autoIsEightGibibytesWhateverTheHeapThatStarts() {
    QuotaSizing.Resolved auto = QuotaSizing.resolve(withDefaults("auto"), 512 * MIB);
    assertEquals(8 * GIB, auto.quotaBytes());
    assertTrue(auto.description().contains("tern.storage.quota-bytes = auto: 8192 MiB"), auto.description());
    assertEquals(8 * GIB, QuotaSizing.resolve(withDefaults("\"AUTO\""), 256 * MIB).quotaBytes(), "tern experiment's 256m heap");
  }

  @Test
  void anExplicitQuotaIsTakenAsItIsEvenLargerThanTheHeap() {
    assertEquals(10 * 1024, QuotaSizing.resolve(withDefaults("10KiB"), 512 * MIB).quotaBytes());
    assertEquals(1000, QuotaSizing.resolve(withDefaults("1000"), 512 * MIB).quotaBytes(), "a bare number is bytes");
    assertEquals(100 * GIB, QuotaSizing.resolve(withDefaults("100GiB"), 512 * MIB).quotaBytes(), "the data is on disk");
  }

  @Test
  void zeroTurnsTheQuotaOff() {
    QuotaSizing.Resolved off = QuotaSizing.resolve(withDefaults("0"), 512 * MIB);
    assertEquals(0, off.quotaBytes());
    assertTrue(off.description().contains("no space quota"), off.description());
  }

  @Test
  void anythingElseIsABadSetting() {
    assertThrows(ConfigException.class, () -> QuotaSizing.resolve(withDefaults("plenty"), 8 * GIB));
    assertThrows(ConfigException.class, () -> QuotaSizing.resolve(withDefaults("-1"), 8 * GIB), "no negative sizes");
  }

  @Test
  void aNodeWhoseHeapCannotHoldWhatItKeepsInMemoryRefusesToStartBeforeTouchingItsData() {
    Config config = ConfigFactory.parseString("tern.raft.snapshot-threshold = 1TiB\n"
            + "tern.data-dir = \"/nonexistent/tern-quota-test\"")
        .withFallback(ConfigFactory.parseResources("application.conf"))
        .withFallback(ConfigFactory.defaultReference())
        .resolve();
    var refused = assertThrows(IllegalArgumentException.class, () -> new TernNode(config));
    assertTrue(refused.getMessage().contains("tern.raft.snapshot-threshold") && refused.getMessage().contains("-Xmx"),
        refused.getMessage());
  }
}

package dev.tern.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The free-space reserve with an injected probe: deterministic, no real disk filled. */
class StorageHealthTest {
  private static final long MIB = 1 << 20;
  private final AtomicLong free = new AtomicLong(1024 * MIB);
  private final FsyncStats fsyncs = new FsyncStats();
  private final StorageHealth health = new StorageHealth(Path.of("/data/n1"), 256 * MIB, dir -> free.get(), fsyncs);

  @Test
  void belowTheReserveWritesAreRefusedAndComeBackWhenSpaceReturns() {
    assertEquals(-1, health.report().freeBytes(), "unknown before the first check");
    health.check();
    assertNull(health.writeRefusal());
    assertEquals(1024 * MIB, health.report().freeBytes());

    free.set(256 * MIB - 1);
    health.check();
    assertTrue(health.readOnly());
    String reason = health.writeRefusal();
    assertTrue(reason.startsWith("read-only: 255 MiB free"), reason);
    assertTrue(reason.contains("tern.storage.min-free-space"), reason);
    assertTrue(health.report().readOnly());

    free.set(256 * MIB); // exactly the reserve is enough
    health.check();
    assertFalse(health.readOnly());
    assertNull(health.writeRefusal());
  }

  @Test
  void aFailingProbeKeepsTheLastState() {
    free.set(MIB);
    health.check();
    assertTrue(health.readOnly());
    StorageHealth failing = new StorageHealth(Path.of("/x"), 10, dir -> {
      throw new IOException("gone");
    }, fsyncs);
    failing.check();
    assertEquals(-1, failing.report().freeBytes());
    assertFalse(failing.readOnly());
  }

  @Test
  void aZeroReserveNeverRefusesAndANegativeOneIsRejected() {
    StorageHealth off = new StorageHealth(Path.of("/x"), 0, dir -> 0, fsyncs);
    off.check();
    assertNull(off.writeRefusal());
    assertThrows(IllegalArgumentException.class, () -> new StorageHealth(Path.of("/x"), -1, dir -> 0, fsyncs));
  }

  @Test
  void aFailureRefusesEverythingForGood() {
    health.check();
    health.markFailed(new IOException("Input/output error"));
    String reason = health.writeRefusal();
    assertTrue(reason.contains("storage in /data/n1 failed"), reason);
    assertTrue(reason.contains("Input/output error"), reason);
    health.check(); // space is fine: still failed
    assertEquals(reason, health.writeRefusal());
    assertEquals(reason, health.report().failure());
  }

  @Test
  void fsyncLatencyIsReportedPerWindow() {
    fsyncs.record(300_000);
    fsyncs.record(9_000_000);
    fsyncs.record(500_000);
    health.check();
    StorageHealth.Report r = health.report();
    assertEquals(500, r.fsyncLastMicros());
    assertEquals(9_000, r.fsyncRecentMaxMicros());
    assertEquals(3, r.fsyncs());
    fsyncs.record(200_000);
    health.check();
    assertEquals(200, health.report().fsyncRecentMaxMicros(), "a new window forgets the old maximum");
  }
}

package dev.tern.kv;

import static dev.tern.kv.RocksKvStoreTest.applyAll;
import static dev.tern.kv.RocksKvStoreTest.inMemory;
import static dev.tern.kv.RocksKvStoreTest.onDisk;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.raft.LogEntry;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The on-disk store through crashes: a child process ({@link RocksCrashChild}) applies a log as fast as it can and is
 * SIGKILLed. Kept apart from {@link RocksKvStoreTest} because the child runs the classes on disk: mutation testing
 * (PIT) could never see a mutant here, only spend seconds per mutant.
 */
class RocksCrashTest {
  @TempDir Path dir;

  /**
   * A process applying entries as fast as it can is killed with SIGKILL, with RocksDB's write-ahead log off: what it
   * left on disk must be exactly the state after some whole entry, with that entry's index, so that replaying the
   * log after it gives the same state as never crashing. Three kills, at different points.
   */
  @Test
  void aKillDuringApplyLeavesTheStateOfAWholeEntry() throws Exception {
    List<LogEntry> log = KvWorkload.log(RocksCrashChild.SEED, RocksCrashChild.LENGTH);
    Path store = dir.resolve("crash");
    long before = 0;
    for (int kill = 1; kill <= 3; kill++) {
      Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx128m",
          "-cp", System.getProperty("java.class.path"), RocksCrashChild.class.getName(), store.toString(),
          Integer.toString(kill * 15_000))
          .redirectErrorStream(true).start();
      try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        boolean reached = false;
        while ((line = out.readLine()) != null) {
          if (line.startsWith("reached")) {
            reached = true;
            break;
          }
        }
        assertTrue(reached, "the child reached its kill point");
        child.destroyForcibly(); // SIGKILL while it applies
        assertTrue(child.waitFor(30, TimeUnit.SECONDS));
      } finally {
        child.destroyForcibly();
      }
      KvStateMachine reopened = onDisk(store);
      long applied = reopened.lastApplied();
      assertTrue(applied >= before, "the applied index never goes back: " + before + " then " + applied);
      // Replay what the log holds after the stored index, as a restarted node does, up to a common point.
      long upTo = Math.min(RocksCrashChild.LENGTH, kill * 15_000L + 2_000);
      for (LogEntry e : log.subList((int) applied, (int) upTo)) reopened.apply(e);
      KvStateMachine expected = inMemory();
      applyAll(expected, log.subList(0, (int) upTo));
      assertEquals(expected.digest(), reopened.digest(), "kill " + kill + ": stored index " + applied);
      assertEquals(expected.size(), reopened.size());
      assertEquals(expected.dataBytes(), reopened.dataBytes());
      assertEquals(expected.leases(), reopened.leases());
      reopened.close();
      before = applied;
      assertNotEquals(0, applied, "the store was durable past something (flushes happen as memtables fill)");
    }
    assertFalse(Files.exists(store.resolve("store-2")));
  }

}

package dev.tern.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.raft.HardState;
import dev.tern.raft.LogEntry;
import dev.tern.raft.RaftStorage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A storage whose fsync fails: nothing more becomes durable, the fsync is never retried, the owner is told. */
class FsyncFailureTest {
  @TempDir Path dir;

  @Test
  void aFailedFsyncStopsDurabilityForGoodWithoutRetrying() throws Exception {
    try (FileStorage s = FileStorage.open(dir, true, 1 << 20)) {
      s.load();
      long first = s.submit(new RaftStorage.Write(new HardState(1, "n1"), 0, List.of(LogEntry.noop(1, 1))));
      assertTrue(s.awaitDurable(first, 10, TimeUnit.SECONDS));
      assertTrue(s.fsyncStats().count() > 0, "fsyncs are timed");
      assertTrue(s.fsyncStats().lastNanos() > 0);

      AtomicInteger attempts = new AtomicInteger();
      s.forcerForTests((ch, meta) -> {
        attempts.incrementAndGet();
        throw new IOException("Input/output error");
      });
      AtomicReference<Throwable> told = new AtomicReference<>();
      CountDownLatch failed = new CountDownLatch(1);
      s.onFailure(t -> {
        told.set(t);
        failed.countDown();
      });
      long second = s.submit(new RaftStorage.Write(null, 0, List.of(LogEntry.noop(2, 1))));
      assertTrue(failed.await(10, TimeUnit.SECONDS));
      assertEquals("Input/output error", told.get().getMessage());
      assertNotNull(s.failure());
      assertFalse(s.awaitDurable(second, 100, TimeUnit.MILLISECONDS));
      assertEquals(first, s.durableTicket());

      var refused = assertThrows(IllegalStateException.class,
          () -> s.submit(new RaftStorage.Write(null, 0, List.of(LogEntry.noop(3, 1)))), "no write after a failure");
      assertTrue(refused.getMessage().contains("Input/output error"), refused.getMessage());
      assertEquals(first, s.durableTicket());
      assertEquals(1, attempts.get(), "the failed fsync is never retried");
    }
  }
}

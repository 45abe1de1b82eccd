package dev.tern.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.raft.HardState;
import dev.tern.raft.LogEntry;
import dev.tern.raft.RaftStorage.Write;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The storage tells its observer (the node's metrics) of each batch it makes durable and of each fsync. */
class StorageObserverTest {
  @TempDir Path tmp;

  private final List<String> batches = new CopyOnWriteArrayList<>();
  private final List<Long> fsyncs = new CopyOnWriteArrayList<>();
  private final StorageObserver observer = new StorageObserver() {
    @Override
    public void fsynced(long nanos) {
      fsyncs.add(nanos);
    }

    @Override
    public void batchWritten(int writes, int entries) {
      batches.add(writes + " writes, " + entries + " entries");
    }
  };

  private static LogEntry entry(long index) {
    return LogEntry.command(index, 1, ("v" + index).getBytes(StandardCharsets.US_ASCII));
  }

  @Test
  void writesQueuedTogetherAreOneBatchWithItsEntriesAndItsFsyncs() throws Exception {
    try (FileStorage s = FileStorage.open(tmp.resolve("on"), true, 1 << 20)) {
      s.load();
      s.observe(observer);
      long before = s.fsyncStats().count(); // opening fsyncs too, before anyone observes
      s.pauseWriter(); // the three writes queue up and go to disk as one group commit
      s.submit(new Write(new HardState(1, "n1"), 0, List.of()));
      s.submit(new Write(null, 0, List.of(entry(1), entry(2))));
      long last = s.submit(new Write(null, 0, List.of(entry(3), entry(4), entry(5))));
      s.resumeWriter();
      assertTrue(s.awaitDurable(last, 10, TimeUnit.SECONDS));
      assertEquals(List.of("3 writes, 5 entries"), batches);
      assertEquals(s.fsyncStats().count() - before, fsyncs.size(), "every fsync the health check counts is reported");
      assertTrue(fsyncs.size() >= 2, "the hard state's and the segment's at least: " + fsyncs);
      assertTrue(fsyncs.stream().allMatch(n -> n >= 0));
    }
  }

  @Test
  void withoutFsyncBatchesAreStillReported() throws Exception {
    try (FileStorage s = FileStorage.open(tmp.resolve("off"), false, 1 << 20)) {
      s.load();
      s.observe(observer);
      long t = s.submit(new Write(null, 0, List.of(entry(1))));
      assertTrue(s.awaitDurable(t, 10, TimeUnit.SECONDS));
      assertEquals(List.of("1 writes, 1 entries"), batches);
      assertEquals(List.of(), fsyncs);
    }
  }
}

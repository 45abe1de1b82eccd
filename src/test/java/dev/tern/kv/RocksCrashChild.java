package dev.tern.kv;

import dev.tern.raft.LogEntry;
import java.nio.file.Path;
import java.util.List;

/**
 * Run by {@link RocksKvStoreTest} in a process of its own: opens the store at args[0], goes on from its applied index
 * through {@link KvWorkload}'s log, says "reached" once past args[1], and keeps applying until it is killed.
 */
public final class RocksCrashChild {
  static final long SEED = 23;
  static final int LENGTH = 60_000;

  public static void main(String[] args) {
    Path dir = Path.of(args[0]);
    long killAt = Long.parseLong(args[1]);
    List<LogEntry> log = KvWorkload.log(SEED, LENGTH);
    // Small memtables: flushes happen often, so the kill finds some of the state on disk and some only in memory.
    KvStateMachine sm = new KvStateMachine((i, c, r) -> {}, WatchHub.withoutHistory(),
        changes -> RocksKvStore.open(dir, new RocksKvStore.Settings(4 << 20, 1 << 20), changes));
    boolean said = false;
    for (int i = (int) sm.lastApplied(); i < LENGTH; i++) {
      sm.apply(log.get(i));
      if (!said && i + 1 >= killAt) {
        System.out.println("reached " + (i + 1));
        System.out.flush();
        said = true;
      }
    }
    System.out.println("reached end");
    System.out.flush();
    while (true) Thread.onSpinWait(); // wait for the kill; never a clean close
  }
}

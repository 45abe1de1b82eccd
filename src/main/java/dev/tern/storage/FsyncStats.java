package dev.tern.storage;

import java.util.concurrent.atomic.AtomicLong;

/**
 * How long fsyncs take: the last one, the slowest since the health check last looked ({@link #takeWindowMax}),
 * and how many there were. Recorded once per fsync (a group commit's batch, not a request), on the storage's
 * threads: two clock reads and two atomic updates next to a system call that takes hundreds of microseconds.
 */
public final class FsyncStats {
  private final AtomicLong count = new AtomicLong();
  private final AtomicLong windowMaxNanos = new AtomicLong();
  private volatile long lastNanos;

  void record(long nanos) {
    lastNanos = nanos;
    count.incrementAndGet();
    windowMaxNanos.accumulateAndGet(nanos, Math::max);
  }

  /** The last fsync's duration in nanoseconds (0 before the first). */
  public long lastNanos() {
    return lastNanos;
  }

  /** fsyncs recorded so far. */
  public long count() {
    return count.get();
  }

  /** The slowest fsync since the previous call, and starts a new window. */
  public long takeWindowMax() {
    return windowMaxNanos.getAndSet(0);
  }
}

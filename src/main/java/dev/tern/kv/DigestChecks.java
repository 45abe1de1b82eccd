package dev.tern.kv;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The digests of a replica's state at the indexes where it applied a {@link KvCommand.Check}: the consistency check
 * compares them across members (docs/operations.md, "Consistency checks"). Applying a check only takes a
 * point-in-time view of the store ({@link KvStore#view()}: a RocksDB snapshot) and the leases, under the state
 * machine's lock; the digest of that view is computed here, on one background thread, so apply never waits for a
 * pass over the data. It equals {@link KvStore#digest()} of the state at that index: the same {@link KvDigest}, over
 * the same entries in the same order, then the leases captured with the view.
 *
 * <p>Bounded: at most {@value #QUEUED} views wait for the thread (a check beyond that is recorded as failed, and its
 * view released at once), and the outcomes of the last {@value #KEPT} checks are kept, in memory only.
 */
public final class DigestChecks implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(DigestChecks.class);

  /** Outcomes kept, newest last. */
  static final int KEPT = 16;
  /** Views waiting for the digest thread, besides the one it works on. */
  static final int QUEUED = 4;

  /** Where a check's digest is. */
  public enum State { COMPUTING, DONE, FAILED }

  /** A check's outcome at {@code index}: its digest once {@link State#DONE}, why not once {@link State#FAILED}. */
  public record Outcome(long index, State state, String digest, String error) {}

  private final Map<Long, Outcome> outcomes = new LinkedHashMap<>() {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Long, Outcome> eldest) {
      return size() > KEPT;
    }
  };
  private ThreadPoolExecutor worker;
  private boolean closed;
  /** Tests: runs on the digest thread before each digest (to hold it while later entries apply). */
  volatile Runnable beforeDigest = () -> {};

  /**
   * Digests {@code view} (the state at {@code index}) with {@code leases} (captured at the same index) in the
   * background; takes ownership of the view, which is closed once read. Returns at once: called under the state
   * machine's lock, on the apply thread.
   */
  synchronized void submit(long index, KvStore.View view, List<Lease> leases) {
    if (closed) {
      view.close();
      return;
    }
    if (worker == null) worker = newWorker();
    outcomes.put(index, new Outcome(index, State.COMPUTING, null, null));
    try {
      worker.execute(new Task(index, view, leases));
    } catch (RejectedExecutionException e) {
      view.close();
      outcomes.put(index, new Outcome(index, State.FAILED, null,
          "not computed: " + QUEUED + " checks were already waiting for this node's digest thread"));
    }
  }

  /** The outcome of the check applied at {@code index}, if it is among the last ones this replica applied. */
  public synchronized Optional<Outcome> at(long index) {
    return Optional.ofNullable(outcomes.get(index));
  }

  /** The digest of {@code view} followed by {@code leases}: what {@link KvStore#digest()} gives for that state. */
  static String digestOf(KvStore.View view, List<Lease> leases) throws IOException {
    KvDigest d = new KvDigest();
    view.forEach(d::entry);
    return d.finish(leases);
  }

  private synchronized void finished(Outcome o) {
    // A late outcome of a check that the kept ones already pushed out stays out.
    if (outcomes.containsKey(o.index())) outcomes.put(o.index(), o);
  }

  /** Stops the thread; views still waiting are released (the one being read is released when done). */
  @Override
  public void close() {
    List<Runnable> waiting;
    synchronized (this) {
      closed = true;
      if (worker == null) return;
      waiting = worker.shutdownNow();
    }
    for (Runnable r : waiting) if (r instanceof Task t) t.view.close();
  }

  private static ThreadPoolExecutor newWorker() {
    ThreadPoolExecutor pool = new ThreadPoolExecutor(1, 1, 30, TimeUnit.SECONDS, new ArrayBlockingQueue<>(QUEUED), r -> {
      Thread t = new Thread(r, "tern-digest");
      t.setDaemon(true);
      return t;
    });
    pool.allowCoreThreadTimeOut(true); // no idle thread between checks (hours apart by default)
    return pool;
  }

  private final class Task implements Runnable {
    final long index;
    final KvStore.View view;
    final List<Lease> leases;

    Task(long index, KvStore.View view, List<Lease> leases) {
      this.index = index;
      this.view = view;
      this.leases = leases;
    }

    @Override
    public void run() {
      Outcome o;
      long started = System.nanoTime();
      try (view) {
        beforeDigest.run();
        String digest = digestOf(view, leases);
        o = new Outcome(index, State.DONE, digest, null);
        log.info("Digest of the key-value state at index {}: {} ({} keys, {} ms)", index, digest, view.keyCount(),
            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
      } catch (IOException | RuntimeException e) {
        o = new Outcome(index, State.FAILED, null, "computing the digest failed: " + e);
        log.warn("Digest of the key-value state at index {} failed: {}", index, e.toString());
      }
      finished(o);
    }
  }
}

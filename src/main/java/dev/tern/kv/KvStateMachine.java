package dev.tern.kv;

import dev.tern.raft.LogEntry;
import dev.tern.raft.StateMachine;
import java.io.InputStream;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The key-value store as Raft's state machine. A key's revision is the log index of the entry that last wrote it,
 * so revisions are unique, increase with time and are identical on every replica without extra bookkeeping.
 *
 * <p>Raft applies on its own thread while reads of applied state may be served from others, hence the lock.
 */
public final class KvStateMachine implements StateMachine {

  private static final Logger log = LoggerFactory.getLogger(KvStateMachine.class);
  private static final ApplyListener NO_LISTENER = (index, command, result) -> {};

  private final Object lock = new Object();
  private final WatchHub watches;
  private final KvStore store;
  private final ApplyListener listener;
  private long lastApplied;

  /**
   * How many recent command ids are remembered. A proposer may propose one command twice (its first proposal
   * looked lost, but was not); both copies can be committed. Applying the second would rewrite the key long
   * after the client was answered, possibly over a later client's write: a lost update. So a repeated id
   * within this window is answered with its first result and changes nothing. Every replica applies the
   * same entries in the same order, so every replica keeps the same window.
   */
  static final int DEDUPLICATION_WINDOW = 100_000;

  /** The window, by command id, oldest first; the store keeps it too (RocksDB: one record per commit, {@link RocksWindow}). */
  private LinkedHashMap<String, KvStore.Remembered> recentResults = new LinkedHashMap<>();
  /** The next remembered result's sequence number (orders the window in the store). */
  private long nextSeq;
  /** The digests of the state where a {@link KvCommand.Check} was applied, computed off the apply thread. */
  private final DigestChecks checks = new DigestChecks();

  public KvStateMachine() {
    this(NO_LISTENER);
  }

  public KvStateMachine(ApplyListener listener) {
    this(listener, WatchHub.withoutHistory());
  }

  /** A state machine in memory whose changes {@code watches} follows. */
  public KvStateMachine(ApplyListener listener, WatchHub watches) {
    this(listener, watches, MemoryKvStore::new);
  }

  /**
   * A state machine over the store {@code opener} opens (told of every change, for the watches). A store that
   * already holds state (a restarted node's) is taken as it is: {@link #lastApplied()} is its applied index, and
   * the replica replays only the log after it.
   */
  public KvStateMachine(ApplyListener listener, WatchHub watches, Function<Consumer<KvEvent>, KvStore> opener) {
    this.listener = Objects.requireNonNull(listener, "listener");
    this.watches = Objects.requireNonNull(watches, "watches");
    this.store = opener.apply(watches::record);
    this.lastApplied = store.appliedIndex();
    for (KvStore.Remembered r : store.window()) {
      recentResults.put(r.id(), r);
      nextSeq = r.seq() + 1;
    }
    if (lastApplied > 0) watches.reset(lastApplied);
  }

  /** The store under this state machine. */
  KvStore store() {
    return store;
  }

  /** Closes the store (a node that stops). */
  public void close() {
    checks.close();
    synchronized (lock) {
      store.close();
    }
  }

  /** The watches of this replica's changes. */
  public WatchHub watches() {
    return watches;
  }

  @Override
  public void apply(LogEntry entry) {
    apply(List.of(entry));
  }

  /**
   * Applies the entries in order and writes their changes, with the last one's index, to the store as one atomic
   * write (issue #25: one engine write per batch, not per entry, is most of a write's cost in the state machine).
   * The lock is held for the whole batch, so no reader sees a part of it; the listener hears of every entry
   * afterwards, once the batch is in the store and {@link #lastApplied()} covers it.
   */
  @Override
  public void apply(List<LogEntry> entries) {
    if (entries.isEmpty()) return;
    KvCommand[] commands = new KvCommand[entries.size()];
    KvResult[] results = new KvResult[entries.size()];
    synchronized (lock) {
      long index = lastApplied;
      for (int i = 0; i < entries.size(); i++) {
        LogEntry entry = entries.get(i);
        // Raft guarantees order; a gap or a repeat here means a bug upstream, and applying anyway would diverge.
        if (entry.index() != index + 1) throw new IllegalStateException("applying " + entry + " after index " + index);
        index = entry.index();
        if (entry.kind() != LogEntry.Kind.COMMAND) { // a leader's no-op or a configuration: Raft's own entries
          store.endEntry(index);
          watches.endOfEntry(index);
          continue;
        }
        KvCommand command = decodeOrNull(entry);
        KvResult result;
        if (command == null) {
          result = new KvResult.Invalid("undecodable command at index " + index);
        } else if (command instanceof KvCommand.Check) {
          // Not in the window: a check changes nothing, and a node that predates it remembers nothing for it either.
          result = new KvResult.Checked(index);
        } else {
          KvStore.Remembered first = recentResults.get(command.id());
          result = first != null ? recalled(first.result()) : execute(command, index);
          if (first == null) remember(command.id(), withoutValue(result));
        }
        store.endEntry(index);
        watches.endOfEntry(index);
        if (command instanceof KvCommand.Check) {
          // The state at this index, captured in constant time (a RocksDB snapshot, which commits what is staged);
          // digested on another thread.
          checks.submit(index, store.view(), store.leases());
        }
        commands[i] = command;
        results[i] = result;
      }
      store.commit();
      lastApplied = index;
    }
    // Outside the lock: the listener may take its time or read back from this store.
    for (int i = 0; i < entries.size(); i++) {
      if (commands[i] != null || results[i] != null) listener.onApplied(entries.get(i).index(), commands[i], results[i]);
    }
  }

  /** Adds a result to the window, dropping the oldest past {@link #DEDUPLICATION_WINDOW}; the store follows. */
  private void remember(String id, KvResult result) {
    KvStore.Remembered r = new KvStore.Remembered(nextSeq++, id, result);
    recentResults.put(id, r);
    store.remember(r);
    if (recentResults.size() > DEDUPLICATION_WINDOW) {
      var eldest = recentResults.entrySet().iterator();
      KvStore.Remembered gone = eldest.next().getValue();
      eldest.remove();
      store.forget(gone.seq());
    }
  }

  /**
   * What the window keeps of a result: a write's outcome without its value. The proposer knows the value it
   * wrote; kept here, every overwritten value would stay in memory (and in every snapshot) for the next
   * {@value #DEDUPLICATION_WINDOW} commands, which for large values runs to gigabytes.
   */
  static KvResult withoutValue(KvResult result) {
    if (result instanceof KvResult.TxnDone t) return TxnExecutor.withoutValues(t);
    return result instanceof KvResult.Written w && w.value() != null ? new KvResult.Written(w.key(), (Bytes) null, w.revision())
        : result;
  }

  /**
   * A remembered result as the first application answered it: a write's value, which the window does not keep,
   * is taken from the store when the key still holds that very write (the usual case for a retry); otherwise it
   * stays null. Deterministic, but it only shapes the answer: state and window are untouched.
   */
  private KvResult recalled(KvResult remembered) {
    if (remembered instanceof KvResult.TxnDone t) return TxnExecutor.recalled(store, t);
    if (remembered instanceof KvResult.Written w && w.value() == null) {
      VersionedValue now = store.get(w.key()).orElse(null);
      if (now != null && now.revision() == w.revision()) return new KvResult.Written(w.key(), now.value(), w.revision());
    }
    return remembered;
  }

  private static KvCommand decodeOrNull(LogEntry entry) {
    try {
      return KvCodec.decode(entry.data());
    } catch (IllegalArgumentException e) {
      // Every replica fails on the same bytes, so skipping the entry keeps them in agreement.
      log.warn("Skipping undecodable command at index {}: {}", entry.index(), e.getMessage());
      return null;
    }
  }

  private KvResult execute(KvCommand command, long index) {
    if (command instanceof KvCommand.Put put) {
      String key = put.key();
      if (put.lease() != KvCommand.NO_LEASE && !store.leaseExists(put.lease())) return new KvResult.LeaseNotFound(put.lease());
      store.put(key, put.value(), index, put.lease());
      return new KvResult.Written(key, put.value(), index);
    } else if (command instanceof KvCommand.Delete delete) {
      String key = delete.key();
      return store.remove(key, index) ? new KvResult.Deleted(key, index) : new KvResult.NotFound(key);
    } else if (command instanceof KvCommand.CompareAndSet cas) {
      String key = cas.key();
      long currentRevision = store.get(key).map(VersionedValue::revision).orElse(0L);
      if (currentRevision != cas.expectedRevision()) {
        return new KvResult.CasConflict(key, currentRevision);
      }
      store.put(key, cas.value(), index);
      return new KvResult.Written(key, cas.value(), index);
    } else if (command instanceof KvCommand.Get get) {
      String key = get.key();
      return store
          .get(key)
          .<KvResult>map(v -> new KvResult.Value(key, v.value(), v.revision()))
          .orElseGet(() -> new KvResult.NotFound(key));
    } else if (command instanceof KvCommand.Txn txn) {
      return TxnExecutor.execute(store, txn, index);
    } else if (command instanceof KvCommand.LeaseGrant grant) {
      store.grantLease(index, grant.ttlMillis());
      return new KvResult.LeaseGranted(index, grant.ttlMillis(), index);
    } else if (command instanceof KvCommand.LeaseKeepAlive k) {
      return store.renewLease(k.lease(), index) ? new KvResult.LeaseAlive(k.lease(), store.lease(k.lease()).ttlMillis())
          : new KvResult.LeaseNotFound(k.lease());
    } else if (command instanceof KvCommand.LeaseRevoke r) {
      if (!store.leaseExists(r.lease())) return new KvResult.LeaseNotFound(r.lease());
      return new KvResult.LeaseRevoked(r.lease(), index, store.endLease(r.lease(), index));
    } else if (command instanceof KvCommand.LeaseExpire e) {
      Lease lease = store.lease(e.lease());
      if (lease == null) return new KvResult.LeaseNotFound(e.lease());
      // Renewed after the renewal the leader counted from: a keepalive committed before the expiry wins.
      if (lease.renewedAt() != e.renewedAt()) return new KvResult.LeaseAlive(e.lease(), lease.ttlMillis());
      log.info("Lease {} expired (ttl {} ms, last renewed at index {}): deleting its {} keys at revision {}",
          e.lease(), lease.ttlMillis(), lease.renewedAt(), lease.keys().size(), index);
      return new KvResult.LeaseRevoked(e.lease(), index, store.endLease(e.lease(), index));
    }
    // Unreachable while KvCommand stays sealed; a new subtype must be handled here before it can be proposed.
    throw new IllegalStateException("unhandled command type " + command.getClass().getName());
  }

  @Override
  public long lastApplied() {
    synchronized (lock) {
      return lastApplied;
    }
  }

  public Optional<VersionedValue> get(String key) {
    synchronized (lock) {
      return store.get(key);
    }
  }

  public List<KeyValue> range(String prefix, int limit) {
    synchronized (lock) {
      return store.range(prefix, limit);
    }
  }

  /** How many keys there are. */
  public long size() {
    synchronized (lock) {
      return store.size();
    }
  }

  /**
   * The live data's size in bytes (every key's UTF-8 length plus its value's): what the space quota
   * (tern.storage.quota-bytes) counts. It falls as soon as a delete is applied.
   */
  public long dataBytes() {
    synchronized (lock) {
      return store.dataBytes();
    }
  }

  /** The store's files on disk in bytes (-1 in memory): see {@link KvStore#diskBytes()}. */
  public long diskBytes() {
    synchronized (lock) {
      return store.diskBytes();
    }
  }

  /** The storage engine's memory outside the heap in bytes (-1 in memory). */
  public long engineMemoryBytes() {
    synchronized (lock) {
      return store.engineMemoryBytes();
    }
  }

  /** The value cache's counters: see {@link KvStore#valueCacheStats()}. */
  public KvStore.ValueCacheStats valueCacheStats() {
    synchronized (lock) {
      return store.valueCacheStats();
    }
  }

  /** The lease, or empty. */
  public Optional<Lease> lease(long id) {
    synchronized (lock) {
      return Optional.ofNullable(store.lease(id));
    }
  }

  /** Every lease, by id (the leader's {@link LeaseDeadlines} reads them). */
  public List<Lease> leases() {
    synchronized (lock) {
      return store.leases();
    }
  }

  /** How many leases exist (a grant's limit check: no copy of the table). */
  public int leaseCount() {
    synchronized (lock) {
      return store.leaseCount();
    }
  }

  /** The lease {@code key} belongs to, or {@link KvCommand#NO_LEASE}. */
  public long leaseOf(String key) {
    synchronized (lock) {
      return store.leaseOf(key);
    }
  }

  /** See {@link KvStore#digest()}; compare replicas only at the same {@link #lastApplied()}. */
  public String digest() {
    synchronized (lock) {
      return store.digest();
    }
  }

  /**
   * The digest of this replica's state at {@code index}, where it applied a {@link KvCommand.Check} (or that it is
   * still being computed, or why it failed); empty if this replica applied no check there, or not among its last
   * ones (it is behind, jumped past the index with a snapshot, or restarted since).
   */
  public Optional<DigestChecks.Outcome> digestAt(long index) {
    return checks.at(index);
  }

  /** The digests of checks (tests). */
  DigestChecks checks() {
    return checks;
  }

  /** See {@link KvStore#snapshot()}: an immutable copy of the data, for comparing replicas. */
  public SortedMap<String, VersionedValue> contents() {
    synchronized (lock) {
      return store.snapshot();
    }
  }

  /**
   * The result a command id got when it was applied, if it is still in the deduplication window (which
   * snapshots carry): lets a proposer learn the outcome of a command applied through a snapshot.
   */
  public Optional<KvResult> resultOf(String commandId) {
    synchronized (lock) {
      KvStore.Remembered r = recentResults.get(commandId);
      return r == null ? Optional.empty() : Optional.of(r.result());
    }
  }

  /**
   * Captures the state under the lock: a point-in-time view of the data (a copy of the map in memory, a RocksDB
   * snapshot on disk), and copies of the window and the leases, which are bounded. The data is streamed out later,
   * on the storage's thread, when the capture is written; write each capture once.
   */
  @Override
  public SnapshotData snapshot() {
    return capture().data();
  }

  /** A capture of the state and the index it holds the state at (for a backup's header). */
  public record Capture(long index, SnapshotData data) {}

  /** As {@link #snapshot()}, with the index the capture is at. Safe on any thread. */
  public Capture capture() {
    long index;
    KvStore.View view;
    Map<String, KvResult> recent = new LinkedHashMap<>();
    List<Lease> leaseList;
    synchronized (lock) {
      index = lastApplied;
      // A store with files gives the engine's checkpoint: the follower or the backup gets its files, not a stream of
      // keys to insert one by one (issue #25, section 4). The window and the leases are in those files.
      KvStore.Checkpoint checkpoint = store.checkpoint();
      if (checkpoint != null) {
        if (checkpoint.appliedIndex() != index) {
          checkpoint.close();
          throw new IllegalStateException("the store's checkpoint is at index " + checkpoint.appliedIndex()
              + ", the state machine at " + index);
        }
        return new Capture(index, out -> {
          try (checkpoint) {
            KvSnapshotCodec.writeFiles(out, checkpoint);
          }
        });
      }
      view = store.view();
      for (KvStore.Remembered r : recentResults.values()) recent.put(r.id(), r.result());
      leaseList = store.leases();
    }
    return new Capture(index, out -> {
      try (view) {
        KvSnapshotCodec.write(out, index, view.keyCount(), view::forEach, recent, leaseList);
      }
    });
  }

  @Override
  public boolean keepsState() {
    return store.durable();
  }

  /**
   * A reference to the store as of the applied index: writing it flushes the store (so the state is durable up to at
   * least that index and the log before it may be compacted) and writes twelve bytes.
   */
  @Override
  public SnapshotData snapshotReference() {
    long index;
    KvStore.View view;
    synchronized (lock) {
      index = lastApplied;
      view = store.view();
    }
    return out -> {
      try (view) {
        view.makeDurable();
        KvSnapshotCodec.writeReference(out, index);
      }
    };
  }

  @Override
  public boolean isReference(dev.tern.raft.SnapshotSource data) {
    try (InputStream in = data.open()) {
      return KvSnapshotCodec.isReference(in);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("cannot read the latest snapshot: " + e.getMessage(), e);
    }
  }

  /**
   * Whether a snapshot whose data starts with this version number is one {@link #restore} reads (for a backup's
   * check before it is restored: the data starts with {@code [int version][long lastApplied]}).
   */
  public static boolean readsSnapshotVersion(int version) {
    return KvSnapshotCodec.readable(version) || version == KvSnapshotCodec.FILES;
  }

  /**
   * Replaces the state with a snapshot's, streaming: the new content is built beside the current one (which reads
   * keep seeing meanwhile) and takes its place at once when complete.
   */
  @Override
  public void restore(long lastIncludedIndex, InputStream raw) {
    java.io.BufferedInputStream data = new java.io.BufferedInputStream(raw, 1 << 16);
    try {
      if (KvSnapshotCodec.holdsFiles(data)) {
        restoreFiles(lastIncludedIndex, data);
        return;
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("cannot read the snapshot up to index " + lastIncludedIndex, e);
    }
    long[] seq = {0};
    LinkedHashMap<String, KvStore.Remembered> window = new LinkedHashMap<>();
    long keys;
    try (KvStore.Loader loader = store.load()) {
      long[] count = {0};
      KvSnapshotCodec.Header h;
      try {
        h = KvSnapshotCodec.read(data, new KvSnapshotCodec.Sink() {
        @Override
        public void entry(String key, VersionedValue value) {
          loader.put(key, value);
          count[0]++;
        }

        @Override
        public boolean contains(String key) {
          return loader.contains(key);
        }

        @Override
        public void recent(String id, KvResult result) {
          KvStore.Remembered r = new KvStore.Remembered(seq[0]++, id, result);
          KvStore.Remembered replaced = window.put(id, r);
          if (replaced != null) throw new IllegalArgumentException("command id " + id + " is twice in the window");
          loader.remember(r);
        }
      });
      } catch (IllegalStateException reference) {
        throw new IllegalStateException(reference.getMessage() + ", which holds only up to index " + lastApplied()
            + ": the store was lost or damaged. Restore this node from a backup, or replace it (docs/operations.md,"
            + " \"Replacing a node\")", reference);
      }
      if (h.lastApplied() != lastIncludedIndex) {
        throw new IllegalArgumentException("the snapshot holds the state at index " + h.lastApplied()
            + ", not " + lastIncludedIndex);
      }
      synchronized (lock) {
        loader.finish(h.leases(), lastIncludedIndex);
        recentResults = window;
        nextSeq = seq[0];
        lastApplied = lastIncludedIndex;
        watches.reset(lastIncludedIndex);
      }
      keys = count[0];
    }
    log.info("Restored the key-value state from a snapshot at index {}: {} keys", lastIncludedIndex, keys);
  }

  /** Replaces the store with a checkpoint's files ({@link KvSnapshotCodec#FILES}), then reads the window from it. */
  private void restoreFiles(long lastIncludedIndex, InputStream data) {
    try (KvStore.FileLoader loader = store.loadFiles()) {
      long index = KvSnapshotCodec.readFiles(data, loader);
      if (index != lastIncludedIndex) {
        throw new IllegalArgumentException("the snapshot holds the state at index " + index + ", not " + lastIncludedIndex);
      }
      synchronized (lock) {
        loader.finish(index);
        LinkedHashMap<String, KvStore.Remembered> window = new LinkedHashMap<>();
        long seq = 0;
        for (KvStore.Remembered r : store.window()) {
          window.put(r.id(), r);
          seq = r.seq() + 1;
        }
        recentResults = window;
        nextSeq = seq;
        lastApplied = index;
        watches.reset(index);
      }
    }
    log.info("Restored the key-value state from a checkpoint at index {}: {} keys", lastIncludedIndex, store.size());
  }
}

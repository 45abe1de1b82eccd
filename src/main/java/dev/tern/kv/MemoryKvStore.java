package dev.tern.kv;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * A {@link KvStore} in the heap, which keeps nothing across restarts: for tests and the simulation, which run many
 * replicas in one process. A node keeps its data in {@link RocksKvStore}.
 */
public final class MemoryKvStore implements KvStore {

  private TreeMap<String, VersionedValue> data = new TreeMap<>(KEY_ORDER);
  private final LeaseTable leases = new LeaseTable();
  private final TreeMap<Long, Remembered> window = new TreeMap<>();
  /** Told of every put and removal (watches); restoring a snapshot is not a change. */
  private final Consumer<KvEvent> changes;
  private long dataBytes;
  private long appliedIndex;

  public MemoryKvStore() {
    this(e -> {});
  }

  public MemoryKvStore(Consumer<KvEvent> changes) {
    this.changes = Objects.requireNonNull(changes, "changes");
  }

  @Override
  public Optional<VersionedValue> get(String key) {
    return Optional.ofNullable(data.get(Objects.requireNonNull(key, "key")));
  }

  @Override
  public void put(String key, Bytes value, long revision, long lease) {
    VersionedValue old = data.put(Objects.requireNonNull(key, "key"), new VersionedValue(value, revision));
    dataBytes += old == null ? entryBytes(key, value) : value.length() - old.value().length();
    leases.attach(key, lease);
    changes.accept(new KvEvent(revision, key, value));
  }

  @Override
  public boolean remove(String key, long revision) {
    VersionedValue old = data.remove(Objects.requireNonNull(key, "key"));
    if (old == null) return false;
    dataBytes -= entryBytes(key, old.value());
    leases.detach(key);
    changes.accept(new KvEvent(revision, key, null));
    return true;
  }

  @Override
  public boolean leaseExists(long lease) {
    return leases.exists(lease);
  }

  @Override
  public void grantLease(long index, long ttlMillis) {
    leases.grant(index, ttlMillis);
  }

  @Override
  public boolean renewLease(long lease, long index) {
    return leases.renew(lease, index);
  }

  @Override
  public List<String> endLease(long lease, long revision) {
    List<String> keys = leases.end(lease);
    for (String key : keys) {
      VersionedValue old = data.remove(key);
      if (old != null) dataBytes -= entryBytes(key, old.value());
      changes.accept(new KvEvent(revision, key, null));
    }
    return keys;
  }

  @Override
  public Lease lease(long lease) {
    return leases.get(lease);
  }

  @Override
  public int leaseCount() {
    return leases.size();
  }

  @Override
  public List<Lease> leases() {
    return leases.all();
  }

  @Override
  public long leaseOf(String key) {
    return leases.leaseOf(key);
  }

  @Override
  public List<KeyValue> range(String prefix, int limit) {
    Objects.requireNonNull(prefix, "prefix");
    if (limit < 1) throw new IllegalArgumentException("limit must be >= 1, got " + limit);
    List<KeyValue> out = new ArrayList<>(Math.min(limit, 64));
    // Keys sharing a prefix are contiguous in key order, so we can stop at the first one that does not match.
    for (Map.Entry<String, VersionedValue> e : data.tailMap(prefix, true).entrySet()) {
      if (out.size() == limit || !e.getKey().startsWith(prefix)) break;
      out.add(new KeyValue(e.getKey(), e.getValue().value(), e.getValue().revision()));
    }
    return out;
  }

  @Override
  public long size() {
    return data.size();
  }

  @Override
  public long dataBytes() {
    return dataBytes;
  }

  static long entryBytes(String key, Bytes value) {
    return Bytes.utf8Length(key) + value.length();
  }

  /** Replaces the whole content (tests). */
  public void replaceAll(SortedMap<String, VersionedValue> content) {
    replaceAll(content, List.of());
  }

  /** Replaces the whole content and the leases (tests). */
  public void replaceAll(SortedMap<String, VersionedValue> content, List<Lease> leaseList) {
    TreeMap<String, VersionedValue> fresh = new TreeMap<>(KEY_ORDER);
    fresh.putAll(content);
    install(fresh, leaseList);
  }

  private void install(TreeMap<String, VersionedValue> fresh, List<Lease> leaseList) {
    data = fresh;
    dataBytes = 0;
    for (Map.Entry<String, VersionedValue> e : data.entrySet()) dataBytes += entryBytes(e.getKey(), e.getValue().value());
    leases.replaceAll(leaseList);
  }

  @Override
  public SortedMap<String, VersionedValue> snapshot() {
    TreeMap<String, VersionedValue> copy = new TreeMap<>(KEY_ORDER);
    copy.putAll(data);
    return Collections.unmodifiableSortedMap(copy);
  }

  @Override
  public String digest() {
    KvDigest d = new KvDigest();
    for (Map.Entry<String, VersionedValue> e : data.entrySet()) d.entry(e.getKey(), e.getValue());
    return d.finish(leases.all());
  }

  @Override
  public List<Remembered> window() {
    return new ArrayList<>(window.values());
  }

  @Override
  public void remember(Remembered r) {
    window.put(r.seq(), r);
  }

  @Override
  public void forget(long seq) {
    window.remove(seq);
  }

  @Override
  public long appliedIndex() {
    return appliedIndex;
  }

  @Override
  public void endEntry(long index) {
    appliedIndex = index;
  }

  @Override
  public void commit() {}

  /** A copy of the sorted map (linear, no re-sorting); values are immutable, so the copy shares them. */
  @Override
  public View view() {
    SortedMap<String, VersionedValue> copy = snapshot();
    return new View() {
      @Override
      public long keyCount() {
        return copy.size();
      }

      @Override
      public void forEach(EntryConsumer each) throws java.io.IOException {
        for (Map.Entry<String, VersionedValue> e : copy.entrySet()) each.accept(e.getKey(), e.getValue());
      }

      @Override
      public void close() {}
    };
  }

  @Override
  public Loader load() {
    TreeMap<String, VersionedValue> fresh = new TreeMap<>(KEY_ORDER);
    List<Remembered> freshWindow = new ArrayList<>();
    return new Loader() {
      @Override
      public void put(String key, VersionedValue value) {
        fresh.put(key, value);
      }

      @Override
      public boolean contains(String key) {
        return fresh.containsKey(key);
      }

      @Override
      public void remember(Remembered r) {
        freshWindow.add(r);
      }

      @Override
      public void finish(List<Lease> leaseList, long index) {
        install(fresh, leaseList);
        window.clear();
        for (Remembered r : freshWindow) window.put(r.seq(), r);
        appliedIndex = index;
      }

      @Override
      public void close() {}
    };
  }

  @Override
  public void close() {}
}

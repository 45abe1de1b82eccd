package dev.tern.kv;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The replicated data itself, with no notion of the log. A sorted map keeps range reads cheap and makes iteration
 * order, and so {@link #digest()}, the same on every replica. Not thread-safe: {@link KvStateMachine} guards it.
 */
public final class KvStore {

  private final TreeMap<String, VersionedValue> data = new TreeMap<>();
  private final LeaseTable leases = new LeaseTable();
  /** The live data's size: each key's UTF-8 bytes plus its value's (what the space quota counts). */
  private long dataBytes;
  /** Told of every put and removal (watches); restoring a snapshot is not a change. */
  private final java.util.function.Consumer<KvEvent> changes;

  public KvStore() {
    this(e -> {});
  }

  public KvStore(java.util.function.Consumer<KvEvent> changes) {
    this.changes = Objects.requireNonNull(changes, "changes");
  }

  public Optional<VersionedValue> get(String key) {
    return Optional.ofNullable(data.get(Objects.requireNonNull(key, "key")));
  }

  /** A put with no lease: the key leaves any lease it belonged to (as in etcd). */
  public void put(String key, Bytes value, long revision) {
    put(key, value, revision, KvCommand.NO_LEASE);
  }

  /** A put attaching {@code key} to {@code lease}, which must exist ({@link #leaseExists}). */
  public void put(String key, Bytes value, long revision, long lease) {
    VersionedValue old = data.put(Objects.requireNonNull(key, "key"), new VersionedValue(value, revision));
    dataBytes += old == null ? entryBytes(key, value) : value.length() - old.value().length();
    leases.attach(key, lease);
    changes.accept(new KvEvent(revision, key, value));
  }

  /**
   * Removes {@code key} by the command at {@code revision}.
   *
   * @return whether the key was present
   */
  public boolean remove(String key, long revision) {
    VersionedValue old = data.remove(Objects.requireNonNull(key, "key"));
    boolean present = old != null;
    if (present) {
      dataBytes -= entryBytes(key, old.value());
      leases.detach(key);
      changes.accept(new KvEvent(revision, key, null));
    }
    return present;
  }

  // ---- leases (see KvCommand.LeaseGrant) -------------------------------------------------------------------------

  public boolean leaseExists(long lease) {
    return leases.exists(lease);
  }

  /** A new lease whose id is {@code index}, the index of its grant (unique, and the same on every replica). */
  public void grantLease(long index, long ttlMillis) {
    leases.grant(index, ttlMillis);
  }

  /** @return whether the lease exists; if so its last renewal is now {@code index} */
  public boolean renewLease(long lease, long index) {
    return leases.renew(lease, index);
  }

  /** Ends {@code lease} and deletes its keys at {@code revision}; returns them in key order. The lease must exist. */
  public List<String> endLease(long lease, long revision) {
    List<String> keys = leases.end(lease);
    for (String key : keys) {
      VersionedValue old = data.remove(key);
      if (old != null) dataBytes -= entryBytes(key, old.value());
      changes.accept(new KvEvent(revision, key, null));
    }
    return keys;
  }

  /** The lease, or null. */
  public Lease lease(long lease) {
    return leases.get(lease);
  }

  public int leaseCount() {
    return leases.size();
  }

  /** Every lease, by id. */
  public List<Lease> leases() {
    return leases.all();
  }

  /** The lease {@code key} belongs to, or {@link KvCommand#NO_LEASE}. */
  public long leaseOf(String key) {
    return leases.leaseOf(key);
  }

  /** Keys starting with {@code prefix} ("" for all), in {@link String#compareTo} order, at most {@code limit}. */
  public List<KeyValue> range(String prefix, int limit) {
    Objects.requireNonNull(prefix, "prefix");
    if (limit < 1) throw new IllegalArgumentException("limit must be >= 1, got " + limit);
    List<KeyValue> out = new ArrayList<>(Math.min(limit, 64));
    // Keys sharing a prefix are contiguous in sorted order, so we can stop at the first one that does not match.
    for (Map.Entry<String, VersionedValue> e : data.tailMap(prefix, true).entrySet()) {
      if (out.size() == limit || !e.getKey().startsWith(prefix)) break;
      out.add(new KeyValue(e.getKey(), e.getValue().value(), e.getValue().revision()));
    }
    return out;
  }

  public int size() {
    return data.size();
  }

  /** The live data's size in bytes: every key's UTF-8 length plus its value's length. */
  public long dataBytes() {
    return dataBytes;
  }

  static long entryBytes(String key, Bytes value) {
    return Bytes.utf8Length(key) + value.length();
  }

  /** Replaces the whole content (restoring a snapshot). */
  public void replaceAll(SortedMap<String, VersionedValue> content) {
    replaceAll(content, List.of());
  }

  /** Replaces the whole content and the leases (restoring a snapshot). */
  public void replaceAll(SortedMap<String, VersionedValue> content, List<Lease> leaseList) {
    data.clear();
    data.putAll(content);
    dataBytes = 0;
    for (Map.Entry<String, VersionedValue> e : data.entrySet()) dataBytes += entryBytes(e.getKey(), e.getValue().value());
    leases.replaceAll(leaseList);
  }

  /** An immutable copy, for comparing replicas with {@code equals}. */
  public SortedMap<String, VersionedValue> snapshot() {
    return Collections.unmodifiableSortedMap(new TreeMap<>(data));
  }

  /** SHA-256 of the content in key order, hex: equal on two replicas iff (barring collisions) their data is. */
  public String digest() {
    MessageDigest sha = sha256();
    for (Map.Entry<String, VersionedValue> e : data.entrySet()) {
      // Length prefixes keep ("ab","c") and ("a","bc") from hashing alike.
      update(sha, e.getKey());
      update(sha, e.getValue().value());
      sha.update(ByteBuffer.allocate(Long.BYTES).putLong(e.getValue().revision()).array());
    }
    // Leases only when there are any, so that a store without leases digests as it did before they existed.
    for (Lease l : leases.all()) {
      sha.update(ByteBuffer.allocate(3 * Long.BYTES + Integer.BYTES).putLong(l.id()).putLong(l.ttlMillis())
          .putLong(l.renewedAt()).putInt(l.keys().size()).array());
      for (String key : l.keys()) update(sha, key);
    }
    return HexFormat.of().formatHex(sha.digest());
  }

  private static void update(MessageDigest sha, String s) {
    update(sha, Bytes.utf8(s));
  }

  private static void update(MessageDigest sha, Bytes bytes) {
    sha.update(ByteBuffer.allocate(Integer.BYTES).putInt(bytes.length()).array());
    sha.update(bytes.asReadOnlyBuffer());
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform must provide SHA-256", e);
    }
  }
}

package dev.tern.kv;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The bytes of a key-value snapshot: every key with its value and revision, and the recent command ids with
 * their results (the deduplication window must survive a snapshot, or a command proposed twice around it
 * would be applied twice). A plain length-prefixed binary layout: compact, fast, and stable across versions
 * through its leading version number. Integrity is the storage's business (the snapshot file has a CRC).
 */
final class KvSnapshotCodec {
  private KvSnapshotCodec() {}

  /**
   * 2 added the result of a transaction (type 8) to the window; everything else is as in 1, which is still read,
   * and still written when there is no transaction in the window ({@link #versionFor}). A node that only reads 1
   * refuses a snapshot of 2 with a clear error rather than misreading it.
   */
  static final int VERSION_TXN = 2;

  /**
   * 3 added the leases (after the window: a count, then each lease's id, TTL in ms, last renewal and keys) and the
   * results of lease commands (types 9-12); written only when there is a lease or such a result.
   */
  static final int VERSION = 3;

  /**
   * Not a state but a reference to the node's own store: {@code [int REFERENCE]["long lastApplied]}, written by a node
   * whose store keeps the state on disk (docs/storage.md, section 12). Never sent to another node.
   */
  static final int REFERENCE = 0x52454631; // "REF1"

  /**
   * Not keys but a checkpoint of the store's engine (RocksDB): {@code [int FILES][long lastApplied][int fileCount]}, then
   * for each file {@code [name][long size][bytes]}. The window and the leases are records in those files. Written by
   * a node whose store has files, for a follower (InstallSnapshot) or a backup; read by {@link #readFiles}.
   */
  static final int FILES = 4;

  /** Writes {@code checkpoint}'s files, streaming each from disk. */
  static void writeFiles(OutputStream raw, KvStore.Checkpoint checkpoint) throws IOException {
    DataOutputStream out = new DataOutputStream(raw);
    List<java.nio.file.Path> files = checkpoint.files();
    out.writeInt(FILES);
    out.writeLong(checkpoint.appliedIndex());
    out.writeInt(files.size());
    for (java.nio.file.Path f : files) {
      long size = java.nio.file.Files.size(f);
      string(out, f.getFileName().toString());
      out.writeLong(size);
      try (InputStream in = java.nio.file.Files.newInputStream(f)) {
        long copied = in.transferTo(out);
        if (copied != size) throw new IOException(f + " changed while it was written out: " + copied + " bytes, not " + size);
      }
    }
    out.flush();
  }

  /** Whether the data (a stream that supports mark) starts as a {@link #FILES} snapshot does; reads nothing. */
  static boolean holdsFiles(InputStream in) throws IOException {
    in.mark(4);
    byte[] head = in.readNBytes(4);
    in.reset();
    return head.length == 4 && java.nio.ByteBuffer.wrap(head).getInt() == FILES;
  }

  /**
   * Reads a {@link #FILES} snapshot, giving each file to {@code loader} as it comes (64 KiB at a time), and returns
   * the index its state is at.
   *
   * @throws IllegalArgumentException if the bytes are not such a snapshot, or are cut short
   */
  static long readFiles(InputStream raw, KvStore.FileLoader loader) {
    try {
      DataInputStream in = new DataInputStream(raw);
      int version = in.readInt();
      if (version != FILES) throw new IllegalArgumentException("not a key-value checkpoint: version " + version);
      long index = in.readLong();
      int n = count(in);
      byte[] buf = new byte[1 << 16];
      for (int i = 0; i < n; i++) {
        String name = string(in);
        long size = in.readLong();
        if (size < 0) throw new IllegalArgumentException("negative size for " + name + ": " + size);
        try (OutputStream out = loader.file(name)) {
          for (long left = size; left > 0; ) {
            int r = in.read(buf, 0, (int) Math.min(buf.length, left));
            if (r < 0) throw new EOFException();
            out.write(buf, 0, r);
            left -= r;
          }
        }
      }
      if (in.read() != -1) throw new IllegalArgumentException("trailing bytes after the key-value checkpoint");
      return index;
    } catch (EOFException e) {
      throw new IllegalArgumentException("truncated key-value checkpoint", e);
    } catch (IOException e) {
      throw new IllegalArgumentException("unreadable key-value checkpoint: " + e, e);
    }
  }

  static void writeReference(OutputStream raw, long lastApplied) throws IOException {
    DataOutputStream out = new DataOutputStream(raw);
    out.writeInt(REFERENCE);
    out.writeLong(lastApplied);
    out.flush();
  }

  /** Whether the data starts as a reference does. */
  static boolean isReference(InputStream in) throws IOException {
    byte[] head = in.readNBytes(4);
    return head.length == 4 && java.nio.ByteBuffer.wrap(head).getInt() == REFERENCE;
  }

  /** The decoded state. */
  record State(long lastApplied, SortedMap<String, VersionedValue> data, LinkedHashMap<String, KvResult> recent,
      List<Lease> leases) {
    State(long lastApplied, SortedMap<String, VersionedValue> data, LinkedHashMap<String, KvResult> recent) {
      this(lastApplied, data, recent, List.of());
    }
  }

  /**
   * The lowest version that holds the state: 1 unless a transaction's result is in the window, 3 with leases, so that
   * a node of an earlier release still reads the snapshots of a cluster that has not used what came after it (during
   * an upgrade).
   */
  static int versionFor(Map<String, KvResult> recent, List<Lease> leases) {
    if (!leases.isEmpty()) return VERSION;
    int version = 1;
    for (KvResult r : recent.values()) {
      if (r instanceof KvResult.LeaseGranted || r instanceof KvResult.LeaseAlive || r instanceof KvResult.LeaseRevoked
          || r instanceof KvResult.LeaseNotFound) {
        return VERSION;
      }
      if (r instanceof KvResult.TxnDone) version = VERSION_TXN;
    }
    return version;
  }

  static int versionFor(Map<String, KvResult> recent) {
    return versionFor(recent, List.of());
  }

  /** Whether {@link #read} reads snapshots of this version. */
  static boolean readable(int version) {
    return version >= 1 && version <= VERSION;
  }

  static void write(OutputStream raw, long lastApplied, SortedMap<String, VersionedValue> data, Map<String, KvResult> recent)
      throws IOException {
    write(raw, lastApplied, data, recent, List.of());
  }

  static void write(OutputStream raw, long lastApplied, SortedMap<String, VersionedValue> data, Map<String, KvResult> recent,
      List<Lease> leases) throws IOException {
    write(raw, lastApplied, data.size(), each -> {
      for (Map.Entry<String, VersionedValue> e : data.entrySet()) each.accept(e.getKey(), e.getValue());
    }, recent, leases);
  }

  /** Gives every entry of a snapshot's data, in key order. */
  interface Entries {
    void forEach(KvStore.EntryConsumer each) throws IOException;
  }

  /**
   * Writes a snapshot, streaming the data from {@code entries} ({@code keyCount} of them): nothing is held in
   * memory but the window and the leases, which are bounded.
   */
  static void write(OutputStream raw, long lastApplied, long keyCount, Entries entries, Map<String, KvResult> recent,
      List<Lease> leases) throws IOException {
    if (keyCount > Integer.MAX_VALUE) throw new IOException("too many keys for a snapshot: " + keyCount);
    DataOutputStream out = new DataOutputStream(raw);
    int version = versionFor(recent, leases);
    out.writeInt(version);
    out.writeLong(lastApplied);
    out.writeInt((int) keyCount);
    long[] written = {0};
    entries.forEach((key, v) -> {
      string(out, key);
      bytes(out, v.value());
      out.writeLong(v.revision());
      written[0]++;
    });
    if (written[0] != keyCount) throw new IOException("the store gave " + written[0] + " keys, not " + keyCount);
    out.writeInt(recent.size());
    for (Map.Entry<String, KvResult> e : recent.entrySet()) { // oldest first, so eviction order survives
      string(out, e.getKey());
      result(out, e.getValue());
    }
    if (version >= VERSION) {
      out.writeInt(leases.size());
      for (Lease l : leases) {
        out.writeLong(l.id());
        out.writeLong(l.ttlMillis());
        out.writeLong(l.renewedAt());
        out.writeInt(l.keys().size());
        for (String key : l.keys()) string(out, key);
      }
    }
    out.flush();
  }

  /** Takes a snapshot's parts as they are read. */
  interface Sink {
    void entry(String key, VersionedValue value);

    /** Whether {@link #entry} gave this key (a lease must hold only present keys). */
    boolean contains(String key);

    void recent(String id, KvResult result);
  }

  /** Reads a whole snapshot held in memory. */
  static State read(byte[] bytes) {
    TreeMap<String, VersionedValue> data = new TreeMap<>(KvStore.KEY_ORDER);
    LinkedHashMap<String, KvResult> recent = new LinkedHashMap<>();
    Header h = read(new ByteArrayInputStream(bytes), new Sink() {
      @Override
      public void entry(String key, VersionedValue value) {
        data.put(key, value);
      }

      @Override
      public boolean contains(String key) {
        return data.containsKey(key);
      }

      @Override
      public void recent(String id, KvResult result) {
        recent.put(id, result);
      }
    });
    return new State(h.lastApplied(), data, recent, h.leases());
  }

  /** What a streamed snapshot held besides its data and window. */
  record Header(long lastApplied, List<Lease> leases) {}

  /**
   * Reads a snapshot from a stream, giving its data and window to {@code sink} as they come: a snapshot larger
   * than memory is read in constant memory (but for the leases).
   *
   * @throws IllegalArgumentException if the bytes are not a snapshot this version reads
   */
  static Header read(InputStream raw, Sink sink) {
    try {
      DataInputStream in = new DataInputStream(raw instanceof ByteArrayInputStream || raw instanceof java.io.BufferedInputStream
          ? raw : new java.io.BufferedInputStream(raw, 1 << 16));
      int version = in.readInt();
      if (version == REFERENCE) {
        throw new IllegalStateException("the snapshot up to index " + in.readLong() + " holds no data: it refers to the"
            + " node's own key-value store (data-dir/kv)");
      }
      if (version == FILES) throw new IllegalArgumentException("the snapshot holds a checkpoint's files, not keys");
      if (!readable(version)) throw new IllegalArgumentException("unknown key-value snapshot version " + version);
      long lastApplied = in.readLong();
      int keys = count(in);
      for (int i = 0; i < keys; i++) {
        String key = string(in);
        sink.entry(key, new VersionedValue(bytes(in), in.readLong()));
      }
      int ids = count(in);
      for (int i = 0; i < ids; i++) sink.recent(string(in), result(in));
      List<Lease> leases = new ArrayList<>();
      if (version >= VERSION) {
        int n = count(in);
        for (int i = 0; i < n; i++) {
          long id = in.readLong();
          long ttl = in.readLong();
          long renewedAt = in.readLong();
          int k = count(in);
          List<String> attached = new ArrayList<>(Math.min(k, 1024));
          for (int j = 0; j < k; j++) {
            String key = string(in);
            if (!sink.contains(key)) throw new IllegalArgumentException("lease " + id + " holds a key that is absent");
            attached.add(key);
          }
          leases.add(new Lease(id, ttl, renewedAt, attached));
        }
      }
      if (in.read() != -1) throw new IllegalArgumentException("trailing bytes after the key-value snapshot");
      return new Header(lastApplied, leases);
    } catch (EOFException e) {
      throw new IllegalArgumentException("truncated key-value snapshot", e);
    } catch (IOException e) {
      throw new IllegalArgumentException("unreadable key-value snapshot: " + e, e);
    }
  }

  static void result(DataOutputStream out, KvResult r) throws IOException {
    if (r instanceof KvResult.Written w && w.value() == null) {
      out.writeByte(7); // as remembered by the deduplication window: no value
      string(out, w.key());
      out.writeLong(w.revision());
    } else if (r instanceof KvResult.Written w) {
      out.writeByte(1);
      string(out, w.key());
      bytes(out, w.value());
      out.writeLong(w.revision());
    } else if (r instanceof KvResult.Deleted d) {
      out.writeByte(2);
      string(out, d.key());
      out.writeLong(d.revision());
    } else if (r instanceof KvResult.NotFound n) {
      out.writeByte(3);
      string(out, n.key());
    } else if (r instanceof KvResult.Value v) {
      out.writeByte(4);
      string(out, v.key());
      bytes(out, v.value());
      out.writeLong(v.revision());
    } else if (r instanceof KvResult.CasConflict c) {
      out.writeByte(5);
      string(out, c.key());
      out.writeLong(c.currentRevision());
    } else if (r instanceof KvResult.Invalid i) {
      out.writeByte(6);
      string(out, i.reason());
    } else if (r instanceof KvResult.TxnDone t) {
      out.writeByte(8);
      out.writeBoolean(t.succeeded());
      out.writeLong(t.revision());
      out.writeInt(t.results().size());
      for (TxnOpResult op : t.results()) txnOp(out, op);
    } else if (r instanceof KvResult.LeaseGranted g) {
      out.writeByte(9);
      out.writeLong(g.lease());
      out.writeLong(g.ttlMillis());
      out.writeLong(g.revision());
    } else if (r instanceof KvResult.LeaseAlive a) {
      out.writeByte(10);
      out.writeLong(a.lease());
      out.writeLong(a.ttlMillis());
    } else if (r instanceof KvResult.LeaseRevoked v) {
      out.writeByte(11);
      out.writeLong(v.lease());
      out.writeLong(v.revision());
      out.writeInt(v.keys().size());
      for (String key : v.keys()) string(out, key);
    } else if (r instanceof KvResult.LeaseNotFound nf) {
      out.writeByte(12);
      out.writeLong(nf.lease());
    } else {
      throw new IllegalStateException("unhandled result type " + r.getClass().getName());
    }
  }

  static KvResult result(DataInputStream in) throws IOException {
    int type = in.readByte();
    return switch (type) {
      case 1 -> new KvResult.Written(string(in), bytes(in), in.readLong());
      case 2 -> new KvResult.Deleted(string(in), in.readLong());
      case 3 -> new KvResult.NotFound(string(in));
      case 4 -> new KvResult.Value(string(in), bytes(in), in.readLong());
      case 5 -> new KvResult.CasConflict(string(in), in.readLong());
      case 6 -> new KvResult.Invalid(string(in));
      case 7 -> new KvResult.Written(string(in), (Bytes) null, in.readLong());
      case 8 -> {
        boolean succeeded = in.readBoolean();
        long revision = in.readLong();
        int n = count(in);
        java.util.List<TxnOpResult> ops = new java.util.ArrayList<>(Math.min(n, 1024));
        for (int i = 0; i < n; i++) ops.add(txnOp(in));
        yield new KvResult.TxnDone(succeeded, revision, ops);
      }
      case 9 -> new KvResult.LeaseGranted(in.readLong(), in.readLong(), in.readLong());
      case 10 -> new KvResult.LeaseAlive(in.readLong(), in.readLong());
      case 11 -> {
        long lease = in.readLong();
        long revision = in.readLong();
        int n = count(in);
        List<String> keys = new ArrayList<>(Math.min(n, 1024));
        for (int i = 0; i < n; i++) keys.add(string(in));
        yield new KvResult.LeaseRevoked(lease, revision, keys);
      }
      case 12 -> new KvResult.LeaseNotFound(in.readLong());
      default -> throw new IllegalArgumentException("unknown result type " + type + " in key-value snapshot");
    };
  }

  /** An operation's result as the window keeps it: without a get's value. */
  private static void txnOp(DataOutputStream out, TxnOpResult op) throws IOException {
    if (op instanceof TxnOpResult.Put p) {
      out.writeByte(1);
      string(out, p.key());
      out.writeLong(p.revision());
    } else if (op instanceof TxnOpResult.Delete d) {
      out.writeByte(2);
      string(out, d.key());
      out.writeBoolean(d.deleted());
    } else if (op instanceof TxnOpResult.Get g) {
      out.writeByte(3);
      string(out, g.key());
      out.writeLong(g.revision());
    } else {
      throw new IllegalStateException("unhandled operation result " + op.getClass().getName());
    }
  }

  private static TxnOpResult txnOp(DataInputStream in) throws IOException {
    int type = in.readByte();
    return switch (type) {
      case 1 -> new TxnOpResult.Put(string(in), in.readLong());
      case 2 -> new TxnOpResult.Delete(string(in), in.readBoolean());
      case 3 -> new TxnOpResult.Get(string(in), null, in.readLong());
      default -> throw new IllegalArgumentException("unknown operation result type " + type + " in key-value snapshot");
    };
  }

  static void string(DataOutputStream out, String s) throws IOException {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    out.writeInt(b.length);
    out.write(b);
  }

  static String string(DataInputStream in) throws IOException {
    return new String(rawBytes(in), StandardCharsets.UTF_8);
  }

  /** A value: the same layout as a string (length, then the bytes), so snapshots written before values were bytes read alike. */
  private static void bytes(DataOutputStream out, Bytes b) throws IOException {
    out.writeInt(b.length());
    b.writeTo(out);
  }

  /** Each value gets its own array: a slice of the whole snapshot would keep all of it alive for one key. */
  private static Bytes bytes(DataInputStream in) throws IOException {
    return Bytes.wrap(rawBytes(in));
  }

  /** A length, then as many bytes: read in pieces, so that a damaged length cannot allocate more than arrives. */
  private static byte[] rawBytes(DataInputStream in) throws IOException {
    int n = count(in);
    byte[] b = in.readNBytes(n);
    if (b.length != n) throw new EOFException("a length of " + n + " runs past the end");
    return b;
  }

  private static int count(DataInputStream in) throws IOException {
    int n = in.readInt();
    if (n < 0) throw new IllegalArgumentException("negative length " + n + " in key-value snapshot");
    return n;
  }
}

package dev.tern.storage;

import dev.tern.raft.HardState;
import dev.tern.raft.LogEntry;
import dev.tern.raft.RaftStorage;
import dev.tern.raft.SnapshotMeta;
import dev.tern.raft.StateMachine;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Durable {@link RaftStorage}: a segmented write-ahead log plus a small {@code hardstate} file, in one
 * directory. The format, the fsync points and the recovery rules are described in docs/storage.md.
 *
 * <p>{@link #submit} never blocks on I/O: it checks the write, gives it a ticket and queues it. One daemon
 * thread, {@code tern-wal}, drains the queue: it applies every write that is waiting (group commit), makes
 * them durable with one fsync of the log (and, if the hard state changed, one atomic replacement of the
 * hard state file), then publishes {@link #durableTicket()} and calls the {@link #onDurable} listener once.
 *
 * <p>The log entries themselves are not kept in memory (the replica has its own copy); only the byte offset
 * of each entry's record, so that a truncation can cut its segment at the right place.
 *
 * <p>{@link #load()} returns what {@link #open} recovered; called again later (when a node restarts its
 * ActorSystem over the same storage), it waits until every submitted write is durable and reads the log back.
 */
public final class FileStorage implements RaftStorage, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(FileStorage.class);

  static final String HARD_STATE = "hardstate";
  static final String HARD_STATE_TMP = "hardstate.tmp";
  static final String LOG_DIR = "log";
  static final String LOCK_FILE = "lock";

  /** A batch is written to the file in chunks of about this size (one write call for typical batches). */
  private static final int WRITE_CHUNK_BYTES = 1 << 22;
  /** Segments are read whole at start-up, so they must stay well under 2 GiB. */
  static final long MAX_SEGMENT_BYTES = 1L << 30;

  private final Path dir;
  private final Path logDir;
  private final boolean fsync;
  private final long segmentBytes;

  // ---- shared between submitters and the writer: guarded by `lock` -----------------------------------
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition workAvailable = lock.newCondition();
  private final Condition durableAdvanced = lock.newCondition();
  private final ArrayDeque<Pending> queue = new ArrayDeque<>();
  private long lastTicket;
  /** The last log index once every submitted write is applied: submit checks appends against it. */
  private long submittedLastIndex;
  private boolean writerWaiting;
  private boolean paused;
  private boolean closing;
  /** What open() recovered, until the first load() or submit(). */
  private Persisted recovered;

  private volatile long durableTicket;
  private volatile LongConsumer listener;
  private volatile Throwable failure;
  private volatile java.util.function.Consumer<Throwable> failureListener = t -> {};

  // ---- the writer's state: touched by the writer thread, and by load() and close() holding `io` --------
  private final Object io = new Object();
  private final TreeMap<Long, Segment> segments = new TreeMap<>();
  /** The last segment, whose channel is open; null while the log has no segment. */
  private Segment current;
  private HardState writtenHardState;
  private boolean closed;
  private ByteBuffer buffer = ByteBuffer.allocateDirect(1 << 20);
  private final CRC32C crc = new CRC32C();
  private final FileChannel dirChannel;
  private final FileChannel logDirChannel;
  private final FileChannel lockChannel;
  private final FileLock dirLock;
  /** The directories open in this JVM, by real path. */
  private static final Set<Path> OPEN_DIRS = ConcurrentHashMap.newKeySet();

  private final Path ownedDir;

  private final AtomicLong fsyncs = new AtomicLong();
  private final FsyncStats fsyncStats = new FsyncStats();
  private volatile StorageObserver observer = StorageObserver.NONE;
  private volatile Forcer forcer = FileChannel::force;
  private final AtomicLong snapshotsWritten = new AtomicLong();
  private final AtomicLong snapshotsReceived = new AtomicLong();
  private final Thread writer;

  /** The log's last index while it has no segment (everything before was compacted into the snapshot). */
  private long compactedThrough;

  // ---- snapshots: files touched only on the snapshot thread (and in open) ----------------------------------
  /** Writes, reads and receives snapshots, off the Raft actor's thread and off the log writer's. */
  private final java.util.concurrent.ExecutorService snapshotIo;
  /** The latest complete snapshot, or null. */
  private volatile SnapshotFile.Located latestSnapshot;
  /** The snapshot being received from a leader: its file, and how many data bytes it holds so far. */
  private SnapshotMeta receiving;
  private FileChannel receivingChannel;
  private Path receivingPath;
  private long receivingHeaderBytes;
  private long receivedBytes;
  private CRC32C receivingCrc;

  private record Pending(long ticket, Write write) {}

  /** One segment file: its entries' record offsets, and its channel while it is the last segment. */
  private static final class Segment {
    final long firstIndex;
    final Path path;
    /** Bytes written to the file (records still in the write buffer are not counted). */
    long size;
    /** The file's size: past {@link #size}, the room preallocated for the next records ({@link LogPreallocation}). */
    long allocated;
    long[] offsets;
    /** Entries in this segment, including those still in the write buffer. */
    int count;
    FileChannel channel;
    /** Written to since its last fsync. */
    boolean dirty;

    Segment(long firstIndex, Path path, long size, long[] offsets, int count) {
      this.firstIndex = firstIndex;
      this.path = path;
      this.size = size;
      this.allocated = size;
      this.offsets = offsets;
      this.count = count;
    }

    long lastIndex() {
      return firstIndex + count - 1;
    }

    void addOffset(long offset) {
      if (count == offsets.length) offsets = Arrays.copyOf(offsets, Math.max(16, count * 2));
      offsets[count++] = offset;
    }
  }

  /**
   * Opens (creating if missing) the storage in {@code dir} and recovers what is on disk: a torn record at
   * the end of the last segment is cut off with a warning; any other damage throws.
   *
   * @param fsync whether to fsync; without it a machine crash (not a process crash) can lose acknowledged
   *     writes and votes
   * @param segmentBytes a segment is closed and a new one started once it holds at least this many bytes
   * @throws StorageCorruptedException if the data on disk is damaged beyond a torn tail
   * @throws UncheckedIOException if the files cannot be read or written
   */
  public static FileStorage open(Path dir, boolean fsync, long segmentBytes) {
    if (segmentBytes < 1 || segmentBytes > MAX_SEGMENT_BYTES) {
      throw new IllegalArgumentException("segmentBytes must be in [1, " + MAX_SEGMENT_BYTES + "], got " + segmentBytes);
    }
    try {
      return new FileStorage(dir, fsync, segmentBytes);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open storage in " + dir + ": " + e, e);
    }
  }

  private FileStorage(Path dir, boolean fsync, long segmentBytes) throws IOException {
    this.dir = dir.toAbsolutePath();
    this.logDir = this.dir.resolve(LOG_DIR);
    this.fsync = fsync;
    this.segmentBytes = segmentBytes;
    List<AutoCloseable> opened = new ArrayList<>();
    try {
      boolean createdDir = !Files.isDirectory(this.dir);
      Files.createDirectories(this.dir);
      // Closing any channel on a locked file drops the process's lock on it (POSIX), so a second open in this
      // JVM must be refused before it touches the lock file.
      Path owned = this.dir.toRealPath();
      if (!OPEN_DIRS.add(owned)) throw new IOException(this.dir + " is already open in this process");
      opened.add(() -> OPEN_DIRS.remove(owned));
      ownedDir = owned;
      lockChannel = track(opened, FileChannel.open(this.dir.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE));
      FileLock acquired;
      try {
        acquired = lockChannel.tryLock();
      } catch (OverlappingFileLockException e) {
        acquired = null;
      }
      if (acquired == null) throw new IOException(this.dir + " is in use by another process");
      dirLock = acquired;
      opened.add(dirLock);
      boolean createdLogDir = !Files.isDirectory(logDir);
      Files.createDirectories(logDir);
      dirChannel = track(opened, FileChannel.open(this.dir, StandardOpenOption.READ));
      logDirChannel = track(opened, FileChannel.open(logDir, StandardOpenOption.READ));
      if (createdDir && this.dir.getParent() != null) {
        try (FileChannel parent = FileChannel.open(this.dir.getParent(), StandardOpenOption.READ)) {
          forceDir(parent);
        }
      }
      if (createdLogDir) forceDir(dirChannel);
      if (Files.deleteIfExists(this.dir.resolve(HARD_STATE_TMP))) {
        log.info("Deleted {}, left over from an interrupted hard state write", this.dir.resolve(HARD_STATE_TMP));
      }

      StoredSnapshot snapshot = recoverSnapshot();
      List<LogEntry> entries = recoverLog(snapshot == null ? null : snapshot.meta());
      writtenHardState = readHardState(entries.size() + (snapshot == null ? 0 : 1));
      submittedLastIndex = lastIndex();
      recovered = new Persisted(writtenHardState, snapshot, List.copyOf(entries));
      if (current != null) current.channel = track(opened, FileChannel.open(current.path, StandardOpenOption.WRITE));
    } catch (IOException | RuntimeException | Error e) {
      for (int i = opened.size() - 1; i >= 0; i--) { // newest first: the in-process claim goes last
        AutoCloseable c = opened.get(i);
        try {
          c.close();
        } catch (Exception suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      throw e;
    }
    writer = new Thread(this::runWriter, "tern-wal");
    writer.setDaemon(true);
    writer.start();
    snapshotIo = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "tern-snapshot");
      t.setDaemon(true);
      return t;
    });
  }

  private static <T extends AutoCloseable> T track(List<AutoCloseable> opened, T resource) {
    opened.add(resource);
    return resource;
  }

  // ---- RaftStorage -------------------------------------------------------------------------------------

  /**
   * The durable hard state and log. The first call returns what {@link #open} recovered; a later call waits
   * until every submitted write is durable and reads the log back from disk. Call it while no writes are
   * being submitted.
   */
  @Override
  public Persisted load() {
    long target;
    lock.lock();
    try {
      if (recovered != null) {
        Persisted p = recovered;
        recovered = null;
        return p;
      }
      target = lastTicket;
      awaitDurable(target);
    } finally {
      lock.unlock();
    }
    StoredSnapshot snapshot = onSnapshotThread(() -> {
      SnapshotFile.Located latest = latestSnapshot;
      return latest == null ? null : new StoredSnapshot(latest.meta(), SnapshotFile.source(latest));
    });
    synchronized (io) {
      try {
        List<LogEntry> log = readLog();
        if (snapshot != null) {
          long last = snapshot.meta().lastIncludedIndex();
          log = List.copyOf(log.stream().filter(e -> e.index() > last).toList());
        }
        return new Persisted(writtenHardState, snapshot, log);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read the log in " + logDir + ": " + e, e);
      }
    }
  }

  private <T> T onSnapshotThread(java.util.concurrent.Callable<T> task) {
    try {
      return snapshotIo.submit(task).get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while reading the snapshot in " + dir, e);
    } catch (java.util.concurrent.ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof RuntimeException re) throw re;
      if (cause instanceof IOException io) throw new UncheckedIOException("cannot read the snapshot in " + dir + ": " + io, io);
      throw new IllegalStateException(cause);
    }
  }

  /**
   * Checks and queues a write; never waits for I/O.
   *
   * @throws IllegalStateException if the write's entries do not continue the log, or the storage is closed
   *     or has failed
   */
  @Override
  public long submit(Write write) {
    lock.lock();
    try {
      if (closing) throw new IllegalStateException("storage in " + dir + " is closed");
      Throwable failed = failure;
      if (failed != null) throw new IllegalStateException("storage in " + dir + " failed: " + failed, failed);
      long last = submittedLastIndex;
      if (write.truncateFrom() > 0) last = Math.min(last, write.truncateFrom() - 1);
      last = Math.max(last, write.compactThrough());
      for (LogEntry e : write.entries()) {
        if (e.index() != last + 1) {
          throw new IllegalStateException("non-contiguous append: " + e + " after index " + last);
        }
        last++;
      }
      submittedLastIndex = last;
      recovered = null;
      long ticket = ++lastTicket;
      queue.add(new Pending(ticket, write));
      if (writerWaiting && !paused) workAvailable.signal();
      return ticket;
    } finally {
      lock.unlock();
    }
  }

  @Override
  public long durableTicket() {
    return durableTicket;
  }

  @Override
  public void onDurable(LongConsumer listener) {
    this.listener = listener;
  }

  // ---- snapshots ---------------------------------------------------------------------------------------

  /**
   * Streams the captured state into {@code snapshot-<index>.snap.tmp}, fsyncs it, renames it into place and
   * fsyncs the directory; then deletes older snapshots. All on the snapshot thread.
   */
  @Override
  public void saveSnapshot(SnapshotMeta meta, StateMachine.SnapshotData data, Consumer<Throwable> done) {
    snapshotIo.execute(() -> {
      Throwable failure = null;
      try {
        writeSnapshot(meta, data);
      } catch (IOException | RuntimeException e) {
        failure = e;
      }
      done.accept(failure);
    });
  }

  private void writeSnapshot(SnapshotMeta meta, StateMachine.SnapshotData data) throws IOException {
    long started = System.nanoTime();
    Path tmp = dir.resolve(SnapshotFile.name(meta.lastIncludedIndex()) + ".tmp");
    CRC32C sum = new CRC32C();
    long dataBytes;
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
        StandardOpenOption.WRITE)) {
      java.io.OutputStream raw = java.nio.channels.Channels.newOutputStream(ch);
      java.util.zip.CheckedOutputStream checked = new java.util.zip.CheckedOutputStream(raw, sum);
      java.io.BufferedOutputStream out = new java.io.BufferedOutputStream(checked, 1 << 16);
      byte[] header = SnapshotFile.header(meta);
      out.write(header);
      long[] counted = {0};
      java.io.OutputStream counting = new java.io.FilterOutputStream(out) {
        @Override
        public void write(int b) throws IOException {
          out.write(b);
          counted[0]++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
          out.write(b, off, len);
          counted[0] += len;
        }

        @Override
        public void close() {
          // the file is closed by its owner
        }
      };
      data.writeTo(counting);
      out.flush();
      dataBytes = counted[0];
      raw.write(SnapshotFile.trailer(dataBytes, sum));
      if (fsync) {
        ch.force(true);
        fsyncs.incrementAndGet();
      }
    }
    installSnapshotFile(tmp, meta, dataBytes);
    snapshotsWritten.incrementAndGet();
    log.info("Wrote snapshot up to index {} (term {}): {} bytes in {} ms", meta.lastIncludedIndex(),
        meta.lastIncludedTerm(), dataBytes, (System.nanoTime() - started) / 1_000_000);
  }

  /** Renames a complete, fsynced snapshot file into place, makes that durable, and deletes older snapshots. */
  private void installSnapshotFile(Path complete, SnapshotMeta meta, long dataBytes) throws IOException {
    SnapshotFile.Located previous = latestSnapshot;
    if (previous != null && previous.meta().lastIncludedIndex() > meta.lastIncludedIndex()) {
      Files.delete(complete); // a newer one is already in place
      return;
    }
    // The same index again: a snapshot with the data replacing one that only referred to the state machine's store.
    Path target = dir.resolve(SnapshotFile.name(meta.lastIncludedIndex()));
    Files.move(complete, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    forceDir(dirChannel);
    latestSnapshot = locate(target, meta, dataBytes);
    if (previous != null && !previous.path().equals(target)) {
      Files.deleteIfExists(previous.path());
      forceDir(dirChannel);
    }
  }

  @Override
  public void readSnapshotChunk(SnapshotMeta meta, long offset, int maxBytes, Consumer<Chunk> done) {
    snapshotIo.execute(() -> {
      SnapshotFile.Located latest = latestSnapshot;
      Chunk chunk;
      if (latest == null || !latest.meta().equals(meta) || offset < 0 || offset > latest.dataLength()) {
        chunk = new Chunk(null, 0);
      } else {
        int n = (int) Math.min(maxBytes, latest.dataLength() - offset);
        ByteBuffer buf = ByteBuffer.allocate(n);
        try (FileChannel ch = FileChannel.open(latest.path(), StandardOpenOption.READ)) {
          long pos = latest.dataOffset() + offset;
          while (buf.hasRemaining()) {
            int read = ch.read(buf, pos + buf.position());
            if (read < 0) throw new IOException(latest.path() + " is shorter than expected");
          }
          chunk = new Chunk(buf.array(), latest.dataLength());
        } catch (IOException e) {
          log.warn("Cannot read snapshot {} for a follower: {}", latest.path(), e.toString());
          chunk = new Chunk(null, 0);
        }
      }
      done.accept(chunk);
    });
  }

  /**
   * Receives a snapshot into {@code snapshot-<index>.snap.partial}: the header first, then each piece where
   * the last one ended. After the last piece it writes the trailer, fsyncs, checks the whole file, and renames
   * it into place; the answer then carries the snapshot, read back from disk.
   */
  @Override
  public void writeSnapshotChunk(SnapshotMeta meta, long offset, byte[] data, boolean last, Consumer<ChunkWritten> done) {
    snapshotIo.execute(() -> {
      ChunkWritten result;
      try {
        result = receiveChunk(meta, offset, data, last);
      } catch (IOException | RuntimeException e) {
        log.warn("Receiving snapshot {} failed at offset {}; the leader will start it over: {}",
            meta.lastIncludedIndex(), offset, e.toString());
        abortReceiving();
        result = new ChunkWritten(0, null);
      }
      done.accept(result);
    });
  }

  private ChunkWritten receiveChunk(SnapshotMeta meta, long offset, byte[] data, boolean last) throws IOException {
    if (offset == 0 && !meta.equals(receiving)) {
      abortReceiving();
      receivingPath = dir.resolve(SnapshotFile.name(meta.lastIncludedIndex()) + ".partial");
      receivingChannel = FileChannel.open(receivingPath, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
          StandardOpenOption.WRITE);
      byte[] header = SnapshotFile.header(meta);
      writeFully(receivingChannel, ByteBuffer.wrap(header), 0);
      receivingCrc = new CRC32C();
      receivingCrc.update(header);
      receivingHeaderBytes = header.length;
      receivedBytes = 0;
      receiving = meta;
      log.info("Receiving a snapshot up to index {} (term {}) from the leader", meta.lastIncludedIndex(),
          meta.lastIncludedTerm());
    }
    if (!meta.equals(receiving) || offset != receivedBytes) {
      return new ChunkWritten(meta.equals(receiving) ? receivedBytes : 0, null);
    }
    writeFully(receivingChannel, ByteBuffer.wrap(data), receivingHeaderBytes + receivedBytes);
    receivingCrc.update(data);
    receivedBytes += data.length;
    if (!last) return new ChunkWritten(receivedBytes, null);
    writeFully(receivingChannel, ByteBuffer.wrap(SnapshotFile.trailer(receivedBytes, receivingCrc)),
        receivingHeaderBytes + receivedBytes);
    if (fsync) {
      receivingChannel.force(true);
      fsyncs.incrementAndGet();
    }
    receivingChannel.close();
    Path complete = receivingPath;
    long size = receivedBytes;
    receiving = null;
    receivingChannel = null;
    receivingPath = null;
    StoredSnapshot stored;
    try {
      stored = SnapshotFile.read(complete); // checks what is on disk, CRC included
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(complete);
      throw e;
    }
    installSnapshotFile(complete, meta, size);
    SnapshotFile.Located installed = latestSnapshot;
    // Read from where it now lies (the partial file was renamed); a newer snapshot of our own in its place means the
    // replica already holds more than this one and will not read it.
    if (installed != null && installed.meta().equals(meta)) stored = new StoredSnapshot(meta, SnapshotFile.source(installed));
    snapshotsReceived.incrementAndGet();
    log.info("Received snapshot up to index {} (term {}): {} bytes", meta.lastIncludedIndex(), meta.lastIncludedTerm(), size);
    return new ChunkWritten(size, stored);
  }

  private static void writeFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
    long pos = position;
    while (buf.hasRemaining()) pos += ch.write(buf, pos);
  }

  /** Drops a snapshot transfer in progress and its file. */
  private void abortReceiving() {
    if (receivingChannel != null) {
      try {
        receivingChannel.close();
      } catch (IOException e) {
        log.debug("closing {}: {}", receivingPath, e.toString());
      }
    }
    if (receivingPath != null) {
      try {
        Files.deleteIfExists(receivingPath);
      } catch (IOException e) {
        log.warn("Cannot delete {}: {}", receivingPath, e.toString());
      }
    }
    receiving = null;
    receivingChannel = null;
    receivingPath = null;
    receivedBytes = 0;
  }

  /**
   * Registers who to tell, once, if the writer fails (on the writer's thread). A node cannot acknowledge
   * anything after that, so the owner should stop rather than hang on to clients.
   */
  public void onFailure(java.util.function.Consumer<Throwable> listener) {
    this.failureListener = listener;
    if (failure != null) listener.accept(failure);
  }

  /** Why the writer stopped, or null while it is healthy. After a failure no write becomes durable. */
  public Throwable failure() {
    return failure;
  }

  /** Makes everything submitted so far durable, stops the writer and closes the files. Idempotent. */
  @Override
  public void close() {
    snapshotIo.shutdown();
    boolean interruptedSnapshots = false;
    try {
      if (!snapshotIo.awaitTermination(60, TimeUnit.SECONDS)) log.warn("A snapshot in {} is still being written at close", dir);
    } catch (InterruptedException e) {
      interruptedSnapshots = true;
    }
    abortReceiving();
    if (interruptedSnapshots) Thread.currentThread().interrupt();
    lock.lock();
    try {
      closing = true;
      workAvailable.signalAll();
    } finally {
      lock.unlock();
    }
    boolean interrupted = false;
    while (writer.isAlive()) {
      try {
        writer.join();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) Thread.currentThread().interrupt();
    synchronized (io) {
      if (closed) return;
      closed = true;
      List<AutoCloseable> toClose = new ArrayList<>();
      for (Segment s : segments.values()) {
        if (s.channel != null) toClose.add(s.channel);
        s.channel = null;
      }
      toClose.addAll(List.of(logDirChannel, dirChannel, dirLock, lockChannel));
      toClose.add(() -> OPEN_DIRS.remove(ownedDir));
      for (AutoCloseable c : toClose) {
        try {
          c.close();
        } catch (Exception e) {
          log.warn("Closing storage in {}: {}", dir, e.toString());
        }
      }
    }
  }


  @Override
  public String toString() {
    return "FileStorage[" + dir + (fsync ? "" : ", fsync off") + "]";
  }

  /** Snapshots of this node's own state written since it opened. */
  public long snapshotsWritten() {
    return snapshotsWritten.get();
  }

  /** Snapshots received whole from a leader (InstallSnapshot) since it opened. */
  public long snapshotsReceived() {
    return snapshotsReceived.get();
  }

  /** The last index of the latest snapshot on disk, or 0. */
  public long snapshotIndex() {
    SnapshotFile.Located latest = latestSnapshot;
    return latest == null ? 0 : latest.meta().lastIncludedIndex();
  }

  /** The directory holding this storage's files. */
  public Path directory() {
    return dir;
  }

  // ---- for tests ---------------------------------------------------------------------------------------

  /** How many fsyncs (file and directory) this storage has issued. */
  long fsyncCount() {
    return fsyncs.get();
  }

  /** Holds the writer before its next batch, so that tests can queue many writes deterministically. */
  void pauseWriter() {
    lock.lock();
    try {
      paused = true;
    } finally {
      lock.unlock();
    }
  }

  void resumeWriter() {
    lock.lock();
    try {
      paused = false;
      workAvailable.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** Waits (bounded) until {@code ticket} is durable; true if it is. */
  boolean awaitDurable(long ticket, long timeout, TimeUnit unit) throws InterruptedException {
    long deadline = System.nanoTime() + unit.toNanos(timeout);
    lock.lock();
    try {
      while (durableTicket < ticket && failure == null) {
        long left = deadline - System.nanoTime();
        if (left <= 0) return false;
        durableAdvanced.awaitNanos(left);
      }
      return durableTicket >= ticket;
    } finally {
      lock.unlock();
    }
  }

  // ---- the writer --------------------------------------------------------------------------------------

  private void runWriter() {
    List<Pending> batch = new ArrayList<>();
    try {
      while (true) {
        lock.lock();
        try {
          while (!closing && (paused || queue.isEmpty())) {
            writerWaiting = true;
            workAvailable.awaitUninterruptibly();
          }
          writerWaiting = false;
          if (queue.isEmpty()) return; // closing, and everything is written
          batch.addAll(queue);
          queue.clear();
        } finally {
          lock.unlock();
        }
        int entries;
        synchronized (io) {
          entries = writeBatch(batch);
        }
        observer.batchWritten(batch.size(), entries);
        long ticket = batch.get(batch.size() - 1).ticket();
        batch.clear();
        publish(ticket);
      }
    } catch (Throwable t) {
      failure = t;
      log.error(
          "Storage in {} failed; no further write will become durable, so this node will stop acknowledging"
              + " entries and votes",
          dir,
          t);
      lock.lock();
      try {
        durableAdvanced.signalAll();
      } finally {
        lock.unlock();
      }
      try {
        failureListener.accept(t);
      } catch (RuntimeException e) {
        log.error("storage failure listener failed", e);
      }
    }
  }

  private void publish(long ticket) {
    lock.lock();
    try {
      durableTicket = ticket;
      durableAdvanced.signalAll();
    } finally {
      lock.unlock();
    }
    LongConsumer l = listener;
    if (l != null) {
      try {
        l.accept(ticket);
      } catch (RuntimeException e) {
        log.error("onDurable listener failed for ticket {}", ticket, e);
      }
    }
  }

  /** Waits, holding {@code lock}, until {@code ticket} is durable. */
  private void awaitDurable(long ticket) {
    while (durableTicket < ticket) {
      Throwable failed = failure;
      if (failed != null) throw new IllegalStateException("storage in " + dir + " failed: " + failed, failed);
      durableAdvanced.awaitUninterruptibly();
    }
  }

  /**
   * Applies a batch and makes it durable. The hard state goes first: it is the batch's last one, and a
   * crash between the two files then leaves a newer term with an older log, never log entries from a term
   * the hard state has not reached (nor entries with no hard state at all). Neither order exposes anything
   * acknowledged: no ticket of the batch is durable before both are done.
   */
  private int writeBatch(List<Pending> batch) throws IOException {
    int entries = 0;
    HardState hs = null;
    for (Pending p : batch) {
      if (p.write().hardState() != null) hs = p.write().hardState();
    }
    if (hs != null && !hs.equals(writtenHardState)) {
      writeHardState(hs);
      writtenHardState = hs;
    }
    for (Pending p : batch) {
      Write w = p.write();
      if (w.truncateFrom() > 0) truncate(w.truncateFrom());
      if (w.compactThrough() > 0) compact(w.compactThrough());
      for (LogEntry e : w.entries()) append(e);
      entries += w.entries().size();
    }
    flushBuffer();
    if (current != null && current.dirty) {
      force(current.channel);
      current.dirty = false;
    }
    return entries;
  }

  private long lastIndex() {
    return current == null ? compactedThrough : current.lastIndex();
  }

  private void append(LogEntry e) throws IOException {
    if (e.index() != lastIndex() + 1) {
      throw new IllegalStateException("non-contiguous append: " + e + " after index " + lastIndex());
    }
    if (current == null || (current.count > 0 && current.size + buffer.position() >= segmentBytes)) {
      roll(e.index());
    }
    int bytes = WalFormat.recordBytes(e);
    if (buffer.remaining() < bytes) {
      flushBuffer();
      if (buffer.capacity() < bytes) buffer = ByteBuffer.allocateDirect(Math.max(bytes, buffer.capacity() * 2));
    }
    current.addOffset(current.size + buffer.position());
    WalFormat.putEntry(buffer, e, crc);
    if (buffer.position() >= WRITE_CHUNK_BYTES) flushBuffer();
  }

  /** Writes the buffered records to the current segment (no fsync). */
  private void flushBuffer() throws IOException {
    if (buffer.position() == 0) return;
    buffer.flip();
    long pos = current.size;
    current.allocated = LogPreallocation.ensure(current.channel, current.allocated, pos + buffer.remaining());
    while (buffer.hasRemaining()) pos += current.channel.write(buffer, pos);
    buffer.clear();
    current.size = pos;
    current.dirty = true;
  }

  /**
   * Starts a new segment. The full one is cut to its records (only the last segment has preallocated room) and
   * fsynced first, and the new file's name is made durable at once, so that a crash can leave a torn record only
   * in the last segment, never a gap before it.
   */
  private void roll(long firstIndex) throws IOException {
    if (current != null) {
      flushBuffer();
      if (current.allocated > current.size) {
        current.channel.truncate(current.size);
        current.allocated = current.size;
        if (fsync) timedForce(current.channel, true); // with the size: a closed segment must end at its last record
      } else if (current.dirty) {
        force(current.channel);
      }
      current.dirty = false;
      current.channel.close();
      current.channel = null;
    }
    Path path = logDir.resolve(WalFormat.segmentName(firstIndex));
    Segment s = new Segment(firstIndex, path, 0, new long[16], 0);
    s.channel = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    segments.put(firstIndex, s);
    current = s;
    forceDir(logDirChannel);
  }

  /**
   * Drops every entry from {@code from} on: deletes the later segments (newest first, each deletion made
   * durable before the next) and cuts the segment holding {@code from} at its record, fsyncing the cut before
   * anything is appended after it. A crash part-way leaves a prefix of the old log, never a gap or old bytes
   * behind new records. Truncations are rare (a follower dropping a deposed leader's entries), so the extra
   * fsyncs do not matter.
   */
  private void truncate(long from) throws IOException {
    if (from > lastIndex()) return;
    flushBuffer();
    Map.Entry<Long, Segment> floor = segments.floorEntry(from);
    if (floor == null || from == floor.getKey() && floor.getKey().equals(segments.firstKey())) {
      // Nothing before `from` is in a segment: the whole log goes (a snapshot from the leader replaces it).
      deleteSegmentsNewestFirst(Long.MIN_VALUE);
      compactedThrough = from - 1;
      return;
    }
    Segment target = floor.getValue();
    while (segments.lastKey() > target.firstIndex) {
      Segment s = segments.pollLastEntry().getValue();
      if (s.channel != null) s.channel.close();
      s.channel = null;
      Files.delete(s.path);
      forceDir(logDirChannel);
    }
    if (target.channel == null) target.channel = FileChannel.open(target.path, StandardOpenOption.WRITE);
    current = target;
    int keep = (int) (from - target.firstIndex);
    long cut = target.offsets[keep];
    target.allocated = LogPreallocation.cut(target.channel, cut);
    target.size = cut;
    target.count = keep;
    if (fsync) timedForce(target.channel, true); // the size is unchanged: only a full fsync persists the cut
    target.dirty = false;
  }

  /**
   * Drops the log entries up to {@code through}, which a durable snapshot covers: every segment whose entries
   * all lie at or below it, oldest first (a crash part-way leaves a log that still starts at or before the
   * snapshot's end). Past the log's end, all of it goes and the next entry will be {@code through + 1}.
   */
  private void compact(long through) throws IOException {
    if (through >= lastIndex()) {
      flushBuffer();
      deleteSegmentsNewestFirst(Long.MIN_VALUE);
      compactedThrough = through;
      return;
    }
    boolean deleted = false;
    while (!segments.isEmpty()) {
      Segment first = segments.firstEntry().getValue();
      if (first == current || first.lastIndex() > through) break;
      segments.pollFirstEntry();
      Files.delete(first.path);
      deleted = true;
    }
    if (deleted) forceDir(logDirChannel);
  }

  /** Deletes every segment with a first index above {@code above}, newest first, each deletion made durable. */
  private void deleteSegmentsNewestFirst(long above) throws IOException {
    while (!segments.isEmpty() && segments.lastKey() > above) {
      Segment s = segments.pollLastEntry().getValue();
      if (s.channel != null) s.channel.close();
      s.channel = null;
      Files.delete(s.path);
      forceDir(logDirChannel);
    }
    current = segments.isEmpty() ? null : segments.lastEntry().getValue();
  }

  /** Replaces the hard state file atomically: write a temporary file, fsync it, rename it, fsync the directory. */
  private void writeHardState(HardState hs) throws IOException {
    Path tmp = dir.resolve(HARD_STATE_TMP);
    ByteBuffer bytes = ByteBuffer.wrap(WalFormat.encodeHardState(hs));
    try (FileChannel ch =
        FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
      while (bytes.hasRemaining()) ch.write(bytes);
      if (fsync) timedForce(ch, true);
    }
    Files.move(tmp, dir.resolve(HARD_STATE), StandardCopyOption.ATOMIC_MOVE);
    forceDir(dirChannel);
  }

  private void force(FileChannel channel) throws IOException {
    if (!fsync) return;
    timedForce(channel, false);
  }

  private void forceDir(FileChannel directory) throws IOException {
    if (!fsync) return;
    timedForce(directory, true);
  }

  /**
   * One fsync, timed for /health. A failure propagates and stops the writer for good: after a failed fsync the
   * kernel may have dropped the dirty pages and marked them clean, so a retry could "succeed" without the data.
   */
  private void timedForce(FileChannel channel, boolean metaData) throws IOException {
    long start = System.nanoTime();
    forcer.force(channel, metaData);
    long nanos = System.nanoTime() - start;
    fsyncStats.record(nanos);
    fsyncs.incrementAndGet();
    observer.fsynced(nanos);
  }

  /** How an fsync is done; tests swap in one that fails. */
  @FunctionalInterface
  interface Forcer {
    void force(FileChannel channel, boolean metaData) throws IOException;
  }

  /** Tells {@code o} of every fsync and every batch written from now on (the node's metrics). */
  public void observe(StorageObserver o) {
    observer = java.util.Objects.requireNonNull(o, "observer");
  }

  /** fsync latencies, for the node's storage health. */
  public FsyncStats fsyncStats() {
    return fsyncStats;
  }

  /** Makes every later fsync of the log, its directory and the hard state go through {@code f} (tests). */
  void forcerForTests(Forcer f) {
    this.forcer = f;
  }

  // ---- recovery ----------------------------------------------------------------------------------------

  /** Segment files by first index; other files in the log directory are ignored with a warning. */
  private TreeMap<Long, Path> listSegments() throws IOException {
    TreeMap<Long, Path> found = new TreeMap<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(logDir)) {
      for (Path p : files) {
        long first = WalFormat.parseSegmentName(p.getFileName().toString());
        if (first < 0) log.warn("Ignoring {}: not a log segment", p);
        else found.put(first, p);
      }
    }
    return found;
  }

  /**
   * Finds the latest snapshot and checks it; deletes what interrupted snapshot writes and transfers left
   * behind, and older snapshots a crash kept from being deleted. A damaged latest snapshot stops the node: the
   * log it replaced is gone, so there is nothing to fall back on.
   */
  private StoredSnapshot recoverSnapshot() throws IOException {
    TreeMap<Long, Path> found = new TreeMap<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, SnapshotFile.PREFIX + "*")) {
      for (Path p : files) {
        String name = p.getFileName().toString();
        if (name.endsWith(SnapshotFile.TMP_SUFFIX) || name.endsWith(SnapshotFile.PARTIAL_SUFFIX)) {
          Files.delete(p);
          log.info("Deleted {}, left over from an interrupted snapshot write or transfer", p);
          continue;
        }
        long index = SnapshotFile.parseName(name);
        if (index < 0) log.warn("Ignoring {}: not a snapshot", p);
        else found.put(index, p);
      }
    }
    if (found.isEmpty()) return null;
    Path latest = found.lastEntry().getValue();
    // Checked whole (streaming) before the node relies on it: the log it replaced is gone.
    StoredSnapshot snapshot = SnapshotFile.read(latest);
    if (snapshot.meta().lastIncludedIndex() != found.lastKey()) {
      throw new StorageCorruptedException(latest, 8, "the file name says index " + found.lastKey() + " but it holds "
          + snapshot.meta().lastIncludedIndex());
    }
    for (Path older : found.headMap(found.lastKey()).values()) {
      Files.delete(older);
      log.info("Deleted {}: superseded by {}", older, latest);
    }
    latestSnapshot = locate(latest, snapshot.meta(), snapshot.data().size());
    log.info("Recovered snapshot {} (up to index {}, term {}, {} bytes)", latest.getFileName(),
        snapshot.meta().lastIncludedIndex(), snapshot.meta().lastIncludedTerm(), snapshot.data().size());
    return snapshot;
  }

  private static SnapshotFile.Located locate(Path path, SnapshotMeta meta, long dataLength) {
    return new SnapshotFile.Located(meta, path, SnapshotFile.header(meta).length, dataLength);
  }

  /**
   * Reads every segment, cutting a torn tail off the last one; fills {@link #segments} and {@link #current}.
   * With a snapshot, the log may start anywhere up to just after it, and applies Figure 13's rule: if it holds
   * the snapshot's last entry with the same term, the entries after it are the log; otherwise (a crash while
   * a snapshot from the leader replaced the log) every segment is stale and is deleted. Returns the entries
   * after the snapshot.
   */
  private List<LogEntry> recoverLog(SnapshotMeta snapshot) throws IOException {
    List<LogEntry> entries = new ArrayList<>();
    TreeMap<Long, Path> files = listSegments();
    long snapshotIndex = snapshot == null ? 0 : snapshot.lastIncludedIndex();
    long expected = files.isEmpty() ? 1 : files.firstKey();
    if (!files.isEmpty() && snapshot == null && expected != 1) throw gap(files.firstEntry().getValue(), expected, 1);
    if (!files.isEmpty() && snapshot != null && expected > snapshotIndex + 1) {
      throw new StorageCorruptedException(files.firstEntry().getValue(), 0, "the log starts at entry " + expected
          + " but the snapshot ends at entry " + snapshotIndex + " (a missing segment?)");
    }
    long term = 0;
    Map.Entry<Long, Path> last = files.lastEntry();
    for (Map.Entry<Long, Path> f : files.entrySet()) {
      long first = f.getKey();
      Path path = f.getValue();
      if (first != expected) throw gap(path, first, expected);
      boolean isLast = first == last.getKey();
      ByteBuffer content = readFile(path);
      WalFormat.Scan scan = WalFormat.scanSegment(path, content, first, term, isLast, entries);
      long allocated = content.limit();
      if (scan.tornReason != null) {
        log.warn(
            "Cutting a torn write off the end of the log: {} at byte offset {}: {} (the file's last {} bytes dropped,"
                + " preallocated room included; a crash interrupted this write before it was acknowledged)",
            path,
            scan.validBytes,
            scan.tornReason,
            content.limit() - scan.validBytes);
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.WRITE)) {
          allocated = LogPreallocation.cut(ch, scan.validBytes);
          if (fsync) timedForce(ch, true); // the size may be unchanged: only a full fsync persists the cut
        }
      }
      Segment segment = new Segment(first, path, scan.validBytes, scan.offsets, scan.count);
      segment.allocated = allocated;
      segments.put(first, segment);
      expected = first + scan.count;
      term = scan.lastTerm;
    }
    current = segments.isEmpty() ? null : segments.lastEntry().getValue();
    if (snapshot == null) return entries;
    long firstHeld = entries.isEmpty() ? 0 : entries.get(0).index();
    // A log that starts right after the snapshot was compacted through it (or reset to it) and goes on from
    // there; one that starts before it must hold its last entry with its term.
    boolean holdsSnapshotEnd = !entries.isEmpty() && (firstHeld == snapshotIndex + 1 || firstHeld <= snapshotIndex
        && expected - 1 >= snapshotIndex && entries.get((int) (snapshotIndex - firstHeld)).term() == snapshot.lastIncludedTerm());
    if (!holdsSnapshotEnd) {
      if (!segments.isEmpty()) {
        log.warn("Discarding the log ({} segments, entries {}..{}): it does not hold the snapshot's last entry {} of"
            + " term {}, so a snapshot from the leader replaced it (Raft Figure 13)", segments.size(), firstHeld,
            expected - 1, snapshotIndex, snapshot.lastIncludedTerm());
        deleteSegmentsNewestFirst(Long.MIN_VALUE);
      }
      compactedThrough = snapshotIndex;
      return List.of();
    }
    return new ArrayList<>(entries.subList((int) (snapshotIndex - firstHeld + 1), entries.size()));
  }

  private static StorageCorruptedException gap(Path path, long first, long expected) {
    String problem =
        expected == 1
            ? "the log starts at entry " + first + " instead of 1 (a missing segment?)"
            : "the segment starts at entry " + first + " but the previous segments end at entry " + (expected - 1)
                + " (a gap or overlap in the log)";
    return new StorageCorruptedException(path, 0, problem);
  }

  /** Reads the log back, strictly, from the segments the writer knows (for a load() after writes). */
  private List<LogEntry> readLog() throws IOException {
    List<LogEntry> entries = new ArrayList<>();
    long term = 0;
    for (Segment s : segments.values()) {
      ByteBuffer content = readFile(s.path);
      if (content.limit() != s.allocated) {
        throw new StorageCorruptedException(s.path, s.size, "the file is " + content.limit() + " bytes, expected " + s.allocated);
      }
      content.limit((int) s.size); // the preallocated room after the records holds nothing
      term = WalFormat.scanSegment(s.path, content, s.firstIndex, term, false, entries).lastTerm;
    }
    return entries;
  }

  /** Reads a whole file into a heap buffer (array-backed, position 0). */
  static ByteBuffer readFile(Path path) throws IOException {
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
      long size = ch.size();
      if (size > Integer.MAX_VALUE - 64) throw new IOException(path + " is too large to read (" + size + " bytes)");
      ByteBuffer buf = ByteBuffer.allocate((int) size);
      while (buf.hasRemaining()) {
        if (ch.read(buf, buf.position()) < 0) throw new IOException(path + " shrank while being read");
      }
      buf.flip();
      return buf;
    }
  }

  /**
   * The hard state on disk. Missing is normal for a new node (an empty log), but not once the log holds
   * entries: a vote may have been lost, and voting again in that term could elect two leaders.
   */
  private HardState readHardState(int logEntries) throws IOException {
    Path path = dir.resolve(HARD_STATE);
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(path);
    } catch (NoSuchFileException e) {
      if (logEntries == 0) return HardState.INITIAL;
      throw new StorageCorruptedException(
          path,
          "missing, but the log holds " + logEntries + " entries; without currentTerm and votedFor this node"
              + " could vote twice in a term");
    }
    return WalFormat.decodeHardState(path, bytes);
  }
}

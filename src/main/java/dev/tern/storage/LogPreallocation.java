package dev.tern.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * Room reserved ahead of the writer in the last log segment, so that an append does not change the file's size.
 *
 * <p>Why: {@code fdatasync} after an append that grows the file must also write the inode (its size is needed to
 * read the data back); after an append into room the file already has, it writes only the data. On this project's
 * machines that is a quarter less time and kernel CPU per fsync (docs/storage.md, "Preallocated room"), and the
 * log's fsync is on every write's path. etcd's WAL preallocates its segments for the same reason; PostgreSQL
 * zero-fills its WAL files.
 *
 * <p>The room is a hole at the end of the file (its size set past the data), which reads as zeros and takes no
 * disk until written. A reader therefore finds the log's end where the zeros begin ({@link WalFormat#scanSegment}
 * accepts a zero tail in the last segment only). A segment that is closed is first cut to its records, so only
 * the last segment ever has room; and a cut that drops records (a torn tail, a truncation) is made durable with the
 * file's metadata before anything is written after it, so no dropped record can reappear behind new ones.
 */
final class LogPreallocation {
  /** How far ahead of the data the file is extended at a time: the inode is written once per this many bytes. */
  static final long STEP_BYTES = 4L << 20;

  private static final ByteBuffer ZERO = ByteBuffer.allocateDirect(1);

  private LogPreallocation() {}

  /**
   * Makes sure the file extends past {@code needed}: when it does not, sets its size to {@code needed} plus one
   * step (a hole). Returns the file's size.
   */
  static long ensure(FileChannel channel, long allocated, long needed) throws IOException {
    if (needed <= allocated) return allocated;
    long size = needed + STEP_BYTES;
    ByteBuffer zero = ZERO.duplicate();
    while (zero.hasRemaining()) channel.write(zero, size - 1);
    return size;
  }

  /**
   * Cuts the file at {@code end} (dropping what follows) and gives it room again. The caller fsyncs with metadata:
   * the file's size is the same before and after, so {@code fdatasync} alone need not persist the cut.
   */
  static long cut(FileChannel channel, long end) throws IOException {
    channel.truncate(end);
    return ensure(channel, end, end + 1);
  }
}

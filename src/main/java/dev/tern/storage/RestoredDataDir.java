package dev.tern.storage;

import dev.tern.raft.HardState;
import dev.tern.raft.SnapshotMeta;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Builds one node's data directory of a new cluster from a backup ({@code tern snapshot restore}): the backup's
 * state as the directory's snapshot (at the backup's index, with the new members), a hard state at the backup's
 * term with no vote, an empty log and the new identity. A node started on it loads the snapshot, as after a
 * compaction, and goes on from the backup's index. Every file is fsynced, and the directory too.
 */
public final class RestoredDataDir {
  private RestoredDataDir() {}

  /**
   * @throws IllegalArgumentException if {@code dir} exists and is not empty
   */
  public static void create(Path dir, Path backup, BackupFile.Verified verified, List<String> memberIds,
      DataDirIdentity identity) throws IOException {
    if (Files.exists(dir)) {
      try (var entries = Files.list(dir)) {
        if (entries.findAny().isPresent()) {
          throw new IllegalArgumentException(dir + " is not empty: restore builds new data directories only");
        }
      }
    }
    Files.createDirectories(dir.resolve(FileStorage.LOG_DIR));
    SnapshotMeta meta = new SnapshotMeta(verified.index(), verified.term(), memberIds);
    Path target = dir.resolve(SnapshotFile.name(meta.lastIncludedIndex()));
    Path tmp = dir.resolve(SnapshotFile.name(meta.lastIncludedIndex()) + ".tmp");
    try (FileChannel in = FileChannel.open(backup, StandardOpenOption.READ);
        FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      CRC32C crc = new CRC32C();
      byte[] header = SnapshotFile.header(meta);
      crc.update(header);
      writeFully(out, ByteBuffer.wrap(header));
      ByteBuffer buf = ByteBuffer.allocate(1 << 16);
      long pos = verified.dataOffset();
      long end = verified.dataOffset() + verified.dataLength();
      while (pos < end) {
        buf.clear().limit((int) Math.min(buf.capacity(), end - pos));
        int n = in.read(buf, pos);
        if (n < 0) throw new IOException(backup + " ended early");
        buf.flip();
        crc.update(buf.array(), 0, n);
        writeFully(out, buf);
        pos += n;
      }
      writeFully(out, ByteBuffer.wrap(SnapshotFile.trailer(verified.dataLength(), crc)));
      out.force(true);
    }
    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
    Path hardState = dir.resolve(FileStorage.HARD_STATE);
    try (FileChannel ch = FileChannel.open(hardState, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      writeFully(ch, ByteBuffer.wrap(WalFormat.encodeHardState(new HardState(verified.term(), null))));
      ch.force(true);
    }
    identity.write(dir, true);
    for (Path d : List.of(dir.resolve(FileStorage.LOG_DIR), dir)) {
      try (FileChannel ch = FileChannel.open(d, StandardOpenOption.READ)) {
        ch.force(true);
      }
    }
    if (dir.getParent() != null) {
      try (FileChannel ch = FileChannel.open(dir.getParent(), StandardOpenOption.READ)) {
        ch.force(true);
      }
    }
  }

  private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
    while (b.hasRemaining()) ch.write(b);
  }
}

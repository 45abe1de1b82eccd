package dev.tern.raft;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * A stored snapshot's data where it lies (a file, or bytes in memory), read as a stream: a snapshot of a large
 * state is never held in memory whole (docs/storage.md).
 */
public interface SnapshotSource {

  /** How many bytes the data has. */
  long size();

  /**
   * The data from its first byte. A source that keeps a checksum checks it as the stream reaches its end, and
   * throws {@link IOException} there when the data is damaged.
   */
  InputStream open() throws IOException;

  /** Bytes held in memory (tests, and storage that keeps everything in memory). */
  static SnapshotSource of(byte[] data) {
    byte[] bytes = data.clone();
    return new SnapshotSource() {
      @Override
      public long size() {
        return bytes.length;
      }

      @Override
      public InputStream open() {
        return new ByteArrayInputStream(bytes);
      }
    };
  }

  /** Every byte, in memory: only for small snapshots (tests, a backup's check). */
  default byte[] readAll() {
    try (InputStream in = open()) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

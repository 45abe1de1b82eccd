package dev.tern.storage;

/**
 * Told of the write-ahead log's work, for the node's metrics: each fsync and each batch of writes made durable
 * together (group commit). Called on the storage's writer thread, once per fsync or batch (never per request):
 * an implementation must return at once and never block.
 */
public interface StorageObserver {
  StorageObserver NONE = new StorageObserver() {};

  /** One fsync (of a segment, the log directory or the hard state) took {@code nanos}. */
  default void fsynced(long nanos) {}

  /** A batch of {@code writes} queued writes holding {@code entries} log entries was written and made durable. */
  default void batchWritten(int writes, int entries) {}
}

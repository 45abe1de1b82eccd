package dev.tern.raft;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;

/**
 * The replicated state machine. The Raft replica calls {@link #apply} on its own thread for every committed
 * entry, in log order, exactly once per entry (Figure 2, "All Servers": apply log[lastApplied]). It must be
 * deterministic: the same log gives the same state on every node.
 *
 * <p>Snapshots (section 7): {@link #snapshot} captures the state cheaply on the replica's thread; the capture
 * is written out later on a storage thread, so request handling pauses only for the capture, not for the
 * write. {@link #restore} replaces the whole state with a snapshot's.
 */
public interface StateMachine {

  /** Applies the committed entry; {@code entry.index()} is always {@code lastApplied() + 1}. */
  void apply(LogEntry entry);

  /**
   * Applies committed entries that follow each other, the first at {@code lastApplied() + 1}. The replica hands over
   * what became committed at once (bounded in count and bytes), so that a state machine over a storage engine can
   * make them one write with the last one's index instead of one per entry. By default, one by one.
   */
  default void apply(java.util.List<LogEntry> entries) {
    for (LogEntry entry : entries) apply(entry);
  }

  /** Index of the last entry applied (0 when nothing was). */
  long lastApplied();

  /**
   * An immutable capture of the state as of {@link #lastApplied()}, which later applies do not change. Its
   * {@link SnapshotData#writeTo} may run on another thread.
   */
  SnapshotData snapshot();

  /**
   * Replaces the state with the one a snapshot captured at {@code lastIncludedIndex}: afterwards
   * {@link #lastApplied()} is that index. {@code data} streams what a {@link SnapshotData#writeTo} wrote; it is
   * read once, to its end, and may be larger than memory.
   *
   * @throws IllegalArgumentException if the data cannot be decoded
   * @throws UncheckedIOException if it cannot be read (a damaged snapshot file among others)
   */
  void restore(long lastIncludedIndex, InputStream data);

  /** {@link #restore(long, InputStream)} from bytes in memory. */
  default void restore(long lastIncludedIndex, byte[] data) {
    restore(lastIncludedIndex, new ByteArrayInputStream(data));
  }

  /** {@link #restore(long, InputStream)} from a stored snapshot's source. */
  default void restore(long lastIncludedIndex, SnapshotSource data) {
    try (InputStream in = data.open()) {
      restore(lastIncludedIndex, in);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the snapshot up to index " + lastIncludedIndex + ": " + e.getMessage(), e);
    }
  }

  /**
   * Whether the state machine keeps its state durably itself (a store on disk that survives a restart, reopened at
   * {@link #lastApplied()}). Then the snapshots that let the log be compacted need not copy the state: they are
   * {@link #snapshotReference references}, and a snapshot with the data is written only when a follower needs one.
   */
  default boolean keepsState() {
    return false;
  }

  /**
   * A snapshot that stands for the state as of {@link #lastApplied()} by reference. Writing it (on a storage thread)
   * first makes the state durable up to at least that index, so that the log before it may be compacted, then writes a
   * small record. Only when {@link #keepsState()}.
   */
  default SnapshotData snapshotReference() {
    throw new UnsupportedOperationException("this state machine keeps no state of its own");
  }

  /** Whether a stored snapshot's data is a {@link #snapshotReference reference}, holding no state. */
  default boolean isReference(SnapshotSource data) {
    return false;
  }

  /** A captured state, written out off the replica's thread. */
  interface SnapshotData {
    void writeTo(OutputStream out) throws IOException;
  }
}

package dev.tern.storage;

import java.nio.file.Path;

/**
 * The data on disk is damaged in a way recovery must not guess about: a bad record before the end of the
 * log, a gap in the log, or a missing or damaged hard state. The node refuses to start rather than drop
 * entries it may have acknowledged or forget a vote it cast (either could break Raft's safety).
 */
public final class StorageCorruptedException extends RuntimeException {
  private static final String REFUSAL =
      " The node refuses to start: dropping or guessing data could lose acknowledged entries or let this node"
          + " vote twice in a term. Keep the directory as it is and see docs/storage.md (\"When a node refuses"
          + " to start\").";

  private final transient Path file;
  private final long offset;

  /** Damage at a byte offset of a file. */
  public StorageCorruptedException(Path file, long offset, String problem) {
    super("Storage corrupted: " + file + " at byte offset " + offset + ": " + problem + "." + REFUSAL);
    this.file = file;
    this.offset = offset;
  }

  /** Damage that concerns a whole file (missing, for instance). */
  public StorageCorruptedException(Path file, String problem) {
    super("Storage corrupted: " + file + ": " + problem + "." + REFUSAL);
    this.file = file;
    this.offset = -1;
  }

  /** The damaged file. */
  public Path file() {
    return file;
  }

  /** The byte offset of the damage in {@link #file()}, or -1 when it concerns the whole file. */
  public long offset() {
    return offset;
  }
}

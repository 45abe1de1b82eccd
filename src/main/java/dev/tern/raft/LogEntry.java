package dev.tern.raft;

import java.util.Arrays;
import java.util.Objects;

/**
 * One entry of the replicated log (Raft paper, Figure 2: "log[]"). Immutable.
 *
 * <p>{@code data} is opaque to Raft: the state machine decodes it. A {@link Kind#NOOP} entry carries no
 * data; a new leader appends one so that it can commit entries of earlier terms (section 5.4.2, 8). A
 * {@link Kind#CONFIG} entry carries a {@link Configuration} (dissertation chapter 4); state machines skip it.
 */
public record LogEntry(long index, long term, Kind kind, byte[] data) {

  public enum Kind {
    NOOP,
    COMMAND,
    /** A cluster configuration ({@link Configuration#encode}); in force from the moment it is in a log (dissertation 4.1). */
    CONFIG
  }

  private static final byte[] EMPTY = new byte[0];

  public LogEntry {
    if (index < 1) throw new IllegalArgumentException("log indexes start at 1, got " + index);
    if (term < 1) throw new IllegalArgumentException("entry terms start at 1, got " + term);
    Objects.requireNonNull(kind, "kind");
    data = data == null ? EMPTY : data;
  }

  public static LogEntry noop(long index, long term) {
    return new LogEntry(index, term, Kind.NOOP, EMPTY);
  }

  public static LogEntry command(long index, long term, byte[] data) {
    return new LogEntry(index, term, Kind.COMMAND, data);
  }

  public static LogEntry config(long index, long term, Configuration configuration) {
    return new LogEntry(index, term, Kind.CONFIG, configuration.encode());
  }

  /** The configuration a {@link Kind#CONFIG} entry carries. */
  public Configuration configuration() {
    if (kind != Kind.CONFIG) throw new IllegalStateException(this + " is not a configuration entry");
    return Configuration.decode(data);
  }

  /** Rough size on the wire, used to cap AppendEntries batches by bytes. */
  public int approximateSize() {
    return data.length + 24;
  }

  /** Same index, term, kind and bytes (the record's own equals compares the array by reference). */
  public boolean sameAs(LogEntry other) {
    return other != null
        && index == other.index
        && term == other.term
        && kind == other.kind
        && Arrays.equals(data, other.data);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof LogEntry other && sameAs(other);
  }

  @Override
  public int hashCode() {
    return Objects.hash(index, term, kind, Arrays.hashCode(data));
  }

  @Override
  public String toString() {
    return "LogEntry[" + index + "@" + term + (kind == Kind.NOOP ? " noop" : kind == Kind.CONFIG ? " config" : " " + data.length + "B") + "]";
  }
}

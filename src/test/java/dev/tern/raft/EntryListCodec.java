package dev.tern.raft;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;

/** Snapshot bytes of the test state machines: the list of entries they applied, so a restore can be checked. */
final class EntryListCodec {
  private EntryListCodec() {}

  /** The entries as a snapshot's bytes (what the test state machines snapshot). */
  static byte[] bytes(List<LogEntry> entries) {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    try {
      write(out, entries);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  static void write(OutputStream raw, List<LogEntry> entries) throws IOException {
    DataOutputStream out = new DataOutputStream(raw);
    out.writeInt(entries.size());
    for (LogEntry e : entries) {
      out.writeLong(e.index());
      out.writeLong(e.term());
      out.writeByte(e.kind().ordinal());
      out.writeInt(e.data().length);
      out.write(e.data());
    }
    out.flush();
  }

  static List<LogEntry> read(byte[] bytes) {
    try {
      DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
      int n = in.readInt();
      List<LogEntry> entries = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        long index = in.readLong();
        long term = in.readLong();
        LogEntry.Kind kind = LogEntry.Kind.values()[in.readByte()];
        byte[] data = new byte[in.readInt()];
        in.readFully(data);
        entries.add(new LogEntry(index, term, kind, data));
      }
      return entries;
    } catch (IOException e) {
      throw new IllegalArgumentException("bad test snapshot", e);
    }
  }
}

package dev.tern.raft;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The replica's in-memory view of its log. Every change is also submitted to {@link RaftStorage}; reads never
 * touch storage. Terms never decrease along a log (each leader appends in its own, newer term), which lets
 * the conflict-hint searches use binary search.
 *
 * <p>Entries up to {@link #baseIndex()} have been compacted into a snapshot (section 7): only the last one's
 * term is kept, so that an AppendEntries right after it can still be checked (Figure 13: "lastIncludedTerm").
 */
final class RaftLog {
  private final ArrayList<LogEntry> entries = new ArrayList<>();
  /** The last compacted entry (0, 0 when nothing was compacted): entry i is at position i - baseIndex - 1. */
  private long baseIndex;
  private long baseTerm;
  /** Counts suffix truncations and resets; a leader's must never change (Leader Append-Only, Figure 3). */
  private long truncations;

  RaftLog(List<LogEntry> initial) {
    this(0, 0, initial);
  }

  RaftLog(long baseIndex, long baseTerm, List<LogEntry> initial) {
    this.baseIndex = baseIndex;
    this.baseTerm = baseTerm;
    for (LogEntry e : initial) append(e);
  }

  /** The last entry compacted into a snapshot, or 0. */
  long baseIndex() {
    return baseIndex;
  }

  /** The first entry this log still holds (when it holds any). */
  long firstIndex() {
    return baseIndex + 1;
  }

  long lastIndex() {
    return baseIndex + entries.size();
  }

  long lastTerm() {
    return entries.isEmpty() ? baseTerm : entries.get(entries.size() - 1).term();
  }

  /**
   * Term of the entry at {@code index}; 0 for index 0 (the empty prefix); the snapshot's term at the base;
   * -1 if there is no such entry or it was compacted.
   */
  long termAt(long index) {
    if (index == baseIndex) return baseTerm;
    if (index < baseIndex || index > lastIndex()) return -1;
    return entries.get((int) (index - baseIndex - 1)).term();
  }

  LogEntry get(long index) {
    if (index <= baseIndex || index > lastIndex()) {
      throw new IndexOutOfBoundsException("entry " + index + " is not held: log covers " + firstIndex() + ".." + lastIndex());
    }
    return entries.get((int) (index - baseIndex - 1));
  }

  /** Entries from {@code from} on, at most {@code maxCount} and about {@code maxBytes}, but at least one. */
  List<LogEntry> slice(long from, int maxCount, long maxBytes) {
    if (from > lastIndex()) return List.of();
    if (from <= baseIndex) throw new IndexOutOfBoundsException("entry " + from + " was compacted (base " + baseIndex + ")");
    int start = (int) (from - baseIndex - 1);
    int end = (int) Math.min(entries.size(), (long) start + maxCount);
    long bytes = 0;
    int i = start;
    while (i < end) {
      bytes += entries.get(i).approximateSize();
      if (bytes > maxBytes && i > start) break;
      i++;
    }
    return Collections.unmodifiableList(new ArrayList<>(entries.subList(start, i)));
  }

  void append(LogEntry e) {
    if (e.index() != lastIndex() + 1) {
      throw new IllegalStateException("non-contiguous append of " + e + " after index " + lastIndex());
    }
    if (e.term() < lastTerm()) {
      throw new IllegalStateException("term would decrease: " + e + " after term " + lastTerm());
    }
    entries.add(e);
  }

  /** Drops the entries from {@code index} on. */
  void truncateFrom(long index) {
    if (index <= baseIndex) throw new IllegalStateException("cannot truncate compacted entries: from " + index + ", base " + baseIndex);
    if (index > lastIndex()) return;
    entries.subList((int) (index - baseIndex - 1), entries.size()).clear();
    truncations++;
  }

  /** Drops the entries up to {@code index} (which this log holds), keeping the term of the last one. */
  void compactTo(long index) {
    if (index <= baseIndex) return;
    if (index > lastIndex()) throw new IllegalStateException("cannot compact to " + index + " past the log end " + lastIndex());
    long term = termAt(index);
    entries.subList(0, (int) (index - baseIndex)).clear();
    entries.trimToSize();
    baseIndex = index;
    baseTerm = term;
  }

  /** Discards the whole log: it now starts after a snapshot of {@code index} in {@code term} (Figure 13, step 7). */
  void reset(long index, long term) {
    entries.clear();
    entries.trimToSize();
    baseIndex = index;
    baseTerm = term;
    truncations++;
  }

  long truncations() {
    return truncations;
  }

  /** First index holding {@code term}, searching at or below {@code atOrBelow} (whose term must be it). */
  long firstIndexOfTerm(long term, long atOrBelow) {
    long lo = Math.max(1, baseIndex);
    long hi = atOrBelow;
    while (lo < hi) {
      long mid = (lo + hi) >>> 1;
      if (termAt(mid) < term) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Last index holding {@code term}, or 0 if the log (from its base on) has no entry of that term. */
  long lastIndexOfTerm(long term) {
    long lo = baseIndex;
    long hi = lastIndex();
    // Largest index with termAt(index) <= term; if even the base's term is higher, that is the base, and its term
    // is not the one asked for. At index 0 (the empty prefix) the term is 0, and the answer 0 either way.
    while (lo < hi) {
      long mid = (lo + hi + 1) >>> 1;
      if (termAt(mid) <= term) lo = mid;
      else hi = mid - 1;
    }
    return termAt(lo) == term ? lo : 0;
  }

  /** A copy of the entries held, for status and tests. */
  List<LogEntry> entries() {
    return List.copyOf(entries);
  }
}

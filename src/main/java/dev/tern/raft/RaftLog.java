package dev.tern.raft;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The replica's in-memory view of its log. Every change is also submitted to {@link RaftStorage}; reads never
 * touch storage. Terms never decrease along a log (each leader appends in its own, newer term), which lets
 * the conflict-hint searches use binary search.
 */
final class RaftLog {
  private final ArrayList<LogEntry> entries = new ArrayList<>();
  /** Counts suffix truncations; a leader's must never change (Leader Append-Only, Figure 3). */
  private long truncations;

  RaftLog(List<LogEntry> initial) {
    for (LogEntry e : initial) append(e);
  }

  long lastIndex() {
    return entries.size();
  }

  long lastTerm() {
    return entries.isEmpty() ? 0 : entries.get(entries.size() - 1).term();
  }

  /** Term of the entry at {@code index}; 0 for index 0 (the empty prefix); -1 if there is no such entry. */
  long termAt(long index) {
    if (index == 0) return 0;
    if (index < 0 || index > lastIndex()) return -1;
    return entries.get((int) (index - 1)).term();
  }

  LogEntry get(long index) {
    return entries.get((int) (index - 1));
  }

  /** Entries from {@code from} on, at most {@code maxCount} and about {@code maxBytes}, but at least one. */
  List<LogEntry> slice(long from, int maxCount, long maxBytes) {
    if (from > lastIndex()) return List.of();
    int start = (int) (from - 1);
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
    entries.subList((int) (index - 1), entries.size()).clear();
    truncations++;
  }

  long truncations() {
    return truncations;
  }

  /** First index holding {@code term}, searching at or below {@code atOrBelow} (whose term must be it). */
  long firstIndexOfTerm(long term, long atOrBelow) {
    long lo = 1;
    long hi = atOrBelow;
    while (lo < hi) {
      long mid = (lo + hi) >>> 1;
      if (termAt(mid) < term) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Last index holding {@code term}, or 0 if the log has no entry of that term. */
  long lastIndexOfTerm(long term) {
    long lo = 0;
    long hi = lastIndex();
    while (lo < hi) { // largest index with termAt(index) <= term
      long mid = (lo + hi + 1) >>> 1;
      if (termAt(mid) <= term) lo = mid;
      else hi = mid - 1;
    }
    return lo > 0 && termAt(lo) == term ? lo : 0;
  }

  /** A copy, for status and tests. */
  List<LogEntry> entries() {
    return List.copyOf(entries);
  }
}

package dev.tern.raft;

import java.util.ArrayList;
import java.util.List;

/**
 * The configurations a replica's log holds (dissertation 4.1): a server uses the latest one in its log, committed or
 * not, and falls back to the one before when a conflicting suffix holding the latest is truncated. Keeps the
 * configuration in force at the log's base (the snapshot's, or the bootstrap configuration of a new cluster) and
 * every configuration entry after it, a short list: only one change is in flight at a time.
 */
final class Configurations {
  private record At(long index, Configuration configuration) {}

  /** The base first (index = the snapshot's last included index, or 0), then each entry's, in log order. */
  private final List<At> list = new ArrayList<>();

  Configurations(long baseIndex, Configuration base) {
    list.add(new At(baseIndex, base));
  }

  /** The configuration in force: the latest in the log. */
  Configuration latest() {
    return list.get(list.size() - 1).configuration();
  }

  /** The index of the entry that holds the latest configuration (the base's index if no entry does). */
  long latestIndex() {
    return list.get(list.size() - 1).index();
  }

  /** The configuration in force at {@code index}: the latest at or before it. */
  Configuration at(long index) {
    for (int i = list.size() - 1; i > 0; i--) if (list.get(i).index() <= index) return list.get(i).configuration();
    return list.get(0).configuration();
  }

  /** How many configuration entries follow {@code index} (a leader's: at most one past its commitIndex, 4.1). */
  int countAfter(long index) {
    int n = 0;
    for (int i = list.size() - 1; i > 0 && list.get(i).index() > index; i--) n++;
    return n;
  }

  /** An entry was appended to the log. */
  void appended(LogEntry e) {
    if (e.kind() == LogEntry.Kind.CONFIG) list.add(new At(e.index(), e.configuration()));
  }

  /** The log was cut from {@code index} on: the configurations of those entries are gone with them. */
  void truncatedFrom(long index) {
    while (list.size() > 1 && list.get(list.size() - 1).index() >= index) list.remove(list.size() - 1);
  }

  /** The log now starts after {@code index} (compacted into a snapshot): the base moves up to it. */
  void compactedTo(long index) {
    Configuration base = at(index);
    while (list.size() > 1 && list.get(1).index() <= index) list.remove(1);
    list.set(0, new At(index, base));
  }

  /** The whole log was replaced by a snapshot of {@code index} taken in {@code configuration}. */
  void reset(long index, Configuration configuration) {
    list.clear();
    list.add(new At(index, configuration));
  }
}

package dev.tern.kv;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * Watches: the recent changes of this replica's store, and the watchers that follow them. The state machine tells it
 * every change as it applies a command ({@link #record}, then {@link #endOfEntry}), so it sees them in log order;
 * a watcher gets the changes of one command together (a transaction's several keys share one revision), in revision
 * order, each exactly once.
 *
 * <p>It keeps the latest changes, at most {@code maxEvents} of them and about {@code maxBytes} (values included),
 * so that a watcher can start from a past revision, or resume after a disconnect from the revision after the last
 * one it saw, on any node. Everything from {@link #oldestRevision()} on is kept; a watch from before that is refused
 * ({@link CompactedException}), as etcd refuses a compacted revision. A replica starts its history at its latest
 * snapshot (a restart replays only the log after it), and starts over when it installs a leader's snapshot.
 *
 * <p>Thread-safe. Watchers are called with the hub's lock held, from the thread that applies commands: they must
 * only hand the events on (a bounded queue), never block, so a slow watcher cannot slow writes: it answers false
 * when it is full, and is dropped.
 */
public final class WatchHub {

  /** Where one watcher's events go. */
  public interface Watcher {
    /** The changes of one revision that match; false if the watcher cannot take them (it is then dropped). */
    boolean offer(List<KvEvent> events);

    /**
     * The replica installed a snapshot: the changes from {@code resumeFrom} up to the snapshot are gone from here. The
     * watcher is dropped; it may resume on another node, from {@code resumeFrom}.
     */
    void lost(long resumeFrom, long oldestRevision);
  }

  /** A watch from a revision this replica no longer holds. */
  public static final class CompactedException extends Exception {
    private final long oldestRevision;

    CompactedException(long from, long oldestRevision) {
      super("revision " + from + " is compacted: the oldest revision this node can replay is " + oldestRevision);
      this.oldestRevision = oldestRevision;
    }

    public long oldestRevision() {
      return oldestRevision;
    }
  }

  /** A started watch: the past changes it asked for, one list per revision, and how to stop it. */
  public record Registration(List<List<KvEvent>> backlog, long startRevision, Runnable cancel) {}

  private final int maxEvents;
  private final long maxBytes;
  private final ArrayDeque<KvEvent> history = new ArrayDeque<>();
  private long historyBytes;
  /** Every change at or after this revision is in {@link #history} or still to come. */
  private long oldest = 1;
  /** The last log index applied. */
  private long lastApplied;
  /** The changes of the command being applied. */
  private final List<KvEvent> pending = new ArrayList<>(4);
  private final List<Subscriber> subscribers = new ArrayList<>();

  private static final class Subscriber {
    final String prefix;
    final boolean exact;
    final Watcher watcher;
    /** The first revision it wants: changes before it are not its business. */
    final long from;
    /** The next revision it has not been given. */
    long next;

    Subscriber(String prefix, boolean exact, Watcher watcher, long from) {
      this.prefix = prefix;
      this.exact = exact;
      this.watcher = watcher;
      this.from = from;
      this.next = from;
    }

    boolean matches(String key) {
      return exact ? key.equals(prefix) : key.startsWith(prefix);
    }
  }

  /**
   * @param maxEvents how many past changes to keep (0: none; watches then start now or later)
   * @param maxBytes about how many bytes of keys and values they may hold
   */
  public WatchHub(int maxEvents, long maxBytes) {
    if (maxEvents < 0 || maxBytes < 0) throw new IllegalArgumentException("history limits must not be negative");
    this.maxEvents = maxEvents;
    this.maxBytes = maxBytes;
  }

  /** A hub that keeps no history (tests, and state machines without watchers). */
  public static WatchHub withoutHistory() {
    return new WatchHub(0, 0);
  }

  /** A change made by the command being applied. */
  synchronized void record(KvEvent event) {
    pending.add(event);
  }

  /** The command at {@code index} is applied: its changes go to the history and to the watchers. */
  synchronized void endOfEntry(long index) {
    lastApplied = index;
    if (pending.isEmpty()) return;
    List<KvEvent> batch = List.copyOf(pending);
    pending.clear();
    for (KvEvent e : batch) {
      history.addLast(e);
      historyBytes += e.weight();
    }
    while (!history.isEmpty() && (history.size() > maxEvents || historyBytes > maxBytes)) {
      KvEvent gone = history.removeFirst();
      historyBytes -= gone.weight();
      oldest = gone.revision() + 1;
    }
    if (subscribers.isEmpty()) return;
    // Over a copy: a watcher may start or cancel a watch from its callback.
    for (Subscriber s : subscribers.toArray(new Subscriber[0])) {
      if (index < s.from) continue;
      List<KvEvent> mine = matching(s, batch);
      s.next = index + 1;
      if (!mine.isEmpty() && !s.watcher.offer(mine)) subscribers.remove(s);
    }
  }

  /**
   * The replica's state was replaced by a snapshot ending at {@code lastIncludedIndex}: the history starts over after
   * it, and watchers that still needed a change up to it are told so and dropped.
   */
  synchronized void reset(long lastIncludedIndex) {
    history.clear();
    historyBytes = 0;
    pending.clear();
    oldest = lastIncludedIndex + 1;
    lastApplied = lastIncludedIndex;
    List<Subscriber> lost = new ArrayList<>();
    for (Iterator<Subscriber> it = subscribers.iterator(); it.hasNext(); ) {
      Subscriber s = it.next();
      if (s.next <= lastIncludedIndex) {
        it.remove();
        lost.add(s);
      }
    }
    for (Subscriber s : lost) s.watcher.lost(s.next, oldest); // after: a watcher may watch again from its callback
  }

  /**
   * Starts a watch of the keys starting with {@code prefix} (or of the key {@code prefix} itself, with {@code exact})
   * from revision {@code from}, or from the next change with {@code from} = 0. Its past changes come in the
   * registration's backlog, the later ones to {@code watcher}; none twice, none missing.
   *
   * @throws CompactedException if {@code from} is older than {@link #oldestRevision()}
   */
  public synchronized Registration watch(String prefix, boolean exact, long from, Watcher watcher)
      throws CompactedException {
    if (from < 0) throw new IllegalArgumentException("from must not be negative, got " + from);
    long start = from == 0 ? lastApplied + 1 : from;
    if (start < oldest) throw new CompactedException(from, oldest);
    Subscriber s = new Subscriber(prefix, exact, watcher, start);
    List<List<KvEvent>> backlog = new ArrayList<>();
    List<KvEvent> revision = new ArrayList<>();
    for (KvEvent e : history) {
      if (e.revision() < start || !s.matches(e.key())) continue;
      if (!revision.isEmpty() && revision.get(0).revision() != e.revision()) {
        backlog.add(List.copyOf(revision));
        revision.clear();
      }
      revision.add(e);
    }
    if (!revision.isEmpty()) backlog.add(List.copyOf(revision));
    s.next = Math.max(start, lastApplied + 1);
    subscribers.add(s);
    return new Registration(backlog, start, () -> cancel(s));
  }

  private synchronized void cancel(Subscriber s) {
    subscribers.remove(s);
  }

  /** The oldest revision a watch may start from here. */
  public synchronized long oldestRevision() {
    return oldest;
  }

  /** How many watchers follow the changes now. */
  public synchronized int watchers() {
    return subscribers.size();
  }

  private static List<KvEvent> matching(Subscriber s, List<KvEvent> batch) {
    if (batch.size() == 1) return s.matches(batch.get(0).key()) ? batch : List.of();
    List<KvEvent> mine = new ArrayList<>(batch.size());
    for (KvEvent e : batch) if (s.matches(e.key())) mine.add(e);
    return mine;
  }
}

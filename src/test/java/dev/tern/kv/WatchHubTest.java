package dev.tern.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.raft.LogEntry;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Watches over the state machine's changes: order, no gap, no duplicate, history bounds, slow watchers. */
class WatchHubTest {

  /** A watcher that keeps what it is given, or refuses once it holds {@code capacity} revisions. */
  static final class Recorder implements WatchHub.Watcher {
    final List<List<KvEvent>> got = new ArrayList<>();
    final int capacity;
    long lostFrom = -1;
    long lostOldest = -1;

    Recorder(int capacity) {
      this.capacity = capacity;
    }

    Recorder() {
      this(Integer.MAX_VALUE);
    }

    @Override
    public boolean offer(List<KvEvent> events) {
      if (got.size() >= capacity) return false;
      got.add(events);
      return true;
    }

    @Override
    public void lost(long resumeFrom, long oldestRevision) {
      lostFrom = resumeFrom;
      lostOldest = oldestRevision;
    }

    List<Long> revisions() {
      return got.stream().map(b -> b.get(0).revision()).toList();
    }
  }

  private final WatchHub hub = new WatchHub(1000, 1 << 20);
  private final KvStateMachine sm = new KvStateMachine((i, c, r) -> {}, hub);
  private int ids;

  private void put(String key, String value) {
    apply(new KvCommand.Put("c" + ids++, key, Bytes.utf8(value)));
  }

  private void delete(String key) {
    apply(new KvCommand.Delete("c" + ids++, key));
  }

  private void apply(KvCommand command) {
    sm.apply(LogEntry.command(sm.lastApplied() + 1, 1, KvCodec.encode(command)));
  }

  private void noop() {
    sm.apply(LogEntry.noop(sm.lastApplied() + 1, 1));
  }

  private static KvEvent put(long revision, String key, String value) {
    return new KvEvent(revision, key, Bytes.utf8(value));
  }

  // Live changes come in revision order, one list per revision, filtered by prefix; deletes are events with no
  // value; a command that changes nothing (a delete of a missing key, a failed compare-and-set, a no-op) makes none.
  @Test
  void liveChangesComeInOrderFilteredByPrefix() throws Exception {
    put("other", "x");
    Recorder w = new Recorder();
    WatchHub.Registration r = hub.watch("app/", false, 0, w);
    assertTrue(r.backlog().isEmpty());
    assertEquals(2, r.startRevision());
    put("app/a", "1");
    noop();
    put("zzz", "not mine");
    delete("app/missing");
    apply(new KvCommand.CompareAndSet("c" + ids++, "app/a", 99, Bytes.utf8("no")));
    delete("app/a");
    assertEquals(List.of(List.of(put(2, "app/a", "1")), List.of(new KvEvent(7, "app/a", null))), w.got);
    assertTrue(w.got.get(1).get(0).isDelete());
  }

  // A transaction's writes share its revision: a watcher gets them together, in the transaction's order, once.
  @Test
  void aTransactionsChangesComeTogetherAtItsRevision() throws Exception {
    put("t/b", "old");
    Recorder w = new Recorder();
    hub.watch("t/", false, 0, w);
    apply(new KvCommand.Txn("c" + ids++, List.of(),
        List.of(new TxnOp.Put("t/a", Bytes.utf8("1")), new TxnOp.Delete("t/b"), new TxnOp.Get("t/a"),
            new TxnOp.Put("x/other", Bytes.utf8("2"))),
        List.of()));
    assertEquals(List.of(List.of(put(2, "t/a", "1"), new KvEvent(2, "t/b", null))), w.got);
  }

  // An exact key watch sees that key only, not the keys it prefixes.
  @Test
  void anExactWatchSeesOneKey() throws Exception {
    Recorder w = new Recorder();
    hub.watch("k", true, 0, w);
    put("k", "1");
    put("k2", "2");
    assertEquals(List.of(List.of(put(1, "k", "1"))), w.got);
  }

  // From a past revision: the history from there, then the live changes; none twice and none missing across the
  // hand-over, whatever revision the watch starts from.
  @Test
  void aWatchFromThePastReplaysThenFollowsWithNoGapNorDuplicate() throws Exception {
    for (int i = 1; i <= 5; i++) put("k" + i, "v" + i);
    for (long from = 1; from <= 7; from++) {
      Recorder w = new Recorder();
      WatchHub.Registration r = hub.watch("", false, from, w);
      List<Long> seen = new ArrayList<>(r.backlog().stream().map(b -> b.get(0).revision()).toList());
      long at = sm.lastApplied();
      put("after" + from, "x");
      seen.addAll(w.revisions());
      List<Long> expected = new ArrayList<>();
      for (long rev = from; rev <= at + 1; rev++) expected.add(rev);
      long f = from;
      assertEquals(expected, seen.stream().filter(x -> x >= f).toList(), "from " + from);
      assertEquals(seen.stream().distinct().count(), seen.size(), "no duplicate from " + from);
      r.cancel().run();
    }
    assertEquals(0, hub.watchers());
  }

  // A watch from a revision not reached yet waits for it.
  @Test
  void aWatchFromTheFutureSkipsEarlierChanges() throws Exception {
    Recorder w = new Recorder();
    hub.watch("", false, 3, w);
    put("a", "1");
    put("b", "2");
    put("c", "3");
    assertEquals(List.of(3L), w.revisions());
  }

  // The history keeps at most so many changes: older revisions are compacted, and a watch from them is refused with
  // the oldest revision still held (etcd's compacted error).
  @Test
  void theHistoryIsBoundedAndAWatchBeforeItIsRefused() throws Exception {
    WatchHub small = new WatchHub(3, 1 << 20);
    KvStateMachine m = new KvStateMachine((i, c, r) -> {}, small);
    for (int i = 1; i <= 5; i++) m.apply(LogEntry.command(i, 1, KvCodec.encode(new KvCommand.Put("i" + i, "k", Bytes.utf8("v")))));
    assertEquals(3, small.oldestRevision());
    var e = assertThrows(WatchHub.CompactedException.class, () -> small.watch("", false, 2, new Recorder()));
    assertEquals(3, e.oldestRevision());
    assertTrue(e.getMessage().contains("oldest revision this node can replay is 3"), e.getMessage());
    assertEquals(List.of(3L, 4L, 5L), small.watch("", false, 3, new Recorder()).backlog().stream()
        .map(b -> b.get(0).revision()).toList());

    WatchHub bytes = new WatchHub(1000, 300); // each event weighs 64 + 2 * key + value bytes
    KvStateMachine b = new KvStateMachine((i, c, r) -> {}, bytes);
    for (int i = 1; i <= 4; i++) b.apply(LogEntry.command(i, 1, KvCodec.encode(new KvCommand.Put("i" + i, "k", Bytes.utf8("x".repeat(60))))));
    assertEquals(3, bytes.oldestRevision(), "two events of 126 bytes fit in 300");

    WatchHub none = WatchHub.withoutHistory();
    KvStateMachine n = new KvStateMachine((i, c, r) -> {}, none);
    n.apply(LogEntry.command(1, 1, KvCodec.encode(new KvCommand.Put("i", "k", Bytes.utf8("v")))));
    assertEquals(2, none.oldestRevision());
    assertThrows(IllegalArgumentException.class, () -> none.watch("", false, -1, new Recorder()));
    assertThrows(IllegalArgumentException.class, () -> new WatchHub(-1, 0));
  }

  // A watcher that cannot keep up is dropped: it gets nothing more, and the others go on.
  @Test
  void aSlowWatcherIsDroppedAndTheOthersGoOn() throws Exception {
    Recorder slow = new Recorder(1);
    Recorder fast = new Recorder();
    hub.watch("", false, 0, slow);
    hub.watch("", false, 0, fast);
    put("a", "1");
    put("b", "2");
    put("c", "3");
    assertEquals(List.of(1L), slow.revisions());
    assertEquals(List.of(1L, 2L, 3L), fast.revisions());
    assertEquals(1, hub.watchers());
  }

  // A snapshot installed on this replica jumps over changes: the history starts over after it, and a watcher that
  // still needed one is told where to resume and dropped.
  @Test
  void aRestoredSnapshotDropsTheWatchersItJumpsOver() throws Exception {
    put("a", "1");
    Recorder behind = new Recorder();
    Recorder ahead = new Recorder();
    hub.watch("", false, 0, behind);
    hub.watch("", false, 50, ahead);
    KvStateMachine leader = new KvStateMachine();
    for (int i = 1; i <= 10; i++) leader.apply(LogEntry.command(i, 1, KvCodec.encode(new KvCommand.Put("l" + i, "k", Bytes.utf8("v")))));
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    leader.snapshot().writeTo(out);
    sm.restore(10, out.toByteArray());
    assertEquals(2, behind.lostFrom);
    assertEquals(11, behind.lostOldest);
    assertEquals(-1, ahead.lostFrom);
    assertEquals(11, hub.oldestRevision());
    assertEquals(1, hub.watchers());
    assertThrows(WatchHub.CompactedException.class, () -> hub.watch("", false, 10, new Recorder()));
    put("b", "2");
    assertEquals(List.of(List.of(put(11, "b", "2"))), hub.watch("", false, 11, new Recorder()).backlog());
  }
}

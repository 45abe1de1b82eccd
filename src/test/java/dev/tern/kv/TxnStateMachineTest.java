package dev.tern.kv;

import static dev.tern.kv.TxnCompare.Relation.EQUAL;
import static dev.tern.kv.TxnCompare.Relation.GREATER;
import static dev.tern.kv.TxnCompare.Relation.LESS;
import static dev.tern.kv.TxnCompare.Relation.NOT_EQUAL;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.raft.LogEntry;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Transactions in the state machine: the compares choose a branch, the branch runs in order within one entry, every
 * key it writes gets that entry's index as its revision, and the result says which branch ran.
 */
class TxnStateMachineTest {
  private final List<KvResult> results = new ArrayList<>();
  private final KvStateMachine sm = new KvStateMachine((index, command, result) -> results.add(result));
  private int ids;

  private KvResult apply(KvCommand c) {
    sm.apply(LogEntry.command(sm.lastApplied() + 1, 1, KvCodec.encode(c)));
    return results.get(results.size() - 1);
  }

  private long put(String key, String value) {
    return ((KvResult.Written) apply(new KvCommand.Put("p" + ids++, key, value))).revision();
  }

  private KvResult.TxnDone txn(List<TxnCompare> compares, List<TxnOp> success, List<TxnOp> failure) {
    return (KvResult.TxnDone) apply(new KvCommand.Txn("t" + ids++, compares, success, failure));
  }

  private boolean holds(TxnCompare c) {
    return txn(List.of(c), List.of(), List.of()).succeeded();
  }

  @Test
  void everyWriteOfTheBranchGetsTheOneRevisionOfTheEntry() {
    put("a", "0");
    KvResult.TxnDone done = txn(List.of(),
        List.of(new TxnOp.Put("a", "1"), new TxnOp.Put("b", "2"), new TxnOp.Delete("c"), new TxnOp.Get("a")),
        List.of(new TxnOp.Put("never", "x")));
    assertTrue(done.succeeded(), "no compares: success");
    assertEquals(2, done.revision());
    assertEquals(List.of(new TxnOpResult.Put("a", 2), new TxnOpResult.Put("b", 2), new TxnOpResult.Delete("c", false),
        new TxnOpResult.Get("a", Bytes.utf8("1"), 2)), done.results(), "a get sees the put before it in the branch");
    assertEquals(new VersionedValue("1", 2), sm.get("a").orElseThrow());
    assertEquals(new VersionedValue("2", 2), sm.get("b").orElseThrow());
    assertFalse(sm.get("never").isPresent());
    assertEquals(2, sm.lastApplied(), "one entry, one index");
  }

  @Test
  void aFailedCompareRunsTheFailureBranchOnly() {
    long rev = put("lock", "holder-1");
    KvResult.TxnDone done = txn(
        List.of(TxnCompare.revision("lock", EQUAL, 0)),
        List.of(new TxnOp.Put("lock", "holder-2")),
        List.of(new TxnOp.Get("lock"), new TxnOp.Get("nobody")));
    assertFalse(done.succeeded());
    assertEquals(List.of(new TxnOpResult.Get("lock", Bytes.utf8("holder-1"), rev), new TxnOpResult.Get("nobody", null, 0)),
        done.results());
    assertEquals(new VersionedValue("holder-1", rev), sm.get("lock").orElseThrow());
  }

  /** All compares must hold: one that fails, anywhere in the list, sends the transaction to failure. */
  @Test
  void everyCompareMustHold() {
    put("a", "1");
    put("b", "2");
    TxnCompare aIs1 = TxnCompare.value("a", EQUAL, Bytes.utf8("1"));
    TxnCompare bIs2 = TxnCompare.value("b", EQUAL, Bytes.utf8("2"));
    TxnCompare bIs3 = TxnCompare.value("b", EQUAL, Bytes.utf8("3"));
    assertTrue(txn(List.of(aIs1, bIs2), List.of(), List.of()).succeeded());
    assertFalse(txn(List.of(aIs1, bIs3), List.of(), List.of()).succeeded());
    assertFalse(txn(List.of(bIs3, aIs1), List.of(), List.of()).succeeded());
  }

  /** The failure branch's writes are as atomic as success's: the same one revision, nothing of the other branch. */
  @Test
  void theFailureBranchWritesAtTheEntrysRevisionToo() {
    KvResult.TxnDone done = txn(List.of(TxnCompare.exists("x", EQUAL, true)),
        List.of(new TxnOp.Delete("y")), List.of(new TxnOp.Put("x", "made"), new TxnOp.Put("y", "too")));
    assertFalse(done.succeeded());
    assertEquals(1, done.revision());
    assertEquals(new VersionedValue("made", 1), sm.get("x").orElseThrow());
    assertEquals(new VersionedValue("too", 1), sm.get("y").orElseThrow());
  }

  @Test
  void deletesSayWhetherTheKeyWasThere() {
    put("k", "v");
    KvResult.TxnDone done = txn(List.of(), List.of(new TxnOp.Delete("k"), new TxnOp.Delete("k"), new TxnOp.Get("k")), List.of());
    assertEquals(List.of(new TxnOpResult.Delete("k", true), new TxnOpResult.Delete("k", false),
        new TxnOpResult.Get("k", null, 0)), done.results());
    assertEquals(0, sm.size());
  }

  @Test
  void valueComparesAreUnsignedLexicographic() {
    put("k", "b");
    assertTrue(holds(TxnCompare.value("k", EQUAL, Bytes.utf8("b"))));
    assertFalse(holds(TxnCompare.value("k", EQUAL, Bytes.utf8("a"))));
    assertTrue(holds(TxnCompare.value("k", NOT_EQUAL, Bytes.utf8("a"))));
    assertFalse(holds(TxnCompare.value("k", NOT_EQUAL, Bytes.utf8("b"))));
    assertTrue(holds(TxnCompare.value("k", GREATER, Bytes.utf8("a"))));
    assertFalse(holds(TxnCompare.value("k", GREATER, Bytes.utf8("b"))));
    assertTrue(holds(TxnCompare.value("k", LESS, Bytes.utf8("ba"))), "a prefix is less");
    assertFalse(holds(TxnCompare.value("k", LESS, Bytes.utf8("b"))));
    assertTrue(holds(TxnCompare.value("k", LESS, Bytes.copyOf(new byte[] {(byte) 0x80}))), "0x80 is above 'b' unsigned");
  }

  /** etcd's rule: there is no value to compare on an absent key, so a value compare never holds there. */
  @Test
  void aValueCompareOnAnAbsentKeyNeverHolds() {
    for (TxnCompare.Relation r : TxnCompare.Relation.values()) {
      assertFalse(holds(TxnCompare.value("absent", r, Bytes.EMPTY)), r.symbol);
    }
  }

  @Test
  void revisionComparesUseZeroForAbsent() {
    assertTrue(holds(TxnCompare.revision("k", EQUAL, 0)));
    assertFalse(holds(TxnCompare.revision("k", GREATER, 0)));
    long rev = put("k", "v");
    assertTrue(holds(TxnCompare.revision("k", EQUAL, rev)));
    assertFalse(holds(TxnCompare.revision("k", EQUAL, rev + 1)));
    assertTrue(holds(TxnCompare.revision("k", NOT_EQUAL, rev + 1)));
    assertFalse(holds(TxnCompare.revision("k", NOT_EQUAL, rev)));
    assertTrue(holds(TxnCompare.revision("k", LESS, rev + 1)));
    assertFalse(holds(TxnCompare.revision("k", LESS, rev)));
    assertTrue(holds(TxnCompare.revision("k", GREATER, rev - 1)));
    assertFalse(holds(TxnCompare.revision("k", GREATER, rev)));
  }

  @Test
  void existenceCompares() {
    assertTrue(holds(TxnCompare.exists("k", EQUAL, false)));
    assertFalse(holds(TxnCompare.exists("k", EQUAL, true)));
    assertTrue(holds(TxnCompare.exists("k", NOT_EQUAL, true)));
    assertFalse(holds(TxnCompare.exists("k", NOT_EQUAL, false)));
    put("k", "");
    assertTrue(holds(TxnCompare.exists("k", EQUAL, true)), "an empty value exists");
    assertFalse(holds(TxnCompare.exists("k", EQUAL, false)));
    assertTrue(holds(TxnCompare.exists("k", NOT_EQUAL, false)));
  }

  @Test
  void aCompareRefusesOperandsOfAnotherTarget() {
    assertThrows(IllegalArgumentException.class, () -> TxnCompare.exists("k", LESS, true));
    assertThrows(IllegalArgumentException.class, () -> TxnCompare.exists("k", GREATER, true));
    assertThrows(IllegalArgumentException.class, () -> TxnCompare.revision("k", EQUAL, -1));
    assertThrows(NullPointerException.class, () -> TxnCompare.value("k", EQUAL, null));
    assertThrows(IllegalArgumentException.class,
        () -> new TxnCompare("k", TxnCompare.Target.REVISION, EQUAL, Bytes.EMPTY, 0, false));
    assertThrows(IllegalArgumentException.class,
        () -> new TxnCompare("k", TxnCompare.Target.VALUE, EQUAL, Bytes.EMPTY, 3, false));
    assertThrows(IllegalArgumentException.class,
        () -> new TxnCompare("k", TxnCompare.Target.REVISION, EQUAL, null, 0, true));
  }

  /** A repeated id (a client's retry) runs nothing: the first result, with the values read when still current. */
  @Test
  void aRepeatedTransactionIdIsAnsweredWithTheFirstResult() {
    put("k", "v");
    KvCommand.Txn t = new KvCommand.Txn("req:t", List.of(TxnCompare.exists("n", EQUAL, false)),
        List.of(new TxnOp.Put("n", "1"), new TxnOp.Get("k")), List.of(new TxnOp.Get("n")));
    KvResult first = apply(t);
    assertEquals(first, apply(t), "the retry is answered as the first, the get's value recalled");
    assertEquals(new VersionedValue("1", 2), sm.get("n").orElseThrow(), "not run again (it would take failure now)");
    put("k", "changed");
    KvResult.TxnDone later = (KvResult.TxnDone) apply(t);
    assertTrue(later.succeeded());
    assertEquals(List.of(new TxnOpResult.Put("n", 2), new TxnOpResult.Get("k", null, 1)), later.results(),
        "the value read is gone from the store: its revision only");
  }

  @Test
  void aTransactionSurvivesASnapshotInTheWindow() throws Exception {
    KvCommand.Txn t = new KvCommand.Txn("req:s", List.of(), List.of(new TxnOp.Put("a", "1"), new TxnOp.Get("a")), List.of());
    KvResult first = apply(t);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    sm.snapshot().writeTo(bytes);
    List<KvResult> seen = new ArrayList<>();
    KvStateMachine restored = new KvStateMachine((index, command, result) -> seen.add(result));
    restored.restore(1, bytes.toByteArray());
    restored.apply(LogEntry.command(2, 1, KvCodec.encode(t)));
    assertEquals(List.of(first), seen);
    assertEquals(sm.digest(), restored.digest());
  }

  @Test
  void theWindowKeepsNoValuesOfATransaction() {
    put("k", "big value");
    apply(new KvCommand.Txn("w", List.of(), List.of(new TxnOp.Get("k"), new TxnOp.Put("j", "x")), List.of()));
    assertEquals(new KvResult.TxnDone(true, 2, List.of(new TxnOpResult.Get("k", null, 1), new TxnOpResult.Put("j", 2))),
        sm.resultOf("w").orElseThrow());
  }

  @Test
  void aGetOfAnAbsentKeyIsNotFound() {
    TxnOpResult.Get g = (TxnOpResult.Get) txn(List.of(), List.of(new TxnOp.Get("none")), List.of()).results().get(0);
    assertFalse(g.found());
    assertTrue(new TxnOpResult.Get("k", null, 1).found());
  }
}

package dev.tern.lincheck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.lincheck.LinearizabilityChecker.Result;
import dev.tern.lincheck.LinearizabilityChecker.Verdict;
import dev.tern.lincheck.Op.Kind;
import dev.tern.lincheck.Op.Outcome;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The model of a one-key transaction ({@link Kind#TXN}: if the compare holds put, else get), on hand-made histories
 * of key "k" with explicit times [invoke, complete].
 */
class TxnLinearizabilityTest {
  private final LinearizabilityChecker checker = new LinearizabilityChecker();
  private long nextId = 1;

  private Op put(int client, String value, long rev, long inv, long cmp) {
    return new Op(nextId++, client, "k", Kind.PUT, value, 0, Outcome.OK, null, rev, inv, cmp);
  }

  private Op get(int client, String value, long rev, long inv, long cmp) {
    return new Op(nextId++, client, "k", Kind.GET, null, 0, Outcome.OK, value, rev, inv, cmp);
  }

  private Op delete(int client, long rev, long inv, long cmp) {
    return new Op(nextId++, client, "k", Kind.DELETE, null, 0, Outcome.OK, null, rev, inv, cmp);
  }

  /** if revision = expected put value: succeeded at rev. */
  private Op onRevision(int client, long expected, String value, long rev, long inv, long cmp) {
    return new Op(nextId++, client, "k", Kind.TXN, value, expected, Outcome.OK, null, rev, inv, cmp, null);
  }

  /** if revision = expected put value: failed, reading read at readRev (null, 0: absent). */
  private Op onRevisionFailed(int client, long expected, String value, String read, long readRev, long inv, long cmp) {
    return new Op(nextId++, client, "k", Kind.TXN, value, expected, Outcome.CONFLICT, read, readRev, inv, cmp, null);
  }

  private Op onValue(int client, String compare, String value, long rev, long inv, long cmp) {
    return new Op(nextId++, client, "k", Kind.TXN, value, 0, Outcome.OK, null, rev, inv, cmp, compare);
  }

  private Op onValueFailed(int client, String compare, String value, String read, long readRev, long inv, long cmp) {
    return new Op(nextId++, client, "k", Kind.TXN, value, 0, Outcome.CONFLICT, read, readRev, inv, cmp, compare);
  }

  private Op onValueUnknown(int client, String compare, String value, long inv) {
    return new Op(nextId++, client, "k", Kind.TXN, value, 0, Outcome.UNKNOWN, null, 0, inv, 0, compare);
  }

  private void assertLinearizable(List<Op> h) {
    Result r = checker.check(h);
    assertEquals(Verdict.LINEARIZABLE, r.verdict(), r::render);
  }

  private void assertNotLinearizable(List<Op> h) {
    assertEquals(Verdict.NOT_LINEARIZABLE, checker.check(h).verdict());
  }

  @Test
  void twoClientsRaceForALockAndTheLoserReadsTheWinner() {
    assertLinearizable(List.of(
        onRevision(1, 0, "alice", 3, 0, 20),
        onRevisionFailed(2, 0, "bob", "alice", 3, 5, 25),
        onValue(1, "alice", "released", 7, 30, 40), // the holder releases only what is still its own
        onValueFailed(2, "bob", "bob-again", "released", 7, 50, 60)));
  }

  /** Both cannot take a lock that was absent: the second success has no state to run in. */
  @Test
  void twoSuccessesOnAbsentAreNotLinearizable() {
    assertNotLinearizable(List.of(onRevision(1, 0, "alice", 3, 0, 10), onRevision(2, 0, "bob", 5, 20, 30)));
    // With a delete between them, they are.
    assertLinearizable(List.of(onRevision(1, 0, "alice", 3, 0, 10), delete(1, 4, 12, 14),
        onRevision(2, 0, "bob", 5, 20, 30)));
  }

  /** A failure branch must read a state in which the compare does not hold. */
  @Test
  void aFailureThatReadsAMatchingStateIsNotLinearizable() {
    assertNotLinearizable(List.of(put(1, "a", 2, 0, 10), onRevisionFailed(2, 2, "x", "a", 2, 20, 30)));
    assertNotLinearizable(List.of(onRevisionFailed(2, 0, "x", null, 0, 20, 30)), "absent matches revision 0");
    assertNotLinearizable(List.of(put(1, "a", 2, 0, 10), onValueFailed(2, "a", "x", "a", 2, 20, 30)));
    assertLinearizable(List.of(put(1, "a", 2, 0, 10), onValueFailed(2, "b", "x", "a", 2, 20, 30)));
    assertLinearizable(List.of(onValueFailed(2, "b", "x", null, 0, 20, 30)));
  }

  private void assertNotLinearizable(List<Op> h, String why) {
    assertEquals(Verdict.NOT_LINEARIZABLE, checker.check(h).verdict(), why);
  }

  /** The read of a failure branch is a read: it must show the latest state, value and revision. */
  @Test
  void aFailureReadingAStaleValueIsNotLinearizable() {
    assertNotLinearizable(List.of(put(1, "a", 2, 0, 10), put(1, "b", 4, 20, 30),
        onValueFailed(2, "z", "x", "a", 2, 40, 50)));
    assertNotLinearizable(List.of(put(1, "a", 2, 0, 10), onValueFailed(2, "z", "x", "a", 3, 40, 50)),
        "the right value at a wrong revision");
    assertNotLinearizable(List.of(put(1, "a", 2, 0, 10), onValueFailed(2, "z", "x", null, 0, 40, 50)),
        "absent, though written");
  }

  @Test
  void aSuccessOnAValueNeedsThatValue() {
    assertNotLinearizable(List.of(put(1, "a", 2, 0, 10), onValue(2, "b", "c", 5, 20, 30)));
    assertNotLinearizable(List.of(onValue(2, "b", "c", 5, 20, 30)), "a value compare on an absent key fails");
    assertLinearizable(List.of(put(1, "a", 2, 0, 10), onValue(2, "a", "c", 5, 20, 30), get(1, "c", 5, 40, 50)));
    assertNotLinearizable(List.of(put(1, "a", 2, 0, 10), onValue(2, "a", "c", 2, 20, 30)), "a revision not above");
  }

  @Test
  void aSuccessOnARevisionNeedsThatRevision() {
    assertLinearizable(List.of(put(1, "a", 2, 0, 10), onRevision(2, 2, "b", 6, 20, 30), get(1, "b", 6, 40, 50)));
    assertNotLinearizable(List.of(put(1, "a", 2, 0, 10), onRevision(2, 3, "b", 6, 20, 30)));
    assertNotLinearizable(List.of(put(1, "a", 2, 0, 10), onRevision(2, 0, "b", 6, 20, 30)), "present, not absent");
  }

  /** An unknown transaction may have succeeded (then its value is readable) or done nothing. */
  @Test
  void anUnknownTransactionMayExplainAReadOrNot() {
    Op unknown = onValueUnknown(2, "a", "c", 15);
    assertLinearizable(List.of(put(1, "a", 2, 0, 10), unknown, get(1, "c", 9, 40, 50)));
    assertLinearizable(List.of(put(1, "a", 2, 0, 10), onValueUnknown(2, "a", "c", 15), get(1, "a", 2, 40, 50)));
    assertNotLinearizable(List.of(put(1, "b", 2, 0, 10), onValueUnknown(2, "a", "c", 15), get(1, "c", 9, 40, 50)),
        "its compare could not hold");
  }

  @Test
  void aTxnOpIsCheckedWhenBuilt() {
    assertThrows(IllegalArgumentException.class,
        () -> new Op(1, 1, "k", Kind.TXN, "v", 3, Outcome.OK, null, 5, 0, 1, "both"));
    assertThrows(IllegalArgumentException.class,
        () -> new Op(1, 1, "k", Kind.PUT, "v", 0, Outcome.OK, null, 5, 0, 1, "not a txn"));
    assertThrows(IllegalArgumentException.class,
        () -> new Op(1, 1, "k", Kind.TXN, "v", 0, Outcome.CONFLICT, "read", 0, 0, 1, null));
    assertThrows(IllegalArgumentException.class,
        () -> new Op(1, 1, "k", Kind.TXN, "v", 0, Outcome.NOT_FOUND, null, 0, 0, 1, null));
    assertThrows(IllegalArgumentException.class,
        () -> new Op(1, 1, "k", Kind.TXN, null, 0, Outcome.OK, null, 5, 0, 1, null));
    assertEquals("c1 TXN(if value=\"a\" put v=\"b\" else get) -> FAILED read v=\"c\" rev=4",
        new Op(1, 1, "k", Kind.TXN, "b", 0, Outcome.CONFLICT, "c", 4, 0, 1, "a").describe());
    assertEquals("c1 TXN(if rev=0 put v=\"b\" else get) -> FAILED read absent",
        new Op(1, 1, "k", Kind.TXN, "b", 0, Outcome.CONFLICT, null, 0, 0, 1, null).describe());
    assertEquals("c1 TXN(if rev=3 put v=\"b\" else get) -> OK rev=5",
        new Op(1, 1, "k", Kind.TXN, "b", 3, Outcome.OK, null, 5, 0, 1, null).describe());
    assertTrue(new Op(1, 1, "k", Kind.TXN, "b", 3, Outcome.OK, null, 5, 0, 1, null).isWrite());
    assertFalse(LinearizabilityChecker.relax(new Op(1, 1, "k", Kind.TXN, "b", 0, Outcome.OK, null, 5, 0, 1, "a"))
        .compareValue() == null, "relaxing keeps the compare");
  }
}

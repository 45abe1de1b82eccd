package dev.tern.lincheck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.lincheck.LinearizabilityChecker.Result;
import dev.tern.lincheck.LinearizabilityChecker.Verdict;
import dev.tern.lincheck.Op.Kind;
import dev.tern.lincheck.Op.Outcome;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Hand-made histories on one key "k" with explicit times, so each case says exactly which real-time
 * order it relies on. Times are abstract nanos; [a, b] is the op's invoke..complete interval.
 */
class LinearizabilityCheckerTest {

  private final LinearizabilityChecker checker = new LinearizabilityChecker();
  private long nextId = 1;

  // ------------------------------------------------------------------ linearizable histories

  @Test
  void sequentialHistoryIsLinearizableInItsOwnOrder() {
    List<Op> h =
        List.of(
            getNotFound(1, 0, 5),
            put(1, "a", 3, 10, 20),
            get(2, "a", 3, 30, 40),
            put(2, "b", 7, 50, 60),
            get(1, "b", 7, 70, 80));
    Result r = checker.check(h);
    assertEquals(Verdict.LINEARIZABLE, r.verdict(), r::render);
    assertEquals(h, r.ops(), "the witness of a sequential history is the history itself");
  }

  @Test
  void readOverlappingAWriteMaySeeEitherValue() {
    Op first = put(1, "a", 1, 0, 10);
    Op overlapping = put(1, "b", 2, 20, 60);
    assertTrue(checker.check(List.of(first, overlapping, get(2, "a", 1, 30, 40))).linearizable());
    assertTrue(checker.check(List.of(first, overlapping, get(2, "b", 2, 30, 40))).linearizable());
    // The witness for the second must place the put before the read that saw it.
    Result r = checker.check(List.of(first, overlapping, get(2, "b", 2, 30, 40)));
    assertEquals(List.of(1L, 2L, 5L), ids(r.ops()));
  }

  @Test
  void casSuccessChainWithAConcurrentLoserIsLinearizable() {
    List<Op> h =
        List.of(
            cas(1, 0, "a", 4, 0, 10), // create: key was absent
            cas(1, 4, "b", 9, 20, 30),
            casConflict(2, 4, "x", 9, 25, 40), // lost the race to c1, saw rev 9
            cas(1, 9, "c", 12, 50, 60),
            get(2, "c", 12, 70, 80));
    Result r = checker.check(h);
    assertEquals(Verdict.LINEARIZABLE, r.verdict(), r::render);
  }

  @Test
  void deleteThenReadsSeeNothingAndRevisionsKeepGrowing() {
    List<Op> h =
        List.of(
            put(1, "a", 2, 0, 10),
            delete(1, 5, 20, 30),
            getNotFound(2, 40, 50),
            deleteNotFound(2, 60, 70),
            casConflict(2, 5, "x", 0, 75, 78), // stale expectation: the key is absent now
            cas(1, 0, "b", 8, 80, 90),
            get(2, "b", 8, 100, 110));
    assertTrue(checker.check(h).linearizable());
  }

  @Test
  void unknownPutObservedLaterIsFine() {
    List<Op> h =
        List.of(
            put(1, "a", 1, 0, 10),
            putUnknown(1, "b", 20),
            get(2, "b", 7, 100, 110), // reveals the unknown put's revision: 7
            get(2, "b", 7, 120, 130),
            put(3, "c", 9, 140, 150));
    Result r = checker.check(h);
    assertEquals(Verdict.LINEARIZABLE, r.verdict(), r::render);
  }

  @Test
  void unknownPutNeverObservedIsFine() {
    List<Op> h = List.of(put(1, "a", 1, 0, 10), putUnknown(1, "b", 20), get(2, "a", 1, 100, 110));
    Result r = checker.check(h);
    assertEquals(Verdict.LINEARIZABLE, r.verdict(), r::render);
    assertEquals(List.of(1L, 3L), ids(r.ops()), "the unknown put is left out of the witness");
  }

  @Test
  void unknownCasAndDeleteMayTakeEffect() {
    List<Op> h =
        List.of(
            put(1, "a", 1, 0, 10),
            new Op(nextId++, 1, "k", Kind.CAS, "b", 1, Outcome.UNKNOWN, null, 0, 20, 0),
            get(2, "b", 3, 100, 110),
            new Op(nextId++, 2, "k", Kind.DELETE, null, 0, Outcome.UNKNOWN, null, 0, 120, 0),
            getNotFound(3, 200, 210),
            put(3, "c", 6, 220, 230)); // must exceed the delete's unseen revision (> 3)
    assertTrue(checker.check(h).linearizable());
  }

  // ------------------------------------------------------------------------------ violations

  @Test
  void staleReadAfterANewerPutCompletedIsAViolation() {
    List<Op> h = List.of(put(1, "a", 1, 0, 10), put(1, "b", 2, 20, 30), get(2, "a", 1, 40, 50));
    Result r = assertViolation(h);
    assertEquals(List.of(2L, 3L), ids(r.ops()), "the older put is not needed to show it");
    assertTrue(r.unconstrainedStart());
  }

  @Test
  void lostWriteIsAViolation() {
    // Acknowledged put, then nothing else, then the key is gone...
    assertViolation(List.of(put(1, "a", 1, 0, 10), getNotFound(2, 20, 30)));
    // ... or shows the value it overwrote.
    assertViolation(
        List.of(put(1, "a", 1, 0, 10), put(2, "b", 2, 20, 30), get(1, "a", 1, 40, 50)));
  }

  @Test
  void casOnAStaleRevisionIsAViolation() {
    // put b (rev 2) completed before the CAS began, yet the CAS claims to have seen rev 1.
    List<Op> h =
        List.of(put(1, "a", 1, 0, 10), put(1, "b", 2, 20, 30), cas(2, 1, "c", 3, 40, 50));
    assertViolation(h);
  }

  @Test
  void twoCasSuccessesOnTheSameExpectedRevisionIsAViolation() {
    List<Op> h =
        List.of(
            put(1, "a", 1, 0, 10), cas(1, 1, "b", 2, 20, 40), cas(2, 1, "c", 3, 25, 45));
    Result r = assertViolation(h);
    assertEquals(List.of(2L, 3L), ids(r.ops()));
  }

  @Test
  void casConflictReportingTheExpectedRevisionIsAViolation() {
    assertViolation(List.of(put(1, "a", 1, 0, 10), casConflict(2, 1, "b", 1, 20, 30)));
  }

  @Test
  void revisionGoingBackwardsIsAViolation() {
    assertViolation(List.of(put(1, "a", 5, 0, 10), put(2, "b", 3, 20, 30)));
    assertViolation(List.of(put(1, "a", 5, 0, 10), delete(2, 4, 20, 30)));
    // A read must report the revision of the write it reads.
    assertViolation(List.of(put(1, "a", 5, 0, 10), get(2, "a", 4, 20, 30)));
  }

  @Test
  void unknownPutSeenThenOlderValueReadIsAViolation() {
    List<Op> h =
        List.of(
            put(1, "a", 1, 0, 10),
            putUnknown(1, "b", 20),
            get(2, "b", 5, 30, 40),
            get(2, "a", 1, 50, 60)); // nobody wrote "a" again
    Result r = assertViolation(h);
    assertTrue(ids(r.ops()).contains(4L), r::render);
  }

  @Test
  void unknownPutCannotBeReadWithARevisionBelowTheCurrentOne() {
    assertViolation(List.of(put(1, "a", 5, 0, 10), putUnknown(1, "b", 20), get(2, "b", 3, 30, 40)));
  }

  @Test
  void windowKeepsOverlappingWritersAsContextSoItNeverBlamesAValidRead() {
    // 40 sequential puts, then a read concurrent with put "w" that (legitimately) sees it, then a
    // read seeing a value overwritten long ago: only the last read is wrong.
    List<Op> h = new ArrayList<>();
    long t = 0;
    for (int i = 1; i <= 40; i++) {
      h.add(put(1, "v" + i, i, t, t + 5));
      t += 10;
    }
    Op slowWrite = put(1, "w", 41, t, t + 100);
    h.add(get(2, "v40", 40, t + 1, t + 2));
    h.add(slowWrite);
    h.add(get(3, "w", 41, t + 10, t + 20));
    Op stale = get(2, "v39", 39, t + 150, t + 160);
    h.add(stale);
    Result r = assertViolation(h);
    assertTrue(r.ops().size() <= 3, r::render);
    assertTrue(r.ops().contains(stale), r::render);
    // The window must fail on its own: re-check exactly what the checker checked.
    List<Op> checked = new ArrayList<>(r.ops());
    r.context().forEach(op -> checked.add(LinearizabilityChecker.relax(op)));
    assertFalse(new LinearizabilityChecker(1_000_000, false).check(checked).linearizable());
    assertTrue(r.render().contains("c2 GET -> OK v=\"v39\" rev=39"), r::render);
  }

  // ----------------------------------------------------------------- checkAll and step limit

  @Test
  void checkAllReportsTheViolatingKeyAmongHealthyOnes() {
    History history = new History(new FakeClock());
    long revision = 10;
    for (String key : List.of("a", "b", "c")) {
      history.invokePut(1, key, "x").ok(revision);
      history.invokeGet(2, key).okRead("x", revision);
      revision++;
    }
    history.invokeGet(3, "b").notFound(); // "b" loses its value
    Result r = checker.checkAll(history);
    assertEquals(Verdict.NOT_LINEARIZABLE, r.verdict());
    assertEquals("b", r.key());
    assertTrue(checker.checkAll(Map.of("a", history.byKey().get("a"))).linearizable());
  }

  @Test
  void exhaustedStepLimitIsReportedAsTimeoutNotAsViolation() {
    List<Op> h = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      h.add(put(i % 4, "v" + i, i + 1, i * 10, i * 10 + 5));
    }
    Result r = new LinearizabilityChecker(5, true).check(h);
    assertEquals(Verdict.TIMEOUT, r.verdict());
    assertFalse(r.linearizable());
    assertEquals(Verdict.LINEARIZABLE, checker.check(h).verdict());
  }

  // ------------------------------------------------------------------------------- helpers

  private Result assertViolation(List<Op> h) {
    Result r = checker.check(h);
    assertEquals(Verdict.NOT_LINEARIZABLE, r.verdict(), r::render);
    assertFalse(r.ops().isEmpty());
    assertTrue(h.containsAll(r.ops()), "the window is made of the history's own ops");
    return r;
  }

  private static List<Long> ids(List<Op> ops) {
    return ops.stream().map(Op::id).collect(Collectors.toList());
  }

  private Op put(int client, String value, long rev, long inv, long cmp) {
    return new Op(nextId++, client, "k", Kind.PUT, value, 0, Outcome.OK, null, rev, inv, cmp);
  }

  private Op putUnknown(int client, String value, long inv) {
    return new Op(nextId++, client, "k", Kind.PUT, value, 0, Outcome.UNKNOWN, null, 0, inv, 0);
  }

  private Op cas(int client, long expected, String value, long rev, long inv, long cmp) {
    return new Op(nextId++, client, "k", Kind.CAS, value, expected, Outcome.OK, null, rev, inv, cmp);
  }

  private Op casConflict(int client, long expected, String value, long current, long inv, long cmp) {
    return new Op(
        nextId++, client, "k", Kind.CAS, value, expected, Outcome.CONFLICT, null, current, inv, cmp);
  }

  private Op delete(int client, long rev, long inv, long cmp) {
    return new Op(nextId++, client, "k", Kind.DELETE, null, 0, Outcome.OK, null, rev, inv, cmp);
  }

  private Op deleteNotFound(int client, long inv, long cmp) {
    return new Op(nextId++, client, "k", Kind.DELETE, null, 0, Outcome.NOT_FOUND, null, 0, inv, cmp);
  }

  private Op get(int client, String value, long rev, long inv, long cmp) {
    return new Op(nextId++, client, "k", Kind.GET, null, 0, Outcome.OK, value, rev, inv, cmp);
  }

  private Op getNotFound(int client, long inv, long cmp) {
    return new Op(nextId++, client, "k", Kind.GET, null, 0, Outcome.NOT_FOUND, null, 0, inv, cmp);
  }

  /** Deterministic clock: every reading is 10 ns after the previous one. */
  static final class FakeClock implements java.util.function.LongSupplier {
    private long now;

    @Override
    public synchronized long getAsLong() {
      return now += 10;
    }
  }
}

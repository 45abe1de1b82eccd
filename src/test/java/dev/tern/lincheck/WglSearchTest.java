package dev.tern.lincheck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.lincheck.KvModel.State;
import dev.tern.lincheck.Op.Kind;
import dev.tern.lincheck.Op.Outcome;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The search prunes a lot (memoization, subset and revision-floor subsumption, skipping unknown ops
 * that a PUT would wipe out). This cross-checks it against a brute-force enumeration of every
 * real-time-respecting order, with the same model, on thousands of small random histories.
 */
class WglSearchTest {

  @Test
  void agreesWithBruteForceOnRandomSmallHistories() {
    Random rnd = new Random(42);
    int linearizable = 0;
    int violations = 0;
    for (int round = 0; round < 20_000; round++) {
      List<Op> ops = randomHistory(rnd, 2 + rnd.nextInt(6));
      State start = rnd.nextInt(4) == 0 ? State.UNCONSTRAINED : State.EMPTY;
      boolean expected = bruteForce(ops, KvModel.forOps(ops), start, new BitSet(), countKnown(ops));
      WglSearch.Outcome got = WglSearch.run(ops, start, 1_000_000);
      assertEquals(
          expected ? WglSearch.Verdict.LINEARIZABLE : WglSearch.Verdict.NOT_LINEARIZABLE,
          got.verdict(),
          () -> "start " + start + "\n" + render(ops));
      if (expected) {
        linearizable++;
        assertWitnessIsValid(ops, start, got.linearization());
      } else {
        violations++;
      }
    }
    // Both verdicts must be well represented, or the comparison proves little.
    assertTrue(linearizable > 2_000 && violations > 2_000, linearizable + " / " + violations);
  }

  /** The witness replays through the model and respects real time. */
  private static void assertWitnessIsValid(List<Op> ops, State start, List<Op> order) {
    KvModel model = KvModel.forOps(ops);
    State s = start;
    for (int i = 0; i < order.size(); i++) {
      s = model.step(s, order.get(i));
      assertTrue(s != null, "witness step " + i + " rejected\n" + render(order));
      for (int j = i + 1; j < order.size(); j++) {
        assertTrue(order.get(j).completeNanos() >= order.get(i).invokeNanos(), render(order));
      }
    }
    assertEquals(countKnown(ops), order.stream().filter(op -> !op.isUnknown()).count());
  }

  private static boolean bruteForce(List<Op> ops, KvModel model, State s, BitSet used, long left) {
    if (left == 0) {
      return true;
    }
    long deadline = Long.MAX_VALUE;
    for (int i = 0; i < ops.size(); i++) {
      if (!used.get(i)) {
        deadline = Math.min(deadline, ops.get(i).completeNanos());
      }
    }
    for (int i = 0; i < ops.size(); i++) {
      Op op = ops.get(i);
      if (used.get(i) || op.invokeNanos() > deadline) {
        continue;
      }
      State next = model.step(s, op);
      if (next != null) {
        used.set(i);
        boolean ok = bruteForce(ops, model, next, used, left - (op.isUnknown() ? 0 : 1));
        used.clear(i);
        if (ok) {
          return true;
        }
      }
    }
    return false;
  }

  private static long countKnown(List<Op> ops) {
    return ops.stream().filter(op -> !op.isUnknown()).count();
  }

  /** Few values and revisions, so that random ops often happen to fit together. */
  private static List<Op> randomHistory(Random rnd, int n) {
    List<Op> ops = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      long invoke = rnd.nextInt(20);
      long complete = invoke + rnd.nextInt(10);
      String value = rnd.nextBoolean() ? "a" : "b";
      long rev = 1 + rnd.nextInt(6);
      boolean unknown = rnd.nextInt(4) == 0;
      Op op =
          switch (rnd.nextInt(4)) {
            case 0 -> new Op(i, i % 3, "k", Kind.PUT, value, 0,
                unknown ? Outcome.UNKNOWN : Outcome.OK, null, unknown ? 0 : rev, invoke, complete);
            case 1 -> {
              long expected = rnd.nextInt(4);
              Outcome o = unknown ? Outcome.UNKNOWN : rnd.nextBoolean() ? Outcome.OK : Outcome.CONFLICT;
              long r = o == Outcome.OK ? rev : o == Outcome.CONFLICT ? rnd.nextInt(4) : 0;
              yield new Op(i, i % 3, "k", Kind.CAS, value, expected, o, null, r, invoke, complete);
            }
            case 2 -> {
              Outcome o = unknown ? Outcome.UNKNOWN : rnd.nextBoolean() ? Outcome.OK : Outcome.NOT_FOUND;
              yield new Op(i, i % 3, "k", Kind.DELETE, null, 0, o, null, o == Outcome.OK ? rev : 0,
                  invoke, complete);
            }
            default -> rnd.nextBoolean()
                ? new Op(i, i % 3, "k", Kind.GET, null, 0, Outcome.OK, value, rev, invoke, complete)
                : new Op(i, i % 3, "k", Kind.GET, null, 0, Outcome.NOT_FOUND, null, 0, invoke,
                    complete);
          };
      ops.add(op);
    }
    return ops;
  }

  private static String render(List<Op> ops) {
    StringBuilder b = new StringBuilder();
    for (Op op : ops) {
      b.append(op.describe()).append(" [").append(op.invokeNanos()).append("..")
          .append(op.isUnknown() ? "inf" : op.completeNanos()).append("]\n");
    }
    return b.toString();
  }
}

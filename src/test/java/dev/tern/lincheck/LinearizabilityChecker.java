package dev.tern.lincheck;

import dev.tern.lincheck.KvModel.State;
import dev.tern.lincheck.Op.Kind;
import dev.tern.lincheck.Op.Outcome;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Checks recorded histories of Tern operations for linearizability against {@link KvModel}.
 *
 * <p>Keys are independent objects, so by P-compositionality (Herlihy &amp; Wing: a history is
 * linearizable iff its restriction to every object is) each key is checked on its own, which is
 * what keeps the search tractable. What per-key checking cannot see is the cross-key order of
 * revisions.
 *
 * <p>When a key is not linearizable, the report is the smallest window of that key's ops (a
 * contiguous run by invocation time) that still fails on its own; see {@link #window}.
 */
public final class LinearizabilityChecker {

  /** Enough for thousands of ops per key with realistic concurrency; a bound, not a target. */
  public static final long DEFAULT_STEP_LIMIT = 5_000_000;

  public enum Verdict {
    LINEARIZABLE,
    NOT_LINEARIZABLE,
    /** The search hit the step limit: no answer, which is not the same as a violation. */
    TIMEOUT
  }

  /**
   * @param key the key concerned; null for a {@link #checkAll} with no violation and no timeout
   * @param ops LINEARIZABLE: a witness linearization (unknown ops that never took effect are
   *     omitted); NOT_LINEARIZABLE: the smallest failing window; TIMEOUT: empty
   * @param context NOT_LINEARIZABLE only: ops outside the window that overlap it in time and may
   *     change the key. They were checked as UNKNOWN (may or may not have taken effect), which only
   *     weakens them, so the window fails whatever they really did.
   * @param unconstrainedStart NOT_LINEARIZABLE only: the window was checked from an arbitrary
   *     starting state, because earlier ops (which all completed before it began) were cut away
   * @param steps search steps spent on the whole history (excluding the shrinking)
   */
  public record Result(
      Verdict verdict,
      String key,
      List<Op> ops,
      List<Op> context,
      boolean unconstrainedStart,
      long steps) {

    public boolean linearizable() {
      return verdict == Verdict.LINEARIZABLE;
    }

    /** One line per op: client, kind, inputs, outcome, invoke..complete (nanos from window start). */
    public String render() {
      StringBuilder out = new StringBuilder();
      out.append("key \"").append(key).append("\": ").append(verdict);
      switch (verdict) {
        case LINEARIZABLE -> out.append(" (").append(ops.size()).append(" ops linearized)\n");
        case TIMEOUT -> out.append(" (gave up after ").append(steps).append(" steps)\n");
        case NOT_LINEARIZABLE -> {
          out.append("; smallest failing window, ").append(ops.size()).append(" ops");
          out.append(
              unconstrainedStart
                  ? ", starting from any state (earlier ops cut away):\n"
                  : ", starting from the key's initial state:\n");
          long origin = ops.isEmpty() ? 0 : ops.get(0).invokeNanos();
          ops.forEach(op -> out.append(line(op, origin, "")));
          if (!context.isEmpty()) {
            out.append("  overlapping writes outside the window, checked as may-or-may-not:\n");
            context.forEach(op -> out.append(line(op, origin, "  ")));
          }
        }
      }
      return out.toString();
    }

    private static String line(Op op, long origin, String indent) {
      String end =
          op.completeNanos() == Long.MAX_VALUE ? "inf" : Long.toString(op.completeNanos() - origin);
      return String.format(
          "  %s%-50s [%d .. %s]%n", indent, op.describe(), op.invokeNanos() - origin, end);
    }
  }

  private final long stepLimit;
  private final State initialState;

  /** Keys start absent, default step limit. */
  public LinearizabilityChecker() {
    this(DEFAULT_STEP_LIMIT, true);
  }

  /**
   * @param stepLimit search steps allowed per check (each shrinking probe gets the same budget)
   * @param keysStartEmpty false if keys may hold data written before the history began
   */
  public LinearizabilityChecker(long stepLimit, boolean keysStartEmpty) {
    this.stepLimit = stepLimit;
    this.initialState = keysStartEmpty ? State.EMPTY : State.UNCONSTRAINED;
  }

  /** Checks every key; returns the first violating key, else the first timeout, else success. */
  public Result checkAll(History history) {
    return checkAll(history.byKey());
  }

  public Result checkAll(Map<String, List<Op>> opsByKey) {
    Result firstTimeout = null;
    long steps = 0;
    for (List<Op> ops : opsByKey.values()) {
      Result result = check(ops);
      steps += result.steps();
      if (result.verdict() == Verdict.NOT_LINEARIZABLE) {
        return result;
      }
      if (result.verdict() == Verdict.TIMEOUT && firstTimeout == null) {
        firstTimeout = result;
      }
    }
    return firstTimeout != null
        ? firstTimeout
        : new Result(Verdict.LINEARIZABLE, null, List.of(), List.of(), false, steps);
  }

  /** Checks the operations of one key (any order; UNKNOWN GETs are ignored). */
  public Result check(List<Op> opsOfOneKey) {
    List<Op> ops = new ArrayList<>(opsOfOneKey);
    ops.removeIf(op -> op.kind() == Kind.GET && op.isUnknown());
    String key = ops.isEmpty() ? null : ops.get(0).key();
    for (Op op : ops) {
      if (!op.key().equals(key)) {
        throw new IllegalArgumentException("ops of several keys: " + key + ", " + op.key());
      }
    }
    ops.sort(Comparator.comparingLong(Op::invokeNanos).thenComparingLong(Op::id));

    WglSearch.Outcome full = WglSearch.run(ops, initialState, stepLimit);
    return switch (full.verdict()) {
      case LINEARIZABLE ->
          new Result(
              Verdict.LINEARIZABLE, key, full.linearization(), List.of(), false, full.steps());
      case TIMEOUT -> new Result(Verdict.TIMEOUT, key, List.of(), List.of(), false, full.steps());
      case NOT_LINEARIZABLE -> {
        Window w = smallestFailingWindow(ops);
        yield new Result(
            Verdict.NOT_LINEARIZABLE, key, w.core(), w.context(), w.unconstrainedStart(),
            full.steps());
      }
    };
  }

  // ---------------------------------------------------------------- shrinking a violation

  /**
   * A sub-history made of the ops {@code sorted[from, to)} plus context, built so that if it is not
   * linearizable then neither is the whole history (so the report never blames innocent ops).
   *
   * <p>Simply cutting ops away would be unsound: a read could then seem to return a value nobody
   * wrote. So: (1) ops before the window that completed before its first invocation precede all of
   * it in any linearization; they are dropped and the window starts from an arbitrary state. (2) ops
   * after it invoked after every known window op completed come after all of it; they are dropped.
   * (3) any other op outside the window overlaps it: reads and no-op writes (CAS conflict, DELETE
   * not found) are dropped since they change nothing, and the rest kept as UNKNOWN, i.e. weakened.
   */
  private record Window(List<Op> core, List<Op> context, boolean unconstrainedStart) {
    List<Op> checkedOps() {
      List<Op> all = new ArrayList<>(core);
      context.forEach(op -> all.add(relax(op)));
      return all;
    }
  }

  private Window window(List<Op> sorted, int from, int to) {
    List<Op> core = sorted.subList(from, to);
    List<Op> context = new ArrayList<>();
    long start = sorted.get(from).invokeNanos();
    boolean droppedEarlier = false;
    for (Op op : sorted.subList(0, from)) {
      if (!op.isUnknown() && op.completeNanos() < start) {
        droppedEarlier = true;
      } else if (mayChangeState(op)) {
        context.add(op);
      }
    }
    long end = Long.MIN_VALUE;
    for (Op op : core) {
      if (!op.isUnknown()) {
        end = Math.max(end, op.completeNanos());
      }
    }
    for (Op op : sorted.subList(to, sorted.size())) {
      if (op.invokeNanos() <= end && mayChangeState(op)) {
        context.add(op);
      }
    }
    boolean unconstrained = droppedEarlier || initialState == State.UNCONSTRAINED;
    return new Window(List.copyOf(core), List.copyOf(context), unconstrained);
  }

  private boolean fails(Window w) {
    State start = w.unconstrainedStart() ? State.UNCONSTRAINED : initialState;
    return WglSearch.run(w.checkedOps(), start, stepLimit).verdict()
        == WglSearch.Verdict.NOT_LINEARIZABLE;
  }

  /**
   * Shrinks from the end (shortest failing prefix), then from the start, then the end again, each by
   * binary search. A probe that times out counts as "not shown to fail", so the result always fails.
   */
  private Window smallestFailingWindow(List<Op> sorted) {
    int n = sorted.size();
    int to = shortestFailingEnd(sorted, 0, n);
    int lo = 0;
    int hi = to - 1; // invariant: window(lo, to) fails
    while (lo < hi) {
      int mid = (lo + hi + 1) >>> 1;
      if (fails(window(sorted, mid, to))) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    int from = lo;
    to = shortestFailingEnd(sorted, from, to);
    return window(sorted, from, to);
  }

  /** Smallest {@code to} in (from, knownFailingTo] with window(from, to) failing. */
  private int shortestFailingEnd(List<Op> sorted, int from, int knownFailingTo) {
    int lo = from + 1;
    int hi = knownFailingTo; // invariant: window(from, hi) fails
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (fails(window(sorted, from, mid))) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    return hi;
  }

  /** Reads and writes that reported "no change" can be dropped without affecting any other op. */
  private static boolean mayChangeState(Op op) {
    return op.isWrite()
        && op.outcome() != Outcome.CONFLICT
        && op.outcome() != Outcome.NOT_FOUND;
  }

  /** The same op with its outcome forgotten: it may or may not have taken effect, at any time. */
  static Op relax(Op op) {
    if (op.isUnknown()) {
      return op;
    }
    return new Op(
        op.id(), op.client(), op.key(), op.kind(), op.value(), op.expectedRevision(),
        Outcome.UNKNOWN, null, 0, op.invokeNanos(), Long.MAX_VALUE, op.compareValue());
  }
}

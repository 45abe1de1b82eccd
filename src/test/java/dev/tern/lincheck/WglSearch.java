package dev.tern.lincheck;

import dev.tern.lincheck.KvModel.State;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The Wing &amp; Gong linearizability search with Lowe's memoization, as in Porcupine and Knossos,
 * for the operations of one key.
 *
 * <p>Every op becomes a call entry and a return entry in one list sorted by time. An op may be
 * linearized next iff its call entry comes before the first remaining return entry (it was invoked
 * before every pending op completed). Linearizing an op "lifts" both its entries out of the list;
 * reaching a return entry means that op's deadline passed without it being linearized, so the
 * search backtracks. A configuration (set of linearized ops, model state) already explored is never
 * explored again.
 *
 * <p>UNKNOWN ops return at +infinity, so they never force a backtrack, and the search succeeds as
 * soon as every known op is linearized: unknown ops left over "never took effect". They are kept in
 * a list of their own and offered as candidates after the known ones (see {@link #search}). Because an
 * unknown op can be left out, a configuration is also skipped when one with the same known ops and
 * state, but a subset of its unknown ops and no higher revision lower bound, was explored before (it
 * had at least as many options). That and {@link #wipesOutAnUnknown} keep pending unknown writes
 * from multiplying the search space; still, many unknown writes pending on one key (they stay
 * pending forever) are what makes a violation expensive to prove. WglSearchTest cross-checks all
 * this pruning against brute force.
 */
final class WglSearch {

  enum Verdict {
    LINEARIZABLE,
    NOT_LINEARIZABLE,
    TIMEOUT
  }

  /** {@code linearization} is the order found (only for LINEARIZABLE), known and unknown ops. */
  record Outcome(Verdict verdict, List<Op> linearization, long steps) {}

  private static final class Entry {
    final int op;
    final boolean call;
    final long time;
    Entry match;
    Entry prev;
    Entry next;

    Entry(int op, boolean call, long time) {
      this.op = op;
      this.call = call;
      this.time = time;
    }
  }

  /**
   * A linearized op and what to restore on backtrack: the state before it and, for an unknown op,
   * the bound its candidate scan used.
   */
  private record Frame(Entry call, State before, long bound) {}

  /**
   * The part of a configuration that must match exactly: the known ops linearized and the state,
   * with its revision zeroed when it is only a lower bound (bounds are compared, see firstVisit).
   */
  private record CacheKey(BitSet known, State shape) {}

  /** An explored configuration's unknown ops and revision lower bound (0 if exact). */
  private record Seen(BitSet unknown, long floor) {}

  private final List<Op> ops;
  private final KvModel model;
  private final long stepLimit;
  private final Map<CacheKey, List<Seen>> explored = new HashMap<>();

  private WglSearch(List<Op> ops, long stepLimit) {
    this.ops = ops;
    this.model = KvModel.forOps(ops);
    this.stepLimit = stepLimit;
  }

  /** {@code ops} must all be on one key; UNKNOWN GETs must already be removed. */
  static Outcome run(List<Op> ops, State initial, long stepLimit) {
    return new WglSearch(List.copyOf(ops), stepLimit).search(initial);
  }

  private Outcome search(State initial) {
    int n = ops.size();
    Entry head = new Entry(-1, false, Long.MIN_VALUE);
    Entry unknownHead = new Entry(-1, true, Long.MIN_VALUE);
    buildLists(head, unknownHead);
    BitSet known = new BitSet(n);
    BitSet unknown = new BitSet(n);
    int knownLeft = (int) ops.stream().filter(o -> !o.isUnknown()).count();
    Deque<Frame> stack = new ArrayDeque<>();
    State state = initial;
    // Cursor over the known-op list; when it reaches the first pending return, the cursor moves to
    // the unknown ops invoked no later than that return (`bound`). Known candidates are thus tried
    // before unknown ones: configurations with fewer unknown ops get explored first, which is what
    // lets the subset test in firstVisit prune the ones with more.
    Entry entry = head.next;
    Entry unknownEntry = null;
    long bound = 0;
    long steps = 0;

    while (knownLeft > 0) {
      if (++steps > stepLimit) {
        return new Outcome(Verdict.TIMEOUT, List.of(), steps);
      }
      // While a known op is pending, the known-list scan always meets a return entry before its end.
      Entry candidate = null;
      if (entry != null) {
        if (entry.call) {
          candidate = entry;
        } else {
          bound = entry.time;
          unknownEntry = unknownHead.next;
          entry = null;
          continue;
        }
      } else if (unknownEntry != null && unknownEntry.time <= bound) {
        candidate = unknownEntry;
      }

      if (candidate == null) {
        // Every candidate failed before a pending op's completion: undo the last choice.
        if (stack.isEmpty()) {
          return new Outcome(Verdict.NOT_LINEARIZABLE, List.of(), steps);
        }
        Frame top = stack.pop();
        Entry call = top.call();
        state = top.before();
        if (ops.get(call.op).isUnknown()) {
          unknown.clear(call.op);
          unliftUnknown(call);
          entry = null;
          unknownEntry = call.next;
          bound = top.bound();
        } else {
          known.clear(call.op);
          knownLeft++;
          unlift(call);
          entry = call.next;
        }
        continue;
      }

      Op op = ops.get(candidate.op);
      State next = wipesOutAnUnknown(op, stack) ? null : model.step(state, op);
      if (next != null) {
        BitSet set = op.isUnknown() ? unknown : known;
        set.set(candidate.op);
        if (firstVisit(known, unknown, next)) {
          stack.push(new Frame(candidate, state, bound));
          state = next;
          if (op.isUnknown()) {
            liftUnknown(candidate);
          } else {
            knownLeft--;
            lift(candidate);
          }
          entry = head.next;
          unknownEntry = null;
          continue;
        }
        set.clear(candidate.op);
      }
      if (entry != null) {
        entry = entry.next;
      } else {
        unknownEntry = unknownEntry.next;
      }
    }
    List<Op> order = new ArrayList<>(stack.size());
    for (Iterator<Frame> it = stack.descendingIterator(); it.hasNext(); ) {
      order.add(ops.get(it.next().call().op));
    }
    return new Outcome(Verdict.LINEARIZABLE, order, steps);
  }

  /**
   * Partial-order reduction for unknown ops: true if the op linearized just before {@code op} is an
   * unknown one whose effect {@code op} would wipe out. A PUT replaces the state, and an unknown
   * DELETE leaves "absent" whatever came before (or, on an absent key, is not applicable); all the
   * earlier unknown op would add is a higher revision floor, which only restricts what follows. So
   * the sequence is never better than doing without that unknown op here, leaving it pending, an
   * alternative the search explores anyway (anything that is a candidate after an unknown op was a
   * candidate before it). Without this, every ordering of the pending unknown writes would be tried
   * at every point of the history.
   */
  private boolean wipesOutAnUnknown(Op op, Deque<Frame> stack) {
    boolean blind = op.kind() == Op.Kind.PUT || (op.kind() == Op.Kind.DELETE && op.isUnknown());
    return blind && !stack.isEmpty() && ops.get(stack.peek().call().op).isUnknown();
  }

  /**
   * Links the call and return entries of known ops, sorted by time, after {@code head}; and the
   * call entries of unknown ops, sorted by invocation, after {@code unknownHead}. Unknown ops need
   * no return entry: it would sit at +infinity, after every known return.
   */
  private void buildLists(Entry head, Entry unknownHead) {
    List<Entry> entries = new ArrayList<>(2 * ops.size());
    List<Entry> unknownCalls = new ArrayList<>();
    for (int i = 0; i < ops.size(); i++) {
      Op op = ops.get(i);
      Entry call = new Entry(i, true, op.invokeNanos());
      if (op.isUnknown()) {
        unknownCalls.add(call);
        continue;
      }
      Entry ret = new Entry(i, false, op.completeNanos());
      call.match = ret;
      ret.match = call;
      entries.add(call);
      entries.add(ret);
    }
    // At equal times calls go first: an op completing at t and one invoked at t count as
    // concurrent, the permissive reading of ambiguous timestamps (no false alarms). The unknown
    // ops' `time <= bound` test applies the same rule.
    Comparator<Entry> order =
        Comparator.comparingLong((Entry e) -> e.time)
            .thenComparing(e -> !e.call)
            .thenComparingInt(e -> e.op);
    entries.sort(order);
    unknownCalls.sort(order);
    link(head, entries);
    link(unknownHead, unknownCalls);
  }

  private static void link(Entry head, List<Entry> entries) {
    Entry prev = head;
    for (Entry e : entries) {
      prev.next = e;
      e.prev = prev;
      prev = e;
    }
  }

  /**
   * Records the configuration and says whether it is worth exploring. It is not if an explored one
   * has the same known ops and the same state, except possibly fewer unknown ops and (when the
   * revision is only a lower bound) a lower bound: that one allowed every continuation this one does.
   */
  private boolean firstVisit(BitSet known, BitSet unknown, State state) {
    long floor = state.exact() ? 0 : state.revision();
    State shape = state.exact() ? state : new State(state.presence(), state.value(), 0, false);
    List<Seen> seen = explored.get(new CacheKey(known, shape));
    if (seen == null) {
      seen = new ArrayList<>(1);
      explored.put(new CacheKey((BitSet) known.clone(), shape), seen);
    } else {
      for (Seen earlier : seen) {
        if (earlier.floor() <= floor && isSubset(earlier.unknown(), unknown)) {
          return false;
        }
      }
    }
    seen.add(new Seen((BitSet) unknown.clone(), floor));
    return true;
  }

  private static boolean isSubset(BitSet a, BitSet b) {
    BitSet rest = (BitSet) a.clone();
    rest.andNot(b);
    return rest.isEmpty();
  }

  /** Removes an op's call and return entries from the list (the op is linearized). */
  private static void lift(Entry call) {
    call.prev.next = call.next;
    call.next.prev = call.prev; // a call is always followed by at least its own return
    Entry ret = call.match;
    ret.prev.next = ret.next;
    if (ret.next != null) {
      ret.next.prev = ret.prev;
    }
  }

  private static void liftUnknown(Entry call) {
    call.prev.next = call.next;
    if (call.next != null) {
      call.next.prev = call.prev;
    }
  }

  private static void unliftUnknown(Entry call) {
    call.prev.next = call;
    if (call.next != null) {
      call.next.prev = call;
    }
  }

  /** Exact inverse of {@link #lift}, restoring in reverse order. */
  private static void unlift(Entry call) {
    Entry ret = call.match;
    ret.prev.next = ret;
    if (ret.next != null) {
      ret.next.prev = ret;
    }
    call.prev.next = call;
    call.next.prev = call;
  }
}

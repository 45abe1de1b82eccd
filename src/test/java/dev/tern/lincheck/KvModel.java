package dev.tern.lincheck;

import dev.tern.lincheck.Op.Outcome;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.LongPredicate;

/**
 * Sequential specification of a single Tern key: the model the checker replays operations against.
 *
 * <p>Revisions are log indexes, so the checker never knows them in advance; it learns them from
 * responses. An UNKNOWN write consumes a revision nobody reported, so the state keeps the revision as
 * either exact or as a lower bound ("at least r"); a later response that reveals it (a GET, a CAS
 * success or conflict) pins it down. Every write must report a revision above the last write's, which
 * holds for deletes too, so the revision is kept even while the key is absent.
 */
final class KvModel {

  /**
   * Revisions reported by acknowledged writes. Revisions are unique log indexes, so a write whose
   * revision nobody reported (an UNKNOWN one) cannot have any of these. This is what stops an unknown
   * write from "explaining" a CAS or read that names another write's revision.
   */
  private final LongPredicate takenByKnownWrite;

  KvModel(LongPredicate takenByKnownWrite) {
    this.takenByKnownWrite = takenByKnownWrite;
  }

  /** A model for exactly these ops: the revisions of their acknowledged writes are taken. */
  static KvModel forOps(List<Op> ops) {
    Set<Long> taken = new HashSet<>();
    for (Op op : ops) {
      if (op.isWrite() && op.outcome() == Outcome.OK) {
        taken.add(op.resultRevision());
      }
    }
    return new KvModel(taken::contains);
  }

  enum Presence {
    ABSENT,
    PRESENT,
    /** Only at the start of a window cut out of a longer history: anything is possible. */
    UNKNOWN
  }

  /**
   * Immutable model state; a record so the checker can use it as part of a cache key.
   *
   * @param value the current value when PRESENT; null when absent or not known (only reachable from
   *     an UNKNOWN start, e.g. a CAS conflict revealed a revision but not the value)
   * @param revision if {@code exact}, the revision of the last write to the key; otherwise the
   *     smallest revision it can have. For ABSENT it only serves as the floor for later writes.
   */
  record State(Presence presence, String value, long revision, boolean exact) {
    /** A key nobody has written yet. */
    static final State EMPTY = absent(0);

    /** Nothing known: used when earlier operations were cut away from the history. */
    static final State UNCONSTRAINED = new State(Presence.UNKNOWN, null, 0, false);

    static State absent(long floor) {
      // Exactness is meaningless when absent (only "later writes must exceed it" is used), so it is
      // normalised to keep equal states equal for the memo cache.
      return new State(Presence.ABSENT, null, floor, false);
    }

    static State present(String value, long revision, boolean exact) {
      return new State(Presence.PRESENT, value, revision, exact);
    }
  }

  /**
   * Applies {@code op} to {@code s}. Returns the next state, or null if the op cannot take effect in
   * this state with the outcome it reported. For an UNKNOWN write only the "it took effect" branch is
   * modelled; "it failed / never happened" is covered by the search never linearizing it.
   */
  State step(State s, Op op) {
    return switch (op.kind()) {
      case GET -> get(s, op);
      case PUT -> put(s, op);
      case CAS -> cas(s, op);
      case DELETE -> delete(s, op);
      case TXN -> txn(s, op);
    };
  }

  /**
   * A one-key transaction ({@link Op.Kind#TXN}): success is a put guarded by its compare, failure a read of a state
   * in which the compare does not hold. An UNKNOWN one is modelled as its success only: its failure branch changes
   * nothing, which the search covers by never linearizing it.
   */
  private State txn(State s, Op op) {
    return switch (op.outcome()) {
      case OK -> {
        long newRevision = op.resultRevision();
        yield compareCouldHold(s, op) && newRevision > Math.max(s.revision(), op.expectedRevision())
            ? State.present(op.value(), newRevision, true)
            : null;
      }
      case UNKNOWN -> compareCouldHold(s, op)
          ? State.present(op.value(), Math.max(s.revision(), op.expectedRevision()) + 1, false)
          : null;
      case CONFLICT -> {
        String read = op.resultValue();
        long readRevision = op.resultRevision();
        // The read must show a state in which the compare fails...
        boolean compareFails = op.compareValue() != null
            ? read == null || !read.equals(op.compareValue())
            : readRevision != op.expectedRevision();
        if (!compareFails) yield null;
        // ...and be a state the key can be in now, as a GET's.
        if (read == null) yield s.presence() == Presence.PRESENT ? null : absentKeepingFloor(s);
        if (s.presence() == Presence.ABSENT || (s.value() != null && !s.value().equals(read))
            || !revisionCouldBe(s, readRevision)) {
          yield null;
        }
        yield State.present(read, readRevision, true);
      }
      case NOT_FOUND -> throw new IllegalStateException("TXN cannot be NOT_FOUND");
    };
  }

  /** Whether the TXN's compare can hold in {@code s}: the value is (or may be) compareValue, or as CAS's match. */
  private boolean compareCouldHold(State s, Op op) {
    if (op.compareValue() != null) {
      return s.presence() != Presence.ABSENT && (s.value() == null || s.value().equals(op.compareValue()));
    }
    long expected = op.expectedRevision();
    return expected == 0
        ? s.presence() != Presence.PRESENT
        : s.presence() != Presence.ABSENT && revisionCouldBe(s, expected);
  }

  private State get(State s, Op op) {
    return switch (op.outcome()) {
      case OK -> {
        if (s.presence() == Presence.ABSENT) {
          yield null;
        }
        if (s.value() != null && !s.value().equals(op.resultValue())) {
          yield null;
        }
        if (!revisionCouldBe(s, op.resultRevision())) {
          yield null;
        }
        yield State.present(op.resultValue(), op.resultRevision(), true);
      }
      case NOT_FOUND -> s.presence() == Presence.PRESENT ? null : absentKeepingFloor(s);
      case CONFLICT, UNKNOWN ->
          throw new IllegalStateException("not a valid GET for the model: " + op.describe());
    };
  }

  private State put(State s, Op op) {
    if (op.outcome() == Outcome.UNKNOWN) {
      // Took effect with some revision we never saw, greater than every earlier one.
      return State.present(op.value(), s.revision() + 1, false);
    }
    return op.resultRevision() > s.revision()
        ? State.present(op.value(), op.resultRevision(), true)
        : null;
  }

  private State cas(State s, Op op) {
    long expected = op.expectedRevision();
    // Could the key's revision (0 when absent) be `expected` right now?
    boolean matches =
        expected == 0
            ? s.presence() != Presence.PRESENT
            : s.presence() != Presence.ABSENT && revisionCouldBe(s, expected);
    return switch (op.outcome()) {
      case OK -> {
        long newRevision = op.resultRevision();
        yield matches && newRevision > Math.max(s.revision(), expected)
            ? State.present(op.value(), newRevision, true)
            : null;
      }
      case UNKNOWN ->
          matches ? State.present(op.value(), Math.max(s.revision(), expected) + 1, false) : null;
      case CONFLICT -> {
        long current = op.resultRevision();
        if (current == expected) {
          yield null; // with this revision the CAS would have succeeded
        }
        if (current == 0) {
          yield s.presence() == Presence.PRESENT ? null : absentKeepingFloor(s);
        }
        if (s.presence() == Presence.ABSENT || !revisionCouldBe(s, current)) {
          yield null;
        }
        // State unchanged, but now we know its revision exactly.
        yield State.present(s.value(), current, true);
      }
      case NOT_FOUND -> throw new IllegalStateException("CAS cannot be NOT_FOUND");
    };
  }

  private State delete(State s, Op op) {
    return switch (op.outcome()) {
      case OK ->
          s.presence() != Presence.ABSENT && op.resultRevision() > s.revision()
              ? State.absent(op.resultRevision())
              : null;
      case NOT_FOUND -> s.presence() == Presence.PRESENT ? null : absentKeepingFloor(s);
      case UNKNOWN ->
          switch (s.presence()) {
            case PRESENT -> State.absent(s.revision() + 1);
            // Deleted or already absent: either way absent now. The floor stays 0, a safe
            // under-approximation of what a real delete would have consumed.
            case UNKNOWN -> State.absent(0);
            // Deleting an absent key changes nothing: same as never happening, which the search
            // already covers by not linearizing the op.
            case ABSENT -> null;
          };
      case CONFLICT -> throw new IllegalStateException("DELETE cannot be CONFLICT");
    };
  }

  /** Given the key is (or may be) present, could its revision be {@code r}? */
  private boolean revisionCouldBe(State s, long r) {
    if (s.exact()) {
      return s.revision() == r;
    }
    // Inexact and PRESENT: the last write was an unknown one. Inexact and UNKNOWN presence: the
    // start of a window, whose last write may be any earlier op, taken revision or not.
    return r >= s.revision() && (s.presence() == Presence.UNKNOWN || !takenByKnownWrite.test(r));
  }

  /** A response said "absent": keep what we know about the revision floor. */
  private static State absentKeepingFloor(State s) {
    return s.presence() == Presence.ABSENT ? s : State.absent(0);
  }
}

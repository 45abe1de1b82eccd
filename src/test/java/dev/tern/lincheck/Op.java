package dev.tern.lincheck;

import java.util.Objects;

/**
 * One client operation on one key, as observed from outside the cluster: what was asked, what came
 * back, and the real-time interval in which it happened.
 *
 * <p>An operation whose outcome is {@link Outcome#UNKNOWN} (timeout, lost connection) may have taken
 * effect at any moment after its invocation, or never; its completion time is therefore +infinity
 * ({@link Long#MAX_VALUE}), which the constructor enforces.
 *
 * @param id unique within a history; identifies the op in reports
 * @param client the process / client that issued it (a client issues one op at a time)
 * @param value input value of PUT and CAS, null otherwise
 * @param expectedRevision input of CAS (0 = the key must be absent), 0 otherwise
 * @param resultValue the value returned by an OK GET or read by a TXN's failure branch, null otherwise
 * @param resultRevision OK write: the new revision (log index); OK GET: the value's revision;
 *     CAS CONFLICT: the key's revision at that time (0 if absent); TXN CONFLICT: the revision its failure branch
 *     read (0 if absent); otherwise 0
 * @param compareValue a TXN's compare "value = compareValue"; null for every other op, and for a TXN whose compare
 *     is "revision = expectedRevision"
 */
public record Op(
    long id,
    int client,
    String key,
    Kind kind,
    String value,
    long expectedRevision,
    Outcome outcome,
    String resultValue,
    long resultRevision,
    long invokeNanos,
    long completeNanos,
    String compareValue) {

  public enum Kind {
    PUT,
    CAS,
    DELETE,
    GET,
    /**
     * A transaction on one key (docs/api.md, "Transactions"): if the compare holds (the value is
     * {@code compareValue}, or without one the revision is {@code expectedRevision}, 0 = absent), put {@code value};
     * otherwise get the key. OK: the put ran, at {@code resultRevision}; CONFLICT: the get ran and read
     * {@code resultValue} at {@code resultRevision} (null and 0: absent).
     */
    TXN
  }

  public enum Outcome {
    OK,
    CONFLICT,
    NOT_FOUND,
    UNKNOWN
  }

  /** An op other than a value-comparing TXN. */
  public Op(long id, int client, String key, Kind kind, String value, long expectedRevision, Outcome outcome,
      String resultValue, long resultRevision, long invokeNanos, long completeNanos) {
    this(id, client, key, kind, value, expectedRevision, outcome, resultValue, resultRevision, invokeNanos,
        completeNanos, null);
  }

  public Op {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(outcome, "outcome");
    if (outcome == Outcome.UNKNOWN) {
      completeNanos = Long.MAX_VALUE; // may take effect at any time after invocation
    } else if (completeNanos < invokeNanos || completeNanos == Long.MAX_VALUE) {
      throw new IllegalArgumentException(
          "a completed op needs invoke <= complete < MAX_VALUE: " + invokeNanos + ".." + completeNanos);
    }
    boolean allowed =
        switch (kind) {
          case PUT -> outcome == Outcome.OK || outcome == Outcome.UNKNOWN;
          case CAS, TXN -> outcome != Outcome.NOT_FOUND;
          case DELETE, GET -> outcome != Outcome.CONFLICT;
        };
    if (!allowed) {
      throw new IllegalArgumentException(kind + " cannot end in " + outcome);
    }
    if (compareValue != null && kind != Kind.TXN) {
      throw new IllegalArgumentException("only a TXN compares a value");
    }
    if (kind == Kind.TXN && compareValue != null && expectedRevision != 0) {
      throw new IllegalArgumentException("a TXN compares a value or a revision, not both");
    }
    if (kind == Kind.TXN && outcome == Outcome.CONFLICT && (resultValue == null) != (resultRevision == 0)) {
      throw new IllegalArgumentException("a TXN's failure branch read a value with its revision, or nothing");
    }
    if ((kind == Kind.PUT || kind == Kind.CAS || kind == Kind.TXN) && value == null) {
      throw new IllegalArgumentException(kind + " needs a value");
    }
    if (expectedRevision < 0 || resultRevision < 0) {
      throw new IllegalArgumentException("revisions are never negative");
    }
    if (outcome == Outcome.OK && resultRevision == 0) {
      throw new IllegalArgumentException("an OK " + kind + " reports a revision > 0");
    }
    if (kind == Kind.GET && outcome == Outcome.OK && resultValue == null) {
      throw new IllegalArgumentException("an OK GET returns a value");
    }
  }

  public boolean isUnknown() {
    return outcome == Outcome.UNKNOWN;
  }

  /** True for ops that can change the key's state (a GET never does). */
  public boolean isWrite() {
    return kind != Kind.GET;
  }

  /** "c2 CAS(expect=3, v="b") -> CONFLICT current=5": inputs and outcome, without times. */
  public String describe() {
    String call =
        switch (kind) {
          case PUT -> "PUT(v=\"" + value + "\")";
          case CAS -> "CAS(expect=" + expectedRevision + ", v=\"" + value + "\")";
          case DELETE -> "DELETE";
          case GET -> "GET";
          case TXN -> "TXN(if " + (compareValue != null ? "value=\"" + compareValue + "\"" : "rev=" + expectedRevision)
              + " put v=\"" + value + "\" else get)";
        };
    String result =
        switch (outcome) {
          case OK ->
              kind == Kind.GET
                  ? "OK v=\"" + resultValue + "\" rev=" + resultRevision
                  : "OK rev=" + resultRevision;
          case CONFLICT -> kind == Kind.TXN
              ? "FAILED read " + (resultValue == null ? "absent" : "v=\"" + resultValue + "\" rev=" + resultRevision)
              : "CONFLICT current=" + resultRevision;
          case NOT_FOUND -> "NOT_FOUND";
          case UNKNOWN -> "UNKNOWN";
        };
    return "c" + client + " " + call + " -> " + result;
  }
}

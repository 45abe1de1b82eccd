package dev.tern.lincheck;

import dev.tern.lincheck.Op.Kind;
import dev.tern.lincheck.Op.Outcome;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.LongSupplier;

/**
 * Thread-safe recorder of client operations. A client calls {@code invokeX} just before sending a
 * request and one completion method on the returned {@link Call} just after the response (or the
 * timeout). Operations still in flight when the history is read count as UNKNOWN, since the test
 * stopped watching them.
 *
 * <p>One lock guards everything: recording is cheap compared with a network round trip, and a
 * single lock makes the snapshot in {@link #ops()} trivially consistent.
 */
public final class History {

  private final LongSupplier clock;
  private final Object lock = new Object();
  private long nextId = 1;
  private final Map<Long, Call> inFlight = new LinkedHashMap<>();
  private final List<Op> completed = new ArrayList<>();

  /** Uses {@link System#nanoTime()}, which is monotonic across all threads of one JVM. */
  public History() {
    this(System::nanoTime);
  }

  public History(LongSupplier clock) {
    this.clock = clock;
  }

  public Call invokePut(int client, String key, String value) {
    return invoke(client, key, Kind.PUT, value, 0);
  }

  public Call invokeCas(int client, String key, long expectedRevision, String value) {
    return invoke(client, key, Kind.CAS, value, expectedRevision);
  }

  public Call invokeDelete(int client, String key) {
    return invoke(client, key, Kind.DELETE, null, 0);
  }

  public Call invokeGet(int client, String key) {
    return invoke(client, key, Kind.GET, null, 0);
  }

  /** A one-key transaction: if the key's revision is {@code expectedRevision} (0: absent) put {@code value}, else get. */
  public Call invokeTxnOnRevision(int client, String key, long expectedRevision, String value) {
    return invoke(client, key, Kind.TXN, value, expectedRevision, null);
  }

  /** A one-key transaction: if the key's value is {@code compareValue} put {@code value}, else get. */
  public Call invokeTxnOnValue(int client, String key, String compareValue, String value) {
    return invoke(client, key, Kind.TXN, value, 0, compareValue);
  }

  private Call invoke(int client, String key, Kind kind, String value, long expectedRevision) {
    return invoke(client, key, kind, value, expectedRevision, null);
  }

  private Call invoke(int client, String key, Kind kind, String value, long expectedRevision, String compareValue) {
    synchronized (lock) {
      // Timestamp under the lock so ids and invocation times are ordered the same way.
      Call call = new Call(nextId++, client, key, kind, value, expectedRevision, compareValue, clock.getAsLong());
      inFlight.put(call.id, call);
      return call;
    }
  }

  /** All operations so far, sorted by invocation; in-flight ones as UNKNOWN, UNKNOWN GETs dropped. */
  public List<Op> ops() {
    List<Op> all = new ArrayList<>();
    synchronized (lock) {
      all.addAll(completed);
      for (Call call : inFlight.values()) {
        all.add(call.toOp(Outcome.UNKNOWN, null, 0, Long.MAX_VALUE));
      }
    }
    // An unknown read tells nothing and changes nothing.
    all.removeIf(op -> op.kind() == Kind.GET && op.isUnknown());
    all.sort(Comparator.comparingLong(Op::invokeNanos).thenComparingLong(Op::id));
    return all;
  }

  /** {@link #ops()} partitioned by key (keys sorted), each list sorted by invocation. */
  public Map<String, List<Op>> byKey() {
    Map<String, List<Op>> byKey = new TreeMap<>();
    for (Op op : ops()) {
      byKey.computeIfAbsent(op.key(), k -> new ArrayList<>()).add(op);
    }
    return byKey;
  }

  /** An invoked operation awaiting its single completion. */
  public final class Call {
    private final long id;
    private final int client;
    private final String key;
    private final Kind kind;
    private final String value;
    private final long expectedRevision;
    private final String compareValue;
    private final long invokeNanos;

    private Call(
        long id,
        int client,
        String key,
        Kind kind,
        String value,
        long expectedRevision,
        String compareValue,
        long invokeNanos) {
      this.id = id;
      this.client = client;
      this.key = key;
      this.kind = kind;
      this.value = value;
      this.expectedRevision = expectedRevision;
      this.compareValue = compareValue;
      this.invokeNanos = invokeNanos;
    }

    public long id() {
      return id;
    }

    /** A PUT, CAS or DELETE succeeded with this (new) revision. */
    public void ok(long revision) {
      complete(Outcome.OK, null, revision);
    }

    /** A GET returned this value and revision. */
    public void okRead(String readValue, long revision) {
      complete(Outcome.OK, readValue, revision);
    }

    /** A CAS failed; the key's revision was {@code currentRevision} (0 if absent). */
    public void conflict(long currentRevision) {
      complete(Outcome.CONFLICT, null, currentRevision);
    }

    /** A TXN's compare failed; its get read {@code readValue} at {@code revision} (null and 0: absent). */
    public void txnFailed(String readValue, long revision) {
      complete(Outcome.CONFLICT, readValue, revision);
    }

    /** A GET or DELETE found no key. */
    public void notFound() {
      complete(Outcome.NOT_FOUND, null, 0);
    }

    /** Timed out or lost the connection: may or may not have taken effect. */
    public void unknown() {
      complete(Outcome.UNKNOWN, null, 0);
    }

    /**
     * Certainly had no effect and observed nothing: the request never reached the server (the connection was
     * refused) or was rejected before it could do anything (e.g. a 4xx). The op is left out of the history, as
     * if it had never been invoked; recording it as {@link #unknown()} would also be sound, only weaker.
     */
    public void failed() {
      synchronized (lock) {
        if (inFlight.remove(id) == null) {
          throw new IllegalStateException("op " + id + " completed twice");
        }
      }
    }

    private void complete(Outcome outcome, String resultValue, long resultRevision) {
      synchronized (lock) {
        if (inFlight.remove(id) == null) {
          throw new IllegalStateException("op " + id + " completed twice");
        }
        long now = outcome == Outcome.UNKNOWN ? Long.MAX_VALUE : clock.getAsLong();
        completed.add(toOp(outcome, resultValue, resultRevision, now));
      }
    }

    private Op toOp(Outcome outcome, String resultValue, long resultRevision, long completeNanos) {
      return new Op(
          id,
          client,
          key,
          kind,
          value,
          expectedRevision,
          outcome,
          resultValue,
          resultRevision,
          invokeNanos,
          completeNanos,
          compareValue);
    }
  }
}

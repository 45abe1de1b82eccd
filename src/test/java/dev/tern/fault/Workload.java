package dev.tern.fault;

import dev.tern.fault.TernHttp.Answer;
import dev.tern.lincheck.History;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Concurrent clients over HTTP, each sending one request at a time to a random node: linearizable gets, puts,
 * compare-and-sets and deletes on a small key set with unique values, every one recorded in a {@link History}
 * (invoked just before sending, completed on the answer); and stale reads, which are not linearizable by design and
 * are only checked against the values clients tried to write.
 *
 * <p>Keys are {@code e<epoch>-k<i>}: every {@code epoch} of time the clients move to a fresh set of keys. Keys are
 * independent objects, checked one by one, so this bounds the history of each key (and the checker's work) however
 * long the run is; the cluster, its log and the faults carry on across epochs.
 *
 * <p>How answers are recorded and counted (see docs/testing.md):
 *
 * <ul>
 *   <li><b>ok</b>: a definite result. 200; 404 for a get or delete (absent); 409 for a CAS (conflict, with the
 *       current revision).
 *   <li><b>fail</b>: definitely no effect. Any failed read (linearizable or stale: a read changes nothing); a write
 *       whose connection was refused (a node down), refused before reaching the cluster (503 "too many requests in
 *       progress") or answered a 4xx. Failed ops are left out of the history ({@link History.Call#failed()}).
 *   <li><b>unknown</b>: a write answered 5xx, timed out or lost its connection: it may take effect later or never.
 * </ul>
 *
 * Answers that are wrong on their face are <b>anomalies</b> and fail the test: a 200 that does not echo the write,
 * a 500, a 4xx to a well-formed request, a stale read of a value nobody tried to write to that key, two different
 * revisions reported for one (unique) value, or one revision (a log index) reported for two different writes.
 */
final class Workload {
  /** What clients have tried to write to each key (registered before sending). */
  private final Map<String, Set<String>> attempted = new ConcurrentHashMap<>();
  /** Revision seen with each value: values are unique, so each is written at most once, at one log index. */
  private final Map<String, Long> revisionOfValue = new ConcurrentHashMap<>();
  /** What each revision (log index) was reported for: a value, or a key's delete. */
  private final Map<Long, String> writeAtRevision = new ConcurrentHashMap<>();
  private final List<String> anomalies = Collections.synchronizedList(new ArrayList<>());

  final AtomicLong ok = new AtomicLong();
  final AtomicLong fail = new AtomicLong();
  final AtomicLong unknown = new AtomicLong();
  final AtomicLong staleReads = new AtomicLong();
  final AtomicLong staleOk = new AtomicLong();
  private final Map<String, AtomicLong> byKind = new ConcurrentHashMap<>();

  private final NodeProcesses cluster;
  private final History history;
  private final int keyCount;
  private final Duration epoch;
  private volatile long startNanos;
  private final Set<String> usedKeys = ConcurrentHashMap.newKeySet();
  private final int clients;
  private final Duration clientTimeout;
  private final long seed;
  private final AtomicBoolean stop = new AtomicBoolean();
  private final List<Thread> threads = new ArrayList<>();

  Workload(NodeProcesses cluster, History history, int keyCount, Duration epoch, int clients, Duration clientTimeout,
      long seed) {
    this.cluster = cluster;
    this.history = history;
    this.keyCount = keyCount;
    this.epoch = epoch;
    this.clients = clients;
    this.clientTimeout = clientTimeout;
    this.seed = seed;
  }

  void start() {
    startNanos = System.nanoTime();
    for (int c = 0; c < clients; c++) {
      int client = c;
      Thread t = new Thread(() -> run(client), "fault-client-" + c);
      t.setDaemon(true);
      threads.add(t);
      t.start();
    }
  }

  /** Stops the clients; each finishes its request in flight (at most the client timeout). */
  void stop() throws InterruptedException {
    stop.set(true);
    long deadline = System.nanoTime() + clientTimeout.plusSeconds(10).toNanos();
    for (Thread t : threads) t.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
    for (Thread t : threads) {
      if (t.isAlive()) {
        t.interrupt();
        anomalies.add(t.getName() + " did not stop within " + clientTimeout.plusSeconds(10));
      }
    }
  }

  /** Every key the clients used, sorted. */
  List<String> usedKeys() {
    return new java.util.TreeSet<>(usedKeys).stream().toList();
  }

  List<String> anomalies() {
    synchronized (anomalies) {
      return List.copyOf(anomalies);
    }
  }

  Map<String, Long> countsByKind() {
    Map<String, Long> out = new java.util.TreeMap<>();
    byKind.forEach((k, v) -> out.put(k, v.get()));
    return out;
  }

  long total() {
    return ok.get() + fail.get() + unknown.get();
  }

  private void count(String what) {
    byKind.computeIfAbsent(what, k -> new AtomicLong()).incrementAndGet();
  }

  private void run(int client) {
    Random rnd = new Random(seed * 1_000_003L + client);
    TernHttp http = new TernHttp(clientTimeout);
    List<String> ids = cluster.ids();
    Map<String, Long> lastRevision = new HashMap<>(); // what this client last saw of each key
    for (long seq = 0; !stop.get(); seq++) {
      String node = ids.get(rnd.nextInt(ids.size()));
      String base = cluster.http(node);
      String key = "e" + (System.nanoTime() - startNanos) / epoch.toNanos() + "-k" + rnd.nextInt(keyCount);
      usedKeys.add(key);
      String value = "c" + client + "-" + seq;
      int dice = rnd.nextInt(100);
      boolean definite;
      try {
        if (dice < 30) {
          definite = get(client, http, base, node, key, lastRevision);
        } else if (dice < 40) {
          definite = staleGet(http, base, node, key);
        } else if (dice < 65) {
          definite = put(client, http, base, node, key, value, lastRevision);
        } else if (dice < 88) {
          long expected = lastRevision.containsKey(key) && rnd.nextInt(4) > 0 ? lastRevision.get(key) : 0;
          definite = cas(client, http, base, node, key, expected, value, lastRevision);
        } else {
          definite = delete(client, http, base, node, key, lastRevision);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      if (!definite) {
        try {
          Thread.sleep(50 + rnd.nextInt(50)); // pacing: no leader or node down, do not spin
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }

  // ---------------------------------------------------------------------------------- the operations

  private boolean get(int client, TernHttp http, String base, String node, String key, Map<String, Long> last)
      throws InterruptedException {
    count("get");
    History.Call call = history.invokeGet(client, key);
    Answer a;
    try {
      a = http.get(base, "/v1/kv/" + key);
    } catch (IOException e) {
      call.failed(); // a read that failed changes nothing and observed nothing
      fail.incrementAndGet();
      return false;
    }
    if (a.status() == 200 && a.body() != null && key.equals(a.body().path("key").asText()) && a.revision() > 0
        && a.body().path("value").isTextual()) {
      String v = a.body().get("value").asText();
      call.okRead(v, a.revision());
      observe(a.revision(), v, "GET " + key + " on " + node);
      checkAttempted(key, v, "linearizable GET on " + node);
      last.put(key, a.revision());
      ok.incrementAndGet();
      return true;
    }
    if (a.status() == 404 && a.body() != null && key.equals(a.body().path("key").asText())) {
      call.notFound();
      last.put(key, 0L);
      ok.incrementAndGet();
      return true;
    }
    call.failed();
    fail.incrementAndGet();
    unexpected("GET " + key, node, a);
    return false;
  }

  private boolean staleGet(TernHttp http, String base, String node, String key) throws InterruptedException {
    count("stale-get");
    staleReads.incrementAndGet();
    Answer a;
    try {
      a = http.get(base, "/v1/kv/" + key + "?consistency=stale");
    } catch (IOException e) {
      fail.incrementAndGet();
      return false;
    }
    if (a.status() == 200 && a.body() != null && key.equals(a.body().path("key").asText()) && a.revision() > 0
        && a.body().path("value").isTextual()) {
      String v = a.body().get("value").asText();
      checkAttempted(key, v, "stale GET on " + node);
      observe(a.revision(), v, "stale GET " + key + " on " + node);
      ok.incrementAndGet();
      staleOk.incrementAndGet();
      return true;
    }
    if (a.status() == 404 && a.body() != null && key.equals(a.body().path("key").asText())) {
      ok.incrementAndGet();
      staleOk.incrementAndGet();
      return true;
    }
    fail.incrementAndGet();
    unexpected("stale GET " + key, node, a);
    return false;
  }

  private boolean put(int client, TernHttp http, String base, String node, String key, String value,
      Map<String, Long> last) throws InterruptedException {
    count("put");
    attempted.computeIfAbsent(key, k -> ConcurrentHashMap.newKeySet()).add(value);
    History.Call call = history.invokePut(client, key, value);
    return write(call, http, base, node, key, value, "PUT " + key + "=" + value, last, "", false);
  }

  private boolean cas(int client, TernHttp http, String base, String node, String key, long expected, String value,
      Map<String, Long> last) throws InterruptedException {
    count("cas");
    attempted.computeIfAbsent(key, k -> ConcurrentHashMap.newKeySet()).add(value);
    History.Call call = history.invokeCas(client, key, expected, value);
    return write(call, http, base, node, key, value, "CAS " + key + "@" + expected + "=" + value, last,
        "?cas=" + expected, true);
  }

  private boolean write(History.Call call, TernHttp http, String base, String node, String key, String value,
      String what, Map<String, Long> last, String query, boolean cas) throws InterruptedException {
    Answer a;
    try {
      a = http.put(base, "/v1/kv/" + key + query, value);
    } catch (IOException e) {
      return notAnswered(call, e);
    }
    if (a.status() == 200) {
      if (a.body() != null && key.equals(a.body().path("key").asText()) && value.equals(a.body().path("value").asText())
          && a.revision() > 0) {
        call.ok(a.revision());
        observe(a.revision(), value, what + " on " + node);
        last.put(key, a.revision());
        ok.incrementAndGet();
        return true;
      }
      call.unknown();
      unknown.incrementAndGet();
      anomalies.add(what + " on " + node + ": a 200 that does not echo the write: " + a.raw());
      return false;
    }
    if (cas && a.status() == 409 && a.body() != null && key.equals(a.body().path("key").asText()) && a.revision() >= 0) {
      call.conflict(a.revision());
      last.put(key, a.revision());
      ok.incrementAndGet();
      return true;
    }
    return writeNotDone(call, what, node, a);
  }

  private boolean delete(int client, TernHttp http, String base, String node, String key, Map<String, Long> last)
      throws InterruptedException {
    count("delete");
    History.Call call = history.invokeDelete(client, key);
    Answer a;
    try {
      a = http.delete(base, "/v1/kv/" + key);
    } catch (IOException e) {
      return notAnswered(call, e);
    }
    if (a.status() == 200 && a.body() != null && key.equals(a.body().path("key").asText()) && a.revision() > 0) {
      call.ok(a.revision());
      observe(a.revision(), "DELETE " + key + " #" + call.id(), "DELETE " + key + " on " + node);
      last.put(key, 0L);
      ok.incrementAndGet();
      return true;
    }
    if (a.status() == 404 && a.body() != null && key.equals(a.body().path("key").asText())) {
      call.notFound();
      last.put(key, 0L);
      ok.incrementAndGet();
      return true;
    }
    return writeNotDone(call, "DELETE " + key, node, a);
  }

  /**
   * True when the request never left this process: the TCP connection was refused or not established in time (a
   * killed or restarting node). The write then certainly had no effect. A timeout after connecting, a reset or a
   * closed connection may come after the node received the request: unknown.
   */
  static boolean neverSent(IOException e) {
    return e instanceof java.net.ConnectException || e instanceof java.net.http.HttpConnectTimeoutException;
  }

  /** A write that got no answer: failed if it was never sent, else unknown. */
  private boolean notAnswered(History.Call call, IOException e) {
    if (neverSent(e)) {
      call.failed();
      fail.incrementAndGet();
    } else {
      call.unknown(); // timed out, reset or closed after sending: may or may not be applied
      unknown.incrementAndGet();
    }
    return false;
  }

  /** A write without a definite result: unknown (5xx), or failed (refused before reaching the cluster, 4xx). */
  private boolean writeNotDone(History.Call call, String what, String node, Answer a) {
    boolean refusedAtOnce = a.status() == 503 && a.body() != null
        && "too many requests in progress".equals(a.body().path("error").asText());
    if (a.status() >= 400 && a.status() < 500 || refusedAtOnce) {
      call.failed();
      fail.incrementAndGet();
    } else {
      call.unknown(); // UNKNOWN: may take effect at any time after it was sent, or never
      unknown.incrementAndGet();
    }
    unexpected(what, node, a);
    return false;
  }

  /** 503 is expected under faults; anything else that is not handled above is an anomaly. */
  private void unexpected(String what, String node, Answer a) {
    if (a.status() != 503) anomalies.add(what + " on " + node + ": unexpected " + a.status() + " " + a.raw());
  }

  // --------------------------------------------------------------------------------------- checks

  private void checkAttempted(String key, String value, String where) {
    Set<String> tried = attempted.get(key);
    if (tried == null || !tried.contains(value)) {
      anomalies.add(where + ": key " + key + " holds \"" + value + "\", which no client tried to write to it");
    }
  }

  /** One revision per unique value, and one write per revision (a log index holds one entry). */
  private void observe(long revision, String write, String where) {
    if (!write.startsWith("DELETE ")) {
      Long before = revisionOfValue.putIfAbsent(write, revision);
      if (before != null && before != revision) {
        anomalies.add(where + ": value \"" + write + "\" seen at revision " + revision + " and at " + before);
      }
    }
    String other = writeAtRevision.putIfAbsent(revision, write);
    if (other != null && !other.equals(write)) {
      anomalies.add(where + ": revision " + revision + " reported for " + write + " and for " + other);
    }
  }

  /** Whether a value was ever tried for the key (for the final convergence check). */
  boolean wasAttempted(String key, String value) {
    Set<String> tried = attempted.get(key);
    return tried != null && tried.contains(value);
  }
}

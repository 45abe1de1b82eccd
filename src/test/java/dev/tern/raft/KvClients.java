package dev.tern.raft;

import dev.tern.http.KvFront;
import dev.tern.kv.Bytes;
import dev.tern.kv.KvResult;
import dev.tern.kv.TxnCompare;
import dev.tern.kv.TxnOp;
import dev.tern.kv.TxnOpResult;
import dev.tern.lincheck.History;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * The simulated clients of {@link KvSimulation}, as FaultIT's: each sends one request at a time to a random node's
 * front: 28 % linearizable gets, 10 % stale gets, 22 % puts, 20 % compare-and-sets, 10 % transactions, 10 % deletes,
 * on a few keys, with a unique value per write. A transaction is on one key: if its value is the last one this
 * client saw (or its revision is: half of them each) put a new value, else get the key. Every request but the stale gets goes into a {@link History} in simulated time:
 * invoked when handed to the front, completed when the front answers. A write answered Unavailable, or whose node
 * crashed before answering, has an unknown outcome; a read that got no value did nothing and is left out. Every
 * {@code epoch} the clients move to fresh keys, which bounds each key's history.
 *
 * <p>Anomalies that need no search fail at once: a read of a value nobody wrote to that key, one value seen at two
 * revisions, one revision reported for two writes, a write answered with another value than it wrote.
 */
final class KvClients {
  private final KvSimulation kvSim;
  private final Simulation sim;
  final History history;
  private final int keys;
  private final long epochNanos;
  private long stopAt;
  private long nextValue;
  /** Requests waiting at each node's front: a crash leaves them unanswered. */
  private final Map<String, Map<CompletableFuture<KvFront.Reply>, Runnable>> waiting = new HashMap<>();
  private final Map<String, Set<String>> triedValues = new HashMap<>();
  private final Map<String, Long> revisionOfValue = new HashMap<>();
  private final Map<Long, String> writeAtRevision = new HashMap<>();
  private final Map<String, Long> lastRevision = new HashMap<>();
  /** The last value seen of each key (written or read), for transactions that compare values. */
  private final Map<String, String> lastValue = new HashMap<>();
  private final Set<String> allKeys = new HashSet<>();
  /** The leases the lease traffic believes exist (granted, not seen ended). */
  private final List<Long> leases = new java.util.ArrayList<>();
  /**
   * Requests invoked at or after this time to the node that then leads must get a definite answer: the cluster is
   * healthy by then. (A follower may still be catching up by InstallSnapshot, and rightly answer Unavailable.)
   */
  private long mustAnswerAfter = Long.MAX_VALUE;
  long ops;
  long staleReads;
  long unavailable;
  long lostInCrash;
  long refused;
  int inFlight;

  KvClients(KvSimulation kvSim, int keys, java.time.Duration epoch) {
    this.kvSim = kvSim;
    this.sim = kvSim.sim;
    this.history = new History(sim::nowNanos);
    this.keys = keys;
    this.epochNanos = epoch.toNanos();
    kvSim.onCrash(this::crashed);
  }

  /** Starts {@code clients} clients, which stop issuing requests at {@code until} (simulated nanos). */
  void start(int clients, long until) {
    stopAt = until;
    for (int c = 0; c < clients; c++) next(c);
  }

  void requireAnswersAfter(long nanos) {
    mustAnswerAfter = nanos;
  }

  private void next(int client) {
    sim.atNanos(sim.randomBetween(1_000_000, 20_000_000), () -> {
      if (sim.nowNanos() < stopAt) issue(client);
    }, "client " + client);
  }

  private String key(int k) {
    String key = "e" + sim.nowNanos() / epochNanos + "-k" + k;
    allKeys.add(key);
    return key;
  }

  private void issue(int client) {
    List<String> ids = kvSim.ids();
    String node = ids.get(sim.randomInt(ids.size()));
    if (kvSim.front(node) == null) { // connection refused: nothing sent
      refused++;
      next(client);
      return;
    }
    ops++;
    int roll = sim.randomInt(100);
    if (roll >= 95) {
      issueLease(client, node);
      return;
    }
    String key = key(sim.randomInt(keys));
    CompletableFuture<KvFront.Reply> reply = new CompletableFuture<>();
    if (roll < 10) {
      staleReads++;
      kvSim.request(node, new KvFront.Get(key, false, reply));
      read(key, reply.getNow(null), true);
      next(client);
      return;
    }
    History.Call call;
    KvFront.Command command;
    String value = "v" + nextValue++;
    if (roll < 38) {
      call = history.invokeGet(client, key);
      command = new KvFront.Get(key, true, reply);
    } else if (roll < 60) {
      call = history.invokePut(client, key, value);
      command = new KvFront.Put(key, value, KvFront.Put.UNCONDITIONAL, reply);
    } else if (roll < 70) {
      TxnCompare compare;
      if (lastValue.containsKey(key) && sim.randomInt(2) == 0) {
        String expected = lastValue.get(key);
        call = history.invokeTxnOnValue(client, key, expected, value);
        compare = TxnCompare.value(key, TxnCompare.Relation.EQUAL, Bytes.utf8(expected));
      } else {
        long expected = lastRevision.containsKey(key) && sim.randomInt(4) > 0 ? lastRevision.get(key) : 0;
        call = history.invokeTxnOnRevision(client, key, expected, value);
        compare = TxnCompare.revision(key, TxnCompare.Relation.EQUAL, expected);
      }
      command = new KvFront.Txn(List.of(compare), List.of(new TxnOp.Put(key, Bytes.utf8(value))),
          List.of(new TxnOp.Get(key)), null, reply);
    } else if (roll < 90) {
      long expected = lastRevision.containsKey(key) && sim.randomInt(4) > 0 ? lastRevision.get(key) : 0;
      call = history.invokeCas(client, key, expected, value);
      command = new KvFront.Put(key, value, expected, reply);
    } else {
      call = history.invokeDelete(client, key);
      command = new KvFront.Delete(key, reply);
    }
    boolean write = !(command instanceof KvFront.Get);
    if (write) triedValues.computeIfAbsent(key, k -> new HashSet<>()).add(value);
    boolean mustAnswer = sim.nowNanos() >= mustAnswerAfter && sim.stableLeader().equals(java.util.Optional.of(node));
    Map<CompletableFuture<KvFront.Reply>, Runnable> atNode = waiting.computeIfAbsent(node, n -> new HashMap<>());
    inFlight++;
    atNode.put(reply, () -> { // the node crashed first
      lostInCrash++;
      if (write) call.unknown();
      else call.failed();
      inFlight--;
      next(client);
    });
    reply.thenAccept(r -> {
      if (atNode.remove(reply) == null) return;
      inFlight--;
      complete(call, key, write ? value : null, r, mustAnswer, node);
      next(client);
    });
    kvSim.request(node, command);
  }

  /**
   * Lease traffic (issue 11), on keys of its own ("lease-k*", outside the linearizability history): grants, puts that
   * attach a key, keepalives, revocations, and the leader's expiries (as dev.tern.cluster.LeaseKeeper proposes them,
   * here with a current or a stale renewal). Every replica must apply them alike: KvRun compares the replicas' data
   * and leases once they converge, and the watches check the deletes that revocations make.
   */
  private void issueLease(int client, String node) {
    CompletableFuture<KvFront.Reply> reply = new CompletableFuture<>();
    Long lease = leases.isEmpty() ? null : leases.get(sim.randomInt(leases.size()));
    int roll = sim.randomInt(100);
    java.util.function.Function<String, dev.tern.kv.KvCommand> command;
    if (lease == null || roll < 20) {
      command = id -> new dev.tern.kv.KvCommand.LeaseGrant(id, 1000);
    } else if (roll < 60) {
      String key = "lease-k" + sim.randomInt(keys); // not in allKeys: the final reads are of the history's keys
      String value = "v" + nextValue++;
      command = id -> new dev.tern.kv.KvCommand.Put(id, key, Bytes.utf8(value), lease);
    } else if (roll < 75) {
      command = id -> new dev.tern.kv.KvCommand.LeaseKeepAlive(id, lease);
    } else if (roll < 88) {
      command = id -> new dev.tern.kv.KvCommand.LeaseRevoke(id, lease);
    } else {
      long renewedAt = kvSim.kv(node) == null ? lease : kvSim.kv(node).lease(lease).map(dev.tern.kv.Lease::renewedAt).orElse(lease);
      command = id -> new dev.tern.kv.KvCommand.LeaseExpire(id, lease, renewedAt);
    }
    Map<CompletableFuture<KvFront.Reply>, Runnable> atNode = waiting.computeIfAbsent(node, n -> new HashMap<>());
    inFlight++;
    atNode.put(reply, () -> {
      lostInCrash++;
      inFlight--;
      next(client);
    });
    reply.thenAccept(r -> {
      if (atNode.remove(reply) == null) return;
      inFlight--;
      if (r instanceof KvFront.Reply.Done done) {
        KvResult result = done.result();
        if (result instanceof KvResult.LeaseGranted g) {
          leases.add(g.lease());
        } else if (result instanceof KvResult.LeaseRevoked v) {
          leases.remove(v.lease());
          for (String key : v.keys()) {
            if (!key.startsWith("lease-k")) throw anomaly("revoking lease " + v.lease() + " deleted " + key + ", no lease's key");
          }
        } else if (result instanceof KvResult.LeaseNotFound nf) {
          leases.remove(nf.lease());
        } else if (!(result instanceof KvResult.Written || result instanceof KvResult.LeaseAlive)) {
          throw anomaly("a lease request answered " + result);
        }
      }
      next(client);
    });
    kvSim.request(node, new KvFront.Submit(command, null, reply));
  }

  private void crashed(String node) {
    Map<CompletableFuture<KvFront.Reply>, Runnable> lost = waiting.remove(node);
    if (lost != null) lost.values().forEach(Runnable::run);
  }

  private void complete(History.Call call, String key, String value, KvFront.Reply reply, boolean mustAnswer, String node) {
    if (reply instanceof KvFront.Reply.Unavailable u) {
      unavailable++;
      if (mustAnswer) {
        throw new InvariantChecker.Violation("Liveness", "a request to the leader " + node + " made after the cluster"
            + " healed was answered Unavailable at " + sim.nowMillis() + " ms: " + u.reason());
      }
      if (value != null) call.unknown();
      else call.failed();
      return;
    }
    KvResult result = ((KvFront.Reply.Done) reply).result();
    if (result instanceof KvResult.Written w) {
      if (!value.equals(w.value().utf8())) throw anomaly("a write of " + value + " to " + key + " answered " + w);
      wrote(key, value, w.revision());
      call.ok(w.revision());
    } else if (result instanceof KvResult.Deleted d) {
      wrote(key, null, d.revision());
      call.ok(d.revision());
      lastRevision.put(key, 0L);
    } else if (result instanceof KvResult.CasConflict c) {
      call.conflict(c.currentRevision());
      lastRevision.put(key, c.currentRevision());
    } else if (result instanceof KvResult.NotFound) {
      call.notFound();
      lastRevision.put(key, 0L);
      lastValue.remove(key);
    } else if (result instanceof KvResult.Value v) {
      read(key, reply, false);
      call.okRead(v.value().utf8(), v.revision());
    } else if (result instanceof KvResult.TxnDone t) {
      transacted(call, key, value, t);
    } else {
      throw anomaly("request on " + key + " answered " + result);
    }
  }

  /** A one-key transaction's answer: its put ran at the transaction's revision, or its get read the key. */
  private void transacted(History.Call call, String key, String value, KvResult.TxnDone t) {
    if (t.results().size() != 1) throw anomaly("a transaction on " + key + " answered " + t);
    if (t.succeeded()) {
      if (!t.results().get(0).equals(new TxnOpResult.Put(key, t.revision()))) {
        throw anomaly("a transaction's put of " + value + " to " + key + " answered " + t);
      }
      wrote(key, value, t.revision());
      call.ok(t.revision());
    } else if (t.results().get(0) instanceof TxnOpResult.Get g && g.key().equals(key)) {
      if (!g.found()) {
        call.txnFailed(null, 0);
        lastRevision.put(key, 0L);
        lastValue.remove(key);
        return;
      }
      String read = g.value().utf8();
      if (!triedValues.getOrDefault(key, Set.of()).contains(read)) {
        throw anomaly("a transaction's read of " + key + " saw " + read + ", never written to it");
      }
      seen(key, read, g.revision());
      lastRevision.put(key, g.revision());
      lastValue.put(key, read);
      call.txnFailed(read, g.revision());
    } else {
      throw anomaly("a failed transaction on " + key + " answered " + t);
    }
  }

  private void wrote(String key, String value, long revision) {
    String owner = (value == null ? "delete of " + key : value) + "";
    String before = writeAtRevision.putIfAbsent(revision, owner);
    if (before != null) throw anomaly("revision " + revision + " reported for two writes: " + before + " and " + owner);
    if (value != null) seen(key, value, revision);
    lastRevision.put(key, revision);
    if (value != null) lastValue.put(key, value);
    else lastValue.remove(key);
  }

  /** A read, linearizable or stale: it may only see a value some client wrote to that key, at one revision. */
  private void read(String key, KvFront.Reply reply, boolean stale) {
    if (reply == null) throw anomaly("a stale read of " + key + " was not answered at once");
    if (!(reply instanceof KvFront.Reply.Done d)) throw anomaly("a read of " + key + " answered " + reply);
    if (d.result() instanceof KvResult.Value v) {
      if (!triedValues.getOrDefault(key, Set.of()).contains(v.value().utf8())) {
        throw anomaly((stale ? "a stale" : "a") + " read of " + key + " saw " + v.value().utf8() + ", never written to it");
      }
      seen(key, v.value().utf8(), v.revision());
      if (!stale) {
        lastRevision.put(key, v.revision());
        lastValue.put(key, v.value().utf8());
      }
    } else if (!(d.result() instanceof KvResult.NotFound)) {
      throw anomaly("a read of " + key + " answered " + d.result());
    }
  }

  private void seen(String key, String value, long revision) {
    Long known = revisionOfValue.putIfAbsent(value, revision);
    if (known != null && known != revision) {
      throw anomaly(value + " of " + key + " seen at revisions " + known + " and " + revision);
    }
  }

  private static InvariantChecker.Violation anomaly(String what) {
    return new InvariantChecker.Violation("Client anomaly", what);
  }

  /** Every key the clients used. */
  List<String> keys() {
    List<String> sorted = new ArrayList<>(allKeys);
    java.util.Collections.sort(sorted);
    return sorted;
  }

  /**
   * A final linearizable read of {@code key} through a live front, asked again (of the next node) until it gets a
   * value or {@code NotFound}; recorded in the history like the others.
   */
  void finalRead(int client, String key, int attempt, Runnable done) {
    List<String> live = sim.liveIds();
    String node = live.get((client + attempt) % live.size());
    History.Call call = history.invokeGet(client, key);
    CompletableFuture<KvFront.Reply> reply = new CompletableFuture<>();
    reply.thenAccept(r -> {
      if (r instanceof KvFront.Reply.Unavailable) {
        call.failed();
        sim.atNanos(10_000_000, () -> finalRead(client, key, attempt + 1, done), "final read " + key);
        return;
      }
      complete(call, key, null, r, false, node);
      done.run();
    });
    kvSim.request(node, new KvFront.Get(key, true, reply));
  }
}

package dev.tern.kv;

import java.util.ArrayList;
import java.util.List;

/**
 * Applies a {@link KvCommand.Txn} to the store: the compares, then the branch they choose, in order. Called by
 * {@link KvStateMachine} under its lock, for one entry, so the transaction is atomic: nothing else runs between its
 * compares and its writes, and no operation can fail part-way (keys and values were checked before proposing).
 */
final class TxnExecutor {
  private TxnExecutor() {}

  /** The transaction's result, or {@link KvResult.LeaseNotFound} when a put of the chosen branch names no lease. */
  static KvResult execute(KvStore store, KvCommand.Txn txn, long index) {
    boolean succeeded = true;
    for (TxnCompare c : txn.compares()) {
      if (!c.holds(store.get(c.key()).orElse(null))) {
        succeeded = false;
        break;
      }
    }
    List<TxnOp> ops = succeeded ? txn.success() : txn.failure();
    // A put to a lease that does not exist fails the whole transaction before anything is written (as in etcd).
    for (TxnOp op : ops) {
      if (op instanceof TxnOp.Put p && p.lease() != KvCommand.NO_LEASE && !store.leaseExists(p.lease())) {
        return new KvResult.LeaseNotFound(p.lease());
      }
    }
    List<TxnOpResult> results = new ArrayList<>(ops.size());
    for (TxnOp op : ops) {
      if (op instanceof TxnOp.Put p) {
        store.put(p.key(), p.value(), index, p.lease());
        results.add(new TxnOpResult.Put(p.key(), index));
      } else if (op instanceof TxnOp.Delete d) {
        results.add(new TxnOpResult.Delete(d.key(), store.remove(d.key(), index)));
      } else if (op instanceof TxnOp.Get g) {
        VersionedValue v = store.get(g.key()).orElse(null);
        results.add(v == null ? new TxnOpResult.Get(g.key(), null, 0) : new TxnOpResult.Get(g.key(), v.value(), v.revision()));
      } else {
        // Unreachable while TxnOp stays sealed.
        throw new IllegalStateException("unhandled operation " + op.getClass().getName());
      }
    }
    return new KvResult.TxnDone(succeeded, index, results);
  }

  /** The result as the deduplication window keeps it: what was read, without the values. */
  static KvResult.TxnDone withoutValues(KvResult.TxnDone done) {
    List<TxnOpResult> kept = new ArrayList<>(done.results().size());
    for (TxnOpResult r : done.results()) {
      kept.add(r instanceof TxnOpResult.Get g && g.value() != null ? new TxnOpResult.Get(g.key(), null, g.revision()) : r);
    }
    return new KvResult.TxnDone(done.succeeded(), done.revision(), kept);
  }

  /** A remembered result with each get's value taken from the store where the key still holds what was read. */
  static KvResult.TxnDone recalled(KvStore store, KvResult.TxnDone remembered) {
    List<TxnOpResult> out = new ArrayList<>(remembered.results().size());
    for (TxnOpResult r : remembered.results()) {
      if (r instanceof TxnOpResult.Get g && g.value() == null && g.found()) {
        VersionedValue now = store.get(g.key()).orElse(null);
        if (now != null && now.revision() == g.revision()) r = new TxnOpResult.Get(g.key(), now.value(), g.revision());
      }
      out.add(r);
    }
    return new KvResult.TxnDone(remembered.succeeded(), remembered.revision(), out);
  }
}

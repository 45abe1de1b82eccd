package dev.tern.kv;

import dev.tern.raft.LogEntry;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A deterministic log from a seed that touches everything a store keeps: puts (some large, some with a lease),
 * deletes, compare-and-sets, transactions that put and delete, lease grants, keepalives and revocations, repeated
 * command ids (the deduplication window), Raft's own no-ops.
 */
final class KvWorkload {
  private KvWorkload() {}

  static List<LogEntry> log(long seed, int length) {
    Random random = new Random(seed);
    List<LogEntry> log = new ArrayList<>(length);
    List<Long> leases = new ArrayList<>();
    long term = 1;
    for (long index = 1; index <= length; index++) {
      int roll = random.nextInt(100);
      if (roll < 3) {
        log.add(LogEntry.noop(index, ++term));
        continue;
      }
      String id = random.nextInt(50) == 0 && index > 10 ? "cmd-" + (index - 1 - random.nextInt(9)) : "cmd-" + index;
      String key = "k/" + random.nextInt(200);
      byte[] bytes = new byte[random.nextInt(20) == 0 ? 2000 + random.nextInt(4000) : random.nextInt(40)];
      random.nextBytes(bytes);
      Bytes value = Bytes.wrap(bytes);
      KvCommand command;
      if (roll < 40) {
        long lease = !leases.isEmpty() && random.nextInt(5) == 0 ? leases.get(random.nextInt(leases.size())) : KvCommand.NO_LEASE;
        command = new KvCommand.Put(id, key, value, lease);
      } else if (roll < 55) {
        command = new KvCommand.Delete(id, key);
      } else if (roll < 70) {
        long expected = random.nextInt(4) == 0 ? 0 : Math.max(0, index - 1 - random.nextInt(30));
        command = new KvCommand.CompareAndSet(id, key, expected, value);
      } else if (roll < 80) {
        String other = "k/" + random.nextInt(200);
        command = new KvCommand.Txn(id,
            List.of(new TxnCompare(key, TxnCompare.Target.EXISTS, TxnCompare.Relation.EQUAL, null, 0, true)),
            List.of(new TxnOp.Put(other, value, KvCommand.NO_LEASE), new TxnOp.Delete(key), new TxnOp.Get(other)),
            List.of(new TxnOp.Put(key, value, KvCommand.NO_LEASE), new TxnOp.Get(key)));
      } else if (roll < 85) {
        command = new KvCommand.LeaseGrant(id, 1000 + random.nextInt(5000));
        leases.add(index);
      } else if (roll < 89 && !leases.isEmpty()) {
        command = new KvCommand.LeaseKeepAlive(id, leases.get(random.nextInt(leases.size())));
      } else if (roll < 92 && !leases.isEmpty()) {
        command = new KvCommand.LeaseRevoke(id, leases.remove(random.nextInt(leases.size())));
      } else {
        command = new KvCommand.Get(id, key);
      }
      log.add(LogEntry.command(index, term, KvCodec.encode(command)));
    }
    return log;
  }
}

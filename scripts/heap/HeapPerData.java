import dev.tern.kv.KvCodec;
import dev.tern.kv.KvCommand;
import dev.tern.kv.KvStateMachine;
import dev.tern.raft.LogEntry;
import java.lang.management.ManagementFactory;

/**
 * Measures the heap a node's key-value state takes per byte of keys and values: fills a KvStateMachine (the map a
 * node keeps in memory) through apply, as the replica does, and compares the heap used after a full GC before and
 * after. Args: number of keys, value size in bytes, key size in bytes.
 */
public class HeapPerData {
  public static void main(String[] args) throws Exception {
    int keys = Integer.parseInt(args[0]);
    int valueBytes = Integer.parseInt(args[1]);
    int keyBytes = Integer.parseInt(args[2]);
    KvStateMachine sm = new KvStateMachine();
    long before = used();
    StringBuilder pad = new StringBuilder();
    for (int i = 0; i < valueBytes; i++) pad.append((char) ('a' + i % 26));
    String base = pad.toString();
    for (int i = 0; i < keys; i++) {
      String key = String.format("%0" + keyBytes + "d", i);
      String value = i + base.substring(Integer.toString(i).length());
      sm.apply(LogEntry.command(i + 1, 1, KvCodec.encode(new KvCommand.Put("id-" + i, key, value))));
    }
    long after = used();
    double data = (double) keys * (keyBytes + valueBytes);
    System.out.printf("keys=%d key=%dB value=%dB data=%.1f MiB heap=%.1f MiB heap/data=%.2f (%d keys held)%n",
        keys, keyBytes, valueBytes, data / (1 << 20), (after - before) / (double) (1 << 20), (after - before) / data,
        sm.size());
  }

  private static long used() throws InterruptedException {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(200);
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }
}

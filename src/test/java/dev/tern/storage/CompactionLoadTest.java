package dev.tern.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.tern.kv.KvCodec;
import dev.tern.kv.KvCommand;
import dev.tern.kv.KvStateMachine;
import dev.tern.raft.PeerTransport;
import dev.tern.raft.RaftMessage;
import dev.tern.raft.RaftReplica;
import dev.tern.raft.RaftSettings;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A long write load keeps the log on disk, the log in memory and the heap bounded, thanks to snapshots
 * (section 7). Three replicas with real fsynced {@link FileStorage} and the real key-value state machine, in
 * one ActorSystem (the network is not what is measured here), take {@code tern.load.entries} puts (300,000 by
 * default; e.g. {@code -Dtern.load.entries=2000000} for a longer run) over 1,000 keys. At checkpoints it prints
 * each node's log size on disk, entries held in memory and the heap in use after a GC.
 */
class CompactionLoadTest {
  private static final int ENTRIES = Integer.getInteger("tern.load.entries", 300_000);
  private static final int KEYS = 1000;
  private static final long THRESHOLD = 4L << 20;
  private static final int TRAILING = 5000;
  private static final long SEGMENT = 1L << 20;
  /** Proposals in flight ahead of what the leader has applied. */
  private static final int WINDOW = 5_000;
  private static final List<String> IDS = List.of("n1", "n2", "n3");

  @TempDir Path tmp;
  private final ActorTestKit kit = ActorTestKit.create(
      ConfigFactory.parseString("pekko.loglevel = WARNING")
          .withFallback(ConfigFactory.parseResources("application.conf"))
          .withFallback(ConfigFactory.load()).resolve());
  private final List<FileStorage> storages = new ArrayList<>();

  @AfterEach
  void stop() {
    kit.shutdownTestKit();
    for (FileStorage s : storages) s.close();
  }

  private record Node(String id, ActorRef<RaftMessage> ref, KvStateMachine kv, FileStorage storage) {}

  private record Checkpoint(long entries, Map<String, Long> diskBytes, Map<String, Long> memoryEntries, long heapBytes) {
    @Override
    public String toString() {
      return String.format("after %,d entries: log on disk %s bytes, log entries in memory %s, heap %.1f MiB",
          entries, diskBytes, memoryEntries, heapBytes / 1048576.0);
    }
  }

  private static long logBytes(Path dir) throws Exception {
    try (Stream<Path> files = Files.list(dir.resolve(FileStorage.LOG_DIR))) {
      long total = 0;
      for (Path p : files.toList()) {
        try {
          total += Files.size(p);
        } catch (java.nio.file.NoSuchFileException compactedMeanwhile) {
          // deleted by compaction between the listing and now
        }
      }
      return total;
    }
  }

  private static long heapAfterGc() {
    for (int i = 0; i < 3; i++) System.gc();
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  private RaftMessage.Status status(Node n) {
    TestProbe<RaftMessage.Status> probe = kit.createTestProbe();
    n.ref().tell(new RaftMessage.GetStatus(probe.getRef()));
    return probe.receiveMessage(Duration.ofSeconds(10));
  }

  private static <T> T await(Supplier<Optional<T>> probe, Duration within, String what) {
    long deadline = System.nanoTime() + within.toNanos();
    while (true) {
      Optional<T> v = probe.get();
      if (v.isPresent()) return v.get();
      if (System.nanoTime() > deadline) throw new AssertionError("timed out after " + within + " waiting for " + what);
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2)); // polling real replicas, bounded by the deadline
    }
  }

  private Checkpoint checkpoint(long entries, List<Node> nodes) throws Exception {
    Map<String, Long> disk = new LinkedHashMap<>();
    Map<String, Long> memory = new LinkedHashMap<>();
    for (Node n : nodes) {
      disk.put(n.id(), logBytes(tmp.resolve(n.id())));
      RaftMessage.Status st = status(n);
      memory.put(n.id(), st.lastLogIndex() - st.firstLogIndex() + 1);
    }
    return new Checkpoint(entries, disk, memory, heapAfterGc());
  }

  @Test
  void aLongWriteLoadKeepsLogAndHeapBounded() throws Exception {
    RaftSettings settings = RaftSettings.fromConfig(ConfigFactory.parseResources("application.conf").resolve()
        .getConfig("tern.raft")).withSnapshots(THRESHOLD, TRAILING, 64 * 1024);
    Map<String, ActorRef<RaftMessage>> refs = new ConcurrentHashMap<>();
    List<Node> nodes = new ArrayList<>();
    for (int i = 0; i < IDS.size(); i++) {
      String id = IDS.get(i);
      FileStorage storage = FileStorage.open(tmp.resolve(id), true, SEGMENT);
      storages.add(storage);
      KvStateMachine kv = new KvStateMachine();
      PeerTransport transport = (to, message) -> {
        ActorRef<RaftMessage> peer = refs.get(to);
        if (peer != null) peer.tell(message);
      };
      List<String> peers = IDS.stream().filter(p -> !p.equals(id)).toList();
      ActorRef<RaftMessage> ref = kit.spawn(RaftReplica.create(id, peers, settings, storage, kv, transport, new Random(i)), id);
      refs.put(id, ref);
      nodes.add(new Node(id, ref, kv, storage));
    }
    ActorRef<RaftMessage.ProposeResponse> ignore = kit.spawn(Behaviors.ignore(), "answers");
    String value = "v".repeat(100);
    long started = System.nanoTime();
    List<Checkpoint> checkpoints = new ArrayList<>();
    int proposed = 0;
    long nextCheckpoint = ENTRIES / 4;
    long lastProgress = 0;
    long lastProgressAt = System.nanoTime();
    Node leader = null;
    // Proposals go to the current leader in batches, at most WINDOW ahead of what it applied. A proposal sent
    // to a node that just lost leadership is lost (it answers NotLeader); the load goes on until ENTRIES
    // entries are applied, whoever leads.
    while (true) {
      Node current = leader;
      if (current == null || status(current).role() != RaftMessage.Role.LEADER) {
        proposed = (int) (current == null ? 0 : current.kv().lastApplied()); // what it had not applied may be lost
        leader = current = await(() -> nodes.stream().filter(n -> status(n).role() == RaftMessage.Role.LEADER).findFirst(),
            Duration.ofSeconds(30), "a leader");
      }
      long applied = current.kv().lastApplied();
      if (applied >= nextCheckpoint) {
        for (Node n : nodes) {
          await(() -> Optional.of(true).filter(x -> n.kv().lastApplied() >= applied), Duration.ofSeconds(120),
              n.id() + " applying " + applied);
        }
        Checkpoint c = checkpoint(applied, nodes);
        checkpoints.add(c);
        System.out.println("CompactionLoadTest " + c);
        if (applied >= ENTRIES) break;
        nextCheckpoint += ENTRIES / 4;
      }
      if (proposed - applied < WINDOW) {
        for (int i = 0; i < 1000; i++) {
          proposed++;
          byte[] command = KvCodec.encode(new KvCommand.Put("load-" + proposed, "key-" + (proposed % KEYS), value + proposed));
          current.ref().tell(new RaftMessage.Propose(command, ignore));
        }
      } else {
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1)); // let the replicas catch up
      }
      if (System.nanoTime() - started > TimeUnit.MINUTES.toNanos(10)) throw new AssertionError("the load took over 10 minutes");
      if (applied > lastProgress) {
        lastProgress = applied;
        lastProgressAt = System.nanoTime();
      } else if (System.nanoTime() - lastProgressAt > TimeUnit.SECONDS.toNanos(1)) {
        proposed = (int) applied; // nothing applied for a second: what is in flight was lost, send more
        lastProgressAt = System.nanoTime();
      }
    }
    double seconds = (System.nanoTime() - started) / 1e9;
    System.out.printf("CompactionLoadTest: %,d entries in %.1f s (%,.0f entries/s); snapshots written %s%n",
        leader.kv().lastApplied(), seconds, leader.kv().lastApplied() / seconds, nodes.stream().map(n -> n.id() + "=" + n.storage().snapshotsWritten()).toList());

    // Every replica holds the same data: 1,000 keys with their last values. Proposals sent past the last checkpoint
    // may still be applying: compare only once every replica stands at the same index (the leader's).
    Node lead = leader;
    await(() -> {
      long at = lead.kv().lastApplied();
      return nodes.stream().allMatch(n -> n.kv().lastApplied() == at) && lead.kv().lastApplied() == at
          ? Optional.of(true) : Optional.empty();
    }, Duration.ofSeconds(60), "every replica at the leader's applied index");
    for (Node n : nodes) {
      assertEquals(KEYS, n.kv().size(), n.id());
      assertEquals(lead.kv().digest(), n.kv().digest(), n.id() + " diverged");
      assertTrue(n.storage().snapshotsWritten() >= ENTRIES / 40_000, n.id() + " wrote " + n.storage().snapshotsWritten());
    }
    // Bounded: the log holds the trailing entries, what was applied since the last snapshot (up to the
    // threshold, plus what applies while that snapshot is being written: at most another threshold's worth, as
    // the next snapshot waits for it), what is in flight, and on disk a segment or two of slack. None of it grows
    // with the load.
    long entryBytes = KvCodec.encode(new KvCommand.Put("load-" + ENTRIES, "key-999", value + ENTRIES)).length + 24L;
    long maxMemoryEntries = 2 * THRESHOLD / entryBytes + TRAILING + WINDOW;
    long maxDiskBytes = 2 * THRESHOLD + TRAILING * (entryBytes + 30) + 2 * SEGMENT + WINDOW * (entryBytes + 30);
    Checkpoint last = checkpoints.get(checkpoints.size() - 1);
    for (Node n : nodes) {
      assertTrue(last.memoryEntries().get(n.id()) <= maxMemoryEntries,
          n.id() + " holds " + last.memoryEntries().get(n.id()) + " entries in memory, bound " + maxMemoryEntries);
      assertTrue(last.diskBytes().get(n.id()) <= maxDiskBytes,
          n.id() + " keeps " + last.diskBytes().get(n.id()) + " bytes of log, bound " + maxDiskBytes);
    }
    // The heap stops growing once the deduplication window (100,000 ids) is full: from the halfway checkpoint to
    // the end it may move by GC noise, not by the load.
    long halfway = checkpoints.get(1).heapBytes();
    assertTrue(last.heapBytes() - halfway < 48L << 20,
        "heap grew from " + halfway + " to " + last.heapBytes() + " bytes in the second half of the load");
  }
}

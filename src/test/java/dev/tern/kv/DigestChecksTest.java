package dev.tern.kv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.raft.LogEntry;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #25 §5: a replica that applies a {@link KvCommand.Check} at index I digests its state at I off the apply
 * thread, and that digest is the one {@link KvStore#digest()} gives at I, however many entries apply meanwhile.
 */
class DigestChecksTest {
  private static final RocksKvStore.Settings SMALL = new RocksKvStore.Settings(8 << 20, 4 << 20);

  @TempDir Path dir;

  private static KvStateMachine inMemory(ApplyListener listener) {
    return new KvStateMachine(listener, WatchHub.withoutHistory());
  }

  private KvStateMachine onDisk(ApplyListener listener) {
    return new KvStateMachine(listener, WatchHub.withoutHistory(), changes -> RocksKvStore.open(dir, SMALL, changes));
  }

  private static void apply(KvStateMachine sm, KvCommand command) {
    sm.apply(LogEntry.command(sm.lastApplied() + 1, 1, KvCodec.encode(command)));
  }

  @Test
  void theDigestAtACheckIsTheStoresDigestThereWhileLaterEntriesApplyInMemory() throws Exception {
    digestAtTheCheckWhileLaterEntriesApply(this::inMemoryNoListener);
  }

  @Test
  void theDigestAtACheckIsTheStoresDigestThereWhileLaterEntriesApplyOnDisk() throws Exception {
    digestAtTheCheckWhileLaterEntriesApply(this::onDisk);
  }

  private KvStateMachine inMemoryNoListener(ApplyListener listener) {
    return inMemory(listener);
  }

  private void digestAtTheCheckWhileLaterEntriesApply(Function<ApplyListener, KvStateMachine> open) throws Exception {
    List<KvResult> results = new ArrayList<>();
    KvStateMachine sm = open.apply((index, command, result) -> results.add(result));
    try {
      for (LogEntry e : KvWorkload.log(3, 1500)) sm.apply(e);
      assertTrue(sm.size() > 50 && !sm.leases().isEmpty(), "keys and leases to digest");
      CountDownLatch release = new CountDownLatch(1);
      sm.checks().beforeDigest = () -> {
        try {
          release.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      };
      apply(sm, new KvCommand.Check("check-1"));
      long at = sm.lastApplied();
      String expected = sm.digest(); // the store's own digest of the state at the check's index
      assertEquals(new KvResult.Checked(at), results.get(results.size() - 1));
      assertEquals(DigestChecks.State.COMPUTING, sm.digestAt(at).orElseThrow().state());

      // Later entries change data and leases while the digest thread is held.
      long lease = sm.leases().get(0).id();
      for (int i = 0; i < 200; i++) apply(sm, new KvCommand.Put("later-" + i, "k/" + i, "changed-" + i));
      apply(sm, new KvCommand.Delete("later-del", "k/7"));
      apply(sm, new KvCommand.LeaseKeepAlive("later-keepalive", lease));
      apply(sm, new KvCommand.LeaseGrant("later-grant", 5000));
      assertNotEquals(expected, sm.digest(), "the later entries changed the state");
      assertEquals(DigestChecks.State.COMPUTING, sm.digestAt(at).orElseThrow().state());

      release.countDown();
      DigestChecks.Outcome done = awaitDone(sm, at);
      assertEquals(expected, done.digest());
      // A second check digests the state as it is now.
      sm.checks().beforeDigest = () -> {};
      apply(sm, new KvCommand.Check("check-2"));
      String now = sm.digest();
      assertEquals(now, awaitDone(sm, sm.lastApplied()).digest());
      assertEquals(expected, sm.digestAt(at).orElseThrow().digest(), "the earlier outcome is kept");
    } finally {
      sm.close();
    }
  }

  @Test
  void aCheckChangesNothingAndStaysOutOfTheDeduplicationWindow() throws Exception {
    KvStateMachine sm = inMemory((i, c, r) -> {});
    apply(sm, new KvCommand.Put("p", "a", "1"));
    String before = sm.digest();
    apply(sm, new KvCommand.Check("c"));
    assertEquals(before, sm.digest());
    assertEquals(Optional.empty(), sm.resultOf("c"));
    assertEquals(2, sm.lastApplied());
    assertEquals(before, awaitDone(sm, 2).digest());
    // Another check with the same id (proposed twice) digests again at its own index.
    apply(sm, new KvCommand.Check("c"));
    assertEquals(before, awaitDone(sm, 3).digest());
    assertEquals(Optional.empty(), sm.digestAt(1), "no check at index 1");
    sm.close();
  }

  @Test
  void checksBeyondWhatTheDigestThreadTakesFailAtOnceAndOnlyTheLastOnesAreKept() throws Exception {
    KvStateMachine sm = inMemory((i, c, r) -> {});
    CountDownLatch release = new CountDownLatch(1);
    sm.checks().beforeDigest = () -> {
      try {
        release.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    };
    int checks = DigestChecks.QUEUED + 3; // one being computed, QUEUED waiting, two refused
    for (int i = 0; i < checks; i++) apply(sm, new KvCommand.Check("c" + i));
    assertEquals(DigestChecks.State.FAILED, sm.digestAt(checks).orElseThrow().state());
    assertTrue(sm.digestAt(checks).orElseThrow().error().contains("waiting"));
    release.countDown();
    for (int i = 1; i <= DigestChecks.QUEUED + 1; i++) assertEquals(DigestChecks.State.DONE, awaitDone(sm, i).state());
    for (int i = 0; i < DigestChecks.KEPT; i++) apply(sm, new KvCommand.Check("more" + i));
    assertEquals(Optional.empty(), sm.digestAt(1), "pushed out by the later checks");
    sm.close();
  }

  @Test
  void theCheckCommandSurvivesARoundTripAndItsTruncationsAreRefused() {
    KvCommand.Check check = new KvCommand.Check("n1-check-ü");
    byte[] bytes = KvCodec.encode(check);
    assertEquals(KvCodec.FORMAT, bytes[0]);
    assertEquals(KvCodec.CHECK, bytes[1]);
    assertEquals(check, KvCodec.decode(bytes));
    assertArrayEquals(bytes, KvCodec.encode(KvCodec.decode(bytes)));
    for (int n = 0; n < bytes.length; n++) {
      byte[] cut = Arrays.copyOf(bytes, n);
      assertThrows(IllegalArgumentException.class, () -> KvCodec.decode(cut), "cut at " + n);
    }
    byte[] longer = Arrays.copyOf(bytes, bytes.length + 1);
    assertThrows(IllegalArgumentException.class, () -> KvCodec.decode(longer), "trailing byte");
  }

  private static DigestChecks.Outcome awaitDone(KvStateMachine sm, long index) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      DigestChecks.Outcome o = sm.digestAt(index).orElseThrow();
      if (o.state() != DigestChecks.State.COMPUTING) return o;
      Thread.sleep(5);
    }
    throw new AssertionError("no digest at index " + index + " within 30 s");
  }
}

package dev.tern.lincheck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.lincheck.LinearizabilityChecker.Result;
import dev.tern.lincheck.LinearizabilityChecker.Verdict;
import dev.tern.lincheck.Op.Outcome;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class HistoryTest {

  /**
   * Four threads against a store whose every op runs under one lock (trivially linearizable), each
   * recording through one shared History: the recorded history must check as linearizable.
   */
  @Test
  void concurrentRecordingOfALinearizableStoreChecksAsLinearizable() throws Exception {
    History history = new History();
    Map<String, String> values = new HashMap<>();
    Map<String, Long> revisions = new HashMap<>();
    long[] logIndex = {0};
    ExecutorService pool = Executors.newFixedThreadPool(4);
    List<Future<?>> clients = new ArrayList<>();
    for (int c = 0; c < 4; c++) {
      int client = c;
      clients.add(
          pool.submit(
              () -> {
                Random rnd = new Random(client);
                for (int i = 0; i < 500; i++) {
                  String key = "k" + rnd.nextInt(3);
                  if (rnd.nextBoolean()) {
                    History.Call call = history.invokePut(client, key, client + "-" + i);
                    long rev;
                    synchronized (values) {
                      rev = ++logIndex[0];
                      values.put(key, client + "-" + i);
                      revisions.put(key, rev);
                    }
                    call.ok(rev);
                  } else {
                    History.Call call = history.invokeGet(client, key);
                    String v;
                    long rev;
                    synchronized (values) {
                      v = values.get(key);
                      rev = v == null ? 0 : revisions.get(key);
                    }
                    if (v == null) {
                      call.notFound();
                    } else {
                      call.okRead(v, rev);
                    }
                  }
                }
              }));
    }
    for (Future<?> f : clients) {
      f.get();
    }
    pool.shutdown();

    assertEquals(2_000, history.ops().size());
    assertEquals(3, history.byKey().size());
    Result r = new LinearizabilityChecker().checkAll(history);
    assertEquals(Verdict.LINEARIZABLE, r.verdict(), r::render);
  }

  @Test
  void inFlightOpsBecomeUnknownAndUnknownReadsAreDropped() {
    History history = new History(new LinearizabilityCheckerTest.FakeClock());
    history.invokePut(1, "k", "a").ok(1);
    History.Call stuck = history.invokePut(2, "k", "b"); // never completes
    history.invokeGet(3, "k").unknown();
    History.Call timedOut = history.invokeDelete(4, "k");
    timedOut.unknown();

    List<Op> ops = history.ops();
    assertEquals(3, ops.size(), "the unknown read carries no information");
    Op stuckOp = ops.stream().filter(op -> op.id() == stuck.id()).findFirst().orElseThrow();
    assertEquals(Outcome.UNKNOWN, stuckOp.outcome());
    assertEquals(Long.MAX_VALUE, stuckOp.completeNanos());
    assertTrue(ops.get(0).invokeNanos() < ops.get(0).completeNanos());
    assertThrows(IllegalStateException.class, timedOut::unknown, "an op completes once");
  }

  @Test
  void failedOpsAreLeftOut() {
    History history = new History(new LinearizabilityCheckerTest.FakeClock());
    history.invokePut(1, "k", "a").ok(1);
    History.Call refused = history.invokePut(2, "k", "b");
    refused.failed();
    history.invokeGet(3, "k").okRead("a", 1);

    List<Op> ops = history.ops();
    assertEquals(2, ops.size());
    assertTrue(ops.stream().noneMatch(op -> op.id() == refused.id()));
    assertThrows(IllegalStateException.class, refused::unknown, "an op completes once");
    assertEquals(Verdict.LINEARIZABLE, new LinearizabilityChecker().checkAll(history).verdict());
  }
}

package dev.tern.lincheck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.lincheck.LinearizabilityChecker.Result;
import dev.tern.lincheck.LinearizabilityChecker.Verdict;
import dev.tern.lincheck.Op.Kind;
import dev.tern.lincheck.Op.Outcome;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Histories the size a fault-injection run produces, generated from a sequential reference store
 * with random timing around each op's linearization point, so they are linearizable by construction.
 */
class LinearizabilityCheckerPerformanceTest {

  private static final long BUDGET_NANOS = 5_000_000_000L;

  /**
   * The checker runs on the test's thread alone, so its cost is that thread's CPU time. Wall time would make
   * these bounds fail whenever other processes share the machine's cores (seen at a load average of 20).
   */
  private static long cpuNanos() {
    return java.lang.management.ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
  }

  @Test
  void twoThousandConcurrentOpsOnOneKeyAreLinearizable() {
    for (long seed = 1; seed <= 3; seed++) {
      List<Op> history = generate(seed, 2_000, 4, List.of("k"), 0.02);
      long start = cpuNanos();
      Result r = new LinearizabilityChecker().check(history);
      long elapsed = cpuNanos() - start;
      System.out.printf(
          "seed %d: %d ops on one key, 4 clients: %s in %d ms, %d steps%n",
          seed, history.size(), r.verdict(), elapsed / 1_000_000, r.steps());
      assertEquals(Verdict.LINEARIZABLE, r.verdict(), r::render);
      assertTrue(elapsed < BUDGET_NANOS, "took " + elapsed / 1_000_000 + " ms");
      long known = history.stream().filter(op -> !op.isUnknown()).count();
      assertTrue(r.ops().size() >= known, "every acknowledged op is in the witness");
    }
  }

  @Test
  void manyKeysAreCheckedOneByOne() {
    List<Op> ops = generate(7, 2_000, 4, List.of("a", "b", "c", "d"), 0.02);
    Map<String, List<Op>> byKey = new HashMap<>();
    ops.forEach(op -> byKey.computeIfAbsent(op.key(), k -> new ArrayList<>()).add(op));
    long start = cpuNanos();
    Result r = new LinearizabilityChecker().checkAll(byKey);
    long elapsed = cpuNanos() - start;
    System.out.printf("2000 ops on 4 keys: %s in %d ms%n", r.verdict(), elapsed / 1_000_000);
    assertEquals(Verdict.LINEARIZABLE, r.verdict(), r::render);
    assertTrue(elapsed < BUDGET_NANOS);
    assertEquals(4, byKey.size());
  }

  @Test
  void oneCorruptedReadInTwoThousandOpsIsReportedWithASmallWindow() {
    List<Op> history = new ArrayList<>(generate(1, 2_000, 4, List.of("k"), 0.02));
    int victim = history.size() / 2;
    while (!(history.get(victim).kind() == Kind.GET && history.get(victim).outcome() == Outcome.OK)) {
      victim++;
    }
    Op good = history.get(victim);
    Op corrupted =
        new Op(good.id(), good.client(), good.key(), Kind.GET, null, 0, Outcome.OK, "CORRUPTED",
            good.resultRevision(), good.invokeNanos(), good.completeNanos());
    history.set(victim, corrupted);

    long start = cpuNanos();
    Result r = new LinearizabilityChecker().check(history);
    long elapsed = cpuNanos() - start;
    System.out.printf(
        "corrupted read: %s in %d ms (including shrinking), window %d ops + %d context%n%s",
        r.verdict(), elapsed / 1_000_000, r.ops().size(), r.context().size(), r.render());
    assertEquals(Verdict.NOT_LINEARIZABLE, r.verdict());
    assertTrue(r.ops().contains(corrupted), r::render);
    assertTrue(r.ops().size() <= 10, r::render);
    assertTrue(elapsed < 2 * BUDGET_NANOS, "took " + elapsed / 1_000_000 + " ms");
  }

  /**
   * Simulates {@code clients} clients, each issuing one op at a time. Each op takes effect on a
   * sequential reference store at a random point inside its [invoke, complete] interval, in the
   * order of those points; so the history is linearizable, with heavy overlap between clients.
   * A fraction of writes end UNKNOWN and then take effect or not, at random.
   */
  static List<Op> generate(
      long seed, int count, int clients, List<String> keys, double unknownWriteRate) {
    Random rnd = new Random(seed);
    Map<String, String> values = new HashMap<>();
    Map<String, Long> revisions = new HashMap<>();
    long logIndex = 0;
    // Next linearization point of each client: {time, client, invokeTime}.
    PriorityQueue<long[]> next = new PriorityQueue<>(Comparator.comparingLong(e -> e[0]));
    for (int c = 0; c < clients; c++) {
      long invoke = rnd.nextInt(50);
      next.add(new long[] {invoke + 1 + rnd.nextInt(300), c, invoke});
    }
    List<Op> ops = new ArrayList<>();
    long id = 1;
    while (ops.size() < count) {
      long[] e = next.poll();
      long point = e[0];
      int client = (int) e[1];
      long invoke = e[2];
      long complete = point + 1 + rnd.nextInt(300);
      String key = keys.get(rnd.nextInt(keys.size()));
      String current = values.get(key);
      long currentRev = current == null ? 0 : revisions.get(key);
      int dice = rnd.nextInt(100);
      Kind kind = dice < 40 ? Kind.GET : dice < 70 ? Kind.PUT : dice < 90 ? Kind.CAS : Kind.DELETE;
      boolean unknown = kind != Kind.GET && rnd.nextDouble() < unknownWriteRate;
      boolean applies = !unknown || rnd.nextBoolean();
      logIndex += 1 + rnd.nextInt(3); // other keys' and clients' commands take indexes too
      String value = "v" + id;
      long expected = 0;
      Outcome outcome;
      String resultValue = null;
      long resultRev = 0;
      switch (kind) {
        case GET -> {
          outcome = current == null ? Outcome.NOT_FOUND : Outcome.OK;
          resultValue = current;
          resultRev = currentRev;
        }
        case PUT -> {
          outcome = Outcome.OK;
          resultRev = logIndex;
          if (applies) {
            values.put(key, value);
            revisions.put(key, logIndex);
          }
        }
        case CAS -> {
          expected = rnd.nextInt(10) < 7 ? currentRev : Math.max(0, currentRev - 1 - rnd.nextInt(3));
          if (expected == currentRev) {
            outcome = Outcome.OK;
            resultRev = logIndex;
            if (applies) {
              values.put(key, value);
              revisions.put(key, logIndex);
            }
          } else {
            outcome = Outcome.CONFLICT;
            resultRev = currentRev;
          }
        }
        case DELETE -> {
          if (current == null) {
            outcome = Outcome.NOT_FOUND;
          } else {
            outcome = Outcome.OK;
            resultRev = logIndex;
            if (applies) {
              values.remove(key);
              revisions.remove(key);
            }
          }
        }
        default -> throw new AssertionError(kind);
      }
      if (unknown) {
        outcome = Outcome.UNKNOWN;
        resultRev = 0;
      }
      String input = kind == Kind.PUT || kind == Kind.CAS ? value : null;
      ops.add(
          new Op(id++, client, key, kind, input, expected, outcome, resultValue, resultRev, invoke,
              complete));
      long nextInvoke = complete + rnd.nextInt(50);
      next.add(new long[] {nextInvoke + 1 + rnd.nextInt(300), client, nextInvoke});
    }
    ops.sort(Comparator.comparingLong(Op::invokeNanos).thenComparingLong(Op::id));
    return ops;
  }
}

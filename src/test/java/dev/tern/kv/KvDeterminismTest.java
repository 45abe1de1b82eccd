package dev.tern.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.raft.LogEntry;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Raft only keeps replicas equal if applying the same log always yields the same state. */
class KvDeterminismTest {

  private static final String[] KEYS = {"a", "b", "c", "d", "e", "a/1", "a/2"};

  /** A random log with NOOPs, every command kind, CAS hits and misses, and the odd corrupt entry. */
  private static List<LogEntry> randomLog(long seed, int length) {
    Random random = new Random(seed);
    List<LogEntry> log = new ArrayList<>(length);
    long term = 1;
    for (long index = 1; index <= length; index++) {
      if (random.nextInt(500) == 0) {
        byte[] junk = new byte[1 + random.nextInt(16)];
        random.nextBytes(junk);
        log.add(LogEntry.command(index, term, junk));
        continue;
      }
      int roll = random.nextInt(100);
      if (roll < 3) {
        log.add(LogEntry.noop(index, ++term));
        continue;
      }
      String id = "cmd-" + index;
      String key = KEYS[random.nextInt(KEYS.length)];
      String value = "v" + random.nextInt(1000);
      KvCommand command;
      if (roll < 40) {
        command = new KvCommand.Put(id, key, value);
      } else if (roll < 55) {
        command = new KvCommand.Delete(id, key);
      } else if (roll < 85) {
        // Recent indexes, so a fair share of these match the key's revision.
        long expected = random.nextInt(4) == 0 ? 0 : Math.max(0, index - 1 - random.nextInt(12));
        command = new KvCommand.CompareAndSet(id, key, expected, value);
      } else {
        command = new KvCommand.Get(id, key);
      }
      log.add(LogEntry.command(index, term, KvCodec.encode(command)));
    }
    return log;
  }

  private static KvStateMachine replay(List<LogEntry> log, List<KvResult> results) {
    KvStateMachine sm = new KvStateMachine((index, command, result) -> results.add(result));
    log.forEach(sm::apply);
    return sm;
  }

  @Test
  void sameLogGivesSameStateAndResults() {
    List<LogEntry> log = randomLog(42, 5000);
    List<KvResult> resultsA = new ArrayList<>();
    List<KvResult> resultsB = new ArrayList<>();
    KvStateMachine a = replay(log, resultsA);
    KvStateMachine b = replay(log, resultsB);

    assertEquals(5000, a.lastApplied());
    assertEquals(a.lastApplied(), b.lastApplied());
    assertEquals(a.digest(), b.digest());
    assertEquals(a.contents(), b.contents());
    assertEquals(resultsA, resultsB);

    // The log really exercised every path, so the equality above is not vacuous.
    Map<Class<?>, Integer> kinds = new HashMap<>();
    resultsA.forEach(r -> kinds.merge(r.getClass(), 1, Integer::sum));
    for (Class<?> kind :
        List.of(
            KvResult.Written.class,
            KvResult.Deleted.class,
            KvResult.NotFound.class,
            KvResult.Value.class,
            KvResult.CasConflict.class,
            KvResult.Invalid.class)) {
      assertTrue(kinds.getOrDefault(kind, 0) > 0, "no " + kind.getSimpleName() + " in " + kinds);
    }
    assertTrue(a.size() > 0);
  }

  @Test
  void stateMatchesASimpleModel() {
    List<LogEntry> log = randomLog(7, 3000);
    KvStateMachine sm = replay(log, new ArrayList<>());

    Map<String, VersionedValue> model = new HashMap<>();
    for (LogEntry entry : log) {
      KvCommand command;
      try {
        command = entry.kind() == LogEntry.Kind.NOOP ? null : KvCodec.decode(entry.data());
      } catch (IllegalArgumentException corrupt) {
        command = null;
      }
      if (command instanceof KvCommand.Put put) {
        model.put(put.key(), new VersionedValue(put.value(), entry.index()));
      } else if (command instanceof KvCommand.Delete del) {
        model.remove(del.key());
      } else if (command instanceof KvCommand.CompareAndSet cas) {
        VersionedValue current = model.get(cas.key());
        if ((current == null ? 0 : current.revision()) == cas.expectedRevision()) {
          model.put(cas.key(), new VersionedValue(cas.value(), entry.index()));
        }
      }
    }
    assertEquals(model, sm.contents());
  }

  @Test
  void differentLogGivesDifferentState() {
    KvStateMachine a = replay(randomLog(42, 5000), new ArrayList<>());
    KvStateMachine c = replay(randomLog(43, 5000), new ArrayList<>());
    assertNotEquals(a.digest(), c.digest());
    assertNotEquals(a.contents(), c.contents());
  }
}

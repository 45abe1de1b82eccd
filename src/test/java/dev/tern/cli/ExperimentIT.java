package dev.tern.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The evaluation's experiments as a user runs them, {@code ./tern experiment ...}, on real node processes, small:
 * they must finish, leave no process and no cluster directory behind, and write CSV files and plots whose figures
 * say what the experiment is about (a new leader after each kill; a majority of slow followers slows every write by
 * at least the delay, one slow follower does not).
 */
class ExperimentIT {
  @TempDir
  Path out;

  @Test
  void electionAfterLeaderKills() throws Exception {
    run("experiment", "election", "--timeouts", "150-300", "--rounds", "1", "--out", out.toString());
    List<String[]> rows = csv("election.csv");
    assertEquals(1, rows.size());
    for (String[] r : rows) {
      double ms = Double.parseDouble(r[3]);
      // No election before the minimum timeout less a heartbeat (a follower's timer restarts at each heartbeat).
      assertTrue(ms > 100 && ms < 30_000, "election time " + ms + " ms");
      assertNotEquals(r[4], r[5], "the killed leader cannot be the new one");
      assertTrue(Integer.parseInt(r[6]) >= 1, "a later term");
    }
    assertPng("election.png");
  }

  @Test
  void oneSlowFollowerCostsLittleAMajorityCostsTheDelay() throws Exception {
    run("experiment", "stragglers", "--nodes", "3", "--delay", "100ms", "--clients", "4", "--warmup", "1s", "--max-warmup", "1s",
        "--duration", "2s", "--out", out.toString());
    List<String[]> rows = csv("stragglers.csv");
    assertEquals(4, rows.size());
    // columns: slow_followers, delay_ms, throughput_per_s, ok, errors, p50_ms, ...
    for (String[] r : rows) {
      assertEquals("0", r[4], "errors");
      assertTrue(Long.parseLong(r[3]) > 0, "writes");
    }
    double none = Double.parseDouble(rows.get(0)[5]);
    double one = Double.parseDouble(rows.get(1)[5]);
    double majority = Double.parseDouble(rows.get(2)[5]);
    double again = Double.parseDouble(rows.get(3)[5]);
    assertTrue(none < 100 && one < 100, "the fast majority commits: p50 " + none + " and " + one + " ms");
    assertTrue(again < 100, "the delays are lifted: p50 " + again + " ms");
    assertTrue(majority >= 100, "every commit waits for a slow follower: p50 " + majority + " ms");
    assertPng("stragglers.png");
  }

  @Test
  void sizeAndMixWriteTheirFigures() throws Exception {
    run("experiment", "size", "--sizes", "1", "--clients", "4", "--warmup", "1s", "--max-warmup", "1s", "--duration", "2s",
        "--out", out.toString());
    List<String[]> sizes = csv("size.csv");
    assertEquals(List.of("1"), sizes.stream().map(r -> r[0]).toList());
    for (String[] r : sizes) assertTrue(Double.parseDouble(r[1]) > 0, "throughput of " + r[0] + " nodes");
    assertPng("size.png");

    run("experiment", "mix", "--mixes", "50/50", "--nodes", "1", "--clients", "4", "--warmup", "1s", "--max-warmup", "1s", "--duration", "2s",
        "--out", out.toString());
    List<String[]> mixes = csv("mix.csv");
    // columns: read_pct, write_pct, throughput, ok, errors, p50, p90, p99, p999, max, writes/s, w50, w99, reads/s, ...
    assertTrue(Double.parseDouble(mixes.get(0)[13]) > 0 && Double.parseDouble(mixes.get(0)[10]) > 0, "50/50: both");
    assertPng("mix.png");
  }

  /** Runs {@code ./tern ARGS --quiet}; fails with its output unless it exits 0 within 4 minutes. */
  private void run(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(LocalProcesses.REPO.resolve("tern").toString()));
    cmd.addAll(List.of(args));
    cmd.add("--quiet");
    Path log = Files.createTempFile(out, "tern", ".log");
    Process p = new ProcessBuilder(cmd).directory(LocalProcesses.REPO.toFile()).redirectErrorStream(true)
        .redirectOutput(log.toFile()).start();
    java.util.Set<ProcessHandle> started = new java.util.HashSet<>(); // the node processes seen, to check after
    try {
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(4);
      boolean done = false;
      while (!done && System.nanoTime() < deadline) {
        p.toHandle().descendants().forEach(started::add);
        done = p.waitFor(200, TimeUnit.MILLISECONDS);
      }
      String said = Files.readString(log, StandardCharsets.UTF_8);
      assertTrue(done, String.join(" ", args) + " did not finish:\n" + said);
      assertEquals(0, p.exitValue(), String.join(" ", args) + ":\n" + said);
    } finally {
      p.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
    }
    assertTrue(started.size() >= 1, "no node process was seen");
    assertEquals(List.of(), started.stream().filter(ProcessHandle::isAlive).map(ProcessHandle::pid).toList(),
        "node processes left running");
    try (var left = Files.list(out.resolve("clusters"))) {
      assertEquals(List.of(), left.toList(), "cluster directories left behind");
    }
  }

  private List<String[]> csv(String name) throws IOException {
    List<String> lines = Files.readAllLines(out.resolve(name), StandardCharsets.UTF_8);
    return lines.subList(1, lines.size()).stream().map(l -> l.split(",")).toList();
  }

  private void assertPng(String name) throws IOException {
    assertNotNull(ImageIO.read(out.resolve(name).toFile()), name + " is not an image");
  }
}

package dev.tern.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Test helpers for the *IT tests that run {@code ./tern} as a user does, after `mvn package`: one CLI command as a
 * process, and a whole {@code ./tern local} cluster. Every process started here is stopped by its PID.
 */
final class LocalProcesses {
  static final Path REPO = Path.of(System.getProperty("user.dir"));
  private static final Pattern ROW = Pattern.compile("^\\s+(n\\d+)\\s+(http://\\S+)\\s+(\\d+)\\s+.*$");

  private LocalProcesses() {}

  /**
   * JVM options for every process these tests start through ./tern (nodes, `tern local`, client commands), unless
   * TERN_JAVA_OPTS is set already: C1 only and the serial collector. The processes live seconds; C2 compiles code
   * that never runs long enough to pay back and, with three nodes and the test JVM on 2 cores, it took a third of a
   * node's CPU at start: a busy machine made these tests 1.3-3 times slower, those with these options not at all.
   */
  static final String TEST_JVM_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC";

  /** A process running {@code command} in the repository with {@link #TEST_JVM_OPTIONS}. */
  static ProcessBuilder process(List<String> command) {
    ProcessBuilder b = new ProcessBuilder(command).directory(REPO.toFile());
    b.environment().putIfAbsent("TERN_JAVA_OPTS", TEST_JVM_OPTIONS);
    return b;
  }

  /** {@code ./tern ARGS} as {@link #process} starts it. */
  static ProcessBuilder ternProcess(String... args) {
    List<String> cmd = new ArrayList<>(List.of(REPO.resolve("tern").toString()));
    cmd.addAll(List.of(args));
    return process(cmd);
  }

  record Run(int exit, String out, String err) {}

  /** Runs {@code ./tern ARGS} and waits (at most a minute) for it to exit. */
  static Run tern(String... args) throws IOException, InterruptedException {
    Process p = ternProcess(args).start();
    try {
      if (!p.waitFor(60, TimeUnit.SECONDS)) throw new AssertionError("tern " + String.join(" ", args) + " hung");
      return new Run(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim(),
          new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).trim());
    } finally {
      p.destroyForcibly();
    }
  }

  /** Runs a CLI command until it succeeds or the deadline passes (a real cluster takes real time). */
  static Run retry(Duration within, String... args) throws Exception {
    long deadline = System.nanoTime() + within.toNanos();
    Run last;
    do {
      last = tern(args);
      if (last.exit() == 0) return last;
      Thread.sleep(200); // bounded by the deadline
    } while (System.nanoTime() < deadline);
    return last;
  }

  /**
   * A running `tern local`: its process, each node's HTTP address and pid, and every line it printed so far
   * (stdout and stderr together).
   */
  record Local(Process process, Map<String, String> http, Map<String, Long> pids, List<String> output) {
    void stop() throws InterruptedException {
      process.destroy(); // SIGTERM: `tern local` stops its nodes
      if (!process.waitFor(30, TimeUnit.SECONDS)) process.destroyForcibly();
      for (long pid : pids.values()) ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
      for (long pid : pids.values()) {
        ProcessHandle.of(pid).ifPresent(h -> h.onExit().orTimeout(10, TimeUnit.SECONDS).join());
      }
    }

    /** What `tern local` printed so far, for failure messages. */
    String transcript() {
      synchronized (output) {
        return String.join("\n", output);
      }
    }
  }

  /**
   * Starts `./tern local` on {@code dir} and waits until it reports every node serving. {@code settings} are
   * passed on as {@code -Dkey=value} to every node.
   */
  static Local startLocal(Path dir, String... settings) throws Exception {
    return startLocal(dir, List.of(), settings);
  }

  /** As above, with options for `tern local` itself (e.g. {@code --heap 256m}). */
  static Local startLocal(Path dir, List<String> options, String... settings) throws Exception {
    List<String> command = new ArrayList<>(List.of(REPO.resolve("tern").toString(), "local", "--nodes", "3", "--dir", dir.toString()));
    command.addAll(options);
    for (String setting : settings) command.add("-D" + setting);
    Process local = process(command).redirectErrorStream(true).start();
    Map<String, String> http = new LinkedHashMap<>();
    Map<String, Long> pids = new LinkedHashMap<>();
    List<String> output = Collections.synchronizedList(new ArrayList<>());
    BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(local.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) {
          output.add(line);
          lines.add(line);
        }
      } catch (IOException ignored) {
        // the process ended
      }
    });
    reader.setDaemon(true);
    reader.start();
    Local started = new Local(local, http, pids, output);
    try {
      StringBuilder seen = new StringBuilder();
      boolean ready = false;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      while (!ready && System.nanoTime() < deadline) {
        String line = lines.poll(1, TimeUnit.SECONDS);
        if (line == null) continue;
        seen.append(line).append('\n');
        Matcher m = ROW.matcher(line);
        if (m.matches()) {
          http.put(m.group(1), m.group(2));
          pids.put(m.group(1), Long.parseLong(m.group(3)));
        }
        ready = line.startsWith("Ready:");
      }
      assertTrue(ready, "tern local did not report the cluster ready:\n" + seen);
      assertEquals(List.of("n1", "n2", "n3"), List.copyOf(http.keySet()), seen::toString);
      return started;
    } catch (Throwable t) {
      started.stop();
      throw t;
    }
  }
}

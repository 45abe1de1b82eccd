package dev.tern.fault;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A cluster of Tern nodes, each its own JVM process running the shaded jar, on free 127.0.0.1 ports, with its data
 * in a temporary directory:
 *
 * <pre>
 *   D/tern.jar   a copy of target/tern-*.jar, so that rebuilding the project does not disturb a long run (none
 *                when target/run/tern.jar has its class-data archive: that jar is run in place)
 *   D/nK/        node nK's data directory (kept across restarts)
 *   D/nK.log     node nK's stdout and stderr, appended on each start
 * </pre>
 *
 * Faults: SIGKILL ({@link #kill}) and restart on the same data ({@link #start}), SIGSTOP and SIGCONT
 * ({@link #pause}, {@link #resume}). Every process is stopped by its PID in {@link #close} and, should the test JVM
 * end first, by a shutdown hook.
 */
final class NodeProcesses implements AutoCloseable {
  static final String HOST = "127.0.0.1";

  /** Every node process alive in this JVM, for the shutdown hook. */
  private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      for (Process p : LIVE) p.destroyForcibly(); // SIGKILL also ends a SIGSTOPped process
    }, "fault-test-node-killer"));
  }

  record Node(String id, int arteryPort, int httpPort) {
    String http() {
      return "http://" + HOST + ":" + httpPort;
    }
  }

  private final Path dir;
  private final Path jar;
  private final List<String> jvmOptions;
  private final Map<String, String> settings;
  private final Map<String, Node> nodes = new LinkedHashMap<>();
  private final String membersSpec;
  private final Map<String, Process> running = new ConcurrentHashMap<>();
  private final Set<String> paused = ConcurrentHashMap.newKeySet();
  /** Starts of each node so far (1 after the first start). */
  private final Map<String, Integer> incarnations = new ConcurrentHashMap<>();

  /**
   * Plans {@code size} nodes n1..nSize on free ports in a new temporary directory; starts nothing.
   *
   * @param settings Tern settings given to every node as -D options (e.g. tern.testing.fault-injection=on)
   */
  NodeProcesses(int size, Path builtJar, List<String> jvmOptions, Map<String, String> settings) throws IOException {
    this.dir = Files.createTempDirectory("tern-fault-");
    if (dev.tern.cli.ClassDataArchive.forClasspath(builtJar.toString()).isPresent()) {
      this.jar = builtJar; // the build's target/run/tern.jar: never rewritten in place, its archive valid only there
    } else {
      this.jar = dir.resolve("tern.jar");
      Files.copy(builtJar, jar, StandardCopyOption.REPLACE_EXISTING);
    }
    this.jvmOptions = List.copyOf(jvmOptions);
    this.settings = Map.copyOf(settings);
    List<Integer> ports = freePorts(2 * size);
    for (int i = 0; i < size; i++) {
      String id = "n" + (i + 1);
      nodes.put(id, new Node(id, ports.get(2 * i), ports.get(2 * i + 1)));
    }
    this.membersSpec = nodes.values().stream()
        .map(n -> n.id() + "=" + HOST + ":" + n.arteryPort() + ":" + n.httpPort())
        .collect(Collectors.joining(","));
  }

  /**
   * The shaded jar `mvn package` built: target/run/tern.jar when its class-data archive is there (the nodes then
   * start in half the time, docs/performance.md), else target/tern-*.jar, not original-tern-*.jar.
   */
  static Path builtJar() throws IOException {
    Path target = Path.of(System.getProperty("user.dir"), "target");
    Path shaded;
    try (Stream<Path> files = Files.list(target)) {
      shaded = files.filter(p -> {
            String name = p.getFileName().toString();
            return name.startsWith("tern") && name.endsWith(".jar") && !name.contains("-sources") && !name.contains("-tests");
          })
          .max(Comparator.comparing(p -> p.toFile().lastModified()))
          .orElseThrow(() -> new IllegalStateException("no target/tern-*.jar: run `mvn package` (or `mvn verify`) first"));
    }
    // The staged copy only when it comes from the same build (as ./tern decides): not older, the same size.
    Path staged = target.resolve("run").resolve("tern.jar");
    boolean sameBuild = Files.isRegularFile(staged) && Files.size(staged) == Files.size(shaded)
        && Files.getLastModifiedTime(staged).compareTo(Files.getLastModifiedTime(shaded)) >= 0;
    return sameBuild && dev.tern.cli.ClassDataArchive.forClasspath(staged.toString()).isPresent() ? staged : shaded;
  }

  Path dir() {
    return dir;
  }

  List<String> ids() {
    return List.copyOf(nodes.keySet());
  }

  Node node(String id) {
    return nodes.get(id);
  }

  String http(String id) {
    return nodes.get(id).http();
  }

  Path log(String id) {
    return dir.resolve(id + ".log");
  }

  int incarnation(String id) {
    return incarnations.getOrDefault(id, 0);
  }

  boolean isRunning(String id) {
    Process p = running.get(id);
    return p != null && p.isAlive();
  }

  boolean isPaused(String id) {
    return paused.contains(id);
  }

  Long pid(String id) {
    Process p = running.get(id);
    return p == null ? null : p.pid();
  }

  /** Starts node {@code id} (again, on the same data directory and ports) unless it is running. */
  synchronized void start(String id) throws IOException {
    if (isRunning(id)) return;
    Node n = nodes.get(id);
    Path data = dir.resolve(id);
    Files.createDirectories(data);
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(dev.tern.cli.ClassDataArchive.jvmOptions(jar.toString()));
    cmd.addAll(jvmOptions);
    cmd.add("-Dtern.data-dir=" + data);
    cmd.add("-Dtern.cluster.members-spec=" + membersSpec);
    settings.forEach((k, v) -> cmd.add("-D" + k + "=" + v));
    cmd.add("-cp");
    cmd.add(jar.toString());
    cmd.add("dev.tern.cli.TernCli");
    cmd.add("node");
    cmd.add("--id");
    cmd.add(id);
    int incarnation = incarnations.merge(id, 1, Integer::sum);
    Files.writeString(log(id), "==== fault test: starting " + id + " (start " + incarnation + ") at " + Instant.now()
        + " ====\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    Process p = new ProcessBuilder(cmd)
        .directory(dir.toFile())
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log(id).toFile()))
        .start();
    p.getOutputStream().close();
    LIVE.add(p);
    running.put(id, p);
    paused.remove(id);
  }

  /** SIGKILL, and waits until the process is gone (its ports are then free for a restart). */
  synchronized void kill(String id) throws InterruptedException {
    Process p = running.remove(id);
    paused.remove(id);
    if (p == null) return;
    p.destroyForcibly(); // SIGKILL on Linux, also for a stopped process
    if (!p.waitFor(30, TimeUnit.SECONDS)) throw new IllegalStateException(id + " (pid " + p.pid() + ") survived SIGKILL");
    LIVE.remove(p);
  }

  /**
   * SIGTERM, as an operator's clean stop (a node that leads hands leadership over first), and waits until the
   * process is gone. Returns its exit code.
   */
  synchronized int terminate(String id) throws InterruptedException {
    Process p = running.remove(id);
    paused.remove(id);
    if (p == null) return -1;
    p.destroy(); // SIGTERM
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException(id + " (pid " + p.pid() + ") did not stop within 30 s of SIGTERM");
    }
    LIVE.remove(p);
    return p.exitValue();
  }

  /** SIGSTOP: the process freezes, its sockets stay open. */
  synchronized void pause(String id) throws IOException, InterruptedException {
    Process p = running.get(id);
    if (p == null || !p.isAlive()) return;
    signal("STOP", p.pid());
    paused.add(id);
  }

  /** SIGCONT. */
  synchronized void resume(String id) throws IOException, InterruptedException {
    Process p = running.get(id);
    if (p == null || !paused.remove(id)) return;
    signal("CONT", p.pid());
  }

  private static void signal(String signal, long pid) throws IOException, InterruptedException {
    Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).redirectErrorStream(true).start();
    if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
      kill.destroyForcibly();
      throw new IOException("kill -" + signal + " " + pid + " failed: "
          + new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }
  }

  /** Nodes whose process exited although the test did not kill it (a crash), with their exit codes. */
  Map<String, Integer> exitedOnTheirOwn() {
    Map<String, Integer> out = new LinkedHashMap<>();
    running.forEach((id, p) -> {
      if (!p.isAlive()) out.put(id, p.exitValue());
    });
    return out;
  }

  /** Kills every node (SIGKILL by PID) and waits for each to exit. Keeps the directory. */
  synchronized void killAll() {
    for (String id : ids()) {
      try {
        kill(id);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** How many lines of the nodes' logs contain {@code text} (for figures: snapshots taken, installed). */
  long countLogLines(String text) throws IOException {
    long n = 0;
    for (String id : ids()) {
      if (!Files.exists(log(id))) continue;
      try (var lines = Files.lines(log(id), java.nio.charset.StandardCharsets.UTF_8)) {
        n += lines.filter(l -> l.contains(text)).count();
      }
    }
    return n;
  }

  /** Copies every node's log (and the files in {@code extra}) into {@code to}. */
  void saveLogs(Path to, Map<String, String> extra) throws IOException {
    Files.createDirectories(to);
    for (String id : ids()) {
      if (Files.exists(log(id))) Files.copy(log(id), to.resolve(id + ".log"), StandardCopyOption.REPLACE_EXISTING);
    }
    for (var e : extra.entrySet()) Files.writeString(to.resolve(e.getKey()), e.getValue(), StandardCharsets.UTF_8);
  }

  /** Kills every node and deletes the directory. */
  @Override
  public void close() throws IOException {
    killAll();
    try (Stream<Path> all = Files.walk(dir)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }

  /** {@code count} different free ports on 127.0.0.1, below the ephemeral range ({@link dev.tern.FreePorts}). */
  static List<Integer> freePorts(int count) {
    return dev.tern.FreePorts.take(count);
  }

  static Duration since(long startNanos) {
    return Duration.ofNanos(System.nanoTime() - startNanos);
  }
}

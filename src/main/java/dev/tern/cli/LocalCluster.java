package dev.tern.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import dev.tern.cluster.Member;
import dev.tern.cluster.Members;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A cluster of separate node processes on 127.0.0.1, kept in one directory D:
 *
 * <pre>
 *   D/cluster.conf   tern.cluster.members-spec with the ports picked on first start (reused afterwards)
 *   D/tern.jar       a copy of the jar the nodes run, so rebuilding the project does not disturb them (not made
 *                    for the build's target/run/tern.jar, which a rebuild never rewrites in place)
 *   D/nK/            node nK's data directory (-Dtern.data-dir)
 *   D/nK.log         node nK's stdout and stderr, appended on each start
 *   D/nK.pid         node nK's process id while it runs
 *   D/added.conf     the nodes `tern local add` added, with their ports ({@link LocalAddCommand})
 * </pre>
 *
 * {@link #plan} decides the membership without starting anything; {@link #start} and {@link #stop} run the
 * processes.
 */
public final class LocalCluster {
  public static final String CONFIG_FILE = "cluster.conf";
  public static final String JAR_COPY = "tern.jar";
  public static final String HOST = "127.0.0.1";
  public static final int DEFAULT_NODES = 3;
  public static final int MAX_NODES = 99;
  static final String MAIN_CLASS = TernCli.class.getName();

  /** Names that {@code tern local} writes in D; {@code --fresh} refuses to delete anything else. */
  private static final Pattern OWN_ENTRY =
      Pattern.compile("cluster\\.conf(\\.tmp)?|added\\.conf|tern\\.jar(\\.tmp)?|n\\d+|n\\d+\\.log|n\\d+\\.pid|certs");
  static final Pattern PID_FILE = Pattern.compile("n\\d+\\.pid");

  /** Why a cluster cannot be planned or started as asked; the message says what to do. */
  public static final class PlanException extends Exception {
    public PlanException(String message) {
      super(message);
    }
  }

  /** One started node process. */
  public record NodeProcess(Member member, Process process, Path log, Path pidFile) {}

  private final Path dir;
  private final Members members;
  private final boolean created;
  private final List<NodeProcess> running = new ArrayList<>();

  private LocalCluster(Path dir, Members members, boolean created) {
    this.dir = dir;
    this.members = members;
    this.created = created;
  }

  /**
   * Decides the cluster in {@code dir} without starting processes. With an existing {@code D/cluster.conf}
   * that file is reused (same ids and ports, so the same nodes restart); otherwise {@code nodes} (default 3)
   * free ports pairs are picked on 127.0.0.1 and written there.
   *
   * @param nodes how many nodes; null means "as many as D already has, else 3"
   * @param fresh delete D first (only if it holds nothing but files {@code tern local} writes)
   * @throws PlanException when the asked size differs from D's cluster, a cluster is running in D, or D is
   *     not a directory {@code tern local} can use
   */
  public static LocalCluster plan(Path dir, Integer nodes, boolean fresh) throws IOException, PlanException {
    if (nodes != null && (nodes < 1 || nodes > MAX_NODES)) {
      throw new PlanException("--nodes must be between 1 and " + MAX_NODES + ", not " + nodes);
    }
    dir = dir.toAbsolutePath().normalize();
    if (Files.exists(dir) && !Files.isDirectory(dir)) throw new PlanException(dir + " is not a directory");
    List<Long> live = livePids(dir);
    if (!live.isEmpty()) {
      throw new PlanException("a local cluster is already running in " + dir + " (pids "
          + live.stream().map(String::valueOf).collect(Collectors.joining(" ")) + "); stop it first "
          + "(Ctrl-C where it runs, or kill $(cat " + dir + "/n*.pid))");
    }
    Path conf = dir.resolve(CONFIG_FILE);
    if (fresh && Files.exists(dir)) {
      List<String> foreign = foreignEntries(dir);
      if (!foreign.isEmpty()) {
        throw new PlanException("refusing to delete " + dir + " for --fresh: it holds files tern local did not "
            + "write: " + String.join(", ", foreign));
      }
      deleteRecursively(dir);
    }
    if (Files.exists(conf)) {
      Members existing = readMembers(conf);
      int have = existing.all().size();
      if (nodes != null && nodes != have) {
        throw new PlanException(dir + " holds a cluster of " + have + " node" + (have == 1 ? "" : "s") + " (see "
            + conf + "), not " + nodes + ". Run with --nodes " + have + " to restart it, add --fresh to delete it "
            + "and start a new cluster of " + nodes + ", or choose another --dir.");
      }
      return new LocalCluster(dir, existing, false);
    }
    if (Files.isDirectory(dir)) {
      List<String> foreign = foreignEntries(dir);
      if (!foreign.isEmpty()) {
        throw new PlanException(dir + " is not empty and has no " + CONFIG_FILE + " (it holds "
            + String.join(", ", foreign) + "); choose an empty or new --dir");
      }
    }
    Files.createDirectories(dir);
    Members picked = new Members(pickPorts(nodes == null ? DEFAULT_NODES : nodes));
    writeAtomically(conf, configText(picked));
    return new LocalCluster(dir, picked, true);
  }

  public Path dir() {
    return dir;
  }

  public Path configFile() {
    return dir.resolve(CONFIG_FILE);
  }

  public Members members() {
    return members;
  }

  /** True when {@link #plan} wrote a new cluster.conf; false when it reused one. */
  public boolean created() {
    return created;
  }

  public Path dataDir(String id) {
    return dir.resolve(id);
  }

  public Path logFile(String id) {
    return dir.resolve(id + ".log");
  }

  public Path pidFile(String id) {
    return dir.resolve(id + ".pid");
  }

  /** The member spec written to cluster.conf, "n1=127.0.0.1:A1:H1,...". */
  public static String membersSpec(Members members) {
    return members.all().stream()
        .map(m -> m.id() + "=" + m.host() + ":" + m.arteryPort() + ":" + m.httpPort())
        .collect(Collectors.joining(","));
  }

  /**
   * The command that runs one node: JVM options (including {@code -Dtern.data-dir}) come before the main
   * class, the node's own options after it.
   */
  public List<String> nodeCommand(Member m, String javaBin, String classpath, List<String> jvmOptions) {
    List<String> cmd = new ArrayList<>();
    cmd.add(javaBin);
    cmd.addAll(ClassDataArchive.jvmOptions(classpath)); // before the caller's options, which may override it
    cmd.addAll(jvmOptions);
    cmd.add("-Dtern.data-dir=" + dataDir(m.id()));
    cmd.add("-cp");
    cmd.add(classpath);
    cmd.add(MAIN_CLASS);
    cmd.add("node");
    cmd.add("--id");
    cmd.add(m.id());
    cmd.add("--config");
    cmd.add(configFile().toString());
    return cmd;
  }

  /** Ports of this cluster that something on 127.0.0.1 already listens on, described for a message. */
  public List<String> busyPorts() {
    List<String> busy = new ArrayList<>();
    for (Member m : members.all()) {
      if (!isFree(m.host(), m.arteryPort())) busy.add(m.id() + " artery port " + m.arteryPort());
      if (!isFree(m.host(), m.httpPort())) busy.add(m.id() + " http port " + m.httpPort());
    }
    return busy;
  }

  /**
   * The class path for the nodes. A jar with a class-data archive beside it (the build's {@code target/run/tern.jar},
   * which {@code ./tern} runs) is used where it is: the build replaces it only by renaming, so a rebuild leaves
   * running nodes their jar, and the archive is valid only for that path ({@link ClassDataArchive}). Any other
   * single self-contained jar is copied to {@code D/tern.jar}, so that rebuilding the project while the cluster runs
   * does not pull the jar from under the nodes; any other class path is used as it is, made absolute.
   */
  public String nodeClasspath(String classpath) throws IOException {
    String[] entries = classpath.split(Pattern.quote(File.pathSeparator));
    if (ClassDataArchive.forClasspath(classpath).isPresent()) return Path.of(classpath).toAbsolutePath().toString();
    if (entries.length == 1 && entries[0].endsWith(".jar") && isSelfContainedJar(Path.of(entries[0]))) {
      Path copy = dir.resolve(JAR_COPY);
      Path tmp = dir.resolve(JAR_COPY + ".tmp");
      Files.copy(Path.of(entries[0]), tmp, StandardCopyOption.REPLACE_EXISTING);
      Files.move(tmp, copy, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      return copy.toString();
    }
    return Stream.of(entries)
        .filter(e -> !e.isEmpty())
        .map(e -> Path.of(e).toAbsolutePath().toString())
        .collect(Collectors.joining(File.pathSeparator));
  }

  /**
   * Starts one process per member, each logging to {@code D/nK.log} and recorded in {@code D/nK.pid}. If one
   * fails to start, those already started are stopped.
   */
  public synchronized List<NodeProcess> start(String javaBin, String classpath, List<String> jvmOptions)
      throws IOException {
    if (!running.isEmpty()) throw new IllegalStateException("already started");
    try {
      for (Member m : members.all()) {
        Files.createDirectories(dataDir(m.id()));
        Path log = logFile(m.id());
        Files.writeString(log, "==== tern local: starting " + m.id() + " at " + Instant.now() + " ====\n",
            StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        ProcessBuilder pb = new ProcessBuilder(nodeCommand(m, javaBin, classpath, jvmOptions))
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        Process p = pb.start();
        p.getOutputStream().close(); // nodes read no input
        NodeProcess np = new NodeProcess(m, p, log, pidFile(m.id()));
        running.add(np);
        Files.writeString(np.pidFile(), p.pid() + "\n", StandardCharsets.UTF_8);
      }
    } catch (IOException | RuntimeException e) {
      stop(Duration.ofSeconds(5));
      throw e;
    }
    return List.copyOf(running);
  }

  public synchronized List<NodeProcess> processes() {
    return List.copyOf(running);
  }

  /**
   * Stops every node still running: a polite stop (SIGTERM, so each node shuts down cleanly), then after
   * {@code grace} a forced one; waits for all of them and removes their pid files.
   */
  public void stop(Duration grace) {
    List<NodeProcess> nodes = processes();
    for (NodeProcess n : nodes) n.process().destroy();
    long deadline = System.nanoTime() + grace.toNanos();
    for (NodeProcess n : nodes) {
      try {
        long left = deadline - System.nanoTime();
        if (left <= 0 || !n.process().waitFor(left, java.util.concurrent.TimeUnit.NANOSECONDS)) {
          n.process().destroyForcibly();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        n.process().destroyForcibly();
      }
    }
    for (NodeProcess n : nodes) {
      try {
        n.process().waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      removePidFile(n);
    }
  }

  /**
   * Records in {@code D/cluster.conf}, once, that this cluster exists ({@code tern.cluster.initial-state = existing},
   * as an operator sets it after bootstrapping): every node started with it refuses an empty data directory.
   */
  public void markExisting() {
    Path conf = configFile();
    try {
      String text = Files.readString(conf, StandardCharsets.UTF_8);
      if (text.contains("tern.cluster.initial-state")) return;
      Files.writeString(conf, "# Added by `tern local` once every node first served: a node that finds its data"
          + " directory empty\n# from now on has lost its state, and refuses to start (docs/operations.md).\n"
          + "tern.cluster.initial-state = existing\n", StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.APPEND);
    } catch (IOException e) {
      // the cluster runs on; only the lost-state check of later starts is missing, as before this file had it
    }
  }

  /** Removes a node's pid file if it still names that node's process. */
  public void removePidFile(NodeProcess n) {
    try {
      Optional<Long> pid = readPid(n.pidFile());
      if (pid.isPresent() && pid.get() == n.process().pid()) Files.deleteIfExists(n.pidFile());
    } catch (IOException e) {
      // best effort: a stale pid file is recognised as such on the next start
    }
  }

  // ---- the plan's helpers ----

  static String configText(Members members) {
    return "# Written by `tern local` at " + Instant.now() + ": this local cluster's members, with the ports\n"
        + "# picked on its first start. Every node is started with --config pointing here, and later runs of\n"
        + "# `tern local` on this directory reuse it, so the same nodes come back on the same ports.\n"
        + "# Settings added below apply to every node of this cluster.\n"
        + "tern.cluster.members-spec = \"" + membersSpec(members) + "\"\n";
  }

  static Members readMembers(Path conf) throws PlanException {
    try {
      Config c = ConfigFactory.parseFile(conf.toFile(), ConfigParseOptions.defaults().setAllowMissing(false));
      String spec = c.getString("tern.cluster.members-spec").trim();
      if (spec.isEmpty()) throw new IllegalArgumentException("tern.cluster.members-spec is empty");
      return Members.parse(spec);
    } catch (ConfigException | IllegalArgumentException e) {
      throw new PlanException(conf + " is not a usable tern local cluster file (" + e.getMessage()
          + "); fix it, or use --fresh to start a new cluster");
    }
  }

  /**
   * Ports for a new local cluster: the documented defaults (Artery 7101+, HTTP 8101+, as in application.conf,
   * so the CLI's default --node reaches n1) when they are all free, otherwise free ports picked by the OS.
   */
  static List<Member> pickPorts(int nodes) throws IOException {
    List<Member> defaults = new ArrayList<>();
    boolean allFree = true;
    for (int i = 0; i < nodes && allFree; i++) {
      defaults.add(new Member("n" + (i + 1), HOST, 7101 + i, 8101 + i));
      allFree = isFree(HOST, 7101 + i) && isFree(HOST, 8101 + i);
    }
    return allFree ? defaults : pickFreePorts(nodes);
  }

  /** Picks 2 free ports per node on 127.0.0.1, all different (every socket stays open until all are picked). */
  static List<Member> pickFreePorts(int nodes) throws IOException {
    List<ServerSocket> sockets = new ArrayList<>();
    try {
      InetAddress loopback = InetAddress.getByName(HOST);
      for (int i = 0; i < 2 * nodes; i++) {
        ServerSocket s = new ServerSocket();
        sockets.add(s);
        s.bind(new InetSocketAddress(loopback, 0));
      }
      List<Member> out = new ArrayList<>();
      for (int i = 0; i < nodes; i++) {
        int artery = sockets.get(2 * i).getLocalPort();
        int http = sockets.get(2 * i + 1).getLocalPort();
        out.add(new Member("n" + (i + 1), HOST, artery, http));
      }
      return out;
    } finally {
      for (ServerSocket s : sockets) s.close();
    }
  }

  static boolean isFree(String host, int port) {
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress(InetAddress.getByName(host), port));
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** Pids in D's pid files whose processes are still alive. */
  static List<Long> livePids(Path dir) throws IOException {
    List<Long> live = new ArrayList<>();
    if (!Files.isDirectory(dir)) return live;
    try (Stream<Path> entries = Files.list(dir)) {
      for (Path p : entries.filter(p -> PID_FILE.matcher(p.getFileName().toString()).matches()).sorted().toList()) {
        Optional<Long> pid = readPid(p);
        if (pid.isEmpty()) continue;
        Optional<ProcessHandle> handle = ProcessHandle.of(pid.get());
        if (handle.isEmpty() || !handle.get().isAlive()) continue;
        // A process that started after its pid file was written is an unrelated one that reused the pid.
        Optional<Instant> started = handle.get().info().startInstant();
        Instant written = Files.getLastModifiedTime(p).toInstant();
        if (started.isPresent() && started.get().isAfter(written.plusSeconds(2))) continue;
        live.add(pid.get());
      }
    }
    return live;
  }

  static Optional<Long> readPid(Path pidFile) throws IOException {
    if (!Files.isRegularFile(pidFile)) return Optional.empty();
    try {
      return Optional.of(Long.parseLong(Files.readString(pidFile, StandardCharsets.UTF_8).trim()));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }

  private static boolean isSelfContainedJar(Path jar) {
    try (JarFile j = new JarFile(jar.toFile())) {
      Manifest mf = j.getManifest();
      boolean hasClassPath = mf != null && mf.getMainAttributes().getValue("Class-Path") != null;
      return !hasClassPath && j.getEntry(MAIN_CLASS.replace('.', '/') + ".class") != null;
    } catch (IOException e) {
      return false;
    }
  }

  private static List<String> foreignEntries(Path dir) throws IOException {
    try (Stream<Path> entries = Files.list(dir)) {
      return entries.map(p -> p.getFileName().toString())
          .filter(name -> !OWN_ENTRY.matcher(name).matches())
          .sorted()
          .toList();
    }
  }

  private static void deleteRecursively(Path dir) throws IOException {
    try (Stream<Path> all = Files.walk(dir)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }

  private static void writeAtomically(Path file, String text) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(tmp, text, StandardCharsets.UTF_8);
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }
}

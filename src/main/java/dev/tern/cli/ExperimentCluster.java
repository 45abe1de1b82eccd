package dev.tern.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tern.cluster.Member;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A fresh cluster of node processes on 127.0.0.1 for one experiment, as {@code tern local} runs them (free ports,
 * a directory of its own), with the experiment's settings; it can SIGKILL and restart single nodes. Closing it
 * stops every process it started and deletes its directory (unless told to keep it, logs and all).
 */
final class ExperimentCluster implements AutoCloseable {
  /** What one node's {@code /v1/status} says, or null fields when it did not answer. */
  record NodeView(String id, String role, long term, String leader, boolean serving) {
    boolean isLeader() {
      return "leader".equalsIgnoreCase(role);
    }
  }

  /** The leader all live nodes agree on, and its term. */
  record Leadership(String leader, long term) {}

  private final LocalCluster plan;
  private final List<String> jvmOptions;
  private final String classpath;
  private final String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
  private final Map<String, Process> processes = new LinkedHashMap<>();
  /** One client per node for status polls: an HTTP client is a thread and a connection pool, made once. */
  private final Map<String, TernClient> statusClients = new java.util.concurrent.ConcurrentHashMap<>();
  private final boolean keep;
  /** Ctrl-C (or SIGTERM) in the middle of an experiment stops its nodes too. */
  private final Thread onExit = new Thread(this::stopNodes, "experiment-stop");

  private ExperimentCluster(LocalCluster plan, List<String> jvmOptions, String classpath, boolean keep) {
    this.plan = plan;
    this.jvmOptions = jvmOptions;
    this.classpath = classpath;
    this.keep = keep;
  }

  /**
   * Starts {@code nodes} nodes in {@code dir} (deleted first) with the given settings ({@code -D} properties) and
   * JVM options, and waits until they agree on a leader.
   */
  static ExperimentCluster start(Path dir, int nodes, Map<String, String> settings, ExperimentOptions options)
      throws IOException, InterruptedException {
    LocalCluster plan;
    try {
      plan = LocalCluster.plan(dir, nodes, true);
    } catch (LocalCluster.PlanException e) {
      throw new IOException(e.getMessage(), e);
    }
    List<String> jvm = new ArrayList<>(LocalCommand.split(options.javaOpts));
    jvm.addAll(LocalCommand.heapOptions(jvm, options.heap));
    settings.forEach((k, v) -> jvm.add("-D" + k + "=" + v));
    String cp = plan.nodeClasspath(System.getProperty("java.class.path"));
    ExperimentCluster cluster = new ExperimentCluster(plan, jvm, cp, options.keep);
    Runtime.getRuntime().addShutdownHook(cluster.onExit);
    try {
      for (Member m : plan.members().all()) cluster.startNode(m.id());
      cluster.awaitLeadership(options.readyTimeout);
    } catch (IOException | InterruptedException | RuntimeException e) {
      cluster.close();
      throw e;
    }
    return cluster;
  }

  List<Member> members() {
    return plan.members().all();
  }

  URI uri(String id) {
    Member m = plan.members().byId(id).orElseThrow();
    return URI.create("http://" + m.host() + ":" + m.httpPort());
  }

  List<URI> uris() {
    return members().stream().map(m -> uri(m.id())).toList();
  }

  synchronized boolean alive(String id) {
    Process p = processes.get(id);
    return p != null && p.isAlive();
  }

  /** Starts (or restarts, on its data) node {@code id}, logging to the cluster directory. */
  synchronized void startNode(String id) throws IOException {
    Member m = plan.members().byId(id).orElseThrow();
    Files.createDirectories(plan.dataDir(id));
    ProcessBuilder pb = new ProcessBuilder(plan.nodeCommand(m, javaBin, classpath, jvmOptions))
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(plan.logFile(id).toFile()));
    Process p = pb.start();
    p.getOutputStream().close();
    processes.put(id, p);
  }

  /** SIGKILL: the node stops at once, without a word to its peers (a crash). */
  synchronized void kill(String id) throws InterruptedException {
    Process p = processes.get(id);
    if (p == null) return;
    p.destroyForcibly();
    p.waitFor(10, TimeUnit.SECONDS);
  }

  /** Asks node {@code id} for its status (waiting at most 2 s); empty when it does not answer. */
  Optional<NodeView> status(String id) {
    try {
      TernClient client = statusClients.computeIfAbsent(id, k -> new TernClient(uri(k), Duration.ofSeconds(2)));
      TernClient.Response r = client.get("/v1/status");
      JsonNode s = r.json();
      if (!r.ok() || s == null) return Optional.empty();
      return Optional.of(new NodeView(id, s.path("role").asText(null), s.path("term").asLong(),
          s.hasNonNull("leader") ? s.get("leader").asText() : null, s.path("serving").asBoolean()));
    } catch (TernClient.UnreachableException | RuntimeException e) {
      return Optional.empty();
    }
  }

  /**
   * Waits until every live node serves and names the same leader in the same term, twice in a row 300 ms apart
   * (so that a cluster still settling after a restart does not count).
   */
  Leadership awaitLeadership(Duration timeout) throws InterruptedException, IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    Leadership previous = null;
    List<String> last = List.of();
    while (System.nanoTime() < deadline) {
      Leadership now = agreed();
      if (now != null && now.equals(previous)) return now;
      previous = now;
      if (now == null) last = views();
      Thread.sleep(300);
    }
    throw new IOException("the cluster did not agree on a leader within " + timeout.toSeconds() + "s: " + last
        + "; see the logs in " + plan.dir());
  }

  private Leadership agreed() {
    Leadership agreed = null;
    for (Member m : members()) {
      if (!alive(m.id())) continue;
      NodeView v = status(m.id()).orElse(null);
      if (v == null || !v.serving() || v.leader() == null) return null;
      Leadership l = new Leadership(v.leader(), v.term());
      if (agreed != null && !agreed.equals(l)) return null;
      agreed = l;
    }
    return agreed;
  }

  private List<String> views() {
    List<String> out = new ArrayList<>();
    for (Member m : members()) {
      if (!alive(m.id())) {
        out.add(m.id() + ": not running");
        continue;
      }
      out.add(status(m.id()).map(Record::toString).orElse(m.id() + ": no answer"));
    }
    return out;
  }

  /** The CPU time all node processes running now have used so far (user and system), as the OS reports it. */
  synchronized Duration nodesCpu() {
    Duration total = Duration.ZERO;
    for (Process p : processes.values()) {
      total = total.plus(p.info().totalCpuDuration().orElse(Duration.ZERO));
    }
    return total;
  }

  /** A test-only fault (the cluster must run with tern.testing.fault-injection on): node {@code id} sends late. */
  void delay(String id, Duration delay) throws IOException {
    String body = "{\"delayMs\": " + delay.toNanos() / 1e6 + "}";
    try {
      TernClient.Response r = new TernClient(uri(id), Duration.ofSeconds(5)).send("POST", "/v1/testing/delay", body);
      if (!r.ok()) throw new IOException("could not delay " + id + ": HTTP " + r.status() + " " + r.body());
    } catch (TernClient.UnreachableException e) {
      throw new IOException("could not delay " + id + ": " + e.getMessage(), e);
    }
  }

  /** The last lines of node {@code id}'s log, for a message. */
  String logTail(String id, int lines) {
    try {
      List<String> all = Files.readAllLines(plan.logFile(id), StandardCharsets.UTF_8);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  @Override
  public void close() {
    try {
      Runtime.getRuntime().removeShutdownHook(onExit);
    } catch (IllegalStateException e) {
      // the JVM is shutting down: the hook stops the nodes
    }
    stopNodes();
    if (keep) return;
    try (Stream<Path> files = Files.walk(plan.dir())) {
      for (Path f : files.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(f);
    } catch (IOException e) {
      // a leftover temp directory is not worth failing an experiment for
    }
  }

  /** Stops every node process: SIGTERM, then SIGKILL for any still running after 5 s. */
  private synchronized void stopNodes() {
    for (Process p : processes.values()) p.destroy();
    for (Process p : processes.values()) {
      try {
        if (!p.waitFor(5, TimeUnit.SECONDS)) {
          p.destroyForcibly();
          p.waitFor(10, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        p.destroyForcibly();
      }
    }
    processes.clear();
  }

  /** Writes a short note to {@code out} and flushes it (the experiments' progress lines). */
  static void say(PrintWriter out, String line) {
    synchronized (out) {
      out.println(line);
      out.flush();
    }
  }
}

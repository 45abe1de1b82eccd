package dev.tern.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tern.cluster.Member;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code tern local}: a cluster of separate node processes on this machine, until Ctrl-C. */
@Command(
    name = "local",
    description = {
      "Run a local cluster: N node processes on 127.0.0.1, until Ctrl-C stops them all.",
      "",
      "The first start picks free ports and writes them to D/cluster.conf; later starts on the same --dir "
          + "reuse that file, so the same nodes come back on the same ports. Each node logs to D/nK.log, keeps "
          + "its data in D/nK/ and its pid in D/nK.pid while it runs."
    },
    mixinStandardHelpOptions = true,
    subcommands = {LocalAddCommand.class},
    footer = {
      "",
      "Exit codes: 0 stopped with Ctrl-C; 2 bad arguments, or a --dir that does not fit (another number "
          + "of nodes, a cluster already running there); 5 the cluster could not start, or every node exited "
          + "on its own."
    })
final class LocalCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "--nodes", paramLabel = "N",
      description = "How many nodes (default: as many as D already has, else " + LocalCluster.DEFAULT_NODES + ").")
  Integer nodes;

  @Option(names = "--dir", paramLabel = "D", defaultValue = "tern-local",
      description = "The cluster's directory (default: ./${DEFAULT-VALUE}).")
  Path dir;

  @Option(names = "--fresh", description = "Delete D first and start a new, empty cluster.")
  boolean fresh;

  @Option(names = "--secure", description = "Secure a new cluster (docs/security.md): a fresh CA and node certificates"
      + " in D/certs, HTTPS, mutual TLS between nodes, and bearer tokens; the admin token is printed once. Later"
      + " starts of the same D stay secured.")
  boolean secure;

  @Option(names = "--java-opts", paramLabel = "OPTS",
      description = "JVM options for every node, separated by spaces, e.g. \"-Xmx256m "
          + "-Dtern.raft.heartbeat-interval=20ms\" (default: $TERN_JAVA_OPTS).")
  String javaOpts;

  @Option(names = "--heap", paramLabel = "SIZE",
      description = "Each node's maximum heap, as for -Xmx, e.g. 256m or 2g (default: $TERN_HEAP, else "
          + DEFAULT_HEAP + "); ignored when the JVM options set -Xmx. The keys and values are on disk; the heap holds the"
          + " log since the last snapshot and other bounded state (at least 240 MiB with the defaults).")
  String heap;

  /** A node's heap bound unless told otherwise: 3 nodes on a 2-core machine with a few GiB (docs/performance.md). */
  static final String DEFAULT_HEAP = "512m";

  @Option(names = "-D", paramLabel = "KEY=VALUE", description = "A setting for every node, e.g. "
      + "-Dtern.http.request-timeout=8s (passed to the nodes' JVMs).")
  Map<String, String> properties = new LinkedHashMap<>();

  @Option(names = "--ready-timeout", paramLabel = "DURATION", defaultValue = "60s",
      converter = ClientCommand.DurationConverter.class,
      description = "How long to wait for every node to serve before saying so (default: ${DEFAULT-VALUE}).")
  Duration readyTimeout;

  @Option(names = "--stop-timeout", paramLabel = "DURATION", defaultValue = "5s",
      converter = ClientCommand.DurationConverter.class,
      description = "On Ctrl-C, how long nodes get to stop before they are killed (default: ${DEFAULT-VALUE}).")
  Duration stopTimeout;

  @Option(names = "--classpath", paramLabel = "CP", hidden = true,
      description = "The nodes' class path (default: this JVM's).")
  String classpath;

  private final AtomicBoolean stopping = new AtomicBoolean();

  @Override
  public Integer call() throws IOException, InterruptedException {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    LocalCluster cluster;
    try {
      cluster = LocalCluster.plan(dir, nodes, fresh);
    } catch (LocalCluster.PlanException e) {
      err.println("tern local: " + e.getMessage());
      err.flush();
      return ExitCodes.USAGE;
    }
    String adminToken = null;
    LocalSecurity.Client secured = LocalSecurity.client(cluster.configFile());
    if (secure && secured == null) {
      if (!cluster.created()) {
        err.println("tern local: --secure secures a new cluster; " + cluster.dir() + " holds one that is not secured"
            + " (add --fresh to delete it and start a secured one)");
        err.flush();
        return ExitCodes.USAGE;
      }
      adminToken = LocalSecurity.secure(cluster.dir(), cluster.members(), out);
      secured = LocalSecurity.client(cluster.configFile());
    }
    String scheme = secured == null ? "http" : "https";
    List<String> busy = cluster.busyPorts();
    if (!busy.isEmpty()) {
      err.println("tern local: ports of " + cluster.configFile() + " are in use: " + String.join(", ", busy)
          + ". Stop whatever holds them, or use --fresh to pick new ports (this deletes the cluster's data).");
      err.flush();
      return ExitCodes.ERROR;
    }

    List<String> jvmOptions = new ArrayList<>(split(javaOpts != null ? javaOpts : System.getenv("TERN_JAVA_OPTS")));
    jvmOptions.addAll(heapOptions(jvmOptions, heap != null ? heap : System.getenv("TERN_HEAP")));
    properties.forEach((k, v) -> jvmOptions.add("-D" + k + "=" + v));
    String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String cp = cluster.nodeClasspath(classpath != null ? classpath : System.getProperty("java.class.path"));

    int n = cluster.members().all().size();
    out.println((cluster.created() ? "Starting a new local cluster of " : "Restarting the local cluster of ") + n
        + " node" + (n == 1 ? "" : "s") + " in " + cluster.dir()
        + (cluster.created() ? "" : " (members from " + cluster.configFile().getFileName() + ")"));
    out.flush();

    List<LocalCluster.NodeProcess> started;
    try {
      started = cluster.start(javaBin, cp, jvmOptions);
    } catch (IOException e) {
      err.println("tern local: could not start the nodes: " + e.getMessage());
      err.flush();
      return ExitCodes.ERROR;
    }
    Thread hook = new Thread(() -> {
      stopping.set(true);
      long left = cluster.processes().stream().filter(p -> p.process().isAlive()).count();
      out.println("Stopping " + left + " node" + (left == 1 ? "" : "s") + "...");
      out.flush();
      var added = LocalAddCommand.stopAdded(cluster); // nodes `tern local add` started, signalled with the others
      cluster.stop(stopTimeout);
      LocalAddCommand.awaitStopped(added, stopTimeout);
      out.println("Stopped. The cluster's directory stays in " + cluster.dir()
          + "; run the same command to restart it.");
      out.flush();
    }, "tern-local-stop");
    Runtime.getRuntime().addShutdownHook(hook);

    printTable(out, cluster, started, scheme);
    Member first = started.get(0).member();
    String endpoints = started.stream().map(p -> address(scheme, p.member()))
        .collect(java.util.stream.Collectors.joining(","));
    out.println("Endpoints: " + endpoints);
    if (secured == null) {
      out.println("Try: TERN_ENDPOINTS=" + endpoints + " ./tern status   (or --endpoints " + endpoints
          + "; --node " + first.httpAddress() + " asks one node)");
    } else {
      if (adminToken != null) {
        out.println("Admin token (shown once, stored nowhere): " + adminToken);
      }
      out.println("Try: TERN_CACERT=" + secured.caFile() + " TERN_TOKEN=" + (adminToken != null ? adminToken : "<the admin token>")
          + " TERN_ENDPOINTS=" + endpoints + " ./tern status");
    }
    out.println("Press Ctrl-C to stop the cluster.");
    out.flush();

    BlockingQueue<LocalCluster.NodeProcess> exits = new LinkedBlockingQueue<>();
    for (LocalCluster.NodeProcess p : started) p.process().onExit().thenRun(() -> exits.add(p));
    LocalSecurity.Client client = secured;
    Thread ready = new Thread(() -> awaitReady(out, cluster, started, scheme, client), "tern-local-ready");
    ready.setDaemon(true);
    ready.start();

    int alive = started.size();
    while (alive > 0) {
      LocalCluster.NodeProcess p = exits.take();
      alive--;
      if (stopping.get()) continue;
      cluster.removePidFile(p);
      int code = p.process().exitValue();
      if (code == 130 && stopSoon()) continue; // Ctrl-C in the terminal reached the node too: not a crash
      err.println("node " + p.member().id() + " (pid " + p.process().pid() + ") exited unexpectedly: "
          + describeExit(code) + "; see " + p.log() + ". " + alive + " of " + started.size() + " still running.");
      err.println("  To restart it by hand: java -Dtern.data-dir=" + cluster.dataDir(p.member().id())
          + " -cp " + cp + " " + LocalCluster.MAIN_CLASS + " node --id " + p.member().id() + " --config "
          + cluster.configFile() + " >> " + p.log() + " 2>&1 &");
      err.flush();
    }
    if (stopping.get()) {
      return ExitCodes.OK; // the shutdown hook is stopping the JVM
    }
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      return ExitCodes.OK; // shutdown began meanwhile
    }
    err.println("tern local: every node has exited; see the logs in " + cluster.dir());
    err.flush();
    return ExitCodes.ERROR;
  }

  /** Whether a stop begins within a second (the terminal's SIGINT reaches nodes and this JVM together). */
  private boolean stopSoon() throws InterruptedException {
    for (int i = 0; i < 20 && !stopping.get(); i++) Thread.sleep(50);
    return stopping.get();
  }

  /** A member's API address with {@code scheme}. */
  static String address(String scheme, Member m) {
    return scheme + "://" + m.host() + ":" + m.httpPort();
  }

  private void printTable(PrintWriter out, LocalCluster cluster, List<LocalCluster.NodeProcess> started, String scheme) {
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"ID", "HTTP", "PID", "LOG"});
    for (LocalCluster.NodeProcess p : started) {
      rows.add(new String[] {
        p.member().id(), address(scheme, p.member()), String.valueOf(p.process().pid()), p.log().toString()
      });
    }
    int[] w = new int[4];
    for (String[] r : rows) for (int i = 0; i < 4; i++) w[i] = Math.max(w[i], r[i].length());
    for (String[] r : rows) {
      out.println(String.format("  %-" + w[0] + "s  %-" + w[1] + "s  %-" + w[2] + "s  %s", (Object[]) r));
    }
  }

  /** Polls every node's /v1/status until all serve, and says so once (or says who is not serving). */
  private void awaitReady(PrintWriter out, LocalCluster cluster, List<LocalCluster.NodeProcess> started, String scheme,
      LocalSecurity.Client secured) {
    long deadline = System.nanoTime() + readyTimeout.toNanos();
    Map<String, String> notReady = new LinkedHashMap<>();
    try {
      while (!stopping.get()) {
        notReady.clear();
        String leader = null;
        String term = null;
        for (LocalCluster.NodeProcess p : started) {
          if (!p.process().isAlive()) {
            notReady.put(p.member().id(), "exited");
            continue;
          }
          TernClient client = new TernClient(List.of(TernClient.parseNode(address(scheme, p.member()))), Duration.ofSeconds(2),
              secured == null ? null : secured.readToken(), secured == null ? null : secured.ssl());
          try {
            TernClient.Response r = client.get("/v1/status");
            JsonNode s = r.json();
            if (r.ok() && s != null && s.path("serving").asBoolean()) {
              if (s.hasNonNull("leader")) leader = s.get("leader").asText();
              term = s.path("term").asText();
            } else {
              notReady.put(p.member().id(), r.ok() ? "no leader known yet" : "HTTP " + r.status());
            }
          } catch (TernClient.UnreachableException e) {
            notReady.put(p.member().id(), "not listening yet");
          }
        }
        if (notReady.isEmpty()) {
          // From now on the cluster exists: a node that later finds its directory empty has lost its state and
          // refuses to start, by tern local or by hand with --config (issue 17).
          cluster.markExisting();
          synchronized (out) {
            out.println("Ready: " + (started.size() == 1 ? "the node serves" : "all " + started.size() + " nodes serve")
                + "; leader " + leader + " (term " + term + ").");
            out.flush();
          }
          return;
        }
        if (System.nanoTime() > deadline) {
          synchronized (out) {
            out.println("Not ready after " + readyTimeout.toSeconds() + "s: " + notReady + "; see the logs in "
                + cluster.dir());
            out.flush();
          }
          return;
        }
        Thread.sleep(250);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static String describeExit(int code) {
    if (code > 128 && code < 160) {
      int sig = code - 128;
      String name = switch (sig) {
        case 1 -> "SIGHUP";
        case 2 -> "SIGINT";
        case 6 -> "SIGABRT";
        case 9 -> "SIGKILL";
        case 15 -> "SIGTERM";
        default -> "signal " + sig;
      };
      return "killed by " + name + " (exit code " + code + ")";
    }
    return "exit code " + code;
  }

  static List<String> split(String opts) {
    if (opts == null || opts.isBlank()) return List.of();
    return List.of(opts.strip().split("\\s+"));
  }

  /**
   * The heap bound for each node (unless {@code options} already set -Xmx), G1's region size (likewise), and exit on
   * running out of memory: a node that limps on without memory serves nobody, one that exits is restarted.
   */
  static List<String> heapOptions(List<String> options, String heap) {
    List<String> added = new ArrayList<>();
    if (options.stream().noneMatch(o -> o.startsWith("-Xmx"))) {
      added.add("-Xmx" + (heap == null || heap.isBlank() ? DEFAULT_HEAP : heap.trim()));
    }
    // 4 MiB heap regions: with G1's default for a 512 MiB heap (1 MiB), every value of 512 KiB or more is a
    // "humongous" object, allocated and collected the slow way (1 MiB writes: 130 -> 85 ms of CPU each).
    if (options.stream().noneMatch(o -> o.startsWith("-XX:G1HeapRegionSize="))) added.add("-XX:G1HeapRegionSize=4m");
    added.add("-XX:+ExitOnOutOfMemoryError");
    return added;
  }
}

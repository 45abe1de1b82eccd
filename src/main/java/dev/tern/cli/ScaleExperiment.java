package dev.tern.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Throughput and latency of writes for clusters of several sizes: for each size a fresh cluster, the same
 * closed-loop load spread over all its nodes (as clients of a real cluster would be), measured after a warm-up; then
 * how busy the idle nodes keep the machine.
 */
@Command(name = "size", mixinStandardHelpOptions = true,
    description = "Write throughput and latency for clusters of several sizes.")
final class ScaleExperiment implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Mixin
  ExperimentOptions options;

  @Option(names = "--sizes", split = ",", defaultValue = "3,5,7,9,11", paramLabel = "N,...",
      description = "Cluster sizes (default ${DEFAULT-VALUE}).")
  List<Integer> sizes;

  @Option(names = "--read-ratio", defaultValue = "0", description = "Share of reads, 0 to 1 (default ${DEFAULT-VALUE}).")
  double readRatio;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    String problem = options.problem();
    if (problem == null && sizes.stream().anyMatch(n -> n < 1 || n > LocalCluster.MAX_NODES)) {
      problem = "--sizes must be 1 to " + LocalCluster.MAX_NODES;
    }
    if (problem == null && !(readRatio >= 0 && readRatio <= 1)) problem = "--read-ratio must be in [0, 1]";
    if (problem != null) return ExperimentCommand.usage(spec.commandLine().getErr(), problem);
    run(options, sizes, readRatio, out);
    return ExitCodes.OK;
  }

  /**
   * The share of the machine's cores the idle nodes keep busy, over the 5 seconds after the load (heartbeats, Pekko's
   * cluster gossip, and JIT compilers still at work): what a bigger cluster costs before it serves anything.
   */
  static double idleShare(ExperimentCluster cluster) throws InterruptedException {
    java.time.Duration before = cluster.nodesCpu();
    long t0 = System.nanoTime();
    Thread.sleep(5000);
    double seconds = (System.nanoTime() - t0) / 1e9;
    return cluster.nodesCpu().minus(before).toNanos() / 1e9 / seconds / Runtime.getRuntime().availableProcessors();
  }

  static void run(ExperimentOptions options, List<Integer> sizes, double readRatio, PrintWriter out) throws Exception {
    Path dir = options.outDir();
    List<List<?>> rows = new ArrayList<>();
    List<Double> x = new ArrayList<>();
    List<Double> throughput = new ArrayList<>();
    Map<String, List<Double>> latency = new LinkedHashMap<>();
    for (String p : List.of("p50", "p99")) latency.put(p, new ArrayList<>());
    List<Double> cpu = new ArrayList<>();
    for (int n : sizes) {
      ExperimentCluster.say(out, "size: " + n + " nodes, " + options.clients + " clients over all nodes, "
          + Math.round(readRatio * 100) + "% reads");
      ExperimentOptions.Measured m;
      double idle;
      try (ExperimentCluster cluster = ExperimentCluster.start(options.clusterDir("size-" + n), n, Map.of(), options)) {
        m = options.runLoad(cluster, options.load(cluster.uris(), readRatio), out);
        idle = idleShare(cluster);
      }
      LoadRun.Result r = m.result();
      Histogram all = r.all();
      List<Object> row = ExperimentCommand.row(List.of(n), m);
      row.add(idle);
      rows.add(row);
      cpu.add(m.cpuMsPerRequest());
      x.add((double) n);
      throughput.add(r.throughput());
      latency.get("p50").add(all.getValueAtPercentile(50) / 1e6);
      latency.get("p99").add(all.getValueAtPercentile(99) / 1e6);
      ExperimentCluster.say(out, "  " + ExperimentCommand.summary(m) + String.format("; idle after: %.0f%%", idle * 100));
    }
    List<String> header = ExperimentCommand.header(List.of("nodes"));
    header.add("idle_cpu_share_after");
    Plots.csv(dir.resolve("size.csv"), header, rows);
    Plots.png(dir.resolve("size.png"), List.of(
        Plots.lines("Throughput by cluster size", "nodes", "requests/s", x, Map.of("throughput", throughput)),
        Plots.lines("Latency by cluster size", "nodes", "latency (ms)", x, latency),
        Plots.lines("The nodes' CPU time per request", "nodes", "CPU ms per request (all nodes)", x,
            Map.of("CPU", cpu))));
    ExperimentCluster.say(out, "size: wrote " + dir.resolve("size.csv") + " and " + dir.resolve("size.png"));
  }
}

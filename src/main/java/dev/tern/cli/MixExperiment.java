package dev.tern.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Throughput and latency for several read/write mixes on one cluster: linearizable reads (each confirms the leader's
 * commit index with a quorum, section 8 of the Raft paper) and writes, spread over all nodes. The mixes run one
 * after another on the same cluster, so the later ones read keys the earlier ones wrote.
 */
@Command(name = "mix", mixinStandardHelpOptions = true,
    description = "Throughput and latency for several read/write mixes.")
final class MixExperiment implements Callable<Integer> {
  static final String DEFAULT_MIXES = "100/0,90/10,50/50,0/100";
  private static final Pattern MIX = Pattern.compile("(\\d+)/(\\d+)");

  @Spec
  CommandSpec spec;

  @Mixin
  ExperimentOptions options;

  @Option(names = "--mixes", defaultValue = DEFAULT_MIXES, paramLabel = "READS/WRITES,...",
      description = "Mixes as percentages of reads/writes (default ${DEFAULT-VALUE}).")
  String mixes;

  @Option(names = "--nodes", defaultValue = "3", description = "Cluster size (default ${DEFAULT-VALUE}).")
  int nodes;

  /** A mix: the percentage of reads (the rest are writes). */
  record Mix(int reads) {
    double readRatio() {
      return reads / 100.0;
    }

    @Override
    public String toString() {
      return reads + "/" + (100 - reads);
    }
  }

  static List<Mix> parseMixes(String text) {
    List<Mix> out = new ArrayList<>();
    for (String part : text.split(",", -1)) {
      Matcher m = MIX.matcher(part.trim());
      if (!m.matches() || Integer.parseInt(m.group(1)) + Integer.parseInt(m.group(2)) != 100) {
        throw new IllegalArgumentException("not READS/WRITES percentages adding up to 100: '" + part.trim() + "'");
      }
      out.add(new Mix(Integer.parseInt(m.group(1))));
    }
    return out;
  }

  @Override
  public Integer call() throws Exception {
    PrintWriter err = spec.commandLine().getErr();
    List<Mix> parsed;
    try {
      parsed = parseMixes(mixes);
    } catch (IllegalArgumentException e) {
      return ExperimentCommand.usage(err, "--mixes: " + e.getMessage());
    }
    String problem = options.problem();
    if (problem == null && (nodes < 1 || nodes > LocalCluster.MAX_NODES)) problem = "--nodes must be 1 to 99";
    if (problem != null) return ExperimentCommand.usage(err, problem);
    run(options, parsed, nodes, spec.commandLine().getOut());
    return ExitCodes.OK;
  }

  static void run(ExperimentOptions options, List<Mix> mixes, int nodes, PrintWriter out) throws Exception {
    Path dir = options.outDir();
    List<List<?>> rows = new ArrayList<>();
    List<String> x = new ArrayList<>();
    Map<String, List<Double>> throughput = new LinkedHashMap<>();
    throughput.put("reads", new ArrayList<>());
    throughput.put("writes", new ArrayList<>());
    Map<String, List<Double>> latency = new LinkedHashMap<>();
    for (String s : List.of("read p50", "read p99", "write p50", "write p99")) latency.put(s, new ArrayList<>());
    try (ExperimentCluster cluster = ExperimentCluster.start(options.clusterDir("mix"), nodes, Map.of(), options)) {
      for (Mix mix : mixes) {
        ExperimentCluster.say(out, "mix: " + mix + " reads/writes, " + nodes + " nodes, " + options.clients
            + " clients over all nodes");
        ExperimentOptions.Measured m = options.runLoad(cluster, options.load(cluster.uris(), mix.readRatio()), out);
        LoadRun.Result r = m.result();
        rows.add(ExperimentCommand.row(List.of(mix.reads(), 100 - mix.reads()), m));
        x.add(mix.toString());
        throughput.get("reads").add(r.reads().getTotalCount() / r.seconds());
        throughput.get("writes").add(r.writes().getTotalCount() / r.seconds());
        latency.get("read p50").add(ms(r.reads(), 50));
        latency.get("read p99").add(ms(r.reads(), 99));
        latency.get("write p50").add(ms(r.writes(), 50));
        latency.get("write p99").add(ms(r.writes(), 99));
        ExperimentCluster.say(out, "  " + ExperimentCommand.summary(m));
      }
    }
    Plots.csv(dir.resolve("mix.csv"), ExperimentCommand.header(List.of("read_pct", "write_pct")), rows);
    org.knowm.xchart.CategoryChart stacked = Plots.bars("Throughput by read/write mix (" + nodes + " nodes)",
        "reads/writes (%)", "requests/s", x, throughput);
    stacked.getStyler().setStacked(true);
    Plots.png(dir.resolve("mix.png"), List.of(stacked,
        Plots.bars("Latency by read/write mix", "reads/writes (%)", "latency (ms)", x, latency)));
    ExperimentCluster.say(out, "mix: wrote " + dir.resolve("mix.csv") + " and " + dir.resolve("mix.png"));
  }

  /** A percentile in ms, 0 for an empty histogram (a mix without reads or without writes). */
  static double ms(Histogram h, double percentile) {
    return h.getTotalCount() == 0 ? 0 : h.getValueAtPercentile(percentile) / 1e6;
  }
}

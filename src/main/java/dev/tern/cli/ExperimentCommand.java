package dev.tern.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code tern experiment}: the evaluation (docs/evaluation.md), each experiment on fresh local clusters on 127.0.0.1,
 * writing CSV files and PNG plots to a folder.
 */
@Command(
    name = "experiment",
    description = {
      "Run the evaluation on this machine: fresh local clusters, a load, and CSV files and PNG plots in --out.",
      "",
      "  election    election time after the leader is killed, for several election timeouts",
      "  size        write throughput and latency for clusters of 3 to 11 nodes",
      "  mix         throughput and latency for read/write mixes",
      "  stragglers  write throughput and latency with one, then a majority of slow followers",
      "  all         the four, one after another (about 30 minutes with the defaults on 2 cores)",
      "",
      "Each runs for a bounded time (see its --help for sizes, durations and settings); everything it starts it "
          + "stops. Run nothing else heavy meanwhile: the nodes and the load share this machine."
    },
    mixinStandardHelpOptions = true,
    subcommands = {ElectionExperiment.class, ScaleExperiment.class, MixExperiment.class, StragglerExperiment.class,
        ExperimentCommand.All.class},
    footer = {"", ExitCodes.FOOTER})
final class ExperimentCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getErr());
    return ExitCodes.USAGE;
  }

  /** The four experiments with their default settings and the common options given. */
  @Command(name = "all", mixinStandardHelpOptions = true,
      description = "Run election, size, mix and stragglers one after another, with their defaults.")
  static final class All implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ExperimentOptions options;

    @picocli.CommandLine.Option(names = "--rounds", defaultValue = "10",
        description = "Leader kills per election timeout (default ${DEFAULT-VALUE}).")
    int rounds;

    @Override
    public Integer call() throws Exception {
      String problem = options.problem();
      if (problem == null && rounds < 1) problem = "--rounds must be >= 1";
      if (problem != null) return usage(spec.commandLine().getErr(), problem);
      PrintWriter out = spec.commandLine().getOut();
      long start = System.nanoTime();
      ElectionExperiment.run(options, ElectionExperiment.parseRanges(ElectionExperiment.DEFAULT_TIMEOUTS), rounds, 3, out);
      ScaleExperiment.run(options, List.of(3, 5, 7, 9, 11), 0, out);
      MixExperiment.run(options, MixExperiment.parseMixes(MixExperiment.DEFAULT_MIXES), 3, out);
      StragglerExperiment.run(options, 5, java.time.Duration.ofMillis(20), out);
      ExperimentCluster.say(out, String.format("all: done in %.1f min; results in %s",
          (System.nanoTime() - start) / 60e9, options.out));
      return ExitCodes.OK;
    }
  }

  static int usage(PrintWriter err, String problem) {
    err.println("tern experiment: " + problem);
    err.flush();
    return ExitCodes.USAGE;
  }

  /** The CSV columns of a load's result, after the experiment's own. */
  static List<String> header(List<String> first) {
    List<String> h = new ArrayList<>(first);
    h.addAll(List.of("throughput_per_s", "ok", "errors", "p50_ms", "p90_ms", "p99_ms", "p999_ms", "max_ms",
        "writes_per_s", "write_p50_ms", "write_p99_ms", "reads_per_s", "read_p50_ms", "read_p99_ms",
        "node_cpu_ms_per_request", "node_cpu_share"));
    return h;
  }

  /** A CSV row: the experiment's own values, then the load's result as {@link #header} names them. */
  static List<Object> row(List<?> first, ExperimentOptions.Measured m) {
    LoadRun.Result r = m.result();
    Histogram all = r.all();
    List<Object> row = new ArrayList<>(first);
    row.addAll(List.of(r.throughput(), r.ok(), r.errors(), ms(all, 50), ms(all, 90), ms(all, 99), ms(all, 99.9),
        all.getMaxValue() / 1e6, r.writes().getTotalCount() / r.seconds(), ms(r.writes(), 50), ms(r.writes(), 99),
        r.reads().getTotalCount() / r.seconds(), ms(r.reads(), 50), ms(r.reads(), 99), m.cpuMsPerRequest(),
        m.cpuShare()));
    return row;
  }

  /** One line for the terminal: throughput, percentiles and the nodes' CPU. */
  static String summary(ExperimentOptions.Measured m) {
    LoadRun.Result r = m.result();
    Histogram all = r.all();
    return String.format("%.0f requests/s, p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, %d errors; nodes' CPU %.2f ms a "
            + "request, %.0f%% of the machine", r.throughput(), ms(all, 50), ms(all, 99), ms(all, 99.9), r.errors(),
        m.cpuMsPerRequest(), 100 * m.cpuShare());
  }

  private static double ms(Histogram h, double percentile) {
    return h.getTotalCount() == 0 ? 0 : h.getValueAtPercentile(percentile) / 1e6;
  }
}

package dev.tern.cli;

import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * A load generator: closed-loop clients, each sending one request at a time over HTTP to the nodes named,
 * for a fixed time ({@link LoadRun}). Shows progress each second; reports throughput and latency percentiles
 * (HdrHistogram) after a warm-up, and can write the distribution as a .hgrm file and a plot.
 */
@Command(
    name = "bench",
    description = "Measure throughput and latency: concurrent clients doing puts (and reads) for a while.",
    mixinStandardHelpOptions = true,
    footer = {"", ExitCodes.FOOTER})
final class BenchCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "--nodes", split = ",", paramLabel = "URL",
      defaultValue = "${env:TERN_NODE:-" + ClientCommand.DEFAULT_NODE + "}",
      description = "Nodes to send to, one per client in turn (default: ${DEFAULT-VALUE}).")
  List<String> nodes;

  @Option(names = "--clients", defaultValue = "1", description = "Concurrent clients (default ${DEFAULT-VALUE}).")
  int clients;

  @Option(names = "--duration", defaultValue = "10s", converter = ClientCommand.DurationConverter.class,
      description = "How long to measure (default ${DEFAULT-VALUE}).")
  Duration duration;

  @Option(names = "--warmup", defaultValue = "2s", converter = ClientCommand.DurationConverter.class,
      description = "Load before measuring (default ${DEFAULT-VALUE}).")
  Duration warmup;

  @Option(names = "--keys", defaultValue = "1000", description = "Distinct keys (default ${DEFAULT-VALUE}).")
  int keys;

  @Option(names = "--value-size", defaultValue = "100", description = "Value bytes (default ${DEFAULT-VALUE}).")
  int valueSize;

  @Option(names = "--read-ratio", defaultValue = "0", description = "Share of reads, 0 to 1 (default ${DEFAULT-VALUE}).")
  double readRatio;

  @Option(names = "--stale", description = "Reads with consistency=stale instead of linearizable.")
  boolean stale;

  @Option(names = "--quiet", description = "No progress line each second (on standard error).")
  boolean quiet;

  @Option(names = "--percentiles", paramLabel = "FILE",
      description = "Also write the latency distribution in HdrHistogram's percentile format (.hgrm, milliseconds).")
  Path percentiles;

  @Option(names = "--plot", paramLabel = "FILE.png",
      description = "Also plot latency by percentile (writes and reads apart) as a PNG image.")
  Path plot;

  @Option(names = "--request-timeout", defaultValue = "10s", converter = ClientCommand.DurationConverter.class,
      description = "How long a request may take before it counts as an error (default ${DEFAULT-VALUE}).")
  Duration requestTimeout;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (clients < 1 || keys < 1 || valueSize < 0 || !(readRatio >= 0 && readRatio <= 1)) {
      err.println("tern bench: --clients and --keys must be >= 1, --value-size >= 0, --read-ratio in [0, 1]");
      err.flush();
      return ExitCodes.USAGE;
    }
    if (duration.isNegative() || duration.isZero() || warmup.isNegative()) {
      err.println("tern bench: --duration must be more than 0 and --warmup at least 0");
      err.flush();
      return ExitCodes.USAGE;
    }
    if (plot != null && !plot.getFileName().toString().endsWith(".png")) {
      err.println("tern bench: --plot writes a PNG image: give a file name ending in .png");
      err.flush();
      return ExitCodes.USAGE;
    }
    List<URI> targets = new ArrayList<>();
    for (String n : nodes) targets.add(TernClient.parseNode(n));
    LoadRun.Spec load = new LoadRun.Spec(targets, clients, warmup, duration, keys, valueSize, readRatio, stale,
        requestTimeout);
    LoadRun.Result result = LoadRun.run(load, quiet ? null : second -> {
      err.println(LoadRun.progressLine(second, load));
      err.flush();
    });

    Histogram all = result.all();
    out.printf("tern bench: %d clients, %s, %d keys, %d-byte values, %.0f%% reads%s, nodes %s%n", clients,
        duration, keys, valueSize, readRatio * 100, readRatio > 0 ? (stale ? " (stale)" : " (linearizable)") : "",
        targets);
    out.printf("ops=%d errors=%d throughput=%.0f ops/s%n", all.getTotalCount(), result.errors(), result.throughput());
    out.println(latencyLine("latency ms:", all));
    if (readRatio > 0 && readRatio < 1) {
      out.println(latencyLine("  writes:  ", result.writes()));
      out.println(latencyLine("  reads:   ", result.reads()));
    }
    if (percentiles != null) {
      Plots.percentiles(all, percentiles);
      out.println("percentile distribution (ms): " + percentiles);
    }
    if (plot != null) {
      Map<String, Histogram> lines = new LinkedHashMap<>();
      if (result.writes().getTotalCount() > 0) lines.put("writes", result.writes());
      if (result.reads().getTotalCount() > 0) lines.put("reads", result.reads());
      Plots.png(plot, List.of(Plots.latencyByPercentile(
          String.format("%d clients, %d-byte values, %.0f%% reads", clients, valueSize, readRatio * 100), lines)));
      out.println("latency plot: " + plot);
    }
    out.flush();
    return result.errors() == 0 ? ExitCodes.OK : ExitCodes.ERROR;
  }

  static String latencyLine(String label, Histogram h) {
    return String.format("%s p50=%.3f p90=%.3f p99=%.3f p99.9=%.3f max=%.3f", label,
        LoadRun.ms(h.getValueAtPercentile(50)), LoadRun.ms(h.getValueAtPercentile(90)),
        LoadRun.ms(h.getValueAtPercentile(99)), LoadRun.ms(h.getValueAtPercentile(99.9)), LoadRun.ms(h.getMaxValue()));
  }
}

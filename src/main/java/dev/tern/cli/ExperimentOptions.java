package dev.tern.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import picocli.CommandLine.Option;

/** The options every experiment takes: where results go, how the nodes run, and the load it offers. */
final class ExperimentOptions {
  @Option(names = "--out", paramLabel = "DIR", defaultValue = "experiments",
      description = "Where the CSV files and plots go (default: ./${DEFAULT-VALUE}); the clusters run in DIR/clusters.")
  Path out;

  @Option(names = "--clients", defaultValue = "16",
      description = "Concurrent closed-loop clients of the load (default ${DEFAULT-VALUE}).")
  int clients;

  @Option(names = "--warmup", defaultValue = "30s", converter = ClientCommand.DurationConverter.class,
      description = "Load before each measurement, at least (default ${DEFAULT-VALUE}); it goes on until the "
          + "throughput stops rising (10 s no more than 5% above the 10 s before), up to --max-warmup.")
  Duration warmup;

  @Option(names = "--max-warmup", defaultValue = "180s", converter = ClientCommand.DurationConverter.class,
      description = "The longest warm-up (default ${DEFAULT-VALUE}). Fresh nodes' JIT compilers speed them up for "
          + "tens of seconds, longer the more nodes share the cores: 5 nodes on 2 cores were still 3 times faster "
          + "after 40 s than after 20.")
  Duration maxWarmup;

  @Option(names = "--duration", defaultValue = "20s", converter = ClientCommand.DurationConverter.class,
      description = "How long each load is measured (default ${DEFAULT-VALUE}).")
  Duration duration;

  @Option(names = "--keys", defaultValue = "1000", description = "Distinct keys (default ${DEFAULT-VALUE}).")
  int keys;

  @Option(names = "--value-size", defaultValue = "100", description = "Value bytes (default ${DEFAULT-VALUE}).")
  int valueSize;

  @Option(names = "--heap", paramLabel = "SIZE", defaultValue = "256m",
      description = "Each node's maximum heap (default ${DEFAULT-VALUE}: 11 nodes must fit on one machine).")
  String heap;

  @Option(names = "--java-opts", paramLabel = "OPTS", defaultValue = "${env:TERN_JAVA_OPTS}",
      description = "More JVM options for every node, separated by spaces (default: $TERN_JAVA_OPTS).")
  String javaOpts;

  @Option(names = "--ready-timeout", paramLabel = "DURATION", defaultValue = "90s",
      converter = ClientCommand.DurationConverter.class,
      description = "How long a cluster may take to agree on a leader (default ${DEFAULT-VALUE}).")
  Duration readyTimeout;

  @Option(names = "--keep", description = "Keep each cluster's directory (the nodes' logs and data) in DIR/clusters.")
  boolean keep;

  @Option(names = "--quiet", description = "No progress line each second while a load runs.")
  boolean quiet;

  /** Checks the options shared by every experiment; a message for the user, or null. */
  String problem() {
    if (clients < 1 || keys < 1 || valueSize < 0) return "--clients and --keys must be >= 1, --value-size >= 0";
    if (duration.isNegative() || duration.isZero() || warmup.isNegative() || maxWarmup.compareTo(warmup) < 0) {
      return "--duration must be more than 0, --warmup at least 0 and --max-warmup at least --warmup";
    }
    return null;
  }

  /** DIR, made if missing. */
  Path outDir() throws IOException {
    return Files.createDirectories(out);
  }

  /** A fresh directory for one cluster of an experiment, DIR/clusters/NAME. */
  Path clusterDir(String name) throws IOException {
    return Files.createDirectories(out.resolve("clusters")).resolve(name);
  }

  /** The load: closed-loop clients spread over {@code targets}, with {@code readRatio} reads (linearizable). */
  LoadRun.Spec load(List<java.net.URI> targets, double readRatio) {
    return new LoadRun.Spec(targets, clients, warmup, maxWarmup, duration, keys, valueSize, readRatio, false,
        Duration.ofSeconds(10));
  }

  /** A load's result, with the CPU time the cluster's nodes used during its measured time. */
  record Measured(LoadRun.Result result, Duration nodesCpu) {
    /** Node CPU time per successful request, in ms. */
    double cpuMsPerRequest() {
      return result.ok() == 0 ? 0 : nodesCpu.toNanos() / 1e6 / result.ok();
    }

    /** The share of the machine's cores the nodes kept busy during the measured time. */
    double cpuShare() {
      return nodesCpu.toNanos() / 1e9 / result.seconds() / Runtime.getRuntime().availableProcessors();
    }
  }

  /** Runs a load against {@code cluster}, printing a progress line each second unless --quiet. */
  Measured runLoad(ExperimentCluster cluster, LoadRun.Spec spec, PrintWriter out) throws InterruptedException {
    Duration[] cpu = new Duration[2];
    LoadRun.Result r = LoadRun.run(spec, quiet ? null : s -> ExperimentCluster.say(out, LoadRun.progressLine(s, spec)),
        new LoadRun.Phases() {
          @Override
          public void measuring() {
            cpu[0] = cluster.nodesCpu();
          }

          @Override
          public void stopped() {
            cpu[1] = cluster.nodesCpu();
          }
        });
    return new Measured(r, cpu[1].minus(cpu[0]));
  }
}

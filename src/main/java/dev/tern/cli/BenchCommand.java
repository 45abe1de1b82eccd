package dev.tern.cli;

import java.io.PrintWriter;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * A load generator: closed-loop clients, each sending one request at a time over HTTP to the nodes named,
 * for a fixed time. Reports throughput and latency percentiles (HdrHistogram) after a warm-up.
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

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (clients < 1 || keys < 1 || valueSize < 0 || readRatio < 0 || readRatio > 1) {
      err.println("tern bench: --clients and --keys must be >= 1, --value-size >= 0, --read-ratio in [0, 1]");
      err.flush();
      return ExitCodes.USAGE;
    }
    Duration measure = duration;
    Duration warm = warmup;
    List<URI> targets = new ArrayList<>();
    for (String n : nodes) targets.add(TernClient.parseNode(n));
    String value = "v".repeat(valueSize);

    long start = System.nanoTime();
    long measureFrom = start + warm.toNanos();
    long end = measureFrom + measure.toNanos();
    AtomicLong errors = new AtomicLong();
    List<Histogram> histograms = new ArrayList<>();
    List<Thread> threads = new ArrayList<>();
    for (int c = 0; c < clients; c++) {
      Histogram h = new Histogram(Duration.ofMinutes(1).toNanos(), 3);
      histograms.add(h);
      TernClient client = new TernClient(targets.get(c % targets.size()), Duration.ofSeconds(10));
      SplittableRandom random = new SplittableRandom(c);
      Thread t = new Thread(() -> {
        while (true) {
          long t0 = System.nanoTime();
          if (t0 >= end) return;
          String path = "/v1/kv/" + TernClient.keyPath("bench/" + random.nextInt(keys));
          boolean read = random.nextDouble() < readRatio;
          boolean ok;
          try {
            TernClient.Response r = read
                ? client.get(path + (stale ? "?consistency=stale" : ""))
                : client.put(path, value);
            ok = r.ok() || (read && r.status() == 404);
          } catch (TernClient.UnreachableException | RuntimeException e) {
            ok = false;
          }
          long t1 = System.nanoTime();
          if (t0 >= measureFrom) {
            if (ok) h.recordValue(t1 - t0);
            else errors.incrementAndGet();
          }
        }
      }, "bench-" + c);
      threads.add(t);
      t.start();
    }
    for (Thread t : threads) t.join();

    Histogram all = new Histogram(Duration.ofMinutes(1).toNanos(), 3);
    for (Histogram h : histograms) all.add(h);
    double seconds = measure.toNanos() / 1e9;
    out.printf("tern bench: %d clients, %s, %d keys, %d-byte values, %.0f%% reads%s, nodes %s%n", clients,
        measure, keys, valueSize, readRatio * 100, readRatio > 0 ? (stale ? " (stale)" : " (linearizable)") : "",
        targets);
    out.printf("ops=%d errors=%d throughput=%.0f ops/s%n", all.getTotalCount(), errors.get(), all.getTotalCount() / seconds);
    out.printf("latency ms: p50=%.3f p90=%.3f p99=%.3f p99.9=%.3f max=%.3f%n",
        ms(all.getValueAtPercentile(50)), ms(all.getValueAtPercentile(90)), ms(all.getValueAtPercentile(99)),
        ms(all.getValueAtPercentile(99.9)), ms(all.getMaxValue()));
    out.flush();
    return errors.get() == 0 ? ExitCodes.OK : ExitCodes.ERROR;
  }

  private static double ms(long nanos) {
    return nanos / 1e6;
  }
}

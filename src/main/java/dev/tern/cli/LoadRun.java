package dev.tern.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * A closed-loop load: each client sends one request at a time over HTTP (a put, or a read with probability
 * {@code readRatio}) to one of the nodes, for a warm-up and then a measured time. Latencies of successful requests
 * go into HdrHistogram {@link Recorder}s, which the clients write without locks and a reporter thread reads once a
 * second for the progress line; what the measured time recorded is the result. The reporter also decides when the
 * warm-up ends and when the run stops; a request counts in the phase it started in. Used by {@code tern bench} and by
 * the experiments ({@code tern experiment}).
 */
final class LoadRun {
  /** Latencies above a minute are recorded as a minute (a request times out long before). */
  static final long HIGHEST_NANOS = Duration.ofMinutes(1).toNanos();

  /** What to send, where, for how long. */
  record Spec(List<URI> targets, int clients, Duration warmup, Duration maxWarmup, Duration duration, int keys,
      int valueSize, double readRatio, boolean stale, Duration requestTimeout) {
    /** A warm-up of exactly {@code warmup}. */
    Spec(List<URI> targets, int clients, Duration warmup, Duration duration, int keys, int valueSize, double readRatio,
        boolean stale, Duration requestTimeout) {
      this(targets, clients, warmup, warmup, duration, keys, valueSize, readRatio, stale, requestTimeout);
    }

    Spec {
      if (warmup.isNegative() || maxWarmup.compareTo(warmup) < 0 || duration.isNegative() || duration.isZero()) {
        throw new IllegalArgumentException("warm-up at least 0 and at most its maximum, duration more than 0");
      }
      if (targets.isEmpty()) throw new IllegalArgumentException("no nodes to send to");
      if (clients < 1 || keys < 1 || valueSize < 0 || !(readRatio >= 0 && readRatio <= 1)) {
        throw new IllegalArgumentException("clients and keys must be >= 1, value size >= 0, read ratio in [0, 1]");
      }
      targets = List.copyOf(targets);
    }
  }

  /** One second of the run, for the progress line and the timeline: what completed in it. */
  record Second(int second, boolean measuring, long ok, long errors, Histogram latencies) {}

  /** What the measured time recorded. */
  record Result(Spec spec, Histogram writes, Histogram reads, long errors, double seconds, List<Second> timeline) {
    Histogram all() {
      Histogram h = new Histogram(HIGHEST_NANOS, 3);
      h.add(writes);
      h.add(reads);
      return h;
    }

    long ok() {
      return writes.getTotalCount() + reads.getTotalCount();
    }

    double throughput() {
      return ok() / seconds;
    }
  }

  private LoadRun() {}

  /** Hears when the measured time starts and ends (e.g. to read the nodes' CPU time then). */
  interface Phases {
    Phases NONE = new Phases() {};

    /** The warm-up is over: requests started from now on are measured. */
    default void measuring() {}

    /** No more requests start; the measured time is over. */
    default void stopped() {}
  }

  /** Whether the warm-up has ended, and when the run ends: set by the reporter, read by every client. */
  private static final class Phase {
    volatile boolean measuring;
    volatile boolean stopped;
  }

  /**
   * Whether the load has stopped rising: the last {@code STEADY_WINDOW} seconds completed at most 5% more requests
   * than the {@code STEADY_WINDOW} before them. A fresh node's JIT compiler keeps speeding it up for tens of seconds
   * (longer the more JVMs share the cores), in steps with plateaus of several seconds between them (a 3-node cluster
   * on 2 cores: 1,100 requests/s from 17 to 25 s, then 2,000 from 40 s), and a measurement taken on that ramp says
   * little.
   */
  static boolean steady(List<Long> perSecond) {
    int n = perSecond.size();
    if (n < 2 * STEADY_WINDOW) return false;
    long last = 0;
    long before = 0;
    for (int i = 0; i < STEADY_WINDOW; i++) {
      last += perSecond.get(n - 1 - i);
      before += perSecond.get(n - 1 - STEADY_WINDOW - i);
    }
    return last <= before * 1.05;
  }

  static final int STEADY_WINDOW = 10;

  /**
   * Runs the load and returns what the measured time recorded. The warm-up lasts at least {@code spec.warmup()};
   * past that it ends once the load is {@link #steady}, or at {@code spec.maxWarmup()} at the latest. {@code
   * eachSecond} (may be null) hears every second of the run, warm-up included, on the reporter thread.
   */
  static Result run(Spec spec, Consumer<Second> eachSecond) throws InterruptedException {
    return run(spec, eachSecond, Phases.NONE);
  }

  /** As {@link #run(Spec, Consumer)}, telling {@code phases} when the measured time starts and ends. */
  static Result run(Spec spec, Consumer<Second> eachSecond, Phases phases) throws InterruptedException {
    Recorder writes = new Recorder(HIGHEST_NANOS, 3);
    Recorder reads = new Recorder(HIGHEST_NANOS, 3);
    AtomicLong warmupOk = new AtomicLong();
    AtomicLong errors = new AtomicLong();
    AtomicLong warmupErrors = new AtomicLong();
    Phase phase = new Phase();
    phase.measuring = spec.warmup().isZero();
    if (phase.measuring) phases.measuring();
    String value = "v".repeat(spec.valueSize());
    long start = System.nanoTime();

    List<Thread> clients = new ArrayList<>();
    byte[] valueBytes = value.getBytes(StandardCharsets.UTF_8);
    int timeoutMs = (int) Math.min(Integer.MAX_VALUE, spec.requestTimeout().toMillis());
    for (int c = 0; c < spec.clients(); c++) {
      String base = spec.targets().get(c % spec.targets().size()).toString();
      SplittableRandom random = new SplittableRandom(c);
      Thread t = new Thread(() -> {
        while (!phase.stopped) {
          boolean measured = phase.measuring; // as when the request started
          long t0 = System.nanoTime();
          String path = "/v1/kv/" + TernClient.keyPath("bench/" + random.nextInt(spec.keys()));
          boolean read = random.nextDouble() < spec.readRatio();
          int status = read
              ? request(base + path + (spec.stale() ? "?consistency=stale" : ""), null, timeoutMs)
              : request(base + path, valueBytes, timeoutMs);
          boolean ok = status == 200 || (read && status == 404);
          long latency = Math.min(System.nanoTime() - t0, HIGHEST_NANOS);
          if (!measured) {
            (ok ? warmupOk : warmupErrors).incrementAndGet();
          } else if (!ok) {
            errors.incrementAndGet();
          } else {
            (read ? reads : writes).recordValue(latency);
          }
        }
      }, "load-" + c);
      t.setDaemon(true);
      clients.add(t);
      t.start();
    }

    Histogram totalWrites = new Histogram(HIGHEST_NANOS, 3);
    Histogram totalReads = new Histogram(HIGHEST_NANOS, 3);
    List<Second> timeline = new ArrayList<>();
    List<Long> warmupSeconds = new ArrayList<>();
    long lastErrors = 0;
    long lastWarmupOk = 0;
    long lastWarmupErrors = 0;
    long measureFrom = start;
    long stoppedAt = 0;
    int second = 0;
    boolean running = true;
    while (running) {
      long next = start + (second + 1) * 1_000_000_000L;
      long wait = next - System.nanoTime();
      if (!phase.stopped && wait > 0) {
        Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000)); // the reporter's second; the clients run on
      }
      if (phase.stopped) {
        for (Thread t : clients) t.join(); // each finishes the request it has under way
        running = false;
      }
      second++;
      Histogram w = writes.getIntervalHistogram();
      Histogram r = reads.getIntervalHistogram();
      totalWrites.add(w);
      totalReads.add(r);
      Histogram both = w.copy();
      both.add(r);
      long e = errors.get();
      long wo = warmupOk.get();
      long we = warmupErrors.get();
      Second s = new Second(second, phase.measuring, both.getTotalCount() + (wo - lastWarmupOk),
          (e - lastErrors) + (we - lastWarmupErrors), both);
      if (!phase.measuring) warmupSeconds.add(wo - lastWarmupOk);
      lastErrors = e;
      lastWarmupOk = wo;
      lastWarmupErrors = we;
      timeline.add(s);
      if (eachSecond != null) eachSecond.accept(s);
      // Phases change on the reporter's second boundaries (next), not on when it woke: durations in whole seconds.
      if (!phase.measuring) {
        long warm = next - start;
        if (warm >= spec.maxWarmup().toNanos() || (warm >= spec.warmup().toNanos() && steady(warmupSeconds))) {
          phases.measuring();
          phase.measuring = true;
          measureFrom = next;
        }
      } else if (!phase.stopped && next - measureFrom >= spec.duration().toNanos()) {
        phase.stopped = true;
        stoppedAt = next;
        phases.stopped();
      }
    }
    return new Result(spec, totalWrites, totalReads, errors.get(), (stoppedAt - measureFrom) / 1e9,
        List.copyOf(timeline));
  }

  /**
   * One request over the JDK's blocking {@link HttpURLConnection}, which keeps connections alive and reuses them:
   * a PUT of {@code body}, or a GET when it is null. Returns the status, or -1 when the node could not be reached
   * or did not answer in time. Why not {@code java.net.http.HttpClient} (as the CLI's other commands use): its
   * asynchronous machinery costs several thread hand-offs a request, and on a 2-core machine the load generator
   * then takes CPU the nodes need (1,100 writes/s where wrk gets 1,800 from the same cluster).
   */
  static int request(String url, byte[] body, int timeoutMs) {
    HttpURLConnection c = null;
    try {
      c = (HttpURLConnection) URI.create(url).toURL().openConnection();
      c.setConnectTimeout(timeoutMs);
      c.setReadTimeout(timeoutMs);
      c.setUseCaches(false);
      if (body != null) {
        c.setRequestMethod("PUT");
        c.setDoOutput(true);
        c.setFixedLengthStreamingMode(body.length);
        c.setRequestProperty("Content-Type", TernClient.TEXT);
        try (OutputStream out = c.getOutputStream()) {
          out.write(body);
        }
      }
      int status = c.getResponseCode();
      InputStream in = status >= 400 ? c.getErrorStream() : c.getInputStream();
      if (in != null) {
        try (in) {
          in.transferTo(OutputStream.nullOutputStream()); // read to the end, so the connection can be reused
        }
      }
      return status;
    } catch (IOException | RuntimeException e) {
      if (c != null) c.disconnect();
      return -1;
    }
  }

  /** A progress line for a second of the run: "  12s  4321 ops/s  p50 1.2 ms  p99 4.5 ms  0 errors". */
  static String progressLine(Second s, Spec spec) {
    String phase = s.measuring() ? "" : " (warm-up)";
    if (s.latencies().getTotalCount() == 0) {
      return String.format("  %3ds  %6d ops/s  %d errors%s", s.second(), s.ok(), s.errors(), phase);
    }
    return String.format("  %3ds  %6d ops/s  p50 %.2f ms  p99 %.2f ms  %d errors%s", s.second(), s.ok(),
        ms(s.latencies().getValueAtPercentile(50)), ms(s.latencies().getValueAtPercentile(99)), s.errors(), phase);
  }

  static double ms(long nanos) {
    return nanos / 1e6;
  }
}

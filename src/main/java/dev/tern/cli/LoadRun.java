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
 * second for the progress line; what the measured time recorded is the result. Used by {@code tern bench} and by
 * the experiments ({@code tern experiment}).
 */
final class LoadRun {
  /** Latencies above a minute are recorded as a minute (a request times out long before). */
  static final long HIGHEST_NANOS = Duration.ofMinutes(1).toNanos();

  /** What to send, where, for how long. */
  record Spec(List<URI> targets, int clients, Duration warmup, Duration duration, int keys, int valueSize,
      double readRatio, boolean stale, Duration requestTimeout) {
    Spec {
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

  /**
   * Runs the load and returns what the measured time recorded. {@code eachSecond} (may be null) hears every second
   * of the run, warm-up included, on the reporter thread.
   */
  static Result run(Spec spec, Consumer<Second> eachSecond) throws InterruptedException {
    Recorder writes = new Recorder(HIGHEST_NANOS, 3);
    Recorder reads = new Recorder(HIGHEST_NANOS, 3);
    AtomicLong warmupOk = new AtomicLong();
    AtomicLong errors = new AtomicLong();
    AtomicLong warmupErrors = new AtomicLong();
    String value = "v".repeat(spec.valueSize());
    long start = System.nanoTime();
    long measureFrom = start + spec.warmup().toNanos();
    long end = measureFrom + spec.duration().toNanos();

    List<Thread> clients = new ArrayList<>();
    byte[] valueBytes = value.getBytes(StandardCharsets.UTF_8);
    int timeoutMs = (int) Math.min(Integer.MAX_VALUE, spec.requestTimeout().toMillis());
    for (int c = 0; c < spec.clients(); c++) {
      String base = spec.targets().get(c % spec.targets().size()).toString();
      SplittableRandom random = new SplittableRandom(c);
      Thread t = new Thread(() -> {
        while (true) {
          long t0 = System.nanoTime();
          if (t0 >= end) return;
          String path = "/v1/kv/" + TernClient.keyPath("bench/" + random.nextInt(spec.keys()));
          boolean read = random.nextDouble() < spec.readRatio();
          int status = read
              ? request(base + path + (spec.stale() ? "?consistency=stale" : ""), null, timeoutMs)
              : request(base + path, valueBytes, timeoutMs);
          boolean ok = status == 200 || (read && status == 404);
          long latency = Math.min(System.nanoTime() - t0, HIGHEST_NANOS);
          if (t0 < measureFrom) {
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
    long lastErrors = 0;
    long lastWarmupOk = 0;
    long lastWarmupErrors = 0;
    int second = 0;
    boolean running = true;
    while (running) {
      long next = start + (second + 1) * 1_000_000_000L;
      for (Thread t : clients) {
        long wait = next - System.nanoTime();
        if (wait > 0) t.join(Math.max(1, wait / 1_000_000));
      }
      running = clients.stream().anyMatch(Thread::isAlive);
      long now = System.nanoTime();
      if (running && now < next) continue; // every client still running: wait out the second
      second++;
      Histogram w = writes.getIntervalHistogram();
      Histogram r = reads.getIntervalHistogram();
      totalWrites.add(w);
      totalReads.add(r);
      Histogram both = w.copy();
      both.add(r);
      boolean measuring = now > measureFrom;
      long e = errors.get();
      long wo = warmupOk.get();
      long we = warmupErrors.get();
      Second s = new Second(second, measuring, both.getTotalCount() + (wo - lastWarmupOk),
          (e - lastErrors) + (we - lastWarmupErrors), both);
      lastErrors = e;
      lastWarmupOk = wo;
      lastWarmupErrors = we;
      timeline.add(s);
      if (eachSecond != null) eachSecond.accept(s);
    }
    return new Result(spec, totalWrites, totalReads, errors.get(), spec.duration().toNanos() / 1e9,
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
    long total = spec.warmup().toSeconds() + spec.duration().toSeconds();
    long at = Math.min(s.second(), Math.max(total, 1)); // the last line also counts answers that came after the end
    String phase = s.measuring() ? "" : " (warm-up)";
    if (s.latencies().getTotalCount() == 0) {
      return String.format("  %3ds/%ds  %6d ops/s  %d errors%s", at, total, s.ok(), s.errors(), phase);
    }
    return String.format("  %3ds/%ds  %6d ops/s  p50 %.2f ms  p99 %.2f ms  %d errors%s", at, total, s.ok(),
        ms(s.latencies().getValueAtPercentile(50)), ms(s.latencies().getValueAtPercentile(99)), s.errors(), phase);
  }

  static double ms(long nanos) {
    return nanos / 1e6;
  }
}

package dev.tern.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Election time after a leader's crash, for several election-timeout ranges: on an idle cluster, SIGKILL the
 * leader and poll the other nodes' {@code /v1/status} about every millisecond until one says it leads in a later
 * term; the figure is the time from the kill to that answer. The killed node is restarted on its data and the
 * cluster must agree on a leader again before the next round. The heartbeat interval is a fifth of the timeout's
 * minimum, and the scheduler ticks every millisecond so that timers of a few milliseconds mean what they say.
 */
@Command(name = "election", mixinStandardHelpOptions = true,
    description = "Election time after the leader is killed, for several election-timeout ranges.")
final class ElectionExperiment implements Callable<Integer> {
  static final String DEFAULT_TIMEOUTS = "12-25,50-100,150-300,300-500";
  private static final Pattern RANGE = Pattern.compile("(\\d+)-(\\d+)");

  @Spec
  CommandSpec spec;

  @Mixin
  ExperimentOptions options;

  @Option(names = "--timeouts", defaultValue = DEFAULT_TIMEOUTS, paramLabel = "MIN-MAX,...",
      description = "Election-timeout ranges in ms (default ${DEFAULT-VALUE}).")
  String timeouts;

  @Option(names = "--rounds", defaultValue = "10", description = "Leader kills per range (default ${DEFAULT-VALUE}).")
  int rounds;

  @Option(names = "--nodes", defaultValue = "3", description = "Cluster size (default ${DEFAULT-VALUE}).")
  int nodes;

  /** An election-timeout range, in ms. */
  record Range(int min, int max) {
    @Override
    public String toString() {
      return min + "-" + max + " ms";
    }
  }

  static List<Range> parseRanges(String text) {
    List<Range> ranges = new ArrayList<>();
    for (String part : text.split(",", -1)) {
      Matcher m = RANGE.matcher(part.trim());
      if (!m.matches()) throw new IllegalArgumentException("not a range MIN-MAX in ms: '" + part.trim() + "'");
      int min = Integer.parseInt(m.group(1));
      int max = Integer.parseInt(m.group(2));
      if (min < 2 || max <= min) {
        throw new IllegalArgumentException("a range needs 2 <= MIN < MAX: '" + part.trim() + "'");
      }
      ranges.add(new Range(min, max));
    }
    return ranges;
  }

  /** The settings a range runs with: heartbeats at a fifth of the minimum, a 1 ms scheduler tick. */
  static Map<String, String> settings(Range r) {
    Map<String, String> s = new LinkedHashMap<>();
    s.put("tern.raft.election-timeout-min", r.min() + "ms");
    s.put("tern.raft.election-timeout-max", r.max() + "ms");
    s.put("tern.raft.heartbeat-interval", Math.max(1, r.min() / 5) + "ms");
    s.put("pekko.scheduler.tick-duration", "1ms");
    return s;
  }

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    List<Range> ranges;
    try {
      ranges = parseRanges(timeouts);
    } catch (IllegalArgumentException e) {
      return ExperimentCommand.usage(err, "--timeouts: " + e.getMessage());
    }
    String problem = options.problem();
    if (problem == null && (rounds < 1 || nodes < 3)) problem = "--rounds must be >= 1 and --nodes >= 3";
    if (problem != null) return ExperimentCommand.usage(err, problem);
    run(options, ranges, rounds, nodes, out);
    return ExitCodes.OK;
  }

  static void run(ExperimentOptions options, List<Range> ranges, int rounds, int nodes, PrintWriter out)
      throws Exception {
    Path dir = options.outDir();
    List<List<?>> rows = new ArrayList<>();
    Map<String, List<Double>> byRange = new LinkedHashMap<>();
    for (Range r : ranges) {
      ExperimentCluster.say(out, "election: " + nodes + " nodes, election timeout " + r + ", " + rounds + " rounds");
      List<Double> times = new ArrayList<>();
      try (ExperimentCluster cluster = ExperimentCluster.start(
          options.clusterDir("election-" + r.min() + "-" + r.max()), nodes, settings(r), options)) {
        for (int round = 1; round <= rounds; round++) {
          ExperimentCluster.Leadership before = cluster.awaitLeadership(options.readyTimeout);
          Thread.sleep(500); // the restarted node's JVM settles a little
          before = cluster.awaitLeadership(options.readyTimeout);
          Elected e = killAndTime(cluster, before);
          times.add(e.millis());
          rows.add(List.of(r.min(), r.max(), round, e.millis(), before.leader(), e.leader(), e.term() - before.term()));
          ExperimentCluster.say(out, String.format("  round %d: killed %s (term %d); %s leads in term %d after %.1f ms",
              round, before.leader(), before.term(), e.leader(), e.term(), e.millis()));
          if (round < rounds) cluster.startNode(before.leader()); // the last round's cluster is stopped anyway
        }
      }
      byRange.put(r.toString(), times);
      ExperimentCluster.say(out, String.format("  median %.1f ms", median(times)));
    }
    Plots.csv(dir.resolve("election.csv"),
        List.of("timeout_min_ms", "timeout_max_ms", "round", "election_ms", "killed", "new_leader", "terms_passed"), rows);
    Plots.png(dir.resolve("election.png"), List.of(Plots.boxes(
        "Election time after the leader is killed (" + nodes + " nodes)", "kill to new leader (ms)", byRange)));
    ExperimentCluster.say(out, "election: wrote " + dir.resolve("election.csv") + " and " + dir.resolve("election.png"));
  }

  /** The new leader, its term, and how long after the kill a node first said it leads. */
  record Elected(String leader, long term, double millis) {}

  /**
   * SIGKILLs the leader and polls every other node from a thread of its own until one says it is the leader of a
   * later term. Polls go out about a millisecond apart (one outstanding per node): that, plus a status round trip, is
   * the resolution.
   */
  static Elected killAndTime(ExperimentCluster cluster, ExperimentCluster.Leadership before) throws Exception {
    List<String> survivors = cluster.members().stream().map(m -> m.id())
        .filter(id -> !id.equals(before.leader())).toList();
    CountDownLatch found = new CountDownLatch(1);
    AtomicLong foundAt = new AtomicLong();
    java.util.concurrent.atomic.AtomicReference<Elected> elected = new java.util.concurrent.atomic.AtomicReference<>();
    long[] killedAt = new long[1];
    cluster.kill(before.leader());
    killedAt[0] = System.nanoTime();
    List<Thread> pollers = new ArrayList<>();
    long deadline = killedAt[0] + Duration.ofSeconds(60).toNanos();
    for (String id : survivors) {
      Thread t = new Thread(() -> {
        while (found.getCount() > 0 && System.nanoTime() < deadline) {
          ExperimentCluster.NodeView v = cluster.status(id).orElse(null);
          long now = System.nanoTime();
          if (v != null && v.isLeader() && v.term() > before.term()) {
            synchronized (foundAt) {
              if (found.getCount() > 0) {
                foundAt.set(now);
                elected.set(new Elected(id, v.term(), (now - killedAt[0]) / 1e6));
                found.countDown();
              }
            }
            return;
          }
          try {
            Thread.sleep(1); // a poll a millisecond or so: fine enough, without flooding the node
          } catch (InterruptedException ie) {
            return;
          }
        }
      }, "poll-" + id);
      t.setDaemon(true);
      pollers.add(t);
      t.start();
    }
    if (!found.await(60, java.util.concurrent.TimeUnit.SECONDS)) {
      throw new java.io.IOException("no new leader within 60 s of killing " + before.leader() + "; "
          + survivors.get(0) + "'s log ends:\n" + cluster.logTail(survivors.get(0), 20));
    }
    for (Thread t : pollers) t.join(5000);
    return elected.get();
  }

  static double median(List<Double> values) {
    if (values.isEmpty()) return Double.NaN;
    List<Double> sorted = new ArrayList<>(values);
    sorted.sort(null);
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }
}

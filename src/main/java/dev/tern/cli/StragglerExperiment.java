package dev.tern.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
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
 * Slow followers (stragglers): the same write load against the leader with no slow follower, with one, and with a
 * majority of the followers slow, one after another on the same cluster. A slow follower is one whose every Raft message leaves
 * {@code --delay} late (test-only fault injection, {@code POST /v1/testing/delay}): its acknowledgements arrive that
 * much later, as over a slow link or from a busy machine. The leader commits once a majority (itself included) has
 * an entry (Raft section 5.3), so one slow follower should cost nothing, and a majority of slow followers should add
 * the delay to every write.
 */
@Command(name = "stragglers", mixinStandardHelpOptions = true,
    description = "Write throughput and latency with no, one, and a majority of slow followers.")
final class StragglerExperiment implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Mixin
  ExperimentOptions options;

  @Option(names = "--nodes", defaultValue = "5", description = "Cluster size (default ${DEFAULT-VALUE}).")
  int nodes;

  @Option(names = "--delay", defaultValue = "20ms", converter = ClientCommand.DurationConverter.class,
      description = "How late a slow follower's messages leave (default ${DEFAULT-VALUE}).")
  Duration delay;

  /** How often a case runs when the leader changes during it, before the experiment gives up. */
  static final int MAX_ATTEMPTS = 3;

  /** A case of the experiment: its name and how many followers are slow. */
  record Case(String name, int slow) {}

  /**
   * No slow follower, one, a majority of the followers (then the fast nodes, leader included, are a minority), and none
   * again: the cases share a cluster, and the repeat shows how much of a difference is the cluster still warming up.
   */
  static List<Case> cases(int nodes) {
    int followers = nodes - 1;
    return List.of(new Case("none slow", 0), new Case("1 slow follower", 1),
        new Case((followers / 2 + 1) + " of " + followers + " followers slow", followers / 2 + 1),
        new Case("none slow again", 0));
  }

  @Override
  public Integer call() throws Exception {
    String problem = options.problem();
    if (problem == null && (nodes < 3 || nodes > LocalCluster.MAX_NODES)) problem = "--nodes must be 3 to 99";
    if (problem == null && (delay.isNegative() || delay.toMillis() > 10_000)) problem = "--delay must be 0 to 10s";
    if (problem != null) return ExperimentCommand.usage(spec.commandLine().getErr(), problem);
    run(options, nodes, delay, spec.commandLine().getOut());
    return ExitCodes.OK;
  }

  static void run(ExperimentOptions options, int nodes, Duration delay, PrintWriter out) throws Exception {
    Path dir = options.outDir();
    List<List<?>> rows = new ArrayList<>();
    List<String> x = new ArrayList<>();
    Map<String, List<Double>> throughput = new LinkedHashMap<>();
    throughput.put("writes", new ArrayList<>());
    Map<String, Histogram> distributions = new LinkedHashMap<>();
    try (ExperimentCluster cluster = ExperimentCluster.start(options.clusterDir("stragglers"), nodes,
        Map.of("tern.testing.fault-injection", "on"), options)) {
      for (Case c : cases(nodes)) {
        // The cases run in order on one cluster; each warm-up absorbs the change from the case before.
        ExperimentOptions.Measured m = null;
        for (int attempt = 1; m == null; attempt++) {
          ExperimentCluster.Leadership l = cluster.awaitLeadership(options.readyTimeout);
          List<String> followers = cluster.members().stream().map(member -> member.id()).filter(id -> !id.equals(l.leader()))
              .toList();
          List<String> slow = followers.subList(0, c.slow());
          cluster.delay(l.leader(), Duration.ZERO);
          for (String id : followers) cluster.delay(id, slow.contains(id) ? delay : Duration.ZERO);
          ExperimentCluster.say(out, "stragglers: " + nodes + " nodes, " + c.name() + (slow.isEmpty() ? "" : " " + slow)
              + " (delay " + delay.toMillis() + " ms), " + options.clients + " clients at the leader " + l.leader());
          ExperimentOptions.Measured run = options.runLoad(cluster, options.load(List.of(cluster.uri(l.leader())), 0), out);
          ExperimentCluster.Leadership after = cluster.awaitLeadership(options.readyTimeout);
          if (after.equals(l)) {
            m = run;
          } else if (attempt < MAX_ATTEMPTS) {
            // An election under load (a starved node missed heartbeats): the figures would mix two leaders.
            ExperimentCluster.say(out, "  leadership moved from " + l.leader() + " to " + after.leader() + " in term "
                + after.term() + " during the run; running this case again");
          } else {
            throw new java.io.IOException("leadership moved during " + MAX_ATTEMPTS + " runs of '" + c.name()
                + "' in a row, last to " + after.leader() + " in term " + after.term());
          }
        }
        LoadRun.Result r = m.result();
        rows.add(ExperimentCommand.row(List.of(c.slow(), delay.toNanos() / 1e6), m));
        x.add(c.name());
        throughput.get("writes").add(r.throughput());
        distributions.put(c.name(), r.writes());
        ExperimentCluster.say(out, "  " + ExperimentCommand.summary(m));
      }
    }
    Plots.csv(dir.resolve("stragglers.csv"), ExperimentCommand.header(List.of("slow_followers", "delay_ms")), rows);
    String title = nodes + " nodes, slow = messages " + delay.toMillis() + " ms late";
    Plots.png(dir.resolve("stragglers.png"), List.of(
        Plots.bars("Write throughput (" + title + ")", "", "writes/s", x, throughput),
        Plots.latencyByPercentile("Write latency by percentile", distributions)));
    ExperimentCluster.say(out, "stragglers: wrote " + dir.resolve("stragglers.csv") + " and "
        + dir.resolve("stragglers.png"));
  }
}

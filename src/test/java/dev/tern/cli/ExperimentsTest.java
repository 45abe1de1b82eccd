package dev.tern.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The evaluation's pieces that need no cluster: parsing the experiments' settings, the cases they run, the CSV and
 * percentile files and the plots, and the CLI's answers to bad options (exit 2, before anything starts).
 * ExperimentIT runs the experiments themselves on real clusters.
 */
class ExperimentsTest {
  @TempDir
  Path dir;

  @Test
  void electionTimeoutRangesParseAndSetHeartbeatsAtAFifthOfTheMinimum() {
    assertEquals(List.of(new ElectionExperiment.Range(12, 25), new ElectionExperiment.Range(300, 500)),
        ElectionExperiment.parseRanges("12-25, 300-500"));
    for (String bad : List.of("", "12", "25-12", "12-12", "1-5", "a-b", "12-25,")) {
      assertThrows(IllegalArgumentException.class, () -> ElectionExperiment.parseRanges(bad), bad);
    }
    Map<String, String> s = ElectionExperiment.settings(new ElectionExperiment.Range(50, 100));
    assertEquals("50ms", s.get("tern.raft.election-timeout-min"));
    assertEquals("100ms", s.get("tern.raft.election-timeout-max"));
    assertEquals("10ms", s.get("tern.raft.heartbeat-interval"));
    assertEquals("1ms", s.get("pekko.scheduler.tick-duration"));
    assertEquals("2ms", ElectionExperiment.settings(new ElectionExperiment.Range(12, 25))
        .get("tern.raft.heartbeat-interval"));
    assertEquals(2.5, ElectionExperiment.median(List.of(4.0, 1.0, 3.0, 2.0)));
    assertEquals(3.0, ElectionExperiment.median(List.of(3.0, 1.0, 9.0)));
  }

  @Test
  void mixesAreReadWritePercentagesAddingUpTo100() {
    List<MixExperiment.Mix> mixes = MixExperiment.parseMixes(MixExperiment.DEFAULT_MIXES);
    assertEquals(List.of(1.0, 0.9, 0.5, 0.0), mixes.stream().map(MixExperiment.Mix::readRatio).toList());
    assertEquals("90/10", mixes.get(1).toString());
    for (String bad : List.of("", "50", "50/40", "101/-1", "a/b")) {
      assertThrows(IllegalArgumentException.class, () -> MixExperiment.parseMixes(bad), bad);
    }
  }

  @Test
  void stragglerCasesEndWithTooFewFastNodesForAQuorum() {
    for (int n = 3; n <= 11; n++) {
      List<StragglerExperiment.Case> cases = StragglerExperiment.cases(n);
      assertEquals(4, cases.size());
      assertEquals(List.of(0, 1), cases.subList(0, 2).stream().map(StragglerExperiment.Case::slow).toList());
      assertEquals(0, cases.get(3).slow(), "the baseline again, last");
      int slow = cases.get(2).slow();
      int quorum = n / 2 + 1;
      assertTrue(n - slow < quorum, n + " nodes: the fast nodes (leader included) must not be a quorum");
      assertTrue(slow <= n - 1, "only followers are slow");
      assertTrue(n - (slow - 1) >= quorum, n + " nodes: one slow follower fewer must leave a quorum fast (a majority)");
    }
  }

  @Test
  void csvQuotesWhatNeedsItAndPrintsNumbersPlainly() throws Exception {
    Path f = dir.resolve("t.csv");
    Plots.csv(f, List.of("a", "b", "c"), List.of(List.of(1, 2.5, "x,y"), List.of(3L, 0.0001, "say \"hi\"")));
    assertEquals("a,b,c\n1,2.500,\"x,y\"\n3,0.000,\"say \"\"hi\"\"\"\n", Files.readString(f));
  }

  @Test
  void percentileFilesAreHdrHistogramsFormatInMilliseconds() throws Exception {
    Histogram h = new Histogram(LoadRun.HIGHEST_NANOS, 3);
    for (int i = 1; i <= 1000; i++) h.recordValue(i * 1_000_000L); // 1..1000 ms
    Path f = dir.resolve("t.hgrm");
    Plots.percentiles(h, f);
    List<String> lines = Files.readAllLines(f);
    assertTrue(lines.get(0).trim().startsWith("Value"), lines.get(0));
    assertTrue(lines.stream().anyMatch(l -> l.contains("#[Mean") && l.contains("500.")), String.join("\n", lines));
    assertTrue(lines.stream().anyMatch(l -> l.contains("#[Max") && l.contains("1000.")), String.join("\n", lines));
  }

  @Test
  void plotsArePngImagesOfTheRequestedSize() throws Exception {
    Histogram fast = new Histogram(LoadRun.HIGHEST_NANOS, 3);
    Histogram slow = new Histogram(LoadRun.HIGHEST_NANOS, 3);
    for (int i = 1; i <= 1000; i++) {
      fast.recordValue(i * 1_000L);
      slow.recordValue(i * 100_000L);
    }
    Map<String, Histogram> lines = new LinkedHashMap<>();
    lines.put("fast", fast);
    lines.put("slow", slow);
    lines.put("empty", new Histogram(LoadRun.HIGHEST_NANOS, 3)); // skipped, not drawn as nothing
    Path one = dir.resolve("latency.png");
    Plots.png(one, List.of(Plots.latencyByPercentile("latency", lines)));
    BufferedImage image = ImageIO.read(one.toFile());
    assertEquals(Plots.WIDTH, image.getWidth());
    assertEquals(Plots.HEIGHT, image.getHeight());

    Path two = dir.resolve("two.png");
    Map<String, List<Double>> groups = new LinkedHashMap<>();
    groups.put("12-25 ms", List.of(30.0, 40.0, 80.0));
    groups.put("150-300 ms", List.of(200.0, 250.0, 320.0));
    Plots.png(two, List.of(Plots.boxes("elections", "ms", groups),
        Plots.bars("bars", "x", "y", List.of("a", "b"), Map.of("s", List.of(1.0, 2.0))),
        Plots.lines("lines", "x", "y", List.of(3.0, 5.0), Map.of("s", List.of(1.0, 2.0)))));
    BufferedImage wide = ImageIO.read(two.toFile());
    assertEquals(3 * Plots.WIDTH, wide.getWidth(), "three charts side by side");
    assertFalse(Files.exists(dir.resolve("two.png.png")), "no extension added to a name that has one");
  }

  @Test
  void percentileAxisLabels() {
    assertEquals("0%", Plots.percentileLabel(1));
    assertEquals("90%", Plots.percentileLabel(10));
    assertEquals("99%", Plots.percentileLabel(100));
    assertEquals("99.9%", Plots.percentileLabel(1000));
  }

  @Test
  void badOptionsExitWith2BeforeStartingAnything() {
    for (String[] args : List.of(
        new String[] {"experiment", "election", "--timeouts", "25-12", "--out", dir.toString()},
        new String[] {"experiment", "election", "--rounds", "0", "--out", dir.toString()},
        new String[] {"experiment", "size", "--sizes", "3,0", "--out", dir.toString()},
        new String[] {"experiment", "mix", "--mixes", "60/60", "--out", dir.toString()},
        new String[] {"experiment", "stragglers", "--nodes", "2", "--out", dir.toString()},
        new String[] {"experiment", "stragglers", "--duration", "0s", "--out", dir.toString()},
        new String[] {"experiment", "all", "--clients", "0", "--out", dir.toString()},
        new String[] {"bench", "--plot", dir.resolve("x.svg").toString()},
        new String[] {"bench", "--duration", "0s"})) {
      Cli.Result r = Cli.run(args);
      assertEquals(ExitCodes.USAGE, r.code(), String.join(" ", args) + "\n" + r);
      assertFalse(r.err().isBlank(), r.toString());
    }
    Cli.Result bare = Cli.run("experiment");
    assertEquals(ExitCodes.USAGE, bare.code());
    assertTrue(bare.err().contains("stragglers"), bare.toString());
    assertFalse(Files.exists(dir.resolve("clusters")), "no cluster was started");
  }
}

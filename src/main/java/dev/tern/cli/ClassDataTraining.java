package dev.tern.cli;

import dev.tern.cluster.TernNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import picocli.CommandLine;

/**
 * The workload the build runs once under {@code -XX:ArchiveClassesAtExit} to train the jar's class-data archive
 * ({@link ClassDataArchive}): three nodes in this JVM on free ports of 127.0.0.1 and a temporary directory, which
 * elect a leader and replicate over Artery, and the CLI's commands against them (put, get, cas, delete, list, watch,
 * lease, status). Every class they load is in the archive; what it misses is loaded from the jar as before.
 *
 * <p>Exits 0 once the commands were answered and the nodes stopped, 1 if the cluster did not serve within a
 * minute (the build then fails: the ITs would not run either).
 */
public final class ClassDataTraining {
  private ClassDataTraining() {}

  public static void main(String[] args) throws Exception {
    Path dir = Files.createTempDirectory("tern-cds-training");
    List<TernNode> nodes = new ArrayList<>();
    int exit = 1;
    try {
      String spec = membersSpec(3);
      Files.writeString(dir.resolve("cluster.conf"), "tern.cluster.members-spec = \"" + spec + "\"\n");
      for (int i = 1; i <= 3; i++) {
        System.setProperty("tern.data-dir", dir.resolve("n" + i).toString());
        nodes.add(new TernNode(NodeConfig.load("n" + i, dir.resolve("cluster.conf"))));
      }
      System.clearProperty("tern.data-dir");
      for (TernNode n : nodes) n.start();
      String endpoints = nodes.stream().map(n -> "http://127.0.0.1:" + n.self().httpPort())
          .reduce((a, b) -> a + "," + b).orElseThrow();
      exit = train(endpoints, "http://127.0.0.1:" + nodes.get(1).self().httpPort());
    } finally {
      for (TernNode n : nodes) n.stop();
      try (Stream<Path> files = Files.walk(dir)) {
        for (Path f : files.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(f);
      }
    }
    System.out.println(exit == 0 ? "class-data training done" : "class-data training: the cluster did not serve");
    System.exit(exit);
  }

  /** The CLI's commands, in this JVM; 0 once a write was acknowledged, 1 if none was within a minute. */
  private static int train(String endpoints, String follower) throws InterruptedException {
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (run("put", "training", "one", "--endpoints", endpoints) != ExitCodes.OK) {
      if (System.nanoTime() > deadline) return 1;
      Thread.sleep(200);
    }
    for (int i = 0; i < 50; i++) run("put", "training/" + i, "value " + i, "--endpoints", endpoints);
    run("get", "training", "--endpoints", endpoints);
    run("get", "training", "--stale", "--node", follower);
    run("get", "training", "-v", "--node", follower);
    run("cas", "training", "0", "two", "--endpoints", endpoints);
    run("list", "training/", "--endpoints", endpoints);
    run("watch", "training/", "--from", "1", "--count", "3", "--endpoints", endpoints);
    run("lease", "grant", "10s", "--endpoints", endpoints);
    run("del", "training", "--endpoints", endpoints);
    run("status", "--endpoints", endpoints);
    return 0;
  }

  private static int run(String... args) {
    StringWriter sink = new StringWriter();
    return new CommandLine(new TernCli()).setOut(new PrintWriter(sink)).setErr(new PrintWriter(sink)).execute(args);
  }

  private static String membersSpec(int n) throws IOException {
    List<ServerSocket> sockets = new ArrayList<>();
    try {
      StringBuilder spec = new StringBuilder();
      for (int i = 1; i <= n; i++) {
        int[] ports = new int[2];
        for (int p = 0; p < 2; p++) {
          ServerSocket s = new ServerSocket();
          sockets.add(s);
          s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
          ports[p] = s.getLocalPort();
        }
        spec.append(i > 1 ? "," : "").append("n").append(i).append("=127.0.0.1:").append(ports[0]).append(':')
            .append(ports[1]);
      }
      return spec.toString();
    } finally {
      for (ServerSocket s : sockets) s.close();
    }
  }
}

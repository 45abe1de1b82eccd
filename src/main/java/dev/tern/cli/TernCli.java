package dev.tern.cli;

import java.io.InputStream;
import java.util.Properties;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** The {@code tern} command: run nodes and local clusters, and talk to a cluster's HTTP API. */
@Command(
    name = "tern",
    description = "Tern, a Raft-replicated key-value store: run nodes, run a local cluster, read and write keys.",
    mixinStandardHelpOptions = true,
    versionProvider = TernCli.Version.class,
    subcommands = {
      NodeCommand.class,
      LocalCommand.class,
      KvCommands.Put.class,
      KvCommands.Get.class,
      KvCommands.Del.class,
      KvCommands.Cas.class,
      KvCommands.ListKeys.class,
      WatchCommand.class,
      LeaseCommands.class,
      StatusCommand.class,
      LeaderCommand.class,
      MemberCommands.class,
      SnapshotCommand.class,
      CheckCommand.class,
      BenchCommand.class,
      ExperimentCommand.class,
      TokenCommand.class,
      CertsCommand.class,
      CommandLine.HelpCommand.class
    },
    footer = {
      ExitCodes.FOOTER,
      "",
      "Environment:",
      "  TERN_NODE       the node client commands ask (default http://127.0.0.1:8101)",
      "  TERN_ENDPOINTS  several nodes, comma-separated: client commands fail over between them",
      "  TERN_JAVA_OPTS  JVM options for ./tern and for the nodes `tern local` starts",
      "  TERN_NODE_ID, TERN_MEMBERS, TERN_DATA_DIR, TERN_CLUSTER_TOKEN, TERN_HTTP_BIND_HOST, TERN_REQUEST_TIMEOUT:",
      "                  a node's settings (see application.conf)",
      "",
      "Examples:",
      "  ./tern local                  # 3 nodes on this machine, until Ctrl-C",
      "  ./tern put greeting hello --node http://127.0.0.1:40123",
      "  TERN_NODE=127.0.0.1:40123 ./tern get greeting -v",
      "  ./tern node --id n1 --config my.conf",
      "  ./tern snapshot save backup.tbak --endpoints 127.0.0.1:8101,127.0.0.1:8102",
      "  ./tern bench --clients 16 --duration 30s   # throughput and latency percentiles",
      "See docs/operations.md."
    })
public final class TernCli implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  /**
   * With fewer than 3 cores the JDK's common pool has a parallelism of 1, and CompletableFuture then runs every
   * asynchronous step on a new thread of its own. Pekko's Java API hands out Scala futures wrapped as
   * CompletableFutures whose every callback is asynchronous (the asks behind each HTTP request), so on a 2-core
   * machine each request started threads: a profile under load showed thread creation at about 10% of a node's
   * CPU. Set before anything touches the common pool; an explicit -D setting wins.
   */
  static final String COMMON_POOL_PARALLELISM = "java.util.concurrent.ForkJoinPool.common.parallelism";

  public static void main(String[] args) {
    if (System.getProperty(COMMON_POOL_PARALLELISM) == null) {
      System.setProperty(COMMON_POOL_PARALLELISM, String.valueOf(Math.max(2, Runtime.getRuntime().availableProcessors())));
    }
    System.exit(new CommandLine(new TernCli()).execute(args));
  }

  @Override
  public Integer call() {
    throw new ParameterException(spec.commandLine(), "Missing a command: one of node, local, put, get, del, cas, "
        + "list, status, snapshot, bench (see tern --help)");
  }

  /** The project version, from the Maven descriptor in the jar. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String version = "(unknown version)";
      try (InputStream in = TernCli.class.getResourceAsStream("/META-INF/maven/dev.tern/tern/pom.properties")) {
        if (in != null) {
          Properties p = new Properties();
          p.load(in);
          version = p.getProperty("version", version);
        }
      } catch (java.io.IOException e) {
        // keep the unknown version
      }
      return new String[] {"tern " + version, "Java " + System.getProperty("java.version")};
    }
  }
}

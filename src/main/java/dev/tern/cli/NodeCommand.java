package dev.tern.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigRenderOptions;
import dev.tern.cluster.Member;
import dev.tern.cluster.Members;
import dev.tern.cluster.TernNode;
import dev.tern.cluster.TransportLimits;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code tern node}: runs one node in the foreground until it stops. */
@Command(
    name = "node",
    description = {
      "Run one node (Raft replica, HTTP API) in the foreground until it is stopped (Ctrl-C or SIGTERM).",
      "",
      "Settings, highest priority first: --id; -D options (here or in TERN_JAVA_OPTS); the --config file; "
          + "application.conf with its TERN_* environment variables; Pekko's defaults. See docs/operations.md.",
      "",
      "Data: the node keeps its Raft state in tern.data-dir (TERN_DATA_DIR), by default data/<id> RELATIVE TO THE "
          + "CURRENT DIRECTORY; set an absolute path, e.g. -Dtern.data-dir=/var/lib/tern/n1. The directory records "
          + "its cluster and node on first start; a directory of another node or cluster is refused (exit 5)."
    },
    mixinStandardHelpOptions = true,
    footer = {"", "Exit codes: 0 stopped normally; 2 bad arguments or configuration; 4 --join reached no member; "
        + "5 the node failed."})
final class NodeCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "--id", paramLabel = "ID", description = "This node's id, one of the members' ids "
      + "(overrides tern.node-id and TERN_NODE_ID).")
  String id;

  @Option(names = "--config", paramLabel = "FILE", description = "A HOCON file layered over application.conf, "
      + "e.g. with tern.cluster.members or tern.cluster.members-spec.")
  Path config;

  @Option(names = "-D", paramLabel = "KEY=VALUE", description = "Set a setting as a system property, "
      + "e.g. -Dtern.http.request-timeout=8s (same as the JVM's -D).")
  Map<String, String> properties;

  @Option(names = "--join", paramLabel = "URL[,URL...]", description = "Join a running cluster: ask the member(s) "
      + "at these addresses for the configuration in force and the cluster id, instead of a members list "
      + "(tern.cluster.join-url, TERN_JOIN_URL). Then add this node: tern member add ID ...")
  String join;

  @Option(names = "--advertise", paramLabel = "HOST:ARTERY-PORT:HTTP-PORT", description = "With --join: where this "
      + "node listens, unless the cluster already lists it (tern.cluster.advertise, TERN_ADVERTISE).")
  String advertise;

  @Option(names = "--print-config", description = "Print the resolved tern settings and the members, then exit "
      + "without starting the node.")
  boolean printConfig;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (properties != null) properties.forEach(System::setProperty);
    Config resolved;
    Member self;
    try {
      resolved = NodeConfig.load(id, config);
      String joinUrl = join != null ? join : resolved.getString("tern.cluster.join-url");
      if (!joinUrl.isBlank()) {
        String at = advertise != null ? advertise : resolved.getString("tern.cluster.advertise");
        try {
          resolved = JoinConfig.overrides(resolved.getString("tern.node-id"), joinUrl, at, Duration.ofSeconds(5),
              Path.of(resolved.getString("tern.data-dir"))).withFallback(resolved).resolve();
        } catch (dev.tern.cluster.NodeDataDir.LostStateException e) {
          err.println("tern node: " + e.getMessage());
          err.flush();
          return ExitCodes.ERROR;
        } catch (TernClient.UnreachableException | IllegalStateException e) {
          err.println("tern node: cannot join through " + joinUrl + ": " + e.getMessage());
          err.flush();
          return ExitCodes.UNAVAILABLE;
        }
      }
      self = NodeConfig.self(resolved);
      TransportLimits.check(resolved);
      // A space quota this JVM's heap cannot hold is a bad setting too (TernNode checks it again).
      dev.tern.cluster.QuotaSizing.resolve(resolved.getConfig("tern"), Runtime.getRuntime().maxMemory());
    } catch (ConfigException | IllegalArgumentException e) {
      err.println("tern node: bad configuration: " + e.getMessage());
      err.flush();
      return ExitCodes.USAGE;
    }
    Members members = Members.fromConfig(resolved.getConfig("tern"));
    if (printConfig) {
      out.println(resolved.getConfig("tern").root().render(
          ConfigRenderOptions.defaults().setOriginComments(false).setComments(false).setJson(false)));
      out.println("members:");
      for (Member m : members.all()) {
        out.println("  " + m.id() + "  artery " + m.host() + ":" + m.arteryPort() + "  http " + m.httpAddress()
            + (m.id().equals(self.id()) ? "  (this node)" : ""));
      }
      out.flush();
      return ExitCodes.OK;
    }
    // Start logging before any other thread logs (STACK.md: avoids SLF4J's replay warning).
    LoggerFactory.getLogger(NodeCommand.class)
        .info("Starting node {} (HTTP {}, Artery {}:{}) of cluster {}", self.id(), self.httpAddress(), self.host(),
            self.arteryPort(), members.ids());
    try {
      TernNode.run(resolved);
      return ExitCodes.OK;
    } catch (Exception e) { // whatever run declares
      if (e instanceof InterruptedException) Thread.currentThread().interrupt();
      err.println("tern node: node " + self.id() + " failed: " + (e.getMessage() != null ? e.getMessage() : e));
      if (!(e instanceof IllegalStateException)) e.printStackTrace(err); // TernNode's own failures are explained
      err.flush();
      return ExitCodes.ERROR;
    }
  }
}

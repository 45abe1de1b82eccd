package dev.tern.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code tern member list|add|remove}: the cluster's membership (docs/operations.md), through {@code /v1/members} of
 * any node; changes are forwarded to the leader and answered once committed.
 */
@Command(
    name = "member",
    description = "List, add or remove the cluster's members (one change at a time; see docs/operations.md).",
    mixinStandardHelpOptions = true,
    subcommands = {MemberCommands.ListMembers.class, MemberCommands.Add.class, MemberCommands.Remove.class})
final class MemberCommands {

  @Command(name = "list", description = "The configuration in force: each member's addresses, whether it votes or"
      + " is a learner, and (from the leader) how far its log matches and when it last answered.",
      mixinStandardHelpOptions = true, footer = ExitCodes.FOOTER)
  static final class ListMembers extends ClientCommand {
    @Override
    int run(TernClient client) throws TernClient.UnreachableException {
      TernClient.Response r = client.get("/v1/members");
      if (!r.ok()) return failure(r);
      JsonNode body = r.json();
      if (body == null || !body.path("members").isArray()) return unexpected(r, "{\"members\": [...]}");
      String leader = body.hasNonNull("leader") ? body.get("leader").asText() : null;
      out().println("asked " + body.path("id").asText() + "; leader " + (leader == null ? "(none known)" : leader)
          + "; configuration of index " + body.path("configurationIndex").asText()
          + ("LEADER".equals(body.path("role").asText()) ? "" : " (ask the leader for match indexes)"));
      List<String[]> rows = new ArrayList<>();
      rows.add(new String[] {"ID", "HOST", "ARTERY", "HTTP", "ROLE", "MATCH", "LAST CONTACT"});
      for (JsonNode m : body.get("members")) {
        String id = m.path("id").asText();
        rows.add(new String[] {id, m.path("host").asText(), m.path("arteryPort").asText(), m.path("httpPort").asText(),
            m.path("role").asText() + (id.equals(leader) ? " (leader)" : ""),
            m.has("matchIndex") ? m.get("matchIndex").asText() : "-",
            !m.has("lastContactMsAgo") ? "-" : m.get("lastContactMsAgo").asLong() < 0 ? "never"
                : m.get("lastContactMsAgo").asText() + " ms ago"});
      }
      StatusCommand.table(out(), rows);
      return ExitCodes.OK;
    }
  }

  @Command(name = "add", description = "Add a server as a learner; the leader makes it a voter once it has caught up."
      + " Start the node first (with -Dtern.cluster.join=true, see docs/operations.md).",
      mixinStandardHelpOptions = true, footer = ExitCodes.FOOTER)
  static final class Add extends ClientCommand {
    @Parameters(index = "0", paramLabel = "ID", description = "The new server's node id.")
    String id;

    @Option(names = "--host", required = true, paramLabel = "HOST", description = "Where the server is reached.")
    String host;

    @Option(names = "--artery-port", required = true, paramLabel = "PORT", description = "Its Artery (node-to-node) port.")
    int arteryPort;

    @Option(names = "--http-port", required = true, paramLabel = "PORT", description = "Its HTTP port.")
    int httpPort;

    @Override
    int run(TernClient client) throws TernClient.UnreachableException {
      String body = "{\"host\":" + com.fasterxml.jackson.databind.node.TextNode.valueOf(host) + ",\"arteryPort\":"
          + arteryPort + ",\"httpPort\":" + httpPort + "}";
      return changed(this, client.put("/v1/members/" + TernClient.encode(id), body), "added " + id + " as a learner");
    }
  }

  @Command(name = "remove", description = "Remove a member (the leader too: it steps down once the change commits).",
      mixinStandardHelpOptions = true, footer = ExitCodes.FOOTER)
  static final class Remove extends ClientCommand {
    @Parameters(index = "0", paramLabel = "ID", description = "The member to remove.")
    String id;

    @Override
    int run(TernClient client) throws TernClient.UnreachableException {
      return changed(this, client.delete("/v1/members/" + TernClient.encode(id)), "removed " + id);
    }
  }

  private MemberCommands() {}

  /** Prints the committed configuration after a change, or the failure. */
  static int changed(ClientCommand c, TernClient.Response r, String what) {
    if (r.status() == 409) { // not a CAS conflict here: already a member elsewhere, or the last voter
      c.err().println("refused (HTTP 409): " + r.errorMessage());
      return ExitCodes.CONFLICT;
    }
    if (!r.ok()) return c.failure(r);
    JsonNode body = r.json();
    if (body == null || !body.path("members").isArray()) return c.unexpected(r, "{\"members\": [...]}");
    List<String> servers = new ArrayList<>();
    for (JsonNode m : body.get("members")) servers.add(m.path("id").asText() + ("learner".equals(m.path("role").asText()) ? "(learner)" : ""));
    c.out().println("OK " + what + "; configuration at index " + body.path("index").asText() + ": "
        + String.join(" ", servers));
    return ExitCodes.OK;
  }
}

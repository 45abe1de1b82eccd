package dev.tern.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;

/** {@code tern status}: what one node knows about the cluster, as a small table. */
@Command(
    name = "status",
    description = "Show the node's role, term, leader, commit and apply progress, and the members.",
    mixinStandardHelpOptions = true,
    footer = ExitCodes.FOOTER)
final class StatusCommand extends ClientCommand {

  @Override
  int run(TernClient client) throws TernClient.UnreachableException {
    TernClient.Response r = client.get("/v1/status");
    if (!r.ok()) return failure(r);
    JsonNode s = r.json();
    if (s == null || !s.has("id") || !s.has("role")) return unexpected(r, "a status object");
    String id = s.path("id").asText();
    String leader = s.hasNonNull("leader") ? s.get("leader").asText() : null;

    List<String[]> head = new ArrayList<>();
    head.add(new String[] {"node", id + " (" + client.base() + ")"});
    head.add(new String[] {"role", s.path("role").asText()});
    head.add(new String[] {"term", s.path("term").asText()});
    head.add(new String[] {"leader", leader == null ? "(none known)" : leader});
    head.add(new String[] {"commit index", s.path("commitIndex").asText()});
    head.add(new String[] {"last applied", s.path("lastApplied").asText()});
    head.add(new String[] {"serving", s.path("serving").asBoolean() ? "yes" : "no (no leader known)"});
    table(head);

    JsonNode members = s.get("members");
    if (members != null && members.isArray() && members.size() > 0) {
      out().println();
      List<String[]> rows = new ArrayList<>();
      rows.add(new String[] {"ID", "HOST", "ARTERY", "HTTP", ""});
      for (JsonNode m : members) {
        String mid = m.path("id").asText();
        List<String> notes = new ArrayList<>();
        if (mid.equals(id)) notes.add("this node");
        if (mid.equals(leader)) notes.add("leader");
        rows.add(new String[] {
          mid, m.path("host").asText(), m.path("arteryPort").asText(), m.path("httpPort").asText(),
          String.join(", ", notes)
        });
      }
      table(rows);
    }
    return ExitCodes.OK;
  }

  private void table(List<String[]> rows) {
    table(out(), rows);
  }

  /** Prints rows as columns padded to the widest cell. */
  static void table(java.io.PrintWriter out, List<String[]> rows) {
    int cols = rows.get(0).length;
    int[] width = new int[cols];
    for (String[] row : rows) {
      for (int i = 0; i < cols; i++) width[i] = Math.max(width[i], row[i].length());
    }
    for (String[] row : rows) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < cols; i++) {
        line.append(row[i]);
        if (i < cols - 1) line.append(" ".repeat(width[i] - row[i].length() + 2));
      }
      out.println(line.toString().stripTrailing());
    }
  }
}

package dev.tern.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code tern check}: compares the members' key-value state at one applied index (POST /v1/check; docs/operations.md,
 * "Consistency checks"); {@code tern check --disarm ID} clears member ID's CORRUPT alarm (POST /v1/check/disarm).
 */
@Command(
    name = "check",
    description = {
      "Check the replicas against each other: a check command goes through the log, every member digests its",
      "key-value state at the index where it applies it, and the node asked compares the digests. A member whose",
      "digest differs from the majority's raises the CORRUPT alarm and serves no data until it is cleared (--disarm);",
      "replace it rather (docs/operations.md, \"Replacing a node\"). Needs the admin role when security is on.",
      "The members have until --timeout (less a second, at most tern.check.timeout) to digest their state."
    },
    mixinStandardHelpOptions = true,
    footer = {"", "Exit codes: 0 every member that answered holds the majority's digest (or: alarm cleared);"
        + " 1 a member's digest differs from the majority's, or no digest is held by a majority; 2 usage error;"
        + " 4 unavailable (no leader, or no answer in time); 5 any other error."})
final class CheckCommand extends ClientCommand {
  /** The exit code of a check that found a member out of step, or could not compare. */
  static final int INCONSISTENT = 1;

  @Option(names = "--disarm", paramLabel = "ID",
      description = "Clear member ID's CORRUPT alarm instead of checking (any node may be asked: it passes the call on).")
  String disarm;

  @Override
  int run(TernClient client) throws TernClient.UnreachableException {
    if (disarm != null) return disarm(client);
    Duration wait = timeout.minusSeconds(1);
    if (wait.compareTo(Duration.ofSeconds(1)) < 0) wait = Duration.ofSeconds(1);
    TernClient.Response r = client.send("POST", "/v1/check?timeout=" + wait.toMillis() + "ms", null);
    if (!r.ok()) return failure(r);
    JsonNode j = r.json();
    if (j == null || !hasLong(j, "index") || !j.has("consistent") || !j.path("members").isArray()) {
      return unexpected(r, "a check report {\"index\", \"consistent\", \"members\"}");
    }
    long index = j.get("index").asLong();
    String reference = j.path("reference").isTextual() ? j.get("reference").asText() : null;
    List<String> mismatched = texts(j.path("mismatched"));
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"MEMBER", "APPLIED", "DIGEST", ""});
    for (JsonNode m : j.get("members")) {
      String id = m.path("id").asText();
      String digest = m.path("digest").isTextual() ? m.get("digest").asText() : null;
      String note = digest == null ? "unchecked: " + m.path("error").asText()
          : mismatched.contains(id) ? "DIFFERS from the majority" + (m.has("alarm") ? " (alarm " + m.get("alarm").asText() + ")" : "")
          : "";
      rows.add(new String[] {id, m.has("appliedIndex") ? m.get("appliedIndex").asText() : "-",
          digest == null ? "-" : digest, note});
    }
    if (j.get("consistent").asBoolean()) {
      out().println("consistent at index " + index + ": every member that answered holds digest " + reference);
      StatusCommand.table(out(), rows);
      List<String> unchecked = texts(j.path("unchecked"));
      if (!unchecked.isEmpty()) err().println("warning: not checked: " + String.join(", ", unchecked));
      return ExitCodes.OK;
    }
    StatusCommand.table(out(), rows);
    if (!mismatched.isEmpty()) {
      err().println("INCONSISTENT at index " + index + ": " + String.join(", ", mismatched)
          + (mismatched.size() == 1 ? " holds" : " hold") + " a key-value state other than the majority's (" + reference
          + "). A member whose state differs raises the CORRUPT alarm and serves no data; replace it"
          + " (docs/operations.md, \"Replacing a node\"), or clear the alarm with tern check --disarm ID.");
    } else {
      err().println("inconclusive at index " + index + ": " + j.path("problem").asText()
          + " (a longer --timeout gives the members more time to digest their state)");
    }
    return INCONSISTENT;
  }

  private int disarm(TernClient client) throws TernClient.UnreachableException {
    if (disarm.isBlank()) throw new CommandLine.ParameterException(spec.commandLine(), "--disarm needs a member id");
    var q = TernClient.params();
    q.put("node", disarm);
    TernClient.Response r = client.send("POST", "/v1/check/disarm" + TernClient.query(q), null);
    if (!r.ok()) return failure(r);
    if (r.json() == null || !r.json().has("disarmed")) return unexpected(r, "{\"disarmed\": true|false}");
    out().println(disarm + (r.json().get("disarmed").asBoolean() ? ": CORRUPT alarm cleared" : ": no alarm was on"));
    return ExitCodes.OK;
  }

  private static List<String> texts(JsonNode array) {
    List<String> out = new ArrayList<>();
    if (array != null && array.isArray()) for (JsonNode n : array) out.add(n.asText());
    return out;
  }
}

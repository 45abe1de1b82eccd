package dev.tern.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code tern leader ...}: operations on the cluster's leadership. */
@Command(
    name = "leader",
    description = "Operations on the cluster's leader.",
    mixinStandardHelpOptions = true,
    subcommands = {LeaderCommand.Transfer.class, CommandLine.HelpCommand.class})
final class LeaderCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  /** Without a subcommand there is nothing to do: a usage error (exit 2) that lists the subcommands. */
  @Override
  public Integer call() {
    throw new CommandLine.ParameterException(spec.commandLine(), "Missing required subcommand: transfer");
  }

  /** {@code tern leader transfer [ID]}: POST /v1/leader/transfer, to any node (it forwards to the leader). */
  @Command(
      name = "transfer",
      description = {
        "Hand leadership to member ID, or to the most up-to-date member when ID is left out (Raft dissertation 3.10):",
        "the leader stops taking writes, brings ID up to date and tells it to run; writes move on to it at once.",
        "Prints the new leader and its term once it is elected. Any node may be asked (--node)."
      },
      mixinStandardHelpOptions = true,
      footer = {"", "Exit codes: 0 transferred; 1 no such member; 2 usage error; 3 refused (a transfer is under way,"
          + " or no other member); 4 unavailable (no leader, or the transfer did not complete in time: the leader"
          + " then takes writes again); 5 any other error."})
  static final class Transfer extends ClientCommand {
    @Parameters(index = "0", arity = "0..1", paramLabel = "ID", description = "The member to hand leadership to.")
    String id;

    @Override
    int run(TernClient client) throws TernClient.UnreachableException {
      if (id != null && id.isBlank()) throw new CommandLine.ParameterException(spec.commandLine(), "ID must not be empty");
      var q = TernClient.params();
      if (id != null) q.put("to", id);
      TernClient.Response r = client.send("POST", "/v1/leader/transfer" + TernClient.query(q), null);
      if (r.status() == 409) {
        err().println("refused (HTTP 409): " + r.errorMessage());
        return ExitCodes.CONFLICT;
      }
      if (!r.ok()) return failure(r);
      if (r.json() == null || !r.json().hasNonNull("leader") || !hasLong(r.json(), "term")) {
        return unexpected(r, "{\"leader\": ID, \"term\": N}");
      }
      out().println("leader " + r.json().get("leader").asText() + " term=" + r.json().get("term").asLong());
      return ExitCodes.OK;
    }
  }
}

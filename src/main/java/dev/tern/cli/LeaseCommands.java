package dev.tern.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;

/**
 * {@code tern lease grant|keepalive|revoke|show|list}: leases (docs/api.md, "Leases") through {@code /v1/leases} of
 * any node. Keys are attached with {@code tern put KEY VALUE --lease ID}.
 */
@Command(
    name = "lease",
    description = "Grant, renew, revoke or show leases: keys attached to a lease are deleted when it is not renewed "
        + "in time (docs/api.md, \"Leases\").",
    mixinStandardHelpOptions = true,
    subcommands = {LeaseCommands.Grant.class, LeaseCommands.KeepAlive.class, LeaseCommands.Revoke.class,
        LeaseCommands.Show.class, LeaseCommands.ListLeases.class})
final class LeaseCommands {
  private static final String LEASES = "/v1/leases";

  @Command(name = "grant", description = "Grant a lease of TTL (e.g. 10s, 500ms, 5m); prints its id.",
      mixinStandardHelpOptions = true, footer = ExitCodes.FOOTER)
  static final class Grant extends ClientCommand {
    @Parameters(index = "0", paramLabel = "TTL", description = "How long it lives without a keepalive: 500ms, 10s, 5m, 1h.")
    String ttl;

    @Override
    int run(TernClient client) throws TernClient.UnreachableException {
      TernClient.Response r = client.write("POST", LEASES + "?ttl=" + TernClient.encode(ttl), null, null,
          TernClient.newRequestId());
      if (!r.ok()) return failure(r);
      if (!hasLong(r.json(), "id")) return unexpected(r, "{\"id\": N}");
      out().println(r.json().get("id").asLong());
      return ExitCodes.OK;
    }
  }

  @Command(name = "keepalive", description = "Renew lease ID once; with --every, again and again until it ends or"
      + " Ctrl-C (hold a lock for as long as this runs).", mixinStandardHelpOptions = true, footer = ExitCodes.FOOTER)
  static final class KeepAlive extends ClientCommand {
    @Parameters(index = "0", paramLabel = "ID", description = "The lease.")
    long id;

    @Option(names = "--every", paramLabel = "DURATION", description = "Renew every DURATION (e.g. 2s), until the lease"
        + " ends or this command is stopped.")
    String every;

    @Override
    int run(TernClient client) throws TernClient.UnreachableException {
      Duration interval = null;
      if (every != null) {
        interval = dev.tern.kv.Lease.parseTtl(every);
        if (interval == null || interval.isZero()) {
          throw new ParameterException(spec.commandLine(), "--every must be a duration such as 500ms, 2s or 1m");
        }
      }
      while (true) {
        TernClient.Response r = client.write("POST", LEASES + "/" + id + "/keepalive", null, null, null);
        if (!r.ok()) return failure(r);
        if (!hasLong(r.json(), "ttlMs")) return unexpected(r, "{\"ttlMs\": N}");
        out().println("lease " + id + " renewed: ttl " + r.json().get("ttlMs").asLong() + " ms");
        out().flush();
        if (interval == null) return ExitCodes.OK;
        try {
          Thread.sleep(interval.toMillis()); // a CLI loop between renewals, not actor code
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return ExitCodes.OK;
        }
      }
    }
  }

  @Command(name = "revoke", description = "Revoke lease ID now: its keys are deleted; prints them.",
      mixinStandardHelpOptions = true, footer = ExitCodes.FOOTER)
  static final class Revoke extends ClientCommand {
    @Parameters(index = "0", paramLabel = "ID", description = "The lease.")
    long id;

    @Override
    int run(TernClient client) throws TernClient.UnreachableException {
      TernClient.Response r = client.write("DELETE", LEASES + "/" + id, null, null, TernClient.newRequestId());
      if (!r.ok()) return failure(r);
      if (!hasLong(r.json(), "revision")) return unexpected(r, "{\"revision\": N}");
      out().println("revoked lease " + id + " at revision " + r.json().get("revision").asLong());
      for (JsonNode key : r.json().path("deleted")) out().println("deleted " + key.asText());
      return ExitCodes.OK;
    }
  }

  @Command(name = "show", description = "Lease ID as the node has applied it: its TTL, last renewal and keys.",
      mixinStandardHelpOptions = true, footer = ExitCodes.FOOTER)
  static final class Show extends ClientCommand {
    @Parameters(index = "0", paramLabel = "ID", description = "The lease.")
    long id;

    @Override
    int run(TernClient client) throws TernClient.UnreachableException {
      TernClient.Response r = client.get(LEASES + "/" + id);
      if (!r.ok()) return failure(r);
      if (!hasLong(r.json(), "ttlMs")) return unexpected(r, "{\"ttlMs\": N}");
      out().println("lease " + id + ": ttl " + r.json().get("ttlMs").asLong() + " ms, renewed at index "
          + r.json().path("renewedAt").asLong());
      for (JsonNode key : r.json().path("keys")) out().println(key.asText());
      return ExitCodes.OK;
    }
  }

  @Command(name = "list", description = "Every lease the node has applied: id, TTL in ms, number of keys.",
      mixinStandardHelpOptions = true, footer = ExitCodes.FOOTER)
  static final class ListLeases extends ClientCommand {
    @Override
    int run(TernClient client) throws TernClient.UnreachableException {
      TernClient.Response r = client.get(LEASES);
      if (!r.ok()) return failure(r);
      if (r.json() == null || !r.json().path("leases").isArray()) return unexpected(r, "{\"leases\": [...]}");
      for (JsonNode l : r.json().get("leases")) {
        out().println(l.path("id").asLong() + "\t" + l.path("ttlMs").asLong() + "\t" + l.path("keys").asInt());
      }
      return ExitCodes.OK;
    }
  }

  private LeaseCommands() {}
}

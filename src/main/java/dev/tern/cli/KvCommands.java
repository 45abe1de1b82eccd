package dev.tern.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;

/** The key-value client commands: put, get, del, cas, list. */
final class KvCommands {
  private KvCommands() {}

  static final String KV = "/v1/kv/";

  /** Where a value that is not text goes, as bytes: standard output unless a test captures it. */
  static volatile java.io.OutputStream rawOut;

  @Command(
      name = "put",
      description = "Set KEY to VALUE, or to the bytes of a file with --file. Prints OK revision=N.",
      mixinStandardHelpOptions = true,
      footer = ExitCodes.FOOTER)
  static final class Put extends ClientCommand {
    @Parameters(index = "0", paramLabel = "KEY", description = "The key; may contain '/'.")
    String key;

    @Parameters(index = "1", arity = "0..1", paramLabel = "VALUE", description = "The value (text).")
    String value;

    @Option(names = "--file", paramLabel = "FILE", description = "Take the value from FILE, its bytes as they are "
        + "(any bytes; '-' reads standard input), instead of VALUE.")
    String file;

    @Option(names = "--lease", paramLabel = "ID", description = "Attach the key to lease ID (tern lease grant): it is"
        + " deleted when the lease ends.")
    Long lease;

    @Override
    int run(TernClient client) throws TernClient.UnreachableException {
      requireKey(key);
      if ((value == null) == (file == null)) {
        throw new ParameterException(spec.commandLine(), "give either VALUE or --file FILE");
      }
      if (lease != null && lease < 1) throw new ParameterException(spec.commandLine(), "--lease must be a lease id (1 or more)");
      String path = KV + TernClient.keyPath(key) + (lease == null ? "" : "?lease=" + lease);
      // One request id for this command, kept on every endpoint the client fails over to: applied at most once.
      String requestId = TernClient.newRequestId();
      if (value != null) {
        return printWritten(client.write("PUT", path,
            value.getBytes(java.nio.charset.StandardCharsets.UTF_8), TernClient.TEXT, requestId));
      }
      byte[] bytes;
      try {
        bytes = file.equals("-") ? System.in.readAllBytes() : java.nio.file.Files.readAllBytes(java.nio.file.Path.of(file));
      } catch (java.io.IOException | java.nio.file.InvalidPathException e) {
        err().println("cannot read " + (file.equals("-") ? "standard input" : file) + ": " + e.getMessage());
        return ExitCodes.USAGE;
      } catch (OutOfMemoryError e) {
        err().println(file + " is too large to send as one value");
        return ExitCodes.USAGE;
      }
      return printWritten(client.write("PUT", path, bytes, "application/octet-stream", requestId));
    }
  }

  @Command(
      name = "cas",
      description = {
        "Compare-and-set: set KEY to VALUE only if its revision is REV (0: only if KEY is absent).",
        "Prints OK revision=N; on a conflict exits 3 and prints the current revision on stderr."
      },
      mixinStandardHelpOptions = true,
      footer = ExitCodes.FOOTER)
  static final class Cas extends ClientCommand {
    @Parameters(index = "0", paramLabel = "KEY", description = "The key.")
    String key;

    @Parameters(index = "1", paramLabel = "REV", description = "The revision KEY must have now; 0 means absent.")
    long revision;

    @Parameters(index = "2", paramLabel = "VALUE", description = "The new value.")
    String value;

    @Override
    int run(TernClient client) throws TernClient.UnreachableException {
      requireKey(key);
      if (revision < 0) throw new ParameterException(spec.commandLine(), "REV must be 0 or more");
      var q = TernClient.params();
      q.put("cas", revision);
      TernClient.Response r = client.write("PUT", KV + TernClient.keyPath(key) + TernClient.query(q),
          value.getBytes(java.nio.charset.StandardCharsets.UTF_8), TernClient.TEXT, TernClient.newRequestId());
      return printWritten(r);
    }
  }

  @Command(
      name = "get",
      description = {
        "Print KEY's value. Reads are linearizable (checked with the leader) unless --stale.",
        "Exits 1 when KEY does not exist."
      },
      mixinStandardHelpOptions = true,
      footer = ExitCodes.FOOTER)
  static final class Get extends ClientCommand {
    @Parameters(index = "0", paramLabel = "KEY", description = "The key.")
    String key;

    @Option(names = "--stale", description = "Answer from this node's applied state, without asking the leader "
        + "(faster; may be out of date).")
    boolean stale;

    @Option(names = {"-v", "--verbose"}, description = "Also print the revision, as revision=N on a second line "
        + "(on stderr with --raw or a value that is not text).")
    boolean verbose;

    @Option(names = "--raw", description = "Write the value's bytes as they are, with no newline added, text or not "
        + "(e.g. tern get KEY --raw > FILE gives back what tern put KEY --file FILE sent).")
    boolean raw;

    @Override
    int run(TernClient client) throws TernClient.UnreachableException {
      requireKey(key);
      var q = TernClient.params();
      if (stale) q.put("consistency", "stale");
      TernClient.Response r = client.get(KV + TernClient.keyPath(key) + TernClient.query(q));
      if (!r.ok()) return failure(r);
      JsonNode json = r.json();
      if (raw && json != null && json.hasNonNull("value") && !json.hasNonNull("valueBase64")) {
        return writeRaw(json.get("value").asText().getBytes(java.nio.charset.StandardCharsets.UTF_8), json);
      }
      if (json != null && json.hasNonNull("valueBase64")) {
        // A value that is not text: its bytes as they are, with no newline added (so "> FILE" keeps them).
        byte[] bytes;
        try {
          bytes = java.util.Base64.getDecoder().decode(json.get("valueBase64").asText());
        } catch (IllegalArgumentException e) {
          return unexpected(r, "{\"valueBase64\": base64}");
        }
        return writeRaw(bytes, json);
      }
      if (json == null || !json.has("value")) return unexpected(r, "{\"value\": ...}");
      out().println(json.get("value").asText());
      if (verbose) out().println("revision=" + json.path("revision").asText());
      return ExitCodes.OK;
    }

    /** The value's bytes on standard output, nothing added (so "> FILE" keeps them); the revision on stderr. */
    private int writeRaw(byte[] bytes, JsonNode json) {
      out().flush();
      java.io.OutputStream stream = rawOut != null ? rawOut : System.out;
      try {
        stream.write(bytes, 0, bytes.length);
        stream.flush();
      } catch (java.io.IOException e) {
        err().println("could not write the value: " + e.getMessage());
        return ExitCodes.ERROR;
      }
      if (verbose) err().println("revision=" + json.path("revision").asText());
      return ExitCodes.OK;
    }
  }

  @Command(
      name = "del",
      aliases = "delete",
      description = "Delete KEY. Prints deleted revision=N; exits 1 when KEY does not exist.",
      mixinStandardHelpOptions = true,
      footer = ExitCodes.FOOTER)
  static final class Del extends ClientCommand {
    @Parameters(index = "0", paramLabel = "KEY", description = "The key.")
    String key;

    @Override
    int run(TernClient client) throws TernClient.UnreachableException {
      requireKey(key);
      TernClient.Response r = client.write("DELETE", KV + TernClient.keyPath(key), null, null, TernClient.newRequestId());
      if (!r.ok()) return failure(r);
      if (!hasLong(r.json(), "revision")) return unexpected(r, "{\"revision\": N}");
      out().println("deleted revision=" + r.json().get("revision").asLong());
      return ExitCodes.OK;
    }
  }

  @Command(
      name = "list",
      aliases = "ls",
      description = "List keys starting with PREFIX (all keys when omitted), in key order, one per line: "
          + "key<TAB>value<TAB>revision (a value that is not UTF-8 text as base64:...).",
      mixinStandardHelpOptions = true,
      footer = ExitCodes.FOOTER)
  static final class ListKeys extends ClientCommand {
    @Parameters(index = "0", arity = "0..1", paramLabel = "PREFIX", description = "Only keys starting with this.")
    String prefix;

    @Option(names = "--limit", paramLabel = "N", description = "At most N keys (default: the server's).")
    Integer limit;

    @Override
    int run(TernClient client) throws TernClient.UnreachableException {
      if (limit != null && limit < 1) throw new ParameterException(spec.commandLine(), "--limit must be 1 or more");
      var q = TernClient.params();
      q.put("prefix", prefix == null ? "" : prefix);
      q.put("limit", limit);
      TernClient.Response r = client.get("/v1/kv" + TernClient.query(q));
      if (!r.ok()) return failure(r);
      JsonNode items = r.json() == null ? null : r.json().get("items");
      if (items == null || !items.isArray()) return unexpected(r, "{\"items\": [...]}");
      for (JsonNode item : items) {
        String value = item.has("valueBase64") ? "base64:" + item.path("valueBase64").asText()
            : item.path("value").asText();
        out().println(item.path("key").asText() + "\t" + value + "\t" + item.path("revision").asText());
      }
      return ExitCodes.OK;
    }
  }
}

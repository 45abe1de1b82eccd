package dev.tern.cli;

import dev.tern.http.Tokens;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code tern token hash}: the salted hash of a bearer token, for {@code tern.security.tokens} (docs/security.md). */
@Command(
    name = "token",
    description = "Bearer tokens for tern.security (docs/security.md).",
    mixinStandardHelpOptions = true,
    subcommands = {TokenCommand.Hash.class})
final class TokenCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getErr());
    return ExitCodes.USAGE;
  }

  /** Where the token is read from (tests replace it). */
  static java.util.function.Supplier<InputStream> stdin = () -> System.in;

  @Command(
      name = "hash",
      description = {"Print the hash of a token for tern.security.tokens: the token is read from the first line of"
          + " stdin (so that it appears in no command line), or made up with --generate and printed once.",
          "Example: ./tern token hash --generate --name ops --role admin"},
      mixinStandardHelpOptions = true,
      footer = ExitCodes.FOOTER)
  static final class Hash implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--generate", description = "Make a random token (256 bits) instead of reading one; it is printed once.")
    boolean generate;

    @Option(names = "--iterations", paramLabel = "N", defaultValue = "" + Tokens.DEFAULT_ITERATIONS,
        description = "PBKDF2 iterations (default: ${DEFAULT-VALUE}).")
    int iterations;

    @Option(names = "--name", paramLabel = "NAME", defaultValue = "client",
        description = "The name in the printed settings entry (default: ${DEFAULT-VALUE}).")
    String name;

    @Option(names = "--role", paramLabel = "ROLE", defaultValue = "read",
        description = "read, write or admin, for the printed settings entry (default: ${DEFAULT-VALUE}).")
    String role;

    @Option(names = "--prefix", paramLabel = "PREFIX", description = "Limit the printed entry to keys starting with PREFIX.")
    String prefix;

    @Override
    public Integer call() throws IOException {
      PrintWriter out = spec.commandLine().getOut();
      PrintWriter err = spec.commandLine().getErr();
      if (!role.equals("read") && !role.equals("write") && !role.equals("admin")) {
        err.println("error: --role must be read, write or admin, not '" + role + "'");
        return ExitCodes.USAGE;
      }
      if (iterations < 1) {
        err.println("error: --iterations must be at least 1");
        return ExitCodes.USAGE;
      }
      String token;
      if (generate) {
        token = Tokens.generate();
      } else {
        BufferedReader in = new BufferedReader(new InputStreamReader(stdin.get(), StandardCharsets.UTF_8));
        String line = in.readLine();
        token = line == null ? "" : line.strip();
        if (token.isEmpty()) {
          err.println("error: no token on stdin (give one, e.g. `printf %s \"$TOKEN\" | tern token hash`, or use --generate)");
          return ExitCodes.USAGE;
        }
      }
      String hash = Tokens.hash(token, iterations);
      if (generate) out.println("token: " + token + "   (shown once: keep it, the node stores only the hash)");
      out.println("hash: " + hash);
      out.println("entry: { name = \"" + name + "\", hash = \"" + hash + "\", role = " + role
          + (prefix == null ? "" : ", prefix = \"" + prefix.replace("\\", "\\\\").replace("\"", "\\\"") + "\"") + " }");
      out.flush();
      return ExitCodes.OK;
    }
  }
}

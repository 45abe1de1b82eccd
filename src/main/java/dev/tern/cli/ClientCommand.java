package dev.tern.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * What every client command shares: the {@code --node} and {@code --timeout} options, output through the
 * CommandLine's writers, and the mapping of HTTP answers to exit codes ({@link ExitCodes}).
 */
abstract class ClientCommand implements Callable<Integer> {
  static final String DEFAULT_NODE = "http://127.0.0.1:8101";

  @Spec
  CommandSpec spec;

  @Option(
      names = "--node",
      paramLabel = "URL",
      description = "The node to ask: http://host:port of any member (default: $TERN_NODE when set, else "
          + DEFAULT_NODE + ").")
  String node;

  @Option(
      names = "--endpoints",
      paramLabel = "URL,URL,...",
      description = "Several nodes, comma-separated: a request that meets a refused connection, a timeout or a 503 "
          + "(no leader, read-only, failed) goes to the next one (default: $TERN_ENDPOINTS when set). "
          + "`tern local` prints the list.")
  String endpointList;

  /** The endpoints to use: --endpoints, --node, $TERN_ENDPOINTS, $TERN_NODE, the default, first found. */
  final java.util.List<URI> endpoints() {
    if (endpointList != null && node != null) {
      throw new ParameterException(spec.commandLine(), "use either --node or --endpoints, not both");
    }
    try {
      if (endpointList != null) return TernClient.parseEndpoints(endpointList);
      if (node != null) return java.util.List.of(TernClient.parseNode(node));
      String env = environment("TERN_ENDPOINTS");
      if (env != null) return TernClient.parseEndpoints(env);
      env = environment("TERN_NODE");
      return java.util.List.of(TernClient.parseNode(env != null ? env : DEFAULT_NODE));
    } catch (IllegalArgumentException e) {
      String option = endpointList != null ? "--endpoints" : node != null ? "--node"
          : environment("TERN_ENDPOINTS") != null ? "TERN_ENDPOINTS" : "TERN_NODE";
      throw new ParameterException(spec.commandLine(), option + ": " + e.getMessage());
    }
  }

  @Option(
      names = "--token",
      paramLabel = "TOKEN",
      description = "The bearer token to send, for a cluster with tern.security.enabled (default: $TERN_TOKEN when set;"
          + " prefer the variable: a command line is visible to other users of the machine).")
  String token;

  @Option(
      names = "--cacert",
      paramLabel = "FILE",
      description = "The CA certificate (PEM) to trust for https:// nodes, instead of the JDK's own CAs"
          + " (default: $TERN_CACERT when set).")
  java.nio.file.Path cacert;

  @Option(
      names = "--client-cert",
      paramLabel = "FILE",
      description = "A client certificate (PEM) to present, for nodes that ask for one"
          + " (tern.security.http-tls.client-auth; default: $TERN_CLIENT_CERT when set). Goes with --client-key.")
  java.nio.file.Path clientCert;

  @Option(
      names = "--client-key",
      paramLabel = "FILE",
      description = "The client certificate's private key (PEM, unencrypted PKCS#8; default: $TERN_CLIENT_KEY when set).")
  java.nio.file.Path clientKey;

  private java.nio.file.Path fromEnv(java.nio.file.Path given, String name) {
    if (given != null) return given;
    String env = environment(name);
    return env == null ? null : java.nio.file.Path.of(env);
  }

  /** --cacert, else $TERN_CACERT, else null (the JDK's CAs). */
  final java.nio.file.Path cacert() {
    return fromEnv(cacert, "TERN_CACERT");
  }

  /** --token, else $TERN_TOKEN, else null (no Authorization header). */
  final String token() {
    return token != null ? token : environment("TERN_TOKEN");
  }

  /** Where environment variables come from (tests replace it). */
  static java.util.function.UnaryOperator<String> env = System::getenv;

  /** An environment variable, or null when unset or blank. */
  static String environment(String name) {
    String v = env.apply(name);
    return v == null || v.isBlank() ? null : v;
  }

  @Option(
      names = "--timeout",
      paramLabel = "DURATION",
      defaultValue = "10s",
      converter = DurationConverter.class,
      description = "How long to wait for the answer, e.g. 10s or 500ms (default: ${DEFAULT-VALUE}).")
  Duration timeout;

  /** Reports the answer to a put or compare-and-set: {@code OK revision=N}, or the failure. */
  final int printWritten(TernClient.Response r) {
    if (!r.ok()) return failure(r);
    if (!hasLong(r.json(), "revision")) return unexpected(r, "{\"revision\": N}");
    out().println("OK revision=" + r.json().get("revision").asLong());
    return ExitCodes.OK;
  }

  /** Runs the request; returns the exit code. */
  abstract int run(TernClient client) throws TernClient.UnreachableException;

  @Override
  public final Integer call() {
    java.util.List<URI> endpoints = endpoints();
    try {
      javax.net.ssl.SSLContext ssl;
      try {
        java.nio.file.Path certFile = fromEnv(clientCert, "TERN_CLIENT_CERT");
        java.nio.file.Path keyFile = fromEnv(clientKey, "TERN_CLIENT_KEY");
        if ((certFile == null) != (keyFile == null)) {
          throw new ParameterException(spec.commandLine(), "--client-cert and --client-key go together");
        }
        ssl = certFile != null ? dev.tern.http.HttpTls.presenting(certFile, keyFile, cacert())
            : cacert() == null ? null : dev.tern.http.HttpTls.trusting(cacert());
      } catch (IllegalArgumentException e) {
        throw new ParameterException(spec.commandLine(), "--cacert, --client-cert, --client-key: " + e.getMessage());
      }
      return run(new TernClient(endpoints, timeout, token(), ssl));
    } catch (TernClient.UnreachableException e) {
      err().println("unavailable: " + e.getMessage());
      return ExitCodes.UNAVAILABLE;
    } finally {
      out().flush();
      err().flush();
    }
  }

  PrintWriter out() {
    return spec.commandLine().getOut();
  }

  PrintWriter err() {
    return spec.commandLine().getErr();
  }

  /** Rejects an empty key as a usage error (exit 2). */
  void requireKey(String key) {
    if (key.isEmpty()) throw new ParameterException(spec.commandLine(), "KEY must not be empty");
  }

  /**
   * Reports a failed answer on stderr, with the server's message, and returns its exit code: 404 → 1,
   * 409 → 3, 503 → 4, anything else → 5.
   */
  int failure(TernClient.Response r) {
    String msg = r.errorMessage();
    switch (r.status()) {
      case 404 -> {
        err().println("not found (HTTP 404): " + msg);
        return ExitCodes.NOT_FOUND;
      }
      case 409 -> {
        JsonNode rev = r.json() == null ? null : r.json().get("revision");
        err().println("CAS conflict (HTTP 409): " + msg + (rev == null ? "" : "; current revision=" + rev.asText()));
        return ExitCodes.CONFLICT;
      }
      case 401, 403 -> {
        err().println((r.status() == 401 ? "unauthorized" : "forbidden") + " (HTTP " + r.status() + "): " + msg
            + (r.status() == 401 ? " (give a token with --token or $TERN_TOKEN)" : ""));
        return ExitCodes.ERROR;
      }
      case 503 -> {
        err().println("unavailable (HTTP 503): " + msg);
        return ExitCodes.UNAVAILABLE;
      }
      default -> {
        err().println("error (HTTP " + r.status() + "): " + msg);
        return ExitCodes.ERROR;
      }
    }
  }

  /** A 2xx answer that is not the JSON object expected. */
  int unexpected(TernClient.Response r, String what) {
    err().println("error: unexpected answer (HTTP " + r.status() + ", expected " + what + "): "
        + r.errorMessage());
    return ExitCodes.ERROR;
  }

  static boolean hasLong(JsonNode json, String field) {
    return json != null && json.hasNonNull(field) && json.get(field).canConvertToLong();
  }

  /** Reads "10s", "500ms", "2m" or a bare number of seconds. */
  static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
    private static final Pattern FORMAT = Pattern.compile("(\\d+)\\s*(ms|s|m)?");

    @Override
    public Duration convert(String value) {
      Matcher m = FORMAT.matcher(value.strip());
      if (!m.matches()) {
        throw new CommandLine.TypeConversionException("'" + value + "' is not a duration like 10s or 500ms");
      }
      long n = Long.parseLong(m.group(1));
      Duration d = switch (m.group(2) == null ? "s" : m.group(2)) {
        case "ms" -> Duration.ofMillis(n);
        case "m" -> Duration.ofMinutes(n);
        default -> Duration.ofSeconds(n);
      };
      if (d.isZero()) throw new CommandLine.TypeConversionException("the timeout must be more than 0");
      return d;
    }
  }
}

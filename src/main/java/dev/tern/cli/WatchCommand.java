package dev.tern.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code tern watch [PREFIX]}: prints every put and delete of the keys under PREFIX (all keys without one) as they
 * happen, one line each, until stopped or {@code --count} changes were printed. When the node it watches through
 * goes away it resumes on the next endpoint from the revision after the last one printed: no change is missed or
 * printed twice (docs/api.md, "Watches").
 */
@Command(
    name = "watch",
    description = {"Print every put and delete of the keys under PREFIX (every key without one), as they happen: "
        + "put<TAB>KEY<TAB>VALUE<TAB>REVISION or delete<TAB>KEY<TAB><TAB>REVISION (a value that is not text as "
        + "base64:...). On a lost node it resumes on the next endpoint, missing nothing."},
    mixinStandardHelpOptions = true,
    footer = {"", "Exit codes: 0 --count changes printed; 2 bad arguments; 4 no endpoint answered within --timeout; "
        + "5 the revision asked for is compacted (410) or another error."})
final class WatchCommand extends ClientCommand {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Parameters(index = "0", arity = "0..1", paramLabel = "PREFIX", description = "Watch the keys starting with it.")
  String prefix;

  @Option(names = "--key", paramLabel = "KEY", description = "Watch this one key (instead of a PREFIX).")
  String key;

  @Option(names = "--from", paramLabel = "REV", description = "Start at this revision (past changes from it first); "
      + "default: the next change.")
  long from;

  @Option(names = "--count", paramLabel = "N", description = "Stop after N changes (default: never).")
  long count;

  /** The next revision to ask for (0: from now); the changes printed so far. */
  private long next;
  private long printed;

  @Override
  int run(TernClient client) throws TernClient.UnreachableException {
    if (prefix != null && key != null) {
      throw new picocli.CommandLine.ParameterException(spec.commandLine(), "give a PREFIX or --key, not both");
    }
    if (from < 0 || count < 0) {
      throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--from and --count must not be negative");
    }
    next = from;
    List<URI> endpoints = client.endpoints();
    int at = 0;
    int failedInARow = 0;
    TernClient.UnreachableException last = null;
    while (true) {
      URI base = endpoints.get(at % endpoints.size());
      try {
        long before = next;
        Integer done = follow(client, base);
        if (done != null) return done;
        failedInARow = 0; // it streamed, then ended: the node went away
        if (next == before) pause(); // it ended at once: do not spin on a node that is going down
      } catch (TernClient.UnreachableException e) {
        last = e;
        if (++failedInARow >= endpoints.size()) throw last;
      }
      at++;
    }
  }

  /** Follows the stream of one node; an exit code when the watch is over, null to go on elsewhere. */
  private Integer follow(TernClient client, URI base) throws TernClient.UnreachableException {
    var q = TernClient.params();
    if (key != null) q.put("key", key);
    else if (prefix != null) q.put("prefix", prefix);
    if (next > 0) q.put("from", next);
    HttpResponse<Stream<String>> r = client.sendRaw(base, "GET", "/v1/watch" + TernClient.query(q),
        HttpResponse.BodyHandlers.ofLines());
    if (r.statusCode() != 200) {
      String body;
      try (Stream<String> lines = r.body()) {
        body = String.join("\n", lines.toList());
      }
      TernClient.Response answer = new TernClient.Response(r.statusCode(), body, parse(body));
      if (r.statusCode() == 503) throw new TernClient.UnreachableException(base + " answered 503: " + answer.errorMessage(), null);
      return failure(answer);
    }
    Integer[] result = new Integer[1];
    ServerSentEvents reader = new ServerSentEvents(event -> result[0] = result[0] != null ? result[0] : handle(event));
    try (Stream<String> lines = r.body()) {
      var it = lines.iterator();
      while (result[0] == null && it.hasNext()) reader.line(it.next());
    } catch (UncheckedIOException e) {
      // the node went away mid-stream: resume elsewhere
    }
    out().flush();
    return result[0] != null && result[0] >= 0 ? result[0] : null;
  }

  /** An exit code when the watch is over; -1 to go on elsewhere; null to keep reading. */
  private Integer handle(ServerSentEvents.Event event) {
    JsonNode data = parse(event.data());
    switch (event.type()) {
      case "watching" -> {
        if (next == 0 && data != null) next = data.path("startRevision").asLong();
        return null;
      }
      case "put", "delete" -> {
        if (data == null) return null;
        long revision = data.path("revision").asLong();
        String value = data.hasNonNull("value") ? data.get("value").asText()
            : data.hasNonNull("valueBase64") ? "base64:" + data.get("valueBase64").asText() : "";
        out().println(event.type() + "\t" + data.path("key").asText() + "\t" + value + "\t" + revision);
        out().flush();
        next = revision + 1;
        return count > 0 && ++printed >= count ? ExitCodes.OK : null;
      }
      case "error" -> {
        if (data != null && data.has("resumeFrom")) next = data.get("resumeFrom").asLong();
        err().println("watch: " + (data == null ? event.data() : data.path("error").asText()) + "; resuming");
        return -1;
      }
      default -> {
        return null;
      }
    }
  }

  private static void pause() {
    try {
      Thread.sleep(200);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static JsonNode parse(String text) {
    try {
      return text == null || text.isBlank() ? null : JSON.readTree(text);
    } catch (IOException e) {
      return null;
    }
  }
}

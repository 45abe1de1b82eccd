package dev.tern.http;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.extractUri;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.Route;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CORRUPT alarm (docs/operations.md, "Consistency checks"): this node's key-value state differed from the one
 * most members hold at the same applied index. While it is on, the node serves no data (reads, lists, watches,
 * transactions, writes, leases and backups get 503 with the reason, so clients move on to another node), and
 * {@code /health}, {@code /v1/status} and the metric {@code tern_corruption_alarm} show it. It stays on until an
 * operator clears it ({@code tern check --disarm ID}), across restarts: it is kept in a small file in the data
 * directory, written atomically.
 */
public final class CorruptionAlarm {
  private static final Logger log = LoggerFactory.getLogger(CorruptionAlarm.class);

  /** The alarm's name in /v1/status and /health (etcd's name for the same alarm). */
  public static final String NAME = "CORRUPT";
  /** The file that holds a raised alarm, in the data directory. */
  public static final String FILE = "corruption-alarm.json";

  /** What was found: the check's index, this node's digest there, the majority's, and a sentence. */
  public record Alarm(long index, String digest, String majorityDigest, String reason, long raisedAtMillis) {}

  /** Where the alarm is kept; null: in memory only (tests). */
  private final Path file;
  private volatile Alarm alarm;

  private CorruptionAlarm(Path file, Alarm alarm) {
    this.file = file;
    this.alarm = alarm;
  }

  /** The alarm of the node whose data directory is {@code dataDir}: on if the file says so (a restart keeps it). */
  public static CorruptionAlarm load(Path dataDir) {
    Path f = dataDir.resolve(FILE);
    Alarm a = null;
    if (Files.exists(f)) {
      try {
        JsonNode j = HttpJson.MAPPER.readTree(Files.readString(f, StandardCharsets.UTF_8));
        a = new Alarm(j.path("index").asLong(), j.path("digest").asText(null), j.path("majorityDigest").asText(null),
            j.path("reason").asText("the consistency check found this node's state differs from the majority's"),
            j.path("raisedAtMillis").asLong());
      } catch (IOException | RuntimeException e) {
        // Unreadable (a torn write cannot happen: it is renamed into place): keep the alarm on, never clear it.
        a = new Alarm(0, null, null, "the alarm file " + f + " is unreadable (" + e.getMessage() + ")", 0);
      }
      log.error("{} alarm is on (from {}): {}. This node serves no data until an operator clears it (tern check"
          + " --disarm); better, replace it (docs/operations.md, \"Replacing a node\")", NAME, f, a.reason());
    }
    return new CorruptionAlarm(f, a);
  }

  /** An alarm kept in memory only (tests, and nodes without a data directory). */
  public static CorruptionAlarm inMemory() {
    return new CorruptionAlarm(null, null);
  }

  /** The alarm, or null while off (one volatile read). */
  public Alarm alarm() {
    return alarm;
  }

  public boolean on() {
    return alarm != null;
  }

  /** Raises the alarm (kept in the file first, so that it survives a crash right after); a raised one stays. */
  public synchronized void raise(Alarm a) {
    if (alarm != null) return;
    if (file != null) write(a);
    alarm = a;
    log.error("{} alarm raised: {}. This node now serves no data (503) until an operator clears it (tern check"
        + " --disarm); better, replace it (docs/operations.md, \"Replacing a node\")", NAME, a.reason());
  }

  /** Clears the alarm (an operator's decision); returns whether it was on. */
  public synchronized boolean disarm() {
    Alarm was = alarm;
    if (was == null) return false;
    if (file != null) {
      try {
        Files.deleteIfExists(file);
        fsyncDirectory(file.getParent());
      } catch (IOException e) {
        throw new UncheckedIOException("cannot delete " + file + ": " + e.getMessage(), e);
      }
    }
    alarm = null;
    log.warn("{} alarm cleared by an operator (it was raised for index {}): this node serves data again", NAME,
        was.index());
    return true;
  }

  /** Why this node serves no data, or null. */
  public String refusal() {
    Alarm a = alarm;
    if (a == null) return null;
    return NAME + " alarm: " + a.reason() + ". This node serves no data until an operator clears the alarm (tern"
        + " check --disarm); ask another node";
  }

  /** Adds {@code "corruption": {...}} (null while off) to a /health or /v1/status body. */
  void describe(ObjectNode body) {
    Alarm a = alarm;
    if (a == null) {
      body.putNull("corruption");
      return;
    }
    body.putObject("corruption").put("alarm", NAME).put("index", a.index()).put("digest", a.digest())
        .put("majorityDigest", a.majorityDigest()).put("reason", a.reason()).put("raisedAtMillis", a.raisedAtMillis());
  }

  /** The paths that serve data, which the alarm closes. */
  private static final List<String> DATA_PATHS = List.of("/v1/kv", "/v1/txn", "/v1/watch", "/v1/leases", "/v1/snapshot");

  static boolean servesData(String path) {
    for (String p : DATA_PATHS) {
      if (path.equals(p) || path.startsWith(p + "/")) return true;
    }
    return false;
  }

  /** {@code inner}, but while the alarm is on every request for data is answered 503 with the reason. */
  public Route guard(Route inner) {
    return extractUri(uri -> {
      String refusal = refusal();
      if (refusal == null || !servesData(uri.path())) return inner;
      return complete(refused(refusal));
    });
  }

  static HttpResponse refused(String refusal) {
    return HttpJson.response(StatusCodes.SERVICE_UNAVAILABLE,
        HttpJson.error("this node's data is suspect").put("alarm", NAME).put("reason", refusal));
  }

  private void write(Alarm a) {
    ObjectNode j = HttpJson.object().put("alarm", NAME).put("index", a.index()).put("digest", a.digest())
        .put("majorityDigest", a.majorityDigest()).put("reason", a.reason()).put("raisedAtMillis", a.raisedAtMillis());
    Path tmp = file.resolveSibling(FILE + ".tmp");
    try {
      Files.write(tmp, HttpJson.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(j));
      try (FileChannel c = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        c.force(true);
      }
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      fsyncDirectory(file.getParent());
    } catch (IOException e) {
      // The alarm still goes on in memory: better to stop serving now than to serve suspect data.
      log.error("cannot keep the {} alarm in {}: {} (it is on until this process stops)", NAME, file, e.toString());
    }
  }

  private static void fsyncDirectory(Path dir) {
    try (FileChannel c = FileChannel.open(dir, StandardOpenOption.READ)) {
      c.force(true);
    } catch (IOException e) {
      // Some file systems cannot fsync a directory; the rename is then as durable as they make it.
    }
  }
}

package dev.tern.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.Config;
import dev.tern.cluster.Member;
import dev.tern.cluster.Members;
import dev.tern.kv.DigestChecks;
import dev.tern.kv.KvCommand;
import dev.tern.kv.KvResult;
import dev.tern.kv.KvStateMachine;
import dev.tern.raft.Configuration;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The replicas' consistency check (issue #25 §5; docs/operations.md, "Consistency checks"), like etcd's corruption
 * check: a {@link KvCommand.Check} goes through the log as a write does; every replica that applies it at index I
 * digests its state at I ({@link KvStateMachine#digestAt}); this node then asks every member of the configuration in
 * force for its digest at I ({@code GET /v1/check/I}) until each answers or the timeout passes. The digest a strict
 * majority of the members holds is the reference; a member with another one is mismatched: logged as an ERROR here,
 * and told ({@code POST /v1/check/alarm?index=I}). A member told so does not take the word of whoever called: it asks
 * the members for their digests at I itself, and raises its {@link CorruptionAlarm} only if its own digest differs
 * from the majority's. So the call needs no more than the read role, and cannot be used to switch a node off.
 *
 * <p>On demand ({@code POST /v1/check}, {@code tern check}) on any node, and every {@code tern.check.interval} on
 * the leader. Nothing here runs on the Raft thread: the proposal goes through the front, the calls are asynchronous.
 */
public final class ConsistencyCheck {
  private static final Logger log = LoggerFactory.getLogger(ConsistencyCheck.class);
  /** How long a member waits between two asks of a member whose digest is not there yet. */
  private static final long POLL_MILLIS = 200;

  /** {@code tern.check}: how often the leader checks (zero: never by itself), and how long a check may wait. */
  public record Settings(Duration interval, Duration timeout) {
    public Settings {
      Objects.requireNonNull(interval, "interval");
      Objects.requireNonNull(timeout, "timeout");
      if (interval.isNegative()) throw new IllegalArgumentException("tern.check.interval must be >= 0: " + interval);
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("tern.check.timeout must be positive: " + timeout);
      }
    }

    public static Settings fromConfig(Config tern) {
      return new Settings(tern.getDuration("check.interval"), tern.getDuration("check.timeout"));
    }
  }

  /** One member's answer: its digest at the check's index, or why there is none. */
  public record MemberDigest(String id, String digest, long appliedIndex, String error) {}

  /**
   * A check's verdict. {@code reference} is the digest more than half of the members hold (null: none does, and
   * nothing could be compared); {@code mismatched} the members whose digest differs from it.
   */
  public record Report(long index, List<MemberDigest> members, String reference, List<String> mismatched) {
    public boolean conclusive() {
      return reference != null;
    }

    public boolean consistent() {
      return reference != null && mismatched.isEmpty();
    }

    /** Members that gave no digest (down, behind, past the index through a snapshot). */
    public List<String> unchecked() {
      return members.stream().filter(m -> m.digest() == null).map(MemberDigest::id).toList();
    }
  }

  private final String selfId;
  private final ActorRef<KvFront.Command> front;
  private final KvStateMachine kv;
  /** The members this node knows, for the addresses a configuration may lack. */
  private final Supplier<Members> known;
  private final CorruptionAlarm alarm;
  private final Settings settings;
  private final HttpClient client;
  private final String scheme;
  /** tern.security.peer-token as a header value, or null. */
  private final String peerAuthorization;
  private final Executor later;
  private final AtomicBoolean periodicRunning = new AtomicBoolean();
  private volatile ObjectNode lastReport;

  /**
   * @param peerSsl how to trust the members' HTTPS API, or null for plain HTTP
   * @param peerToken tern.security.peer-token, or null: what this node presents when no caller's token is at hand
   */
  public ConsistencyCheck(String selfId, ActorRef<KvFront.Command> front, KvStateMachine kv, Supplier<Members> known,
      CorruptionAlarm alarm, Settings settings, javax.net.ssl.SSLContext peerSsl, String peerToken) {
    this.selfId = Objects.requireNonNull(selfId, "selfId");
    this.front = Objects.requireNonNull(front, "front");
    this.kv = Objects.requireNonNull(kv, "kv");
    this.known = Objects.requireNonNull(known, "known");
    this.alarm = Objects.requireNonNull(alarm, "alarm");
    this.settings = Objects.requireNonNull(settings, "settings");
    this.scheme = peerSsl == null ? "http" : "https";
    HttpClient.Builder b = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(2));
    if (peerSsl != null) b.sslContext(peerSsl);
    this.client = b.build();
    this.peerAuthorization = peerToken == null || peerToken.isBlank() ? null : "Bearer " + peerToken;
    this.later = CompletableFuture.delayedExecutor(POLL_MILLIS, TimeUnit.MILLISECONDS);
  }

  public Settings settings() {
    return settings;
  }

  public CorruptionAlarm alarm() {
    return alarm;
  }

  /** The last check this node ran (JSON as {@code POST /v1/check} answered it), or null. */
  ObjectNode lastReport() {
    return lastReport;
  }

  // ---- running a check ----------------------------------------------------------------------------------------------

  /** Thrown (inside the future) when the check's command could not be committed and applied here. */
  static final class Unavailable extends RuntimeException {
    Unavailable(String reason) {
      super(reason);
    }
  }

  /**
   * Runs a whole check: proposes it, gathers the digests at its index within {@code timeout} (at most the setting),
   * judges, logs a mismatch as an ERROR and tells the mismatched members. {@code authorization} is the caller's
   * header, passed on to the members (null: this node's peer token). The JSON is {@link #reportJson}'s.
   */
  CompletableFuture<ObjectNode> run(String authorization, Duration timeout) {
    Duration within = timeout == null || timeout.compareTo(settings.timeout()) > 0 ? settings.timeout() : timeout;
    long deadline = System.nanoTime() + within.toNanos();
    CompletableFuture<KvFront.Reply> proposed = new CompletableFuture<>();
    front.tell(new KvFront.Submit(KvCommand.Check::new, null, proposed));
    return proposed.thenCompose(reply -> {
      if (reply instanceof KvFront.Reply.Unavailable u) throw new Unavailable(u.reason());
      if (!(reply instanceof KvFront.Reply.Done d) || !(d.result() instanceof KvResult.Checked c)) {
        throw new IllegalStateException("a check was answered " + reply);
      }
      return members().thenCompose(members -> gather(c.index(), members, authorization, deadline)
          .thenCompose(report -> act(report, members, authorization, deadline)));
    }).thenApply(json -> {
      lastReport = json;
      return json;
    });
  }

  /** The leader's periodic check (tern.check.interval): nothing on a follower, nor while one is still running. */
  public void runIfLeader() {
    if (!periodicRunning.compareAndSet(false, true)) return;
    CompletableFuture<NodeStatus> status = new CompletableFuture<>();
    front.tell(new KvFront.GetNodeStatus(status));
    status.thenCompose(s -> {
      if (!"LEADER".equals(s.role())) return CompletableFuture.completedFuture(null);
      log.info("{}: periodic consistency check (tern.check.interval = {})", selfId, settings.interval());
      return run(null, settings.timeout()).thenApply(json -> {
        if (json.path("consistent").asBoolean()) {
          log.info("{}: consistency check at index {}: all {} members that answered hold digest {}", selfId,
              json.path("index").asLong(), json.path("members").size() - json.path("unchecked").size(),
              json.path("reference").asText());
        } else if (json.path("mismatched").isEmpty()) {
          log.warn("{}: consistency check at index {} inconclusive: {}", selfId, json.path("index").asLong(),
              json.path("problem").asText());
        }
        return json;
      });
    }).whenComplete((json, failure) -> {
      periodicRunning.set(false);
      if (failure != null) log.warn("{}: the periodic consistency check failed: {}", selfId, describe(failure));
    });
  }

  /** The members of the configuration in force, with their addresses. */
  private CompletableFuture<List<Member>> members() {
    CompletableFuture<NodeStatus> status = new CompletableFuture<>();
    front.tell(new KvFront.GetNodeStatus(status));
    return status.thenApply(s -> membersOf(s.configuration(), known.get()));
  }

  static List<Member> membersOf(Configuration configuration, Members known) {
    if (configuration == null || configuration.servers().isEmpty()) return known.all();
    List<Member> out = new ArrayList<>();
    for (Configuration.Server s : configuration.servers()) {
      if (!s.host().isEmpty() && s.httpPort() > 0 && s.arteryPort() > 0) {
        out.add(new Member(s.id(), s.host(), s.arteryPort(), s.httpPort()));
      } else {
        known.byId(s.id()).ifPresent(out::add);
      }
    }
    return out;
  }

  /** Every member's digest at {@code index} (this node's own without a call), then the verdict. */
  CompletableFuture<Report> gather(long index, List<Member> members, String authorization, long deadline) {
    List<CompletableFuture<MemberDigest>> asked = new ArrayList<>();
    for (Member m : members) {
      asked.add(m.id().equals(selfId) ? ownDigest(index, deadline) : askDigest(m, index, authorization, deadline));
    }
    return CompletableFuture.allOf(asked.toArray(CompletableFuture[]::new))
        .thenApply(done -> verdict(index, asked.stream().map(CompletableFuture::join).toList()));
  }

  /** The verdict: the digest more than half of the members hold is the reference, any other is mismatched. */
  static Report verdict(long index, List<MemberDigest> answers) {
    Map<String, Integer> counts = new HashMap<>();
    for (MemberDigest a : answers) if (a.digest() != null) counts.merge(a.digest(), 1, Integer::sum);
    String reference = null;
    for (Map.Entry<String, Integer> e : counts.entrySet()) {
      if (2 * e.getValue() > answers.size()) reference = e.getKey();
    }
    List<String> mismatched = new ArrayList<>();
    if (reference != null) {
      for (MemberDigest a : answers) if (a.digest() != null && !a.digest().equals(reference)) mismatched.add(a.id());
    }
    return new Report(index, answers, reference, mismatched);
  }

  /** After the verdict: a mismatch is logged and the mismatched members are told (this node raises its own alarm). */
  private CompletableFuture<ObjectNode> act(Report report, List<Member> asked, String authorization, long deadline) {
    ObjectNode json = reportJson(report);
    if (report.mismatched().isEmpty()) return CompletableFuture.completedFuture(json);
    log.error("{}: CONSISTENCY CHECK FAILED at index {}: members {} hold a digest other than the majority's {}; digests: {}."
        + " Their state differs from the other replicas' at the same applied index (a damaged disk or a bug): they are"
        + " told to raise the {} alarm and stop serving data; replace them (docs/operations.md, \"Replacing a node\")",
        selfId, report.index(), report.mismatched(), report.reference(), digests(report), CorruptionAlarm.NAME);
    List<CompletableFuture<Void>> told = new ArrayList<>();
    Map<String, ObjectNode> entries = new LinkedHashMap<>();
    for (JsonNode m : json.withArray("members")) entries.put(m.path("id").asText(), (ObjectNode) m);
    for (String id : report.mismatched()) {
      ObjectNode entry = entries.get(id);
      if (id.equals(selfId)) {
        raiseOwn(report);
        entry.put("alarm", "raised");
        continue;
      }
      Member m = asked.stream().filter(a -> a.id().equals(id)).findFirst().orElse(null);
      if (m == null) {
        entry.put("alarm", "not told: its address is unknown");
        continue;
      }
      told.add(tell(m, report.index(), authorization, deadline).thenAccept(answer -> entry.put("alarm", answer)));
    }
    return CompletableFuture.allOf(told.toArray(CompletableFuture[]::new)).thenApply(done -> json);
  }

  private static String digests(Report report) {
    StringBuilder b = new StringBuilder();
    for (MemberDigest d : report.members()) {
      if (b.length() > 0) b.append(", ");
      b.append(d.id()).append('=').append(d.digest() != null ? d.digest() : "(" + d.error() + ")");
    }
    return b.toString();
  }

  private void raiseOwn(Report report) {
    String own = report.members().stream().filter(d -> d.id().equals(selfId)).map(MemberDigest::digest)
        .findFirst().orElse(null);
    alarm.raise(new CorruptionAlarm.Alarm(report.index(), own, report.reference(),
        "at index " + report.index() + " this node's key-value state has digest " + own + ", while "
            + (report.members().size() - report.mismatched().size() - report.unchecked().size()) + " of the "
            + report.members().size() + " members hold " + report.reference(), System.currentTimeMillis()));
  }

  /** Tells member {@code m} to verify its digest at {@code index}; returns what became of it, as a short text. */
  private CompletableFuture<String> tell(Member m, long index, String authorization, long deadline) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base(m) + "/v1/check/alarm?index=" + index))
        .timeout(remaining(deadline, Duration.ofSeconds(1))).POST(HttpRequest.BodyPublishers.noBody());
    String auth = authorization != null ? authorization : peerAuthorization;
    if (auth != null) b.header("Authorization", auth);
    return client.sendAsync(b.build(), HttpResponse.BodyHandlers.ofString()).handle((r, failure) -> {
      if (failure != null) {
        log.error("{}: could not tell {} that its state differs at index {}: {}", selfId, m.id(), index, describe(failure));
        return "not told: " + describe(failure);
      }
      JsonNode body = parse(r.body());
      if (r.statusCode() == 200 && body != null && body.path("alarm").asBoolean()) return "raised";
      String why = body == null ? r.body() : body.has("error") ? body.path("error").asText() : body.path("problem").asText();
      log.error("{}: told {} that its state differs at index {}, but it raised no alarm (HTTP {}): {}", selfId, m.id(),
          index, r.statusCode(), why);
      return "not raised (HTTP " + r.statusCode() + "): " + why;
    });
  }

  // ---- a member told that its state differs --------------------------------------------------------------------------

  /**
   * {@code POST /v1/check/alarm?index=I}: this node asks the members for their digests at I itself, and raises its
   * alarm only if its own differs from the majority's. Answers {@code {"alarm": true|false, "check": report}}.
   */
  CompletableFuture<ObjectNode> verify(long index, String authorization) {
    long deadline = System.nanoTime() + settings.timeout().toNanos();
    return members().thenCompose(members -> gather(index, members, authorization, deadline)).thenApply(report -> {
      boolean self = report.mismatched().contains(selfId);
      if (self) raiseOwn(report);
      else if (!report.mismatched().isEmpty()) {
        log.error("{}: consistency check at index {}: members {} hold a digest other than the majority's {}; digests: {}",
            selfId, index, report.mismatched(), report.reference(), digests(report));
      }
      ObjectNode out = HttpJson.object().put("alarm", alarm.on()).put("mismatched", self);
      out.set("check", reportJson(report));
      return out;
    });
  }

  // ---- digests ----------------------------------------------------------------------------------------------------

  /** {@code GET /v1/check/I}: this node's digest at I, or where it is. */
  ObjectNode localAnswer(long index) {
    long applied = kv.lastApplied(); // first: once applied, the check's outcome is recorded (under the same lock)
    DigestChecks.Outcome o = kv.digestAt(index).orElse(null);
    ObjectNode body = HttpJson.object().put("id", selfId).put("index", index).put("appliedIndex", applied);
    if (o != null) {
      body.put("state", o.state().name().toLowerCase(java.util.Locale.ROOT));
      if (o.digest() != null) body.put("digest", o.digest());
      if (o.error() != null) body.put("error", o.error());
    } else if (applied < index) {
      body.put("state", "pending");
    } else {
      body.put("state", "unknown").put("error", "this node applied no check at index " + index + " among its last ones"
          + " (it restarted since, or caught up past it through a snapshot)");
    }
    body.put("alarm", alarm.on());
    return body;
  }

  /** The answer in a {@link MemberDigest}, or null while it is still to come (pending, computing). */
  static MemberDigest fromAnswer(String id, JsonNode body) {
    String state = body.path("state").asText();
    long applied = body.path("appliedIndex").asLong(-1);
    return switch (state) {
      case "done" -> new MemberDigest(id, body.path("digest").asText(), applied, null);
      case "pending", "computing" -> null;
      default -> new MemberDigest(id, null, applied, body.path("error").asText("no digest (" + state + ")"));
    };
  }

  private CompletableFuture<MemberDigest> ownDigest(long index, long deadline) {
    CompletableFuture<MemberDigest> result = new CompletableFuture<>();
    pollOwn(index, deadline, result);
    return result;
  }

  private void pollOwn(long index, long deadline, CompletableFuture<MemberDigest> result) {
    ObjectNode answer = localAnswer(index);
    MemberDigest d = fromAnswer(selfId, answer);
    if (d != null) {
      result.complete(d);
    } else if (System.nanoTime() >= deadline) {
      result.complete(new MemberDigest(selfId, null, answer.path("appliedIndex").asLong(), "no digest within the"
          + " check's timeout (" + answer.path("state").asText() + ")"));
    } else {
      later.execute(() -> pollOwn(index, deadline, result));
    }
  }

  private CompletableFuture<MemberDigest> askDigest(Member m, long index, String authorization, long deadline) {
    CompletableFuture<MemberDigest> result = new CompletableFuture<>();
    ask(m, index, authorization, deadline, result, "no answer yet", -1);
    return result;
  }

  /** Asks {@code m} until it gives a digest or a final error, or the deadline passes. */
  private void ask(Member m, long index, String authorization, long deadline, CompletableFuture<MemberDigest> result,
      String lastProblem, long lastApplied) {
    if (System.nanoTime() >= deadline) {
      result.complete(new MemberDigest(m.id(), null, lastApplied, "no digest within the check's timeout: " + lastProblem));
      return;
    }
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base(m) + "/v1/check/" + index))
        .timeout(remaining(deadline, Duration.ofSeconds(5))).GET();
    String auth = authorization != null ? authorization : peerAuthorization;
    if (auth != null) b.header("Authorization", auth);
    client.sendAsync(b.build(), HttpResponse.BodyHandlers.ofString()).whenComplete((r, failure) -> {
      String problem;
      long applied = lastApplied;
      if (failure != null) {
        problem = describe(failure);
      } else {
        JsonNode body = parse(r.body());
        if (r.statusCode() == 200 && body != null && body.has("state")) {
          applied = body.path("appliedIndex").asLong(lastApplied);
          MemberDigest d = fromAnswer(m.id(), body);
          if (d != null) {
            result.complete(d);
            return;
          }
          problem = body.path("state").asText() + " (applied index " + applied + ")";
        } else {
          String why = body != null && body.has("error") ? body.path("error").asText() : r.body();
          MemberDigest d = new MemberDigest(m.id(), null, lastApplied, "answered HTTP " + r.statusCode() + ": " + why);
          if (r.statusCode() == 401 || r.statusCode() == 403 || r.statusCode() == 404) {
            result.complete(d); // it will not say otherwise by being asked again (404: a node that predates checks)
            return;
          }
          problem = d.error();
        }
      }
      String p = problem;
      long a = applied;
      later.execute(() -> ask(m, index, authorization, deadline, result, p, a));
    });
  }

  private String base(Member m) {
    return scheme + "://" + m.host() + ":" + m.httpPort();
  }

  private static Duration remaining(long deadline, Duration atMost) {
    long left = deadline - System.nanoTime();
    Duration d = Duration.ofNanos(Math.max(left, TimeUnit.MILLISECONDS.toNanos(100)));
    return d.compareTo(atMost) > 0 ? atMost : d;
  }

  private static JsonNode parse(String body) {
    try {
      return body == null || body.isEmpty() ? null : HttpJson.MAPPER.readTree(body);
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  static String describe(Throwable failure) {
    Throwable cause = failure;
    while ((cause instanceof java.util.concurrent.CompletionException
        || cause instanceof java.util.concurrent.ExecutionException) && cause.getCause() != null) {
      cause = cause.getCause();
    }
    if (cause instanceof java.net.http.HttpTimeoutException) return "no answer in time";
    if (cause instanceof java.net.ConnectException) return "connection refused";
    String message = cause.getMessage();
    return cause.getClass().getSimpleName() + (message == null ? "" : ": " + message);
  }

  /**
   * {@code {"index", "consistent", "conclusive", "reference", "mismatched": [ids], "unchecked": [ids], "members":
   * [{"id", "digest", "appliedIndex"} or {"id", "error", "appliedIndex"}], "problem"}}.
   */
  static ObjectNode reportJson(Report r) {
    ObjectNode body = HttpJson.object().put("index", r.index()).put("consistent", r.consistent())
        .put("conclusive", r.conclusive()).put("reference", r.reference());
    ArrayNode mismatched = body.putArray("mismatched");
    r.mismatched().forEach(mismatched::add);
    ArrayNode unchecked = body.putArray("unchecked");
    r.unchecked().forEach(unchecked::add);
    ArrayNode members = body.putArray("members");
    for (MemberDigest d : r.members()) {
      ObjectNode m = members.addObject().put("id", d.id());
      if (d.digest() != null) m.put("digest", d.digest());
      else m.put("error", d.error());
      if (d.appliedIndex() >= 0) m.put("appliedIndex", d.appliedIndex());
    }
    if (!r.conclusive()) {
      long answered = r.members().size() - r.unchecked().size();
      body.put("problem", "no digest is held by more than half of the " + r.members().size() + " members ("
          + answered + " answered one): nothing to compare against");
    } else if (!r.mismatched().isEmpty()) {
      body.put("problem", String.join(", ", r.mismatched()) + (r.mismatched().size() == 1 ? " holds" : " hold")
          + " a state other than the majority's at index " + r.index());
    }
    return body;
  }
}

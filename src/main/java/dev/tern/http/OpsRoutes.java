package dev.tern.http;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tern.kv.KvStateMachine;
import dev.tern.storage.BackupFile;
import dev.tern.storage.StorageHealth;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.javadsl.StreamConverters;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the HTTP API needs for operations: the data volume's health (read-only below the free-space reserve) and
 * the space quota (the NOSPACE alarm), both enforced by one {@link WriteAdmission} and shown in /health and
 * /v1/status, and backups ({@code GET /v1/snapshot}).
 *
 * <p>A backup is consistent and complete: the node first does a linearizable read (ReadIndex, through the
 * front), so its applied state then holds every write acknowledged anywhere before the request arrived; then it
 * captures the key-value state (cheap, under the state machine's lock, as for a Raft snapshot) and streams it in
 * {@link BackupFile}'s format from a thread of its own while requests go on.
 */
public final class OpsRoutes {
  private static final Logger log = LoggerFactory.getLogger(OpsRoutes.class);
  /** The key the backup's linearizable read asks for: any key does; its answer is not used. */
  static final String BARRIER_KEY = "tern/backup-barrier";
  /** Encodes backups, one at a time (another waits for its turn), off the actors' threads. */
  private static final ExecutorService WRITER = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "tern-backup");
    t.setDaemon(true);
    return t;
  });

  private final ActorRef<KvFront.Command> front;
  private final KvStateMachine kv;
  private final StorageHealth health;
  private final WriteAdmission admission;
  private final String clusterId;
  /** The CORRUPT alarm (the consistency check); in memory and off unless a node gives its own. */
  private final CorruptionAlarm corruption;

  /** Without a space quota. */
  public OpsRoutes(ActorRef<KvFront.Command> front, KvStateMachine kv, StorageHealth health, String clusterId) {
    this(front, kv, health, SpaceQuota.off(), clusterId);
  }

  public OpsRoutes(ActorRef<KvFront.Command> front, KvStateMachine kv, StorageHealth health, SpaceQuota quota,
      String clusterId) {
    this(front, kv, health, quota, clusterId, CorruptionAlarm.inMemory());
  }

  /** ... and the node's CORRUPT alarm, shown in /health and /v1/status. */
  public OpsRoutes(ActorRef<KvFront.Command> front, KvStateMachine kv, StorageHealth health, SpaceQuota quota,
      String clusterId, CorruptionAlarm corruption) {
    this.corruption = Objects.requireNonNull(corruption, "corruption");
    this.front = Objects.requireNonNull(front, "front");
    this.kv = Objects.requireNonNull(kv, "kv");
    this.health = Objects.requireNonNull(health, "health");
    this.admission = new WriteAdmission(health, quota);
    this.clusterId = Objects.requireNonNull(clusterId, "clusterId");
  }

  /** Decides which writes are refused (storage, quota); the lease routes use it too. */
  public WriteAdmission admission() {
    return admission;
  }

  /**
   * The answer to refuse such a write with now (503 read-only or storage failed, 507 over the space quota), or null
   * to take it: volatile reads, no disk access per request.
   */
  HttpResponse refuseWrite(WriteAdmission.Write write) {
    return admission.refuse(write);
  }

  /** Why /health should say 503 because of storage or the space quota, or null. */
  String storageProblem() {
    return admission.problem();
  }

  /** Why /health should say 503 because of the CORRUPT alarm, storage or the space quota, or null. */
  String healthProblem() {
    String corrupt = corruption.refusal();
    return corrupt != null ? corrupt : storageProblem();
  }

  /**
   * Adds {@code "alarms": [...]} (the alarms on: NOSPACE, CORRUPT) and {@code "corruption": {...}} (null while off)
   * to a /health or /v1/status body.
   */
  void describeAlarms(ObjectNode body) {
    var alarms = body.putArray("alarms");
    if (admission.quota().alarm()) alarms.add(SpaceQuota.ALARM);
    if (corruption.on()) alarms.add(CorruptionAlarm.NAME);
    corruption.describe(body);
  }

  /** Adds {@code "storage": {...}} to a /health or /v1/status body. */
  void describeStorage(ObjectNode body) {
    StorageHealth.Report r = health.report();
    SpaceQuota quota = admission.quota();
    ObjectNode s = body.putObject("storage");
    s.put("freeBytes", r.freeBytes()).put("minFreeBytes", r.reserveBytes()).put("readOnly", r.readOnly())
        .put("fsyncLastMicros", r.fsyncLastMicros()).put("fsyncRecentMaxMicros", r.fsyncRecentMaxMicros())
        .put("fsyncs", r.fsyncs());
    s.put("quotaBytes", quota.quotaBytes()).put("dataBytes", quota.dataBytes());
    if (quota.alarm()) s.put("alarm", SpaceQuota.ALARM);
    else s.putNull("alarm");
    if (r.failure() != null) s.put("failure", r.failure());
    body.put("clusterId", clusterId);
  }

  /** {@code GET /v1/snapshot}: a backup of this node's state after a linearizable read, streamed. */
  CompletionStage<HttpResponse> backup() {
    CompletableFuture<KvFront.Reply> barrier = new CompletableFuture<>();
    front.tell(new KvFront.Get(BARRIER_KEY, true, barrier));
    return barrier.thenCompose(reply -> {
      if (reply instanceof KvFront.Reply.Unavailable u) {
        return CompletableFuture.completedFuture(HttpJson.response(StatusCodes.SERVICE_UNAVAILABLE,
            HttpJson.error("unavailable").put("reason", u.reason())));
      }
      CompletableFuture<NodeStatus> status = new CompletableFuture<>();
      front.tell(new KvFront.GetNodeStatus(status));
      return status.thenApply(this::stream);
    });
  }

  private HttpResponse stream(NodeStatus status) {
    KvStateMachine.Capture capture = kv.capture();
    // The term now is at least the term of the last entry applied (terms only grow).
    long term = Math.max(1, status.term());
    Source<ByteString, NotUsed> bytes = StreamConverters.asOutputStream(Duration.ofSeconds(60))
        .mapMaterializedValue(out -> {
          WRITER.execute(() -> write(out, capture, term));
          return NotUsed.getInstance();
        });
    log.info("Sending a backup at index {} (term {}, cluster {})", capture.index(), term, clusterId);
    return HttpResponse.create()
        .withStatus(StatusCodes.OK)
        .addHeader(RawHeader.create("X-Tern-Index", Long.toString(capture.index())))
        .addHeader(RawHeader.create("X-Tern-Term", Long.toString(term)))
        .addHeader(RawHeader.create("X-Tern-Cluster-Id", clusterId))
        .withEntity(HttpEntities.createChunked(ContentTypes.APPLICATION_OCTET_STREAM, bytes));
  }

  private void write(OutputStream out, KvStateMachine.Capture capture, long term) {
    try (out) {
      long bytes = BackupFile.write(out, capture.index(), term, clusterId, capture.data());
      log.info("Sent a backup at index {}: {} bytes of data", capture.index(), bytes);
    } catch (IOException | RuntimeException e) {
      // The stream ends early: the client's file fails its checksum and is refused.
      log.warn("Sending a backup at index {} failed: {}", capture.index(), e.toString());
    }
  }
}

package dev.tern.cluster;

import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.path;

import com.typesafe.config.Config;
import dev.tern.raft.RaftMessage;
import dev.tern.storage.FileStorage;
import dev.tern.http.SpaceQuota;
import dev.tern.storage.StorageHealth;
import dev.tern.storage.StorageObserver;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * A node's metrics: one Prometheus registry, served as {@code GET /metrics} in the Prometheus text format, with
 * the JVM's own (memory, GC, threads, CPU, file descriptors) next to Tern's ({@code tern_*}, listed in
 * docs/operations.md). It lives as long as the node, across the actor systems a node may start, so counters never
 * go back.
 *
 * <p>Nothing here blocks or asks per request: requests and Raft traffic are counted by pre-bound meters
 * ({@link HttpMetrics}, {@link KvRequestMetrics}, {@link RaftMetrics}); the replica's state is read from its status
 * once per scrape ({@link RaftStatusGauges}); storage figures from counters the storage keeps anyway.
 */
public final class NodeMetrics implements AutoCloseable {
  /** The member directory of the running actor system, which the peer counters read ({@link #bindPeers}). */
  private volatile MemberDirectory peers;
  /** The supplier the key-value store's meters read, held here (see {@link #bindKvStore}). */
  private volatile java.util.function.Supplier<dev.tern.kv.KvStateMachine> kvStore;

  /** The Prometheus text exposition format, version 0.0.4 (what {@link PrometheusMeterRegistry#scrape()} writes). */
  static final String TEXT_FORMAT = "text/plain; version=0.0.4; charset=utf-8";

  /** The {@code tern.metrics} settings. */
  public record Settings(boolean enabled, List<Duration> requestBuckets, List<Duration> fsyncBuckets,
      Duration statusTimeout) {
    public static Settings fromConfig(Config tern) {
      Config m = tern.getConfig("metrics");
      Settings s = new Settings(m.getBoolean("enabled"), m.getDurationList("request-latency-buckets"),
          m.getDurationList("fsync-latency-buckets"), m.getDuration("status-timeout"));
      if (s.statusTimeout.isNegative() || s.statusTimeout.isZero()) {
        throw new IllegalArgumentException("tern.metrics.status-timeout must be positive, got " + s.statusTimeout);
      }
      checkBuckets("request-latency-buckets", s.requestBuckets);
      checkBuckets("fsync-latency-buckets", s.fsyncBuckets);
      return s;
    }

    private static void checkBuckets(String name, List<Duration> buckets) {
      if (buckets.isEmpty()) throw new IllegalArgumentException("tern.metrics." + name + " must not be empty");
      for (int i = 0; i < buckets.size(); i++) {
        if (buckets.get(i).isNegative() || buckets.get(i).isZero() || i > 0 && buckets.get(i).compareTo(buckets.get(i - 1)) <= 0) {
          throw new IllegalArgumentException("tern.metrics." + name + " must be positive and increasing, got " + buckets);
        }
      }
    }
  }

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final Settings settings;
  private final JvmGcMetrics gc = new JvmGcMetrics();
  private final RaftMetrics raft;
  private final RaftStatusGauges status;
  private final KvRequestMetrics kv;
  private final HttpMetrics http;

  /**
   * Binds the JVM's meters and the node's: storage ({@code storage} is told to report its fsyncs and batches
   * here), Raft, client requests.
   */
  public NodeMetrics(Settings settings, String nodeId, String clusterId, FileStorage storage, StorageHealth health) {
    this(settings, nodeId, clusterId, storage, health, SpaceQuota.off());
  }

  /** ... and the space quota's gauges ({@code tern_storage_data_bytes}, {@code _quota_bytes}, {@code _quota_alarm}). */
  public NodeMetrics(Settings settings, String nodeId, String clusterId, FileStorage storage, StorageHealth health,
      SpaceQuota quota) {
    this.settings = settings;
    // Two of Micrometer's JVM meters have names Prometheus's linter refuses: the process's CPU time is counted in
    // nanoseconds (process_cpu_time_ns_total; Prometheus's base unit is the second, and its clients' standard name
    // process_cpu_seconds_total, given below), and a gauge named system_cpu_count reads as a summary's count.
    registry.config().meterFilter(MeterFilter.deny(id -> id.getName().equals("process.cpu.time")));
    registry.config().meterFilter(new MeterFilter() {
      @Override
      public Meter.Id map(Meter.Id id) {
        return id.getName().equals("system.cpu.count") ? id.withName("system.cpu.cores") : id;
      }
    });
    if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
      FunctionCounter.builder("process.cpu", os, o -> o.getProcessCpuTime() / 1e9).baseUnit("seconds")
          .description("CPU time this process used").register(registry);
    }
    new JvmMemoryMetrics().bindTo(registry);
    gc.bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    new FileDescriptorMetrics().bindTo(registry);
    Gauge.builder("tern.node.info", () -> 1).tag("node", nodeId).tag("cluster", clusterId)
        .description("Always 1; its labels name this node and its cluster id").register(registry);
    raft = new RaftMetrics(registry);
    status = new RaftStatusGauges(registry);
    kv = new KvRequestMetrics(registry, settings.requestBuckets());
    http = new HttpMetrics(registry);
    bindStorage(storage, health);
    bindQuota(quota);
  }

  /**
   * The key-value store's gauges: its files on disk ({@code tern_kv_disk_bytes}) and the engine's memory outside the
   * heap ({@code tern_kv_engine_memory_bytes}); {@code store} gives the store of the running actor system, or null.
   */
  public void bindKvStore(java.util.function.Supplier<dev.tern.kv.KvStateMachine> store) {
    // Micrometer holds a function meter's object by a weak reference: without this field the supplier (a lambda no one
    // else keeps) was collected at the first GC and these meters read NaN from then on.
    this.kvStore = store;
    Gauge.builder("tern.kv.disk", store, s -> s.get() == null ? Double.NaN : s.get().diskBytes()).baseUnit("bytes")
        .description("The key-value store's files on disk (RocksDB's table files under data-dir/kv)").register(registry);
    Gauge.builder("tern.kv.engine.memory", store, s -> s.get() == null ? Double.NaN : s.get().engineMemoryBytes())
        .baseUnit("bytes")
        .description("The key-value store's memory outside the heap: RocksDB's block cache (memtables included) and"
            + " table readers; bounded by tern.storage.block-cache-size").register(registry);
    // Counters of the store in use: a new actor system (after the Pekko cluster removed this node) opens the store
    // again and they restart from 0, which Prometheus's rate() takes for a reset.
    io.micrometer.core.instrument.FunctionCounter.builder("tern.kv.value.cache.hits", store,
            s -> s.get() == null ? 0 : s.get().valueCacheStats().hits())
        .description("Reads, and look-ups of a key's old value by puts and deletes, that the heap cache of hot values"
            + " answered without asking RocksDB (tern.storage.value-cache-size)").register(registry);
    io.micrometer.core.instrument.FunctionCounter.builder("tern.kv.value.cache.misses", store,
            s -> s.get() == null ? 0 : s.get().valueCacheStats().misses())
        .description("Look-ups the value cache did not answer (RocksDB did)").register(registry);
    Gauge.builder("tern.kv.value.cache", store, s -> s.get() == null ? Double.NaN : s.get().valueCacheStats().bytes())
        .baseUnit("bytes").description("What the value cache holds, at most tern.storage.value-cache-size")
        .register(registry);
  }

  /** The CORRUPT alarm's gauge, {@code tern_corruption_alarm} (the consistency check). */
  public void bindCorruption(dev.tern.http.CorruptionAlarm alarm) {
    Gauge.builder("tern.corruption.alarm", alarm, a -> a.on() ? 1 : 0)
        .description("1 while the CORRUPT alarm is on: a consistency check found this node's state differs from the"
            + " majority's at the same index; it serves no data until an operator clears the alarm")
        .register(registry);
  }

  private void bindQuota(SpaceQuota quota) {
    Gauge.builder("tern.storage.data", quota, SpaceQuota::dataBytes).baseUnit("bytes")
        .description("Keys and values this node holds (UTF-8 keys plus values, as applied): what the space quota counts")
        .register(registry);
    Gauge.builder("tern.storage.quota", quota, SpaceQuota::quotaBytes).baseUnit("bytes")
        .description("The space quota, tern.storage.quota-bytes (0: off)").register(registry);
    Gauge.builder("tern.storage.quota.alarm", quota, q -> q.alarm() ? 1 : 0)
        .description("1 while the data is at or above the space quota (NOSPACE): writes that add data get 507")
        .register(registry);
  }

  /**
   * The peer messages this node dropped: from non-members, and from members that lost their state. Each actor system
   * the node starts has its own directory; the counters read the one in use. They are registered once, on this object:
   * registering again under the same name returns the first meter, which would go on reading the first (stopped)
   * actor system's directory, and Micrometer holds a meter's object only weakly.
   */
  void bindPeers(MemberDirectory directory) {
    boolean first = peers == null;
    peers = directory;
    if (!first) return;
    FunctionCounter.builder("tern.peer.messages.dropped", this, m -> m.peers.droppedFromNonMembers())
        .tag("reason", "not_member")
        .description("Raft messages dropped: their sender is not a member at the address they came from")
        .register(registry);
    FunctionCounter.builder("tern.peer.messages.dropped", this, m -> m.peers.ignoredFromLostMembers())
        .tag("reason", "lost_state")
        .description("Raft messages dropped: their sender is a member whose data directory is another incarnation")
        .register(registry);
  }

  private void bindStorage(FileStorage storage, StorageHealth health) {
    FunctionCounter.builder("tern.raft.snapshots.taken", storage, FileStorage::snapshotsWritten)
        .description("Snapshots of its own state this node wrote (Raft section 7)").register(registry);
    FunctionCounter.builder("tern.raft.snapshots.installed", storage, FileStorage::snapshotsReceived)
        .description("Snapshots this node received from a leader and installed (InstallSnapshot)").register(registry);
    Timer fsyncs = Timer.builder("tern.storage.fsync.duration")
        .serviceLevelObjectives(settings.fsyncBuckets().toArray(Duration[]::new))
        .description("fsyncs of the write-ahead log, its directory and the hard state, and how long they took")
        .register(registry);
    DistributionSummary batches = DistributionSummary.builder("tern.storage.write.batch").baseUnit("entries")
        .serviceLevelObjectives(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
        .description("Log entries per batch the storage wrote and fsynced together (group commit; 0: term or vote only)")
        .register(registry);
    storage.observe(new StorageObserver() {
      @Override
      public void fsynced(long nanos) {
        fsyncs.record(nanos, TimeUnit.NANOSECONDS);
      }

      @Override
      public void batchWritten(int writes, int entries) {
        batches.record(entries);
      }
    });
    Gauge.builder("tern.storage.free", health, h -> {
          long free = h.report().freeBytes();
          return free < 0 ? Double.NaN : free;
        }).baseUnit("bytes")
        .description("Free space on the data volume at the last check (tern.storage.health-check-interval)")
        .register(registry);
    Gauge.builder("tern.storage.read.only", health, h -> h.readOnly() ? 1 : 0)
        .description("1 while free space is below tern.storage.min-free-space: writes are refused").register(registry);
    Gauge.builder("tern.storage.failed", health, h -> h.failure() == null ? 0 : 1)
        .description("1 once a write or fsync failed: the node no longer acknowledges anything").register(registry);
  }

  public Settings settings() {
    return settings;
  }

  /** Elections, leader changes and Raft RPCs. */
  RaftMetrics raft() {
    return raft;
  }

  KvRequestMetrics kv() {
    return kv;
  }

  /**
   * Counts HTTP requests; {@code inflight} is the current API's count of requests in progress. The meters are the
   * node's, bound once: an actor system started again after a removal counts on where the last one stopped.
   */
  HttpMetrics http(java.util.function.IntSupplier inflight) {
    http.inflightFrom(inflight);
    return http;
  }

  /**
   * {@code GET /metrics}: asks {@code replicaStatus} for the replica's status (bounded by the status timeout; the
   * stage may fail or give null), then answers the whole registry in the Prometheus text format.
   */
  Route route(Supplier<CompletionStage<RaftMessage.Status>> replicaStatus) {
    ContentType.NonBinary type = (ContentType.NonBinary) org.apache.pekko.http.javadsl.model.ContentTypes.parse(TEXT_FORMAT);
    // Another method is rejected, which the API's rejection handler answers 405 with a JSON body.
    return path("metrics", () -> get(() -> completeWithFuture(replicaStatus.get().handle((s, failure) -> {
      status.update(failure == null ? s : null);
      return HttpResponse.create().withStatus(StatusCodes.OK).withEntity(HttpEntities.create(type, scrape()));
    }))));
  }

  /** The registry in the Prometheus text format. */
  public String scrape() {
    return registry.scrape();
  }

  @Override
  public void close() {
    gc.close();
    registry.close();
  }
}

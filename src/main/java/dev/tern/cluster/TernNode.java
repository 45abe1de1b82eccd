package dev.tern.cluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.tern.http.AppliedNotifier;
import dev.tern.http.CheckApi;
import dev.tern.http.ConsistencyCheck;
import dev.tern.http.CorruptionAlarm;
import dev.tern.http.Auth;
import dev.tern.http.HttpApi;
import dev.tern.http.HttpTls;
import org.apache.pekko.http.javadsl.ConnectionContext;
import dev.tern.http.KvFront;
import dev.tern.http.LeaseApi;
import dev.tern.http.KvLimits;
import dev.tern.http.LeaderTransferApi;
import dev.tern.http.MembersApi;
import dev.tern.http.UiRoutes;
import dev.tern.http.WatchApi;
import dev.tern.raft.Configuration;
import dev.tern.raft.PeerTransport;
import dev.tern.raft.RaftObserver;
import dev.tern.storage.DataDirIdentity;
import dev.tern.raft.RaftMessage;
import dev.tern.raft.RaftReplica;
import dev.tern.raft.RaftSettings;
import dev.tern.raft.RaftStorage;
import dev.tern.http.OpsRoutes;
import dev.tern.http.SpaceQuota;
import dev.tern.kv.KvStateMachine;
import dev.tern.kv.RocksKvStore;
import dev.tern.storage.FileStorage;
import dev.tern.storage.StorageHealth;
import java.nio.file.Path;
import java.time.Duration;
import java.security.SecureRandom;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Tern node: a Pekko ActorSystem in a cluster of the configured members, running the Raft replica, its
 * peer gateway, the front actor and the HTTP server.
 *
 * <p>Raft, not Pekko, decides who is in the cluster: no downing provider is configured, so an unreachable
 * member is never removed for that. Should this node be removed or quarantined all the same (its
 * ActorSystem then terminates), it starts a new ActorSystem with the same Raft storage and rejoins.
 */
public final class TernNode {
  private static final Logger log = LoggerFactory.getLogger(TernNode.class);

  private final Config config;
  private final String id;
  private final Members members;
  private final Member self;
  private final FileStorage storage;
  private final String clusterId;
  /** This node's data directory's incarnation (see {@link Configuration.Server}). */
  private final long incarnation;
  private final StorageHealth health;
  /** The space quota (tern.storage.quota-bytes), kept across restarts of the actor system. */
  private final SpaceQuota quota;
  private final java.util.concurrent.ScheduledExecutorService healthChecks;
  private final java.util.concurrent.CountDownLatch stopped = new java.util.concurrent.CountDownLatch(1);
  private volatile boolean stopping;
  private volatile String fatal;

  /** The node's metrics (GET /metrics), or null with tern.metrics.enabled off. */
  private final NodeMetrics metrics;
  /** Client authentication (tern.security). */
  private final Auth.Settings security;
  /** HTTPS for the API (tern.security.http-tls), or null for plain HTTP. */
  private final javax.net.ssl.SSLContext httpsServer;
  /** The API's TLS settings (whether it asks clients for certificates). */
  private final HttpTls.Settings httpTls;
  /** The Pekko settings that put Artery on mutual TLS (tern.security.artery-tls), or none. */
  private final Config arteryTls;
  /** How this node trusts the other nodes' HTTPS API, or null when the API is plain HTTP. */
  private final javax.net.ssl.SSLContext peerSsl;
  /** The elections and leaders this node saw, for the dashboard's timeline (kept across a restart of its system). */
  private final LeadershipEvents leadershipEvents = new LeadershipEvents();
  private volatile ActorSystem<Void> system;
  /** The key-value state on disk (data-dir/kv), opened by each start and closed once its ActorSystem is gone. */
  private final Path kvDir;
  private final RocksKvStore.Settings kvSettings;
  private volatile KvStateMachine kv;
  /** The CORRUPT alarm (consistency checks), kept in the data directory across restarts. */
  private final CorruptionAlarm corruption;
  private volatile ActorRef<PeerGateway.Command> gateway;
  /** The members of the configuration in force, once the actor system runs. */
  private volatile MemberDirectory directory;

  public TernNode(Config config) {
    this(config, StorageHealth.FreeSpaceProbe.fileStore());
  }

  /** A node whose free-space checks use {@code probe} (tests fill and free a "disk" with it). */
  public TernNode(Config config, StorageHealth.FreeSpaceProbe probe) {
    this.config = config;
    TransportLimits.check(config); // before touching the disk: settings that cannot work stop the node here
    Config tern = config.getConfig("tern");
    // A quota the heap cannot hold stops the node here, rather than an OutOfMemoryError once the data grows.
    QuotaSizing.Resolved sized = QuotaSizing.resolve(tern, Runtime.getRuntime().maxMemory());
    this.quota = new SpaceQuota(sized.quotaBytes());
    this.id = tern.getString("node-id");
    if (sized.quotaBytes() == 0) log.warn("{}: {}", id, sized.description());
    else log.info("{}: space quota {}", id, sized.description());
    this.members = Members.fromConfig(tern);
    this.self = members.require(id);
    Duration checkEvery = tern.getDuration("cluster.incarnation-check-interval");
    this.security = Auth.Settings.fromConfig(tern); // a bad token entry stops the node here
    this.arteryTls = ArteryTls.pekkoSettings(tern); // reads the files: a bad one stops the node here
    HttpTls.Settings tls = HttpTls.Settings.fromConfig(tern);
    this.httpTls = tls;
    // Read now: a missing or bad key or certificate stops the node before it touches its data.
    this.httpsServer = tls.enabled() ? tls.serverContext() : null;
    try {
      this.peerSsl = tls.enabled() ? tls.peerContext() : null;
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalArgumentException("tern.security.http-tls.ca-file: " + e.getMessage(), e);
    }
    refuseIfKnownAsAnother(tern, checkEvery);
    NodeDataDir data = NodeDataDir.open(tern); // refuses another node's or another cluster's directory
    this.storage = data.storage();
    this.clusterId = data.clusterId();
    this.incarnation = data.incarnation();
    Path dataDir = data.dir();
    this.kvDir = dataDir.resolve("kv");
    this.kvSettings = RocksKvStore.Settings.fromConfig(tern);
    this.corruption = CorruptionAlarm.load(dataDir);
    this.health = new StorageHealth(dataDir, tern.getBytes("storage.min-free-space"), probe, storage.fsyncStats());
    health.check();
    long every = tern.getDuration("storage.health-check-interval").toMillis();
    this.healthChecks = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "tern-storage-health");
      t.setDaemon(true);
      return t;
    });
    healthChecks.scheduleWithFixedDelay(health::check, every, every, TimeUnit.MILLISECONDS);
    IncarnationCheck incarnationCheck = new IncarnationCheck(id, incarnation, answerWithin(checkEvery), security.peerToken(), peerSsl);
    healthChecks.scheduleWithFixedDelay(() -> checkIncarnation(incarnationCheck), checkEvery.toMillis(),
        checkEvery.toMillis(), TimeUnit.MILLISECONDS);
    NodeMetrics.Settings metricsSettings = NodeMetrics.Settings.fromConfig(tern);
    this.metrics = metricsSettings.enabled() ? new NodeMetrics(metricsSettings, id, clusterId, storage, health, quota) : null;
    if (metrics != null) metrics.bindKvStore(() -> kv);
    if (metrics != null) metrics.bindCorruption(corruption);
    // Without its disk a node can acknowledge nothing: its Raft part stops at once (never retrying the fsync), and
    // run() then answers /health with the reason until the node is stopped.
    storage.onFailure(t -> {
      health.markFailed(t);
      fatal = health.failure();
      stopping = true;
      ActorSystem<Void> s = system;
      if (s != null) s.terminate();
    });
  }

  /**
   * An empty data directory of a node of a members list: if a member publishes an incarnation for this node, it ran
   * before and lost its state (see {@link IncarnationCheck}). Refused before anything is written.
   */
  private void refuseIfKnownAsAnother(Config tern, Duration timeout) {
    if (tern.getBoolean("cluster.join")) return; // a joining node is new, and JoinConfig checks it against the cluster
    Path dir = Path.of(tern.getString("data-dir")).toAbsolutePath().normalize();
    if (!DataDirIdentity.blank(dir)) return;
    String why = new IncarnationCheck(id, DataDirIdentity.NO_INCARNATION, answerWithin(timeout), security.peerToken(), peerSsl).conflict(members);
    if (why != null) throw new NodeDataDir.LostStateException("refusing to start: " + why);
  }

  /** How long a member has to answer the incarnation check: half its interval, at most two seconds. */
  private static Duration answerWithin(Duration interval) {
    Duration half = interval.dividedBy(2);
    return half.compareTo(Duration.ofSeconds(2)) > 0 ? Duration.ofSeconds(2) : half;
  }

  /**
   * Until the configuration in force publishes this node's own incarnation: does a member know it as another? Then
   * this node lost its state while its peers were unreachable at its start: it stops, and says how to recover.
   */
  private void checkIncarnation(IncarnationCheck check) {
    MemberDirectory d = directory;
    if (d == null || fatal != null || d.incarnation(id) == incarnation) return;
    String why = check.conflict(d.current());
    if (why == null) return;
    fatal = why;
    log.error("{}: stopping: {}", id, why);
    stopping = true;
    ActorSystem<Void> s = system;
    if (s != null) s.terminate();
  }

  /** Why this node stopped by itself (a storage failure, a lost state, no HTTP port), or null. */
  public String fatal() {
    return fatal;
  }

  /** How many peer messages this node ignored because their sender had lost its state (another incarnation). */
  public long ignoredFromLostMembers() {
    MemberDirectory d = directory;
    return d == null ? 0 : d.ignoredFromLostMembers();
  }

  /** Starts a node from a fully resolved config and blocks until it stops. */
  public static void run(Config config) {
    TernNode node = new TernNode(config);
    Runtime.getRuntime().addShutdownHook(new Thread(node::stop, "tern-shutdown"));
    node.runUntilStopped();
    if (node.health.failure() != null) node.reportFailureUntilStopped();
    if (node.fatal != null) throw new IllegalStateException(node.fatal);
  }

  /**
   * After a storage failure: answers every HTTP request 503 with the reason (so that /health says why) until the
   * node is stopped. The process stays up rather than exit, so that no supervisor restarts it onto a log whose
   * last fsync failed (see docs/operations.md, "Storage failures").
   */
  public void reportFailureUntilStopped() {
    String host = httpHost();
    try (FailedNodeServer server = FailedNodeServer.start(host, self.httpPort(), id, health.failure())) {
      log.error("{}: storage failed; answering every HTTP request on {}:{} with 503 and the reason until stopped",
          id, host, self.httpPort());
      stopped.await();
    } catch (java.io.IOException e) {
      log.error("{}: cannot serve the failure report on {}:{}: {}", id, host, self.httpPort(), e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private String httpHost() {
    return config.getString("tern.http.bind-host").isBlank() ? self.host() : config.getString("tern.http.bind-host");
  }

  /** The data volume's health (free space, fsync latency, failure). */
  public StorageHealth health() {
    return health;
  }

  /** The CORRUPT alarm that consistency checks raise (docs/operations.md, "Consistency checks"). */
  public CorruptionAlarm corruption() {
    return corruption;
  }

  /** The space quota and its NOSPACE alarm (tern.storage.quota-bytes). */
  public SpaceQuota quota() {
    return quota;
  }

  /** This node's cluster id (recorded in its data directory). */
  public String clusterId() {
    return clusterId;
  }

  /** Runs ActorSystem after ActorSystem until {@link #stop} is called. */
  public void runUntilStopped() {
    start();
    superviseCurrent();
  }

  /**
   * Waits for the current ActorSystem to end. If the cluster downed or removed this node, starts a new one
   * with the same Raft state and keeps watching; any other end is a failure (or a requested stop).
   */
  public void superviseCurrent() {
    while (true) {
      ActorSystem<Void> s = system;
      try {
        s.getWhenTerminated().toCompletableFuture().get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (Exception e) {
        log.error("{}: actor system failed", id, e);
      }
      if (stopping) return;
      var reason = CoordinatedShutdown.get(s).getShutdownReason().orElse(null);
      boolean removed = reason == CoordinatedShutdown.clusterDowningReason()
          || reason == CoordinatedShutdown.clusterLeavingReason()
          || reason == CoordinatedShutdown.clusterJoinUnsuccessfulReason();
      if (!removed) {
        fatal = "the actor system stopped unexpectedly (see the log above)";
        log.error("{}: {}", id, fatal);
        return;
      }
      log.warn("{}: removed from the Pekko cluster ({}); starting a new actor system with the same Raft state", id, reason);
      start();
    }
  }

  /** Starts the node's ActorSystem (for tests that run nodes in one JVM). */
  public ActorSystem<Void> start() {
    closeKv(); // a system the cluster downed ended without terminate(): its store is still open
    system = ActorSystem.create(guardian(), "tern", pekkoConfig().withFallback(config));
    return system;
  }

  /**
   * Ends the current ActorSystem as a crash would, without marking the node stopped: its Raft storage stays,
   * and {@link #start} brings the node back.
   */
  public void terminate() {
    ActorSystem<Void> s = system;
    if (s == null) return;
    s.terminate();
    try {
      s.getWhenTerminated().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      log.warn("{}: actor system did not stop cleanly", id, e);
    }
    closeKv();
  }

  /** Closes the key-value store of a system that has ended; a snapshot still being written keeps its own view. */
  private void closeKv() {
    KvStateMachine store = kv;
    kv = null;
    if (store != null) store.close();
  }

  /** The node's current ActorSystem. */
  public ActorSystem<Void> system() {
    return system;
  }

  /** Whether the node's current ActorSystem is running. */
  public boolean isRunning() {
    ActorSystem<Void> s = system;
    return s != null && !s.getWhenTerminated().toCompletableFuture().isDone();
  }

  /** The current peer gateway (for fault-injection tests). */
  public ActorRef<PeerGateway.Command> gateway() {
    return gateway;
  }

  /** This node's Raft storage (for its figures: snapshots written and received). */
  public FileStorage storage() {
    return storage;
  }

  public String id() {
    return id;
  }

  /** The node's metrics, or null when tern.metrics.enabled is off. */
  public NodeMetrics metrics() {
    return metrics;
  }

  public Member self() {
    return self;
  }

  public void stop() {
    stopping = true;
    terminate();
    healthChecks.shutdownNow();
    storage.close(); // after the replica is gone: flushes whatever is still queued
    if (metrics != null) metrics.close();
    stopped.countDown();
  }

  private Config pekkoConfig() {
    String seeds = members.all().stream()
        .map(m -> "\"pekko://tern@" + m.host() + ":" + m.arteryPort() + "\"")
        .collect(Collectors.joining(",", "[", "]"));
    return ConfigFactory.parseString(String.join("\n", List.of(
        "pekko.actor.provider = cluster",
        "pekko.remote.artery.canonical.hostname = \"" + self.host() + "\"",
        "pekko.remote.artery.canonical.port = " + self.arteryPort(),
        "pekko.cluster.seed-nodes = " + seeds))).withFallback(arteryTls);
  }

  /**
   * On a clean stop, a leader hands leadership to the most up-to-date voter (dissertation 3.10) before the node
   * goes: writes move to the new leader at once instead of waiting for an election timeout. Bounded by twice the
   * transfer's own deadline; the node stops anyway after that.
   */
  private CompletionStage<Done> handOverLeadership(ActorSystem<?> s, ActorRef<RaftMessage> replica, RaftSettings settings) {
    var reason = CoordinatedShutdown.get(s).getShutdownReason().orElse(null);
    if (!stopping && reason != CoordinatedShutdown.jvmExitReason()) return CompletableFuture.completedFuture(Done.getInstance());
    java.time.Duration bound = settings.electionTimeoutMax().multipliedBy(2);
    CompletionStage<RaftMessage.TransferLeadershipResponse> asked = AskPattern.ask(
        replica, replyTo -> new RaftMessage.TransferLeadership(null, replyTo), bound, s.scheduler());
    return asked.handle((answer, failure) -> {
      if (answer instanceof RaftMessage.TransferLeadershipResponse.Transferred t) {
        log.info("{}: stopping: handed leadership over to {} (term {})", id, t.leaderId(), t.term());
      } else if (answer != null && !(answer instanceof RaftMessage.TransferLeadershipResponse.NotLeader)) {
        log.warn("{}: stopping without handing leadership over: {}", id, answer);
      } else if (failure != null) {
        log.warn("{}: stopping without handing leadership over: no answer within {} ms", id, bound.toMillis());
      }
      return Done.getInstance();
    });
  }

  private Behavior<Void> guardian() {
    RaftSettings settings = RaftSettings.fromConfig(config.getConfig("tern.raft"));
    KvLimits limits = KvLimits.fromConfig(config.getConfig("tern"));
    return Behaviors.setup(ctx -> {
      // Routes and envelope checks follow the configuration in force; tern.cluster.members only bootstraps it.
      MemberDirectory directory = new MemberDirectory(members);
      this.directory = directory;
      if (metrics != null) metrics.bindPeers(directory);
      // A node joining a running cluster waits to be added; the others of a new cluster start from the list.
      Configuration bootstrap = config.getBoolean("tern.cluster.join") ? Configuration.EMPTY : members.toConfiguration();
      Behavior<KvFront.Command> frontBehavior = KvFront.create(id, directory, limits);
      if (metrics != null) frontBehavior = metrics.kv().around(frontBehavior);
      ActorRef<KvFront.Command> front = ctx.spawn(frontBehavior, "front");
      WatchApi.Settings watchSettings = WatchApi.Settings.fromConfig(config.getConfig("tern"));
      // After each applied entry the quota learns the data's size: its alarm is one volatile read per request.
      AppliedNotifier stateMachine = AppliedNotifier.create(front, watchSettings.hub(),
          changes -> RocksKvStore.open(kvDir, kvSettings, changes), quota::update);
      this.kv = stateMachine.kv();
      boolean faultInjection = config.getBoolean("tern.testing.fault-injection");
      if (faultInjection) log.warn("{}: tern.testing.fault-injection is on: this node obeys /v1/testing/partition", id);
      // The replica sends through the routes the gateway publishes, and takes peers' envelopes itself
      // (PeerRoutes, PeerInbound): no message waits for a hop through the gateway actor.
      PeerRoutes routes = new PeerRoutes(id, incarnation, TransportLimits.fromConfig(config));
      Random random = new Random(new SecureRandom().nextLong());
      // With metrics, the replica's RPCs are counted on their way out and in, and its elections and leaders observed.
      PeerTransport transport = metrics == null ? routes::send : metrics.raft().counting(routes::send);
      // The leases' clock runs on the leader (LeaseKeeper): it follows the replica's leaders.
      ActorRef<LeaseKeeper.Command> leaseKeeper = ctx.spawn(LeaseKeeper.create(id, stateMachine.kv(),
          config.getDuration("tern.lease.check-interval")), "lease-keeper");
      RaftObserver observer = RaftObserver.both(metrics == null ? RaftObserver.NONE : metrics.raft(),
          RaftObserver.both(LeaseKeeper.observer(leaseKeeper), leadershipEvents));
      Behavior<Object> inbound = PeerGateway.inbound(id, directory, routes,
          RaftReplica.createObserved(id, bootstrap, settings, storage, stateMachine, transport, random,
              directory::update, observer));
      ActorRef<Object> raft = ctx.spawn(metrics == null ? inbound : metrics.raft().countingInbound(inbound),
          PeerGateway.REPLICA);
      ActorRef<RaftMessage> replica = raft.narrow();
      leaseKeeper.tell(new LeaseKeeper.Init(replica));
      // A clean stop (SIGTERM, or stop()) of the leader hands leadership over first, so that a rolling restart waits
      // for no election timeout; a crash-like terminate() does not.
      CoordinatedShutdown.get(ctx.getSystem()).addTask(CoordinatedShutdown.PhaseBeforeServiceUnbind(),
          "hand-over-leadership", () -> handOverLeadership(ctx.getSystem(), replica, settings));
      ActorRef<PeerGateway.Command> gateway = ctx.spawn(
          PeerGateway.create(id, directory, faultInjection, routes, raft), "gateway");
      ctx.getSystem().getWhenTerminated().thenRun(routes::close); // a fault-injection delay line, if any
      ctx.spawn(PeerGateway.bulkInbox(raft), TransportLimits.BULK_INBOX);
      this.gateway = gateway;
      gateway.tell(new PeerGateway.Attach(replica));
      front.tell(KvFront.init(replica, routes, stateMachine.kv()));

      String host = httpHost();
      // Test-only: the partition route exists only when fault injection is on (docs/api.md).
      HttpApi.FaultInjection faults = faultInjection
          ? new HttpApi.FaultInjection(id, java.util.Set.copyOf(members.ids()), gateway) : null;
      java.time.Duration transferAnswer = settings.electionTimeoutMax().multipliedBy(2).plusSeconds(1);
      OpsRoutes ops = new OpsRoutes(front, stateMachine.kv(), health, quota, clusterId, corruption);
      ActorRef<MembersApi.Forward> forwarder = ctx.spawn(MembersApi.forwarder(routes::send), "members-forwarder");
      MembersApi membersApi = new MembersApi(ctx.getSystem(), id, front, replica, forwarder, limits.requestTimeout());
      List<org.apache.pekko.http.javadsl.server.Route> extra = new java.util.ArrayList<>(List.of(
          new LeaderTransferApi(ctx.getSystem(), replica, directory::current, transferAnswer)
              .overHttps(peerSsl == null ? null : ConnectionContext.httpsClient(peerSsl)).route(), membersApi.route(),
          new WatchApi(ctx.getSystem(), stateMachine.kv().watches(), watchSettings).route(),
          new LeaseApi(front, stateMachine.kv(), LeaseApi.Settings.fromConfig(config.getConfig("tern")), limits,
              ops.admission()).route()));
      if (metrics != null) {
        java.time.Duration statusTimeout = metrics.settings().statusTimeout();
        extra.add(metrics.route(() -> AskPattern.ask(replica, RaftMessage.GetStatus::new, statusTimeout,
            ctx.getSystem().scheduler())));
      }
      // Consistency checks: on demand (POST /v1/check), and every tern.check.interval while this node leads.
      ConsistencyCheck check = new ConsistencyCheck(id, front, stateMachine.kv(), directory::current, corruption,
          ConsistencyCheck.Settings.fromConfig(config.getConfig("tern")), peerSsl, security.peerToken());
      extra.add(new CheckApi(id, check, directory::current, ops, peerSsl).route());
      Duration checkInterval = check.settings().interval();
      if (!checkInterval.isZero()) {
        ctx.getSystem().scheduler().scheduleWithFixedDelay(checkInterval, checkInterval, check::runIfLeader,
            ctx.getSystem().executionContext());
      }
      UiRoutes.Settings ui = UiRoutes.Settings.fromConfig(config.getConfig("tern"));
      if (ui.enabled()) extra.add(new UiRoutes(id, () -> directory.current().all(), leadershipEvents, ui, peerSsl).route());
      HttpApi api = new HttpApi(ctx.getSystem(), front, limits, faults, extra, ops);
      java.util.function.UnaryOperator<org.apache.pekko.http.javadsl.server.Route> counted =
          metrics == null ? r -> r : metrics.http(api::inflightRequests)::around;
      Auth auth = new Auth(ctx.getSystem(), security, limits);
      // Under the CORRUPT alarm the node serves no data (503), after authentication.
      api.bind(host, self.httpPort(), r -> counted.apply(auth.protect(corruption.guard(r))),
              httpsServer == null ? null : ConnectionContext.httpsServer(() -> httpTls.serverEngine(httpsServer))).whenComplete((binding, failure) -> {
        if (failure != null) {
          fatal = "cannot serve HTTP on " + host + ":" + self.httpPort() + ": " + failure.getMessage();
          log.error("{}: {}", id, fatal);
          stopping = true;
          ctx.getSystem().terminate();
        } else {
          log.info("{}: serving HTTP on {}, Artery on {}:{}", id, binding.localAddress(), self.host(), self.arteryPort());
        }
      });
      return Behaviors.empty();
    });
  }
}

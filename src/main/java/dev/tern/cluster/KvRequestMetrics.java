package dev.tern.cluster;

import dev.tern.http.KvFront;
import dev.tern.kv.KvResult;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.BehaviorInterceptor;
import org.apache.pekko.actor.typed.TypedActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Client writes (proposals) and reads as the node's front actor sees them: how many arrive, how long until they
 * are answered, and why those that fail fail. An interceptor around the front counts each request as it arrives
 * and hooks the completion of the future the front answers it with; the front itself is unchanged.
 *
 * <p>Per request: one counter increment, a clock read, and a completion callback (the future's own node and one
 * small lambda); at completion a clock read and a timer record. Every meter is bound here, once.
 */
final class KvRequestMetrics {

  /** Why a request was not served. */
  enum Cause {
    /** No leader or no quorum within the request timeout (the front answered Unavailable; HTTP 503). */
    UNAVAILABLE("unavailable"),
    /** The front did not answer at all within the request timeout plus a second (HTTP 503). */
    TIMEOUT("timeout"),
    /** Anything else: an unexpected answer or an exception (HTTP 500). */
    ERROR("error");

    final String label;

    Cause(String label) {
      this.label = label;
    }
  }

  private final Counter puts;
  private final Counter casPuts;
  private final Counter deletes;
  private final Counter casConflicts;
  private final Timer proposalLatency;
  private final Counter[] proposalFailures = new Counter[Cause.values().length];

  private final Counter linearizableGets;
  private final Counter staleGets;
  private final Counter lists;
  private final Timer linearizableLatency;
  private final Timer staleLatency;
  private final Counter[] readFailures = new Counter[Cause.values().length];

  KvRequestMetrics(MeterRegistry registry, List<Duration> buckets) {
    Duration[] slo = buckets.toArray(Duration[]::new);
    String proposals = "tern.kv.proposals";
    String proposalHelp = "Writes this node's front received, by operation (a compare-and-set is op=cas)";
    puts = Counter.builder(proposals).tag("op", "put").description(proposalHelp).register(registry);
    casPuts = Counter.builder(proposals).tag("op", "cas").description(proposalHelp).register(registry);
    deletes = Counter.builder(proposals).tag("op", "delete").description(proposalHelp).register(registry);
    casConflicts = Counter.builder("tern.kv.cas.conflicts")
        .description("Compare-and-sets applied but refused: the revision did not match (HTTP 409)").register(registry);
    proposalLatency = Timer.builder("tern.kv.proposal.duration").serviceLevelObjectives(slo)
        .description("Time from a write's arrival at the front to its answer (committed and applied here, or failed)")
        .register(registry);
    String reads = "tern.kv.reads";
    String readHelp = "Reads this node's front received, by operation and consistency";
    linearizableGets = Counter.builder(reads).tag("op", "get").tag("consistency", "linearizable")
        .description(readHelp).register(registry);
    staleGets = Counter.builder(reads).tag("op", "get").tag("consistency", "stale").description(readHelp).register(registry);
    lists = Counter.builder(reads).tag("op", "list").tag("consistency", "linearizable").description(readHelp)
        .register(registry);
    String readLatency = "tern.kv.read.duration";
    String readLatencyHelp = "Time from a read's arrival at the front to its answer, by consistency";
    linearizableLatency = Timer.builder(readLatency).tag("consistency", "linearizable").serviceLevelObjectives(slo)
        .description(readLatencyHelp).register(registry);
    staleLatency = Timer.builder(readLatency).tag("consistency", "stale").serviceLevelObjectives(slo)
        .description(readLatencyHelp).register(registry);
    for (Cause c : Cause.values()) {
      proposalFailures[c.ordinal()] = Counter.builder("tern.kv.proposal.failures").tag("cause", c.label)
          .description("Writes answered without taking effect here, by cause").register(registry);
      readFailures[c.ordinal()] = Counter.builder("tern.kv.read.failures").tag("cause", c.label)
          .description("Reads answered without a result, by cause").register(registry);
    }
  }

  /** {@code front}, its requests counted and timed. */
  Behavior<KvFront.Command> around(Behavior<KvFront.Command> front) {
    return Behaviors.intercept(() -> new Interceptor(this), front);
  }

  /** Counts a request as it reaches the front, and times it until answered. */
  void onRequest(KvFront.Command command) {
    if (command instanceof KvFront.Put p) {
      (p.expectedRevision() == KvFront.Put.UNCONDITIONAL ? puts : casPuts).increment();
      timeWrite(p.reply());
    } else if (command instanceof KvFront.Delete d) {
      deletes.increment();
      timeWrite(d.reply());
    } else if (command instanceof KvFront.Get g) {
      (g.linearizable() ? linearizableGets : staleGets).increment();
      timeRead(g.reply(), g.linearizable() ? linearizableLatency : staleLatency);
    } else if (command instanceof KvFront.ListKeys l) {
      lists.increment();
      timeRead(l.reply(), linearizableLatency);
    }
  }

  private void timeWrite(CompletableFuture<KvFront.Reply> reply) {
    long start = System.nanoTime();
    reply.whenComplete((r, failure) -> {
      proposalLatency.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
      Cause cause = causeOf(r, failure);
      if (cause != null) {
        proposalFailures[cause.ordinal()].increment();
      } else if (r instanceof KvFront.Reply.Done done && done.result() instanceof KvResult.CasConflict) {
        casConflicts.increment();
      }
    });
  }

  private void timeRead(CompletableFuture<KvFront.Reply> reply, Timer latency) {
    long start = System.nanoTime();
    reply.whenComplete((r, failure) -> {
      latency.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
      Cause cause = causeOf(r, failure);
      if (cause != null) readFailures[cause.ordinal()].increment();
    });
  }

  /** Why the request failed, or null if it was answered (a CAS conflict and "not found" are answers). */
  static Cause causeOf(KvFront.Reply reply, Throwable failure) {
    if (failure != null) {
      Throwable cause = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
          ? failure.getCause() : failure;
      return cause instanceof java.util.concurrent.TimeoutException ? Cause.TIMEOUT : Cause.ERROR;
    }
    if (reply instanceof KvFront.Reply.Unavailable) return Cause.UNAVAILABLE;
    if (reply instanceof KvFront.Reply.Done done && done.result() instanceof KvResult.Invalid) return Cause.ERROR;
    return reply == null ? Cause.ERROR : null;
  }

  private static final class Interceptor extends BehaviorInterceptor<KvFront.Command, KvFront.Command> {
    private final KvRequestMetrics metrics;

    Interceptor(KvRequestMetrics metrics) {
      super(KvFront.Command.class);
      this.metrics = metrics;
    }

    @Override
    public Behavior<KvFront.Command> aroundReceive(TypedActorContext<KvFront.Command> ctx, KvFront.Command message,
        ReceiveTarget<KvFront.Command> target) {
      metrics.onRequest(message);
      return target.apply(ctx, message);
    }
  }
}

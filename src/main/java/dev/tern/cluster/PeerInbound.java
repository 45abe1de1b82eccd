package dev.tern.cluster;

import dev.tern.raft.RaftMessage;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.BehaviorInterceptor;
import org.apache.pekko.actor.typed.TypedActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * The replica's door to the network: wraps the replica's behaviour so that envelopes from peers are checked and
 * unwrapped on the replica's own actor, with no hop through the gateway (see {@link PeerRoutes} for why). An
 * envelope is delivered only if it comes from the configured address of the member it claims to be from and
 * carries what a peer may send; anything else (a stray or misconfigured node) is dropped with a warning.
 * Messages from the node itself pass through untouched.
 *
 * <p>It also checks the sender's incarnation (see {@link dev.tern.raft.Configuration.Server}): a member whose data
 * directory is not the one the configuration in force publishes for it has lost its term, vote and log, so its
 * envelopes are dropped (its votes and acknowledgements never count), with a warning at most every
 * {@link #WARN_EVERY_NANOS}. While the sender's or this node's own incarnation is unpublished, the replica is told
 * it ({@link RaftMessage.ObservedIncarnation}), so that a leader publishes it; at most once per
 * {@link #REPORT_EVERY_NANOS} per server, which keeps this off the path of the messages that follow.
 */
final class PeerInbound extends BehaviorInterceptor<Object, RaftMessage> {

  private final String selfId;
  private final MemberDirectory members;
  /** Whose traffic fault injection cuts: the gateway publishes it there, for both directions at once. */
  private final PeerRoutes routes;

  static final long WARN_EVERY_NANOS = 10_000_000_000L;
  static final long REPORT_EVERY_NANOS = 100_000_000L;
  /** When each server's unpublished incarnation was last reported, and a stale one last warned of (nanoTime). */
  private final java.util.Map<String, Long> reportedAt = new java.util.HashMap<>();
  private final java.util.Map<String, Long> warnedAt = new java.util.HashMap<>();
  /** When a message claiming to come from each id, but not from that member, was last warned of (nanoTime). */
  private final java.util.Map<String, Long> warnedNotMemberAt = new java.util.HashMap<>();

  private PeerInbound(String selfId, MemberDirectory members, PeerRoutes routes) {
    super(Object.class);
    this.selfId = selfId;
    this.members = members;
    this.routes = routes;
  }

  /** {@code replica}, reachable by peers through envelopes. */
  static Behavior<Object> wrap(String selfId, MemberDirectory members, PeerRoutes routes, Behavior<RaftMessage> replica) {
    return Behaviors.intercept(() -> new PeerInbound(selfId, members, routes), replica);
  }

  @Override
  @SuppressWarnings("unchecked")
  public Behavior<RaftMessage> aroundReceive(
      TypedActorContext<Object> ctx, Object message, ReceiveTarget<RaftMessage> target) {
    if (message instanceof PeerGateway.Envelope env) {
      if (!admit(ctx, env) || !sameIncarnation(ctx, env)) return Behaviors.same();
      return target.apply(ctx, env.message());
    }
    // The replica's own messages, and the timer messages of its TimerScheduler (an internal type, not a
    // RaftMessage), go on unchanged.
    Behavior<?> next = ((ReceiveTarget<Object>) (ReceiveTarget<?>) target).apply(ctx, message);
    return (Behavior<RaftMessage>) next;
  }

  private boolean admit(TypedActorContext<Object> ctx, PeerGateway.Envelope env) {
    Member claimed = members.current().byId(env.from()).orElse(null);
    Address from = env.fromGateway() == null ? null : env.fromGateway().path().address();
    if (claimed == null || from == null || !PeerGateway.sameEndpoint(claimed, from)
        || !PeerGateway.acceptable(env.message())) {
      long dropped = members.countNotMember();
      long now = System.nanoTime();
      Long last = warnedNotMemberAt.get(env.from());
      if (last == null || now - last >= WARN_EVERY_NANOS) {
        // At most every WARN_EVERY_NANOS per claimed sender: a stray or hostile process must not flood the log.
        warnedNotMemberAt.put(env.from(), now);
        ctx.asJava().getLog().warn("{}: dropping a message from {} at {}: not a configured member ({} such messages"
            + " dropped so far)", selfId, env.from(), from, dropped);
      }
      return false;
    }
    if (routes.table().cut().contains(env.from())) {
      ctx.asJava().getLog().debug("fault injection: dropping {} from {}", env.message(), env.from());
      return false;
    }
    return true;
  }

  /**
   * Whether the sender is the incarnation of its member the configuration knows, or one it does not know yet (then
   * reported to the replica, with this node's own if that is unpublished too).
   */
  private boolean sameIncarnation(TypedActorContext<Object> ctx, PeerGateway.Envelope env) {
    long known = members.incarnation(env.from());
    if (known == dev.tern.raft.Configuration.Server.UNPUBLISHED) {
      report(ctx, env.from(), env.incarnation());
    } else if (known != env.incarnation()) {
      long dropped = members.countIgnored();
      long now = System.nanoTime();
      Long last = warnedAt.get(env.from());
      if (last == null || now - last >= WARN_EVERY_NANOS) {
        warnedAt.put(env.from(), now);
        ctx.asJava().getLog().warn("{}: ignoring {}: its data directory is incarnation {}, but the configuration knows"
            + " {} as incarnation {}. It has lost its term, its vote and its log (a wiped or replaced disk, another"
            + " tern.data-dir), and must not vote or count toward a majority. Recover it by removing it and adding it"
            + " again (docs/operations.md, \"Replacing a node\"). {} messages of such nodes ignored so far.",
            selfId, env.from(), hex(env.incarnation()), env.from(), hex(known), dropped);
      }
      return false;
    }
    long own = routes.incarnation();
    if (members.incarnation(selfId) == dev.tern.raft.Configuration.Server.UNPUBLISHED) report(ctx, selfId, own);
    return true;
  }

  private void report(TypedActorContext<Object> ctx, String id, long incarnation) {
    if (incarnation == dev.tern.raft.Configuration.Server.UNPUBLISHED) return; // a sender without a data directory
    long now = System.nanoTime();
    Long last = reportedAt.get(id);
    if (last != null && now - last < REPORT_EVERY_NANOS) return;
    reportedAt.put(id, now);
    ctx.asJava().getSelf().tell(new RaftMessage.ObservedIncarnation(id, incarnation));
  }

  private static String hex(long incarnation) {
    return dev.tern.storage.DataDirIdentity.hex(incarnation);
  }
}

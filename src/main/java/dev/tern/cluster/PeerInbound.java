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
 */
final class PeerInbound extends BehaviorInterceptor<Object, RaftMessage> {

  private final String selfId;
  private final MemberDirectory members;
  /** Whose traffic fault injection cuts: the gateway publishes it there, for both directions at once. */
  private final PeerRoutes routes;

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
      if (!admit(ctx, env)) return Behaviors.same();
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
      ctx.asJava().getLog().warn("{}: dropping a message from {} at {}: not a configured member", selfId, env.from(), from);
      return false;
    }
    if (routes.table().cut().contains(env.from())) {
      ctx.asJava().getLog().debug("fault injection: dropping {} from {}", env.message(), env.from());
      return false;
    }
    return true;
  }
}

package dev.tern.cluster;

import dev.tern.raft.RaftMessage;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Carries Raft messages between nodes. Each node runs one gateway, which addresses every peer's replica by the
 * Artery address the configuration in force gives that member ({@code pekko://tern@host:port/user/raft}): no
 * Receptionist, no wait for Pekko's cluster membership (joining, convergence, downing). Raft decides who is in the
 * cluster; any majority of the voters elects a leader as soon as their processes can reach each other, in any
 * start order (issue 10, section 3). Inbound envelopes are delivered to the local Raft replica only if they come
 * from the configured address of the member they claim to be from: anything else (a stray node, a misconfigured
 * one) is dropped.
 *
 * <p>Messages too big for Artery's ordinary frame (one large entry, or a large proposal forwarded to the leader)
 * go to the peer's {@link #bulkInbox} instead, which Artery reaches over its large-message lane (see
 * {@link TransportLimits}); the inbox hands them to its gateway. A message too big for either lane is not sent:
 * that is logged as an error, since the node's start-up check should have made it impossible.
 */
public final class PeerGateway {
  private PeerGateway() {}

  /** The name of a node's replica actor (under /user): peers address it by this path at the node's Artery address. */
  public static final String REPLICA = "raft";

  public interface Command {}

  /** From the local replica or front: send {@code message} to the replica of node {@code to}. */
  public record Outbound(String to, RaftMessage message) implements Command {}

  /**
   * Between gateways. {@code incarnation} is that of the sender's data directory (see
   * {@link dev.tern.raft.Configuration.Server}): the receiver ignores a member that comes back with another.
   */
  public record Envelope(String from, long incarnation, ActorRef<Envelope> fromGateway, RaftMessage message)
      implements Command {
    /** From a sender with no incarnation (tests of the gateway alone). */
    public Envelope(String from, ActorRef<Envelope> fromGateway, RaftMessage message) {
      this(from, dev.tern.raft.Configuration.Server.UNPUBLISHED, fromGateway, message);
    }
  }

  /** The configuration in force changed: address its members. */
  private enum MembersChanged implements Command {
    INSTANCE
  }

  /**
   * Test-only fault injection: drop all Raft traffic to and from these nodes (replacing any earlier cut; an
   * empty set heals). Honoured only when {@code tern.testing.fault-injection} is on; a production node ignores
   * it. When {@code replyTo} is not null the gateway answers with the cut now in effect.
   */
  public record Cut(java.util.Set<String> nodes, ActorRef<CutState> replyTo) implements Command {
    public Cut(java.util.Set<String> nodes) {
      this(nodes, null);
    }
  }

  /**
   * The answer to a {@link Cut}: the nodes this gateway now drops traffic with, and whether fault injection is
   * enabled at all (when it is not, the cut was ignored and {@code nodes} is empty).
   */
  public record CutState(java.util.Set<String> nodes, boolean enabled) {}

  /**
   * Test-only fault injection: every Raft message this node sends leaves {@code delay} late (zero: at once), as
   * over a slow link. The experiments' slow followers (stragglers) are made so. Honoured only when
   * {@code tern.testing.fault-injection} is on; the gateway answers with the delay now in effect.
   */
  public record Delay(java.time.Duration delay, ActorRef<DelayState> replyTo) implements Command {}

  /** The answer to a {@link Delay}: the delay in effect, and whether fault injection is enabled at all. */
  public record DelayState(java.time.Duration delay, boolean enabled) {}

  /** Gives the gateway the local replica, which needs the gateway's ref to be created first. */
  public record Attach(ActorRef<RaftMessage> replica) implements Command {}

  /** Messages a peer may send us: Raft RPCs, and proposals and reads forwarded to the leader. */
  static boolean acceptable(RaftMessage m) {
    return m instanceof RaftMessage.PeerMessage || m instanceof RaftMessage.Propose || m instanceof RaftMessage.ReadIndex
        || m instanceof RaftMessage.ChangeMembership;
  }

  /** Artery's default frame sizes: for gateways made without a node's configuration (tests). */
  static final TransportLimits DEFAULT_LIMITS = new TransportLimits(256 * 1024, 2 * 1024 * 1024);

  public static Behavior<Command> create(String selfId, Members members, boolean faultInjection) {
    return create(selfId, members, faultInjection, DEFAULT_LIMITS);
  }

  /** A gateway that receives peers' envelopes itself and checks them (tests; nodes use the form below). */
  public static Behavior<Command> create(
      String selfId, Members members, boolean faultInjection, TransportLimits limits) {
    return create(selfId, members, faultInjection, new PeerRoutes(selfId, limits), null);
  }

  /**
   * A node's gateway. It publishes the peers it finds into {@code routes}, through which the replica and the front
   * send; peers send to {@code inbound}, the replica wrapped by {@link #inbound}, which checks their envelopes on
   * the replica's own thread.
   */
  public static Behavior<Command> create(
      String selfId, Members members, boolean faultInjection, PeerRoutes routes, ActorRef<Object> inbound) {
    return create(selfId, MemberDirectory.fixed(members), faultInjection, routes, inbound);
  }

  /** As above, with the members of the configuration in force: a change re-reads the peers found. */
  public static Behavior<Command> create(
      String selfId, MemberDirectory members, boolean faultInjection, PeerRoutes routes, ActorRef<Object> inbound) {
    return Behaviors.setup(ctx -> {
      ActorRef<Envelope> self = ctx.getSelf().narrow();
      ActorRef<Command> me = ctx.getSelf();
      members.onChange(() -> me.tell(MembersChanged.INSTANCE));
      Gateway gateway = new Gateway(ctx, selfId, members, faultInjection, self, routes, inbound);
      routes.publish(new PeerRoutes.Table(Map.of(), Set.of(), self));
      gateway.addressPeers();
      return gateway.running(null);
    });
  }

  /**
   * The replica's behaviour wrapped to take peers' envelopes directly (see {@link PeerInbound}); spawn it, and
   * give the ref to {@link #create(String, Members, boolean, PeerRoutes, ActorRef)}.
   */
  public static Behavior<Object> inbound(
      String selfId, Members members, PeerRoutes routes, Behavior<RaftMessage> replica) {
    return PeerInbound.wrap(selfId, MemberDirectory.fixed(members), routes, replica);
  }

  /** As above, checking envelopes against the members of the configuration in force. */
  public static Behavior<Object> inbound(
      String selfId, MemberDirectory members, PeerRoutes routes, Behavior<RaftMessage> replica) {
    return PeerInbound.wrap(selfId, members, routes, replica);
  }

  /**
   * A node's large-message inbox, spawned as {@link TransportLimits#BULK_INBOX} next to its replica: Artery routes
   * messages for this path over its large-message lane. It hands everything to {@code target} (the replica's
   * inbound ref, or a gateway), which checks the sender.
   */
  public static Behavior<Envelope> bulkInbox(ActorRef<? super Envelope> target) {
    return Behaviors.receive(Envelope.class)
        .onMessage(Envelope.class, env -> {
          target.tell(env);
          return Behaviors.same();
        })
        .build();
  }

  private record Gateway(
      ActorContext<Command> ctx, String selfId, MemberDirectory members, boolean faultInjection,
      ActorRef<Envelope> self, PeerRoutes routes, ActorRef<Object> inbound) {

  /** The cut in effect lives in the routes' table only: the routes and the replica's inbound check both read it. */
  private Behavior<Command> running(ActorRef<RaftMessage> replica) {
    return Behaviors.receive(Command.class)
        .onMessage(Attach.class, a -> running(a.replica()))
        .onMessage(Cut.class, c -> {
          if (!faultInjection) {
            ctx.getLog().warn("ignoring a fault-injection request: tern.testing.fault-injection is off");
            if (c.replyTo() != null) c.replyTo().tell(new CutState(Set.of(), false));
            return Behaviors.same();
          }
          ctx.getLog().warn("{}: fault injection: cutting Raft traffic with {}", selfId, c.nodes());
          Set<String> now = Set.copyOf(c.nodes());
          routes.publish(new PeerRoutes.Table(routes.table().peers(), now, self, routes.table().delayNanos()));
          if (c.replyTo() != null) c.replyTo().tell(new CutState(now, true));
          return Behaviors.same();
        })
        .onMessage(Delay.class, d -> {
          if (!faultInjection) {
            ctx.getLog().warn("ignoring a fault-injection request: tern.testing.fault-injection is off");
            d.replyTo().tell(new DelayState(java.time.Duration.ZERO, false));
            return Behaviors.same();
          }
          ctx.getLog().warn("{}: fault injection: delaying every Raft message this node sends by {}", selfId, d.delay());
          PeerRoutes.Table t = routes.table();
          routes.publish(new PeerRoutes.Table(t.peers(), t.cut(), self, d.delay().toNanos()));
          d.replyTo().tell(new DelayState(d.delay(), true));
          return Behaviors.same();
        })
        .onMessage(Outbound.class, out -> {
          if (out.to().equals(selfId)) {
            if (replica != null) replica.tell(out.message()); // not attached yet: lost, like any message
          } else {
            routes.send(out.to(), out.message());
          }
          return Behaviors.same();
        })
        .onMessage(Envelope.class, env -> {
          if (inbound != null) {
            inbound.tell(env); // from the large-message inbox of a gateway made without one: the replica checks
            return Behaviors.same();
          }
          Member claimed = members.current().byId(env.from()).orElse(null);
          Address from = env.fromGateway().path().address();
          if (claimed == null || !sameEndpoint(claimed, from) || !acceptable(env.message())) {
            ctx.getLog().warn("dropping a message from {} at {}: not a configured member", env.from(), from);
          } else if (routes.table().cut().contains(env.from())) {
            ctx.getLog().debug("fault injection: dropping {} from {}", env.message(), env.from());
          } else if (replica != null) {
            replica.tell(env.message());
          }
          return Behaviors.same();
        })
        .onMessage(MembersChanged.class, changed -> {
          addressPeers();
          return Behaviors.same();
        })
        .build();
  }

  /**
   * Routes to the replica (and large-message inbox) of every other member the configuration in force names, at its
   * configured Artery address. A ref resolved from a path without an incarnation reaches whichever incarnation
   * listens there, so a restarted peer needs nothing new; Artery connects on the first send and buffers a bounded
   * number of messages for a peer that is down (then drops them, like any lost message: Raft retries).
   */
  private void addressPeers() {
    Map<String, PeerRoutes.Route> found = new HashMap<>();
    ActorRefResolver resolver = ActorRefResolver.get(ctx.getSystem());
    String system = ctx.getSystem().name();
    for (Member m : members.current().all()) {
      if (m.id().equals(selfId)) continue;
      String at = "pekko://" + system + "@" + m.host() + ":" + m.arteryPort() + "/user/";
      found.put(m.id(), new PeerRoutes.Route(resolver.resolveActorRef(at + REPLICA),
          resolver.resolveActorRef(at + TransportLimits.BULK_INBOX)));
    }
    PeerRoutes.Table t = routes.table();
    if (!found.keySet().equals(t.peers().keySet())) ctx.getLog().info("{}: Raft peers now {}", selfId, new java.util.TreeSet<>(found.keySet()));
    routes.publish(new PeerRoutes.Table(Map.copyOf(found), t.cut(), self, t.delayNanos()));
  }
  }

  static boolean sameEndpoint(Member m, Address a) {
    return a.getHost().map(m.host()::equals).orElse(false) && a.getPort().map(p -> p == m.arteryPort()).orElse(false);
  }
}

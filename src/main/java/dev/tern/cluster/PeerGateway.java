package dev.tern.cluster;

import dev.tern.CborSerializable;
import dev.tern.raft.RaftMessage;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * Carries Raft messages between nodes. Each node runs one gateway, registered with the Receptionist; the
 * gateways find each other there and map every peer gateway to a member id by its Artery address. Inbound
 * envelopes are delivered to the local Raft replica only if they come from the configured address of the
 * member they claim to be from: anything else (a stray node, a misconfigured one) is dropped.
 */
public final class PeerGateway {
  private PeerGateway() {}

  public static final ServiceKey<Envelope> KEY = ServiceKey.create(Envelope.class, "tern-raft-gateway");

  public interface Command {}

  /** From the local replica or front: send {@code message} to the replica of node {@code to}. */
  public record Outbound(String to, RaftMessage message) implements Command {}

  /** Between gateways. */
  public record Envelope(String from, ActorRef<Envelope> fromGateway, RaftMessage message)
      implements Command, CborSerializable {}

  private record PeersChanged(Receptionist.Listing listing) implements Command {}

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

  /** Gives the gateway the local replica, which needs the gateway's ref to be created first. */
  public record Attach(ActorRef<RaftMessage> replica) implements Command {}

  /** Messages a peer may send us: Raft RPCs, and proposals and reads forwarded to the leader. */
  private static boolean acceptable(RaftMessage m) {
    return m instanceof RaftMessage.PeerMessage || m instanceof RaftMessage.Propose || m instanceof RaftMessage.ReadIndex;
  }

  public static Behavior<Command> create(String selfId, Members members, boolean faultInjection) {
    return Behaviors.setup(ctx -> {
      ActorRef<Envelope> self = ctx.getSelf().narrow();
      ctx.getSystem().receptionist().tell(Receptionist.register(KEY, self));
      ActorRef<Receptionist.Listing> adapter = ctx.messageAdapter(Receptionist.Listing.class, PeersChanged::new);
      ctx.getSystem().receptionist().tell(Receptionist.subscribe(KEY, adapter));
      return new Gateway(ctx, selfId, members, faultInjection, self).running(null, Map.of(), Set.of());
    });
  }

  private record Gateway(
      ActorContext<Command> ctx, String selfId, Members members, boolean faultInjection, ActorRef<Envelope> self) {

  private Behavior<Command> running(ActorRef<RaftMessage> replica, Map<String, ActorRef<Envelope>> peers, Set<String> cut) {
    return Behaviors.receive(Command.class)
        .onMessage(Attach.class, a -> running(a.replica(), peers, cut))
        .onMessage(Cut.class, c -> {
          if (!faultInjection) {
            ctx.getLog().warn("ignoring a fault-injection request: tern.testing.fault-injection is off");
            if (c.replyTo() != null) c.replyTo().tell(new CutState(Set.of(), false));
            return Behaviors.same();
          }
          ctx.getLog().warn("{}: fault injection: cutting Raft traffic with {}", selfId, c.nodes());
          Set<String> now = Set.copyOf(c.nodes());
          if (c.replyTo() != null) c.replyTo().tell(new CutState(now, true));
          return running(replica, peers, now);
        })
        .onMessage(Outbound.class, out -> {
          if (out.to().equals(selfId)) {
            if (replica == null) return Behaviors.same(); // not attached yet: lost, like any message
            replica.tell(out.message());
            return Behaviors.same();
          }
          ActorRef<Envelope> peer = cut.contains(out.to()) ? null : peers.get(out.to());
          if (peer == null) {
            ctx.getLog().debug("no route to {} yet, dropping {}", out.to(), out.message());
          } else {
            peer.tell(new Envelope(selfId, self, out.message()));
          }
          return Behaviors.same();
        })
        .onMessage(Envelope.class, env -> {
          Member claimed = members.byId(env.from()).orElse(null);
          Address from = env.fromGateway().path().address();
          if (claimed == null || !sameEndpoint(claimed, from) || !acceptable(env.message())) {
            ctx.getLog().warn("dropping a message from {} at {}: not a configured member", env.from(), from);
          } else if (cut.contains(env.from())) {
            ctx.getLog().debug("fault injection: dropping {} from {}", env.message(), env.from());
          } else if (replica != null) {
            replica.tell(env.message());
          }
          return Behaviors.same();
        })
        .onMessage(PeersChanged.class, changed -> {
          Map<String, ActorRef<Envelope>> routes = new HashMap<>();
          Set<ActorRef<Envelope>> listed = changed.listing().getServiceInstances(KEY);
          for (ActorRef<Envelope> ref : listed) {
            Address a = ref.path().address();
            if (!a.hasGlobalScope()) continue; // ourselves
            members.byArteryAddress(a.getHost().orElse(""), (Integer) a.getPort().orElse(-1))
                .ifPresentOrElse(
                    m -> routes.put(m.id(), ref),
                    () -> ctx.getLog().warn("ignoring a Tern gateway at {}: not a configured member", a));
          }
          if (!routes.keySet().equals(peers.keySet())) ctx.getLog().info("{}: reachable peers now {}", selfId, routes.keySet());
          return running(replica, Map.copyOf(routes), cut);
        })
        .build();
  }
  }

  private static boolean sameEndpoint(Member m, Address a) {
    return a.getHost().map(m.host()::equals).orElse(false) && a.getPort().map(p -> p == m.arteryPort()).orElse(false);
  }
}

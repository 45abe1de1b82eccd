package dev.tern.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.tern.raft.RaftMessage;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The replica's inbound check ({@link PeerInbound}) and direct sends ({@link PeerRoutes}), between two
 * ActorSystems over Artery on loopback: an envelope reaches the replica only from the address of the member it
 * claims to be, and fault injection's cut applies on both sides.
 */
class PeerInboundTest {
  private static Config remote() {
    return ConfigFactory.parseString("""
        pekko.actor.provider = remote
        pekko.remote.artery.canonical.hostname = "127.0.0.1"
        pekko.remote.artery.canonical.port = 0
        """).withFallback(ConfigFactory.load());
  }

  private static final ActorTestKit a = ActorTestKit.create("a", remote());
  private static final ActorTestKit b = ActorTestKit.create("b", remote());
  /** n1 is system a, n2 system b, n3 an address nobody listens on. */
  private static final Members MEMBERS = Members.parse("n1=127.0.0.1:" + port(a) + ":1,n2=127.0.0.1:" + port(b)
      + ":2,n3=127.0.0.1:1:3");
  private static final RaftMessage.RequestVote VOTE = new RaftMessage.RequestVote(1, "n2", 0, 0);

  @AfterAll
  static void shutdown() {
    a.shutdownTestKit();
    b.shutdownTestKit();
  }

  private static int port(ActorTestKit kit) {
    return (Integer) kit.system().address().getPort().orElseThrow();
  }

  /** A replica standing in: forwards what it gets to a probe. */
  private static Behavior<RaftMessage> forwardTo(TestProbe<RaftMessage> probe) {
    return Behaviors.receive(RaftMessage.class).onAnyMessage(m -> {
      probe.getRef().tell(m);
      return Behaviors.same();
    }).build();
  }

  /** {@code ref} of system {@code owner} as system {@code viewer} sees it: with its host and port. */
  private static <T> ActorRef<T> seenFrom(ActorTestKit owner, ActorTestKit viewer, ActorRef<T> ref) {
    String path = ActorRefResolver.get(owner.system()).toSerializationFormat(ref);
    return ActorRefResolver.get(viewer.system()).resolveActorRef(path);
  }

  @Test
  void deliversEnvelopesOnlyFromTheClaimedMembersAddress() {
    TestProbe<RaftMessage> replica = a.createTestProbe();
    MemberDirectory directory = MemberDirectory.fixed(MEMBERS);
    ActorRef<Object> inbound = a.spawn(PeerGateway.inbound("n1", directory,
        new PeerRoutes("n1", PeerGateway.DEFAULT_LIMITS), forwardTo(replica)));
    ActorRef<PeerGateway.Envelope> fromB = seenFrom(b, a, b.<PeerGateway.Envelope>createTestProbe().getRef());

    inbound.tell(new PeerGateway.Envelope("n2", fromB, VOTE));
    assertEquals(VOTE, replica.receiveMessage()); // n2's own address
    inbound.tell(new PeerGateway.Envelope("n3", fromB, VOTE)); // b is not n3
    inbound.tell(new PeerGateway.Envelope("n9", fromB, VOTE)); // not a member
    inbound.tell(new PeerGateway.Envelope("n2", a.<PeerGateway.Envelope>createTestProbe().getRef(), VOTE)); // local
    replica.expectNoMessage(Duration.ofMillis(200));
    inbound.tell(VOTE); // the node's own messages pass untouched
    assertEquals(VOTE, replica.receiveMessage());
    assertEquals(3, directory.droppedFromNonMembers(), "the three strays are counted (tern_peer_messages_dropped_total)");
  }

  /**
   * Incarnations (docs/storage.md, section 5): a member that comes back with another data directory than the one the
   * configuration publishes is ignored and counted; an unpublished sender, and this node itself while unpublished,
   * are reported to the replica so that a leader publishes them.
   */
  @Test
  void ignoresAMemberOfAnotherIncarnationAndReportsUnpublishedOnes() {
    MemberDirectory directory = new MemberDirectory(MEMBERS);
    directory.update(MEMBERS.toConfiguration().withIncarnation("n2", 5));
    TestProbe<RaftMessage> replica = a.createTestProbe();
    ActorRef<Object> inbound = a.spawn(PeerGateway.inbound("n1", directory,
        new PeerRoutes("n1", 11, PeerGateway.DEFAULT_LIMITS), forwardTo(replica)));
    ActorRef<PeerGateway.Envelope> fromB = seenFrom(b, a, b.<PeerGateway.Envelope>createTestProbe().getRef());

    inbound.tell(new PeerGateway.Envelope("n2", 6, fromB, VOTE)); // n2 lost its state: another incarnation
    inbound.tell(new PeerGateway.Envelope("n2", 5, fromB, VOTE));
    assertEquals(VOTE, replica.receiveMessage(), "the incarnation the configuration knows");
    assertEquals(new RaftMessage.ObservedIncarnation("n1", 11), replica.receiveMessage(), "n1 itself is unpublished");
    assertEquals(1, directory.ignoredFromLostMembers());

    directory.update(MEMBERS.toConfiguration().withIncarnation("n1", 11)); // n2 removed and added again: unpublished
    inbound.tell(new PeerGateway.Envelope("n2", 6, fromB, VOTE));
    assertEquals(VOTE, replica.receiveMessage());
    assertEquals(new RaftMessage.ObservedIncarnation("n2", 6), replica.receiveMessage());
    // Delivered again. Whether it is reported again depends on the 100 ms throttle, a clock: not checked here.
    inbound.tell(new PeerGateway.Envelope("n2", 6, fromB, VOTE));
    assertEquals(VOTE, replica.receiveMessage());
    assertEquals(1, directory.ignoredFromLostMembers());
  }

  /**
   * Over Artery both ways through routes no gateway owns (a live gateway republishes its table when the
   * receptionist's listing comes, which would race with a table the test publishes).
   */
  @Test
  void sendsAndReceivesOverArteryThroughTheRoutes() {
    TestProbe<RaftMessage> replicaA = a.createTestProbe();
    PeerRoutes routesA = new PeerRoutes("n1", PeerGateway.DEFAULT_LIMITS);
    ActorRef<Object> inboundA = a.spawn(PeerGateway.inbound("n1", MEMBERS, routesA, forwardTo(replicaA)));
    TestProbe<PeerGateway.Envelope> replicaB = b.createTestProbe();
    ActorRef<PeerGateway.Envelope> aSeenFromB = seenFrom(a, b, inboundA.<PeerGateway.Envelope>narrow());
    ActorRef<PeerGateway.Envelope> bSeenFromA = seenFrom(b, a, replicaB.getRef());
    PeerRoutes routesB = new PeerRoutes("n2", PeerGateway.DEFAULT_LIMITS);
    // Each side's origin is a ref of its own system: the receiver checks its address.
    routesB.publish(new PeerRoutes.Table(Map.of("n1", new PeerRoutes.Route(aSeenFromB, aSeenFromB)), Set.of(),
        replicaB.getRef()));
    Map<String, PeerRoutes.Route> toB = Map.of("n2", new PeerRoutes.Route(bSeenFromA, bSeenFromA));
    routesA.publish(new PeerRoutes.Table(toB, Set.of(), inboundA.narrow()));

    routesB.send("n1", VOTE);
    assertEquals(VOTE, replicaA.receiveMessage());
    routesA.send("n2", VOTE);
    PeerGateway.Envelope got = replicaB.receiveMessage();
    assertEquals(VOTE, got.message());
    assertEquals("n1", got.from());

    routesA.publish(new PeerRoutes.Table(toB, Set.of("n2"), inboundA.narrow()));
    routesA.send("n2", VOTE); // cut: not sent
    routesA.send("n3", VOTE); // no route: not sent
    routesB.send("n1", VOTE); // cut: sent, and dropped by a's replica, which reads the same table
    replicaB.expectNoMessage(Duration.ofMillis(200));
    replicaA.expectNoMessage(Duration.ofMillis(200));
  }

  /**
   * A fault-injection delay holds every message back at least that long and keeps their order (a slow link, not a
   * lossy one); lifting it sends at once again.
   */
  @Test
  void aDelayHoldsMessagesBackInOrder() {
    TestProbe<PeerGateway.Envelope> peer = a.createTestProbe();
    PeerRoutes routes = new PeerRoutes("n1", PeerGateway.DEFAULT_LIMITS);
    Map<String, PeerRoutes.Route> toPeer = Map.of("n2", new PeerRoutes.Route(peer.getRef(), peer.getRef()));
    long delay = Duration.ofMillis(40).toNanos();
    routes.publish(new PeerRoutes.Table(toPeer, Set.of(), peer.getRef(), delay));
    List<RaftMessage> sent = new java.util.ArrayList<>();
    long start = System.nanoTime();
    for (int i = 1; i <= 200; i++) {
      RaftMessage m = new RaftMessage.RequestVote(i, "n1", 0, 0);
      sent.add(m);
      routes.send("n2", m);
    }
    PeerGateway.Envelope first = peer.receiveMessage(Duration.ofSeconds(5));
    assertTrue(System.nanoTime() - start >= delay, "sent before its delay was up");
    List<RaftMessage> got = new java.util.ArrayList<>(List.of(first.message()));
    for (int i = 1; i < 200; i++) got.add(peer.receiveMessage(Duration.ofSeconds(5)).message());
    assertEquals(sent, got);

    routes.publish(new PeerRoutes.Table(toPeer, Set.of(), peer.getRef()));
    routes.send("n2", VOTE);
    assertEquals(VOTE, peer.receiveMessage(Duration.ofSeconds(5)).message());
    routes.close();
  }

  /** The gateway's Cut (fault injection) reaches both the routes and the replica's inbound check. */
  @Test
  void aCutFromTheGatewayStopsBothDirections() {
    TestProbe<RaftMessage> replicaA = a.createTestProbe();
    PeerRoutes routesA = new PeerRoutes("n1", PeerGateway.DEFAULT_LIMITS);
    ActorRef<Object> inboundA = a.spawn(PeerGateway.inbound("n1", MEMBERS, routesA, forwardTo(replicaA)));
    ActorRef<PeerGateway.Command> gatewayA = a.spawn(PeerGateway.create("n1", MEMBERS, true, routesA, inboundA));
    PeerGateway.Envelope fromN2 = new PeerGateway.Envelope("n2",
        seenFrom(b, a, b.<PeerGateway.Envelope>createTestProbe().getRef()), VOTE);
    inboundA.tell(fromN2);
    assertEquals(VOTE, replicaA.receiveMessage());

    TestProbe<PeerGateway.CutState> cutState = a.createTestProbe();
    gatewayA.tell(new PeerGateway.Cut(Set.of("n2"), cutState.getRef()));
    assertEquals(Set.of("n2"), cutState.receiveMessage().nodes());
    assertEquals(Set.of("n2"), routesA.table().cut()); // outbound: the routes send nothing to n2
    inboundA.tell(fromN2); // inbound: the replica drops it (it reads the cut from the same table)
    replicaA.expectNoMessage(Duration.ofMillis(200));

    gatewayA.tell(new PeerGateway.Cut(Set.of(), cutState.getRef()));
    assertEquals(Set.of(), cutState.receiveMessage().nodes());
    assertEquals(Set.of(), routesA.table().cut());
    inboundA.tell(fromN2);
    assertEquals(VOTE, replicaA.receiveMessage());
  }
}

package dev.tern.cluster;

import com.typesafe.config.ConfigFactory;
import dev.tern.raft.RaftMessage;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** The gateway's filters, on a local ActorSystem (the end-to-end test covers real peers over Artery). */
class PeerGatewayTest {
  private static final ActorTestKit testKit =
      ActorTestKit.create(ConfigFactory.parseString("pekko.actor.provider = local").withFallback(ConfigFactory.load()));
  private static final Members MEMBERS =
      Members.parse("n1=127.0.0.1:7101:8101,n2=127.0.0.1:7102:8102,n3=127.0.0.1:7103:8103");

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private static final RaftMessage.RequestVote VOTE = new RaftMessage.RequestVote(1, "n2", 0, 0);

  @Test
  void dropsEnvelopesNotFromTheClaimedMembersAddress() {
    TestProbe<RaftMessage> replica = testKit.createTestProbe();
    ActorRef<PeerGateway.Command> gateway = testKit.spawn(PeerGateway.create("n1", MEMBERS, false));
    gateway.tell(new PeerGateway.Attach(replica.getRef()));
    TestProbe<PeerGateway.Envelope> impostor = testKit.createTestProbe(); // a local address, not n2's
    gateway.tell(new PeerGateway.Envelope("n2", impostor.getRef(), VOTE));
    gateway.tell(new PeerGateway.Envelope("n9", impostor.getRef(), VOTE));
    replica.expectNoMessage(Duration.ofMillis(200));
  }

  @Test
  void deliversMessagesAddressedToItselfToItsReplica() {
    TestProbe<RaftMessage> replica = testKit.createTestProbe();
    ActorRef<PeerGateway.Command> gateway = testKit.spawn(PeerGateway.create("n1", MEMBERS, false));
    gateway.tell(new PeerGateway.Attach(replica.getRef()));
    gateway.tell(new PeerGateway.Outbound("n1", VOTE));
    replica.expectMessage(VOTE);
  }

  @Test
  void faultInjectionIsIgnoredUnlessEnabled() {
    TestProbe<RaftMessage> replica = testKit.createTestProbe();
    ActorRef<PeerGateway.Command> off = testKit.spawn(PeerGateway.create("n1", MEMBERS, false));
    off.tell(new PeerGateway.Attach(replica.getRef()));
    off.tell(new PeerGateway.Cut(Set.of("n1")));
    off.tell(new PeerGateway.Outbound("n1", VOTE));
    replica.expectMessage(VOTE);

    ActorRef<PeerGateway.Command> on = testKit.spawn(PeerGateway.create("n1", MEMBERS, true));
    on.tell(new PeerGateway.Attach(replica.getRef()));
    on.tell(new PeerGateway.Cut(Set.of("n2")));
    on.tell(new PeerGateway.Outbound("n1", VOTE));
    replica.expectMessage(VOTE); // only the named peers are cut
    List.of("n2").forEach(id -> on.tell(new PeerGateway.Outbound(id, VOTE)));
    replica.expectNoMessage(Duration.ofMillis(100));
  }
}

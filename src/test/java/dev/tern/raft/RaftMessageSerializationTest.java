package dev.tern.raft;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.ConfigFactory;
import dev.tern.raft.RaftMessage.AppendEntries;
import dev.tern.raft.RaftMessage.AppendEntriesResponse;
import dev.tern.raft.RaftMessage.Propose;
import dev.tern.raft.RaftMessage.ProposeResponse;
import dev.tern.raft.RaftMessage.RequestVote;
import dev.tern.raft.RaftMessage.RequestVoteResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializers;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Every message that crosses the network round-trips through the serializer that application.conf binds
 * (Jackson CBOR), never Java serialization.
 */
class RaftMessageSerializationTest {
  // ActorTestKit does not read application.conf by itself (STACK.md, gotcha 4): give it ours.
  private static final ActorTestKit testKit =
      ActorTestKit.create(ConfigFactory.parseResources("application.conf").withFallback(ConfigFactory.load()).resolve());

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private static Object roundTrip(Object message) {
    Serialization serialization = SerializationExtension.get(Adapter.toClassic(testKit.system()));
    var serializer = serialization.findSerializerFor(message);
    assertEquals("org.apache.pekko.serialization.jackson.JacksonCborSerializer", serializer.getClass().getName());
    byte[] bytes = serialization.serialize(message).get(); // sets the transport information ActorRefs need
    return serialization.deserialize(bytes, serializer.identifier(), Serializers.manifestFor(serializer, message)).get();
  }

  @Test
  void peerMessagesRoundTripAsCbor() {
    List<LogEntry> entries = List.of(LogEntry.noop(4, 2), LogEntry.command(5, 2, "put a".getBytes(StandardCharsets.UTF_8)));
    List<RaftMessage.PeerMessage> messages = List.of(
        new RequestVote(3, "n1", 7, 2),
        new RequestVoteResponse(3, "n2", true),
        new AppendEntries(2, "n1", 3, 1, entries, 3),
        new AppendEntries(2, "n1", 5, 2, List.of(), 5),
        AppendEntriesResponse.success(2, "n3", 5),
        AppendEntriesResponse.reject(2, "n3", 9, 6, 1));
    for (RaftMessage.PeerMessage m : messages) assertEquals(m, roundTrip(m));
  }

  @Test
  void installSnapshotAndItsAnswerRoundTripAsCborInsideAnEnvelope() {
    TestProbe<dev.tern.cluster.PeerGateway.Envelope> gateway = testKit.createTestProbe();
    byte[] piece = new byte[64 * 1024];
    for (int i = 0; i < piece.length; i++) piece[i] = (byte) (i * 31);
    var install = new RaftMessage.InstallSnapshot(4, "n1", 1200, 3, List.of("n1", "n2", "n3"), 65536, piece, false);
    var back = (RaftMessage.InstallSnapshot) ((dev.tern.cluster.PeerGateway.Envelope) roundTrip(
        new dev.tern.cluster.PeerGateway.Envelope("n1", gateway.getRef(), install))).message();
    assertEquals(install.meta(), back.meta());
    assertEquals(install.offset(), back.offset());
    assertEquals(install.done(), back.done());
    assertEquals(install.term(), back.term());
    assertArrayEquals(piece, back.data());
    var answer = new RaftMessage.InstallSnapshotResponse(4, "n2", 1200, 131072, true);
    assertEquals(answer, roundTrip(answer));
  }

  /** The peer gateway carries them in an envelope whose field is typed as the interface. */
  @Test
  void messagesRoundTripInsideAGatewayEnvelope() {
    TestProbe<dev.tern.cluster.PeerGateway.Envelope> gateway = testKit.createTestProbe();
    RaftMessage.PeerMessage vote = new RequestVote(3, "n1", 7, 2);
    var back = (dev.tern.cluster.PeerGateway.Envelope) roundTrip(new dev.tern.cluster.PeerGateway.Envelope("n1", gateway.getRef(), vote));
    assertEquals(vote, back.message());
    assertEquals(gateway.getRef(), back.fromGateway());
    TestProbe<RaftMessage.ReadIndexResponse> reader = testKit.createTestProbe();
    var read = (dev.tern.cluster.PeerGateway.Envelope) roundTrip(
        new dev.tern.cluster.PeerGateway.Envelope("n1", gateway.getRef(), new RaftMessage.ReadIndex(reader.getRef())));
    assertEquals(new RaftMessage.ReadIndex(reader.getRef()), read.message());
    for (RaftMessage.ReadIndexResponse r : List.of(new RaftMessage.ReadIndexResponse.Ok(4), new RaftMessage.ReadIndexResponse.NotLeader("n3"))) {
      assertEquals(r, roundTrip(r));
    }
  }

  @Test
  void proposalsAndTheirAnswersRoundTripAsCbor() {
    TestProbe<ProposeResponse> probe = testKit.createTestProbe();
    byte[] command = {1, 2, 3, 0, -1};
    Propose back = (Propose) roundTrip(new Propose(command, probe.getRef()));
    assertArrayEquals(command, back.command());
    assertEquals(probe.getRef(), back.replyTo());
    for (ProposeResponse r : List.of(new ProposeResponse.Accepted(9, 3), new ProposeResponse.NotLeader("n2"),
        new ProposeResponse.NotLeader(null))) {
      assertEquals(r, roundTrip(r));
    }
  }
}

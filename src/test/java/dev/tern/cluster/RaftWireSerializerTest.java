package dev.tern.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.ConfigFactory;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.cluster.PeerGateway.Envelope;
import dev.tern.raft.Configuration;
import dev.tern.raft.LogEntry;
import dev.tern.raft.RaftMessage;
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
 * ({@link RaftWireSerializer}), never Java serialization: through byte arrays, and through the direct buffers
 * Artery writes into and reads from.
 */
class RaftWireSerializerTest {
  // ActorTestKit does not read application.conf by itself (STACK.md, gotcha 4): give it ours.
  private static final ActorTestKit testKit =
      ActorTestKit.create(ConfigFactory.parseResources("application.conf").withFallback(ConfigFactory.load()).resolve());

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private static final TestProbe<Envelope> gateway = testKit.createTestProbe();

  private static Object roundTrip(Object message) {
    Serialization serialization = SerializationExtension.get(Adapter.toClassic(testKit.system()));
    var serializer = serialization.findSerializerFor(message);
    assertEquals(RaftWireSerializer.class, serializer.getClass());
    String manifest = Serializers.manifestFor(serializer, message);
    byte[] bytes = serialization.serialize(message).get(); // sets the transport information ActorRefs need
    Object fromArray = serialization.deserialize(bytes, serializer.identifier(), manifest).get();
    // Artery's path: straight into and out of a direct buffer.
    RaftWireSerializer wire = (RaftWireSerializer) serializer;
    java.nio.ByteBuffer direct = java.nio.ByteBuffer.allocateDirect(bytes.length + 64);
    wire.toBinary(message, direct);
    assertEquals(bytes.length, direct.position());
    direct.flip();
    try {
      Object fromBuffer = wire.fromBinary(direct, manifest);
      assertEquals(0, direct.remaining());
      assertArrayEquals(wire.toBinary(fromArray), wire.toBinary(fromBuffer)); // the same message both ways
      assertArrayEquals(bytes, wire.toBinary(fromArray)); // and nothing lost on the way
    } catch (java.io.NotSerializableException e) {
      throw new AssertionError(e);
    }
    return fromArray;
  }

  /** Inside the envelope the gateway sends, as every peer message travels. */
  private static RaftMessage inEnvelope(RaftMessage m) {
    Envelope back = (Envelope) roundTrip(new Envelope("n1", 0x9d2f4b1c0e7a6358L, gateway.getRef(), m));
    assertEquals("n1", back.from());
    assertEquals(0x9d2f4b1c0e7a6358L, back.incarnation());
    assertEquals(gateway.getRef(), back.fromGateway());
    return back.message();
  }

  @Test
  void peerMessagesRoundTrip() {
    List<LogEntry> entries = List.of(LogEntry.noop(4, 2), LogEntry.command(5, 2, "put a".getBytes(StandardCharsets.UTF_8)));
    List<RaftMessage.PeerMessage> messages = List.of(
        new RequestVote(3, "n1", 7, 2),
        new RequestVote(4, "n1", 7, 2, true),
        new RequestVote(5, "n1", 7, 2, false, true), // a leadership transfer's candidate (3.10)
        new RaftMessage.TimeoutNow(6, "n1"),
        new RequestVoteResponse(3, "n2", true),
        new RequestVoteResponse(4, "n2", false, true),
        new AppendEntries(2, "n1", 3, 1, entries, 3),
        new AppendEntries(2, "n1", 5, 2, List.of(), 5, 17),
        AppendEntriesResponse.success(2, "n3", 5).forRound(9),
        AppendEntriesResponse.reject(2, "n3", 9, 6, 1),
        new RaftMessage.InstallSnapshotResponse(4, "n2", 1200, 131072, true),
        new RaftMessage.InstallSnapshotResponse(4, "n2", 1200, 0, false));
    for (RaftMessage.PeerMessage m : messages) assertEquals(m, inEnvelope(m));
  }

  @Test
  void installSnapshotRoundTrips() {
    byte[] piece = new byte[64 * 1024];
    for (int i = 0; i < piece.length; i++) piece[i] = (byte) (i * 31);
    var install = new RaftMessage.InstallSnapshot(4, "n1", 1200, 3, List.of("n1", "n2", "n3"), 65536, piece, false);
    var back = (RaftMessage.InstallSnapshot) inEnvelope(install);
    assertEquals(install.meta(), back.meta());
    assertEquals(install.offset(), back.offset());
    assertEquals(install.done(), back.done());
    assertEquals(install.term(), back.term());
    assertArrayEquals(piece, back.data());
  }

  // Membership changes (dissertation chapter 4): a snapshot carries its configuration with addresses and learners,
  // and configuration entries travel in AppendEntries like any other.
  @Test
  void configurationsRoundTripInSnapshotsAndEntries() {
    Configuration config = new Configuration(List.of(new Configuration.Server("n1", "10.0.0.1", 7101, 8101, true),
        new Configuration.Server("n4", "host-4", 7104, 8104, false)));
    var install = new RaftMessage.InstallSnapshot(4, "n1", 1200, 3, config, 0, new byte[] {1, 2}, true);
    assertEquals(install.meta(), ((RaftMessage.InstallSnapshot) inEnvelope(install)).meta());
    var append = new AppendEntries(4, "n1", 9, 3, List.of(LogEntry.config(10, 4, config)), 9, 0);
    var back = (AppendEntries) inEnvelope(append);
    assertEquals(append, back);
    assertEquals(config, back.entries().get(0).configuration());
  }

  @Test
  void readsAndTheirAnswersRoundTrip() {
    TestProbe<RaftMessage.ReadIndexResponse> reader = testKit.createTestProbe();
    assertEquals(new RaftMessage.ReadIndex(reader.getRef(), 77), inEnvelope(new RaftMessage.ReadIndex(reader.getRef(), 77)));
    for (RaftMessage.ReadIndexResponse r : List.of(new RaftMessage.ReadIndexResponse.Ok(4, 12),
        new RaftMessage.ReadIndexResponse.NotLeader("n3", 13), new RaftMessage.ReadIndexResponse.NotLeader(null, 14))) {
      assertEquals(r, roundTrip(r));
    }
  }

  @Test
  void aSenderWithoutNameOrRefAndEmptyPayloadsRoundTrip() {
    Envelope back = (Envelope) roundTrip(new Envelope(null, null, new RequestVote(1, null, 0, 0)));
    assertEquals(null, back.from());
    assertEquals(null, back.fromGateway());
    assertEquals(new RequestVote(1, null, 0, 0), back.message());
  }

  @Test
  void bytesThatAreNotAMessageAreRefusedCleanly() {
    RaftWireSerializer wire = (RaftWireSerializer) SerializationExtension.get(Adapter.toClassic(testKit.system()))
        .serializerByIdentity().apply(RaftWireSerializer.IDENTIFIER);
    byte[] good = wire.toBinary(new Envelope("n1", gateway.getRef(),
        new AppendEntries(2, "n1", 3, 1, List.of(LogEntry.command(4, 2, new byte[100])), 3)));
    // Cut short anywhere, or with a bad tag or manifest: NotSerializableException, never a hang or an OOM.
    for (int cut = 0; cut < good.length; cut += 7) {
      byte[] part = java.util.Arrays.copyOf(good, cut);
      assertThrows(java.io.NotSerializableException.class, () -> wire.fromBinary(part, "E"), "cut at " + cut);
    }
    byte[] huge = good.clone();
    int countAt = good.length - (100 + 4 + 1 + 16 + 4); // the entry count
    huge[countAt] = 0x7f;
    assertThrows(java.io.NotSerializableException.class, () -> wire.fromBinary(huge, "E"));
    assertThrows(java.io.NotSerializableException.class, () -> wire.fromBinary(good, "?"));
    byte[] otherVersion = good.clone();
    otherVersion[0] = (byte) (RaftWireSerializer.VERSION + 1);
    var refused = assertThrows(java.io.NotSerializableException.class, () -> wire.fromBinary(otherVersion, "E"));
    assertTrue(refused.getMessage().contains("wire format version " + (RaftWireSerializer.VERSION + 1)),
        refused.getMessage());
  }

  @Test
  void proposalsAndTheirAnswersRoundTrip() {
    TestProbe<ProposeResponse> probe = testKit.createTestProbe();
    byte[] command = {1, 2, 3, 0, -1};
    Propose back = (Propose) inEnvelope(new Propose(command, probe.getRef(), 41));
    assertArrayEquals(command, back.command());
    assertEquals(probe.getRef(), back.replyTo());
    assertEquals(41, back.requestId());
    for (ProposeResponse r : List.of(new ProposeResponse.Accepted(9, 3, 5), new ProposeResponse.NotLeader("n2", 6),
        new ProposeResponse.NotLeader(null))) {
      assertEquals(r, roundTrip(r));
    }
  }

  // Membership changes forwarded to the leader, and their answers (dissertation chapter 4).
  @Test
  void membershipChangesAndTheirAnswersRoundTrip() {
    TestProbe<RaftMessage.ChangeMembershipResponse> probe = testKit.createTestProbe();
    for (RaftMessage.Change change : List.of(
        new RaftMessage.Change.AddLearner(new Configuration.Server("n4", "10.0.0.4", 7104, 8104, false)),
        new RaftMessage.Change.Remove("n2"))) {
      var back = (RaftMessage.ChangeMembership) inEnvelope(new RaftMessage.ChangeMembership(change, probe.getRef()));
      assertEquals(change, back.change());
      assertEquals(probe.getRef(), back.replyTo());
    }
    Configuration config = new Configuration(List.of(new Configuration.Server("n1", "h", 1, 2, true)));
    for (RaftMessage.ChangeMembershipResponse r : List.of(
        new RaftMessage.ChangeMembershipResponse.Done(config, 17),
        new RaftMessage.ChangeMembershipResponse.NotLeader("n3"),
        new RaftMessage.ChangeMembershipResponse.NotLeader(null),
        new RaftMessage.ChangeMembershipResponse.Failed(RaftMessage.ChangeMembershipResponse.Reason.LAST_VOTER, "why"))) {
      assertEquals(r, roundTrip(r));
    }
  }
}

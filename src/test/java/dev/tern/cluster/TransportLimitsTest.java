package dev.tern.cluster;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.tern.kv.KvCodec;
import dev.tern.kv.KvCommand;
import dev.tern.raft.LogEntry;
import dev.tern.raft.RaftMessage;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** Size limits against Artery's frames: the start-up check, the lane choice, and the size estimates. */
class TransportLimitsTest {
  // ActorTestKit does not read application.conf by itself (STACK.md, gotcha 4): give it ours.
  private static final ActorTestKit testKit =
      ActorTestKit.create(ConfigFactory.parseResources("application.conf").withFallback(ConfigFactory.load()).resolve());

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  private static Config shippedWith(String overrides) {
    return ConfigFactory.parseString(overrides)
        .withFallback(ConfigFactory.parseResources("application.conf"))
        .withFallback(ConfigFactory.defaultReference())
        .resolve();
  }

  @Test
  void theShippedSettingsFit() {
    assertDoesNotThrow(() -> TransportLimits.check(shippedWith("")));
  }

  @Test
  void a8MiBLimitFitsOnceTheLargeFrameIsRaisedWithIt() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> TransportLimits.check(shippedWith("tern.kv.max-value-bytes = 8MiB")));
    assertTrue(e.getMessage().contains("tern.kv.max-value-bytes")
        && e.getMessage().contains("pekko.remote.artery.advanced.maximum-large-frame-size")
        && e.getMessage().contains("at least 9MiB"), e.getMessage());
    assertDoesNotThrow(() -> TransportLimits.check(shippedWith(
        "tern.kv.max-value-bytes = 8MiB\npekko.remote.artery.advanced.maximum-large-frame-size = 9MiB")));
  }

  /** A transaction is one entry: its largest body must fit the large lane, as the largest value must. */
  @Test
  void theLargestTransactionMustFitTheLargeFrame() {
    String m = assertThrows(IllegalArgumentException.class,
        () -> TransportLimits.check(shippedWith("tern.txn.max-bytes = 4MiB"))).getMessage();
    assertTrue(m.contains("tern.txn.max-bytes") && m.contains("maximum-large-frame-size") && m.contains("at least 5MiB"), m);
    assertDoesNotThrow(() -> TransportLimits.check(shippedWith(
        "tern.txn.max-bytes = 4MiB\npekko.remote.artery.advanced.maximum-large-frame-size = 5MiB")));
  }

  @Test
  void batchesAndSnapshotPiecesMustFitTheOrdinaryFrame() {
    String batch = assertThrows(IllegalArgumentException.class,
        () -> TransportLimits.check(shippedWith("tern.raft.max-append-bytes = 512KiB"))).getMessage();
    assertTrue(batch.contains("tern.raft.max-append-bytes") && batch.contains("maximum-frame-size"), batch);
    String chunk = assertThrows(IllegalArgumentException.class,
        () -> TransportLimits.check(shippedWith("tern.raft.install-snapshot-chunk-bytes = 300KiB"))).getMessage();
    assertTrue(chunk.contains("install-snapshot-chunk-bytes") && chunk.contains("maximum-frame-size"), chunk);
  }

  @Test
  void theLargeLaneMustBeConfigured() {
    String m = assertThrows(IllegalArgumentException.class,
        () -> TransportLimits.check(shippedWith("pekko.remote.artery.large-message-destinations = []"))).getMessage();
    assertTrue(m.contains("large-message-destinations") && m.contains("/user/bulk"), m);
  }

  @Test
  void everyProblemIsNamedAtOnce() {
    String m = assertThrows(IllegalArgumentException.class, () -> TransportLimits.check(shippedWith(
        "tern.kv.max-value-bytes = 8MiB\ntern.raft.max-append-bytes = 512KiB"))).getMessage();
    assertTrue(m.contains("max-value-bytes") && m.contains("max-append-bytes"), m);
  }

  @Test
  void messagesGoOnTheLaneTheirSizeNeeds() {
    TransportLimits t = new TransportLimits(256 * 1024, 2 * 1024 * 1024);
    assertEquals(TransportLimits.Lane.ORDINARY, t.laneFor(append(100, 100)));
    assertEquals(TransportLimits.Lane.ORDINARY, t.laneFor(append(1, 128 * 1024)));
    assertEquals(TransportLimits.Lane.LARGE, t.laneFor(append(1, 300 * 1024)));
    assertEquals(TransportLimits.Lane.LARGE, t.laneFor(propose(1024 * 1024)));
    assertEquals(TransportLimits.Lane.TOO_LARGE, t.laneFor(append(1, 2 * 1024 * 1024)));
    assertEquals(TransportLimits.Lane.ORDINARY, t.laneFor(new RaftMessage.RequestVote(1, "n1", 0, 0)));
  }

  /** The estimates bound what the real serializer (RaftWireSerializer) writes, envelope included. */
  @Test
  void wireSizeEstimatesAreUpperBoundsOfTheSerializedEnvelope() throws Exception {
    Serialization serialization = SerializationExtension.get(Adapter.toClassic(testKit.system()));
    TestProbe<PeerGateway.Envelope> probe = testKit.createTestProbe();
    List<RaftMessage> messages = List.of(
        append(1, 0), append(1, 10), append(512, 200), append(3, 100_000), append(1, 1024 * 1024),
        appendOfCommand(1024 * 1024), propose(8 * 1024 * 1024),
        new RaftMessage.InstallSnapshot(5, "n1", 10, 4, List.of("n1", "n2", "n3"), 0, new byte[64 * 1024], false),
        new RaftMessage.AppendEntriesResponse(3, "n2", true, 10, 0, 0, 0, 7));
    for (RaftMessage m : messages) {
      PeerGateway.Envelope env = new PeerGateway.Envelope("n1", probe.getRef(), m);
      int actual = serialization.serialize(env).get().length;
      // Artery's own header (manifest, sender and recipient paths) is well under 1 KiB of the overhead.
      assertTrue(actual + 1024 <= TransportLimits.wireBytes(m),
          m + ": serialized " + actual + " bytes, estimated " + TransportLimits.wireBytes(m));
    }
  }

  /** The start-up check's allowance around a command's key and value covers what KvCodec adds. */
  @Test
  void theCommandOverheadBoundsTheEncodedCommand() {
    String id = "n1-abcdef01-" + Long.MAX_VALUE;
    String key = "k".repeat(1024);
    String value = "v".repeat(100_000);
    for (KvCommand c : List.of(new KvCommand.Put(id, key, value),
        new KvCommand.CompareAndSet(id, key, Long.MAX_VALUE, value))) {
      int encoded = KvCodec.encode(c).length;
      assertTrue(encoded <= key.length() + value.length() + TransportLimits.COMMAND_OVERHEAD, c.getClass() + ": " + encoded);
    }
  }

  private static RaftMessage.AppendEntries append(int entries, int bytesEach) {
    List<LogEntry> list = new ArrayList<>();
    for (int i = 1; i <= entries; i++) list.add(LogEntry.command(1_000_000_000L + i, 123_456, new byte[bytesEach]));
    return new RaftMessage.AppendEntries(123_456, "n1", 1_000_000_000L, 123_456, list, 999_999_999L, 77);
  }

  /** An entry holding a put of a 1 KiB key and a value of {@code valueBytes}, as the front encodes it. */
  private static RaftMessage.AppendEntries appendOfCommand(int valueBytes) {
    byte[] command = KvCodec.encode(new KvCommand.Put("n1-abcdef01-123456789", "k".repeat(1024), "v".repeat(valueBytes)));
    return new RaftMessage.AppendEntries(9, "n1", 10, 9, List.of(LogEntry.command(11, 9, command)), 10, 0);
  }

  private static RaftMessage.Propose propose(int bytes) {
    return new RaftMessage.Propose(new byte[bytes], testKit.<RaftMessage.ProposeResponse>createTestProbe().getRef());
  }
}

package dev.tern.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.raft.HardState;
import dev.tern.raft.LogEntry;
import dev.tern.raft.RaftStorage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataDirIdentityTest {
  @TempDir Path dir;

  @Test
  void clusterIdDependsOnTokenAndMemberIdsNotTheirOrder() {
    String id = DataDirIdentity.clusterId("prod", List.of("n1", "n2", "n3"));
    assertEquals(16, id.length());
    assertEquals(id, DataDirIdentity.clusterId("prod", List.of("n3", "n1", "n2")));
    assertNotEquals(id, DataDirIdentity.clusterId("staging", List.of("n1", "n2", "n3")));
    assertNotEquals(id, DataDirIdentity.clusterId("prod", List.of("n1", "n2", "n4")));
    assertNotEquals(id, DataDirIdentity.clusterId("prod", List.of("n1", "n2")));
  }

  @Test
  void writtenIdentityReadsBackAndLeavesNoTemporaryFile() {
    assertNull(DataDirIdentity.read(dir));
    DataDirIdentity identity = new DataDirIdentity("0123456789abcdef", "n2");
    identity.write(dir, true);
    assertEquals(identity, DataDirIdentity.read(dir));
    assertFalse(Files.exists(dir.resolve(DataDirIdentity.TMP)));
    assertEquals(identity, DataDirIdentity.check(dir, identity));
  }

  @Test
  void anotherNodesDirectoryIsRefusedNamingBoth() {
    new DataDirIdentity("c1", "n2").write(dir, false);
    var e = assertThrows(DataDirIdentity.MismatchException.class,
        () -> DataDirIdentity.check(dir, new DataDirIdentity("c1", "n3")));
    assertTrue(e.getMessage().contains("belongs to node n2"), e.getMessage());
    assertTrue(e.getMessage().contains("not to n3"), e.getMessage());
  }

  @Test
  void anotherClustersDirectoryIsRefusedNamingBoth() {
    new DataDirIdentity("aaaa", "n1").write(dir, false);
    var e = assertThrows(DataDirIdentity.MismatchException.class,
        () -> DataDirIdentity.check(dir, new DataDirIdentity("bbbb", "n1")));
    assertTrue(e.getMessage().contains("belongs to cluster aaaa"), e.getMessage());
    assertTrue(e.getMessage().contains("makes cluster bbbb"), e.getMessage());
  }

  @Test
  void aDamagedIdentityIsCorruption() throws Exception {
    new DataDirIdentity("aaaa", "n1").write(dir, false);
    Path f = dir.resolve(DataDirIdentity.FILE);
    Files.writeString(f, Files.readString(f).replace("node-id=n1", "node-id=n2"));
    var e = assertThrows(StorageCorruptedException.class, () -> DataDirIdentity.read(dir));
    assertTrue(e.getMessage().contains("checksum mismatch"), e.getMessage());
    Files.writeString(f, "format=1\ncluster-id=x\n");
    assertThrows(StorageCorruptedException.class, () -> DataDirIdentity.read(dir));
  }

  // An identity written before incarnations reads as NO_INCARNATION; a new one draws a random incarnation, written
  // as 16 hex digits and read back, and a bad one is corruption.
  @Test
  void incarnationsAreDrawnWrittenAndReadAndOlderFilesHaveNone() throws Exception {
    DataDirIdentity fresh = new DataDirIdentity("aaaa", "n1");
    assertNotEquals(DataDirIdentity.NO_INCARNATION, fresh.incarnation());
    assertNotEquals(fresh.incarnation(), new DataDirIdentity("aaaa", "n1").incarnation());
    assertTrue(fresh.render().contains("incarnation=" + DataDirIdentity.hex(fresh.incarnation()) + "\n"));
    assertEquals(16, DataDirIdentity.hex(-1L).length());
    assertEquals(fresh, DataDirIdentity.parse(dir, fresh.render()));

    DataDirIdentity older = new DataDirIdentity("aaaa", "n1", DataDirIdentity.NO_INCARNATION);
    assertFalse(older.render().contains("incarnation"));
    assertEquals(DataDirIdentity.NO_INCARNATION, DataDirIdentity.parse(dir, older.render()).incarnation());
    DataDirIdentity upgraded = older.withFreshIncarnation();
    assertEquals(older.clusterId(), upgraded.clusterId());
    assertNotEquals(DataDirIdentity.NO_INCARNATION, upgraded.incarnation());

    String bad = older.render().replace("crc32c", "incarnation=xyz\ncrc32c");
    String body = bad.substring(0, bad.indexOf("crc32c="));
    var crc = new java.util.zip.CRC32C();
    crc.update(body.getBytes(StandardCharsets.UTF_8));
    var e = assertThrows(StorageCorruptedException.class,
        () -> DataDirIdentity.parse(dir, body + "crc32c=" + String.format("%08x", crc.getValue()) + "\n"));
    assertTrue(e.getMessage().contains("bad incarnation"), e.getMessage());
  }

  @Test
  void aNewerFormatIsRefused() {
    String body = "format=2\ncluster-id=aaaa\nnode-id=n1\n";
    String text = new DataDirIdentity("aaaa", "n1").render(); // to learn the CRC of another body, re-render by hand
    var crc = new java.util.zip.CRC32C();
    crc.update(body.getBytes(StandardCharsets.UTF_8));
    var e = assertThrows(StorageCorruptedException.class,
        () -> DataDirIdentity.parse(dir, body + "crc32c=" + String.format("%08x", crc.getValue()) + "\n"));
    assertTrue(e.getMessage().contains("newer"), e.getMessage());
    assertTrue(text.startsWith("#"));
  }

  @Test
  void raftStateIsAHardStateASnapshotOrASegment() throws Exception {
    assertFalse(DataDirIdentity.holdsRaftState(dir.resolve("missing")));
    assertFalse(DataDirIdentity.holdsRaftState(dir));
    try (FileStorage s = FileStorage.open(dir, false, 1 << 20)) {
      s.load();
    }
    assertFalse(DataDirIdentity.holdsRaftState(dir), "an opened but unused directory holds no state");
    try (FileStorage s = FileStorage.open(dir, false, 1 << 20)) {
      s.load();
      long t = s.submit(new RaftStorage.Write(new HardState(1, "n1"), 0, List.of(LogEntry.noop(1, 1))));
      assertTrue(s.awaitDurable(t, 10, java.util.concurrent.TimeUnit.SECONDS));
    }
    assertTrue(DataDirIdentity.holdsRaftState(dir));
    Path other = dir.resolve("only-a-segment");
    Files.createDirectories(other.resolve("log"));
    Files.write(other.resolve("log").resolve(WalFormat.segmentName(1)), new byte[0]);
    assertTrue(DataDirIdentity.holdsRaftState(other));
  }
}

package dev.tern.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tern snapshot save} against fake nodes: what it keeps, what it refuses, how it fails over. */
class SnapshotSaveTest {
  @TempDir Path dir;

  @Test
  void anAnswerThatIsNotACompleteBackupIsRefusedAndNothingIsKept() throws Exception {
    try (FakeNode node = new FakeNode().respond(200, "{\"looks\":\"like json, long enough to be read as a header, but not a backup\"}")) {
      Path file = dir.resolve("b.tbak");
      Cli.Result r = Cli.run("snapshot", "save", file.toString(), "--node", node.url());
      assertEquals(ExitCodes.ERROR, r.code(), r.toString());
      assertTrue(r.err().contains("is incomplete") && r.err().contains("not a Tern backup"), r.err());
      assertFalse(Files.exists(file));
      assertFalse(Files.exists(dir.resolve("b.tbak.part")));
      assertEquals("/v1/snapshot", node.only().rawPath());
    }
  }

  @Test
  void a503MovesOnAndWhenEveryNodeRefusesItExitsUnavailable() throws Exception {
    try (FakeNode a = new FakeNode().respond(503, "{\"error\":\"unavailable\",\"reason\":\"no leader\"}");
        FakeNode b = new FakeNode().respond(503, "{\"error\":\"unavailable\",\"reason\":\"no quorum\"}")) {
      Cli.Result r = Cli.run("snapshot", "save", dir.resolve("b.tbak").toString(), "--endpoints", a.url() + "," + b.url());
      assertEquals(ExitCodes.UNAVAILABLE, r.code(), r.toString());
      assertTrue(r.err().contains("no quorum"), r.err());
      assertEquals(1, a.requests().size());
      assertEquals(1, b.requests().size());
    }
  }

  /**
   * A backup of today's key-value state (snapshot version 2, with a transaction's result in its window) restores,
   * and so does one of version 1; a version the state machine does not read is refused before anything is written.
   */
  @Test
  void restoreTakesTheSnapshotVersionsTheStateMachineReads() throws Exception {
    dev.tern.kv.KvStateMachine kv = new dev.tern.kv.KvStateMachine();
    kv.apply(dev.tern.raft.LogEntry.command(1, 1, dev.tern.kv.KvCodec.encode(new dev.tern.kv.KvCommand.Txn("t",
        java.util.List.of(), java.util.List.of(new dev.tern.kv.TxnOp.Put("k", "v")), java.util.List.of()))));
    java.io.ByteArrayOutputStream data = new java.io.ByteArrayOutputStream();
    kv.snapshot().writeTo(data);
    byte[] v2 = data.toByteArray();
    byte[] v1 = v2.clone();
    java.nio.ByteBuffer.wrap(v1).putInt(0, 1);
    byte[] v4 = v2.clone(); // leases made 3, a checkpoint's files are 4; 5 is unknown
    java.nio.ByteBuffer.wrap(v4).putInt(0, 5);
    int[] expected = {ExitCodes.OK, ExitCodes.OK, ExitCodes.ERROR};
    byte[][] all = {v2, v1, v4};
    for (int i = 0; i < all.length; i++) {
      byte[] bytes = all[i];
      Path file = dir.resolve("v" + i + ".tbak");
      try (var out = Files.newOutputStream(file)) {
        dev.tern.storage.BackupFile.write(out, 1, 1, "cluster", o -> o.write(bytes));
      }
      Path root = dir.resolve("root" + i);
      Cli.Result r = Cli.run("snapshot", "restore", file.toString(), "--members", "n1=127.0.0.1:7101:8101",
          "--data-dir-root", root.toString());
      assertEquals(expected[i], r.code(), r.toString());
      if (expected[i] == ExitCodes.ERROR) {
        assertTrue(r.err().contains("does not hold key-value data at index 1"), r.err());
        assertFalse(Files.exists(root.resolve("n1")));
      }
    }
  }

  @Test
  void restoreRefusesAMissingFileAndBadMembers() {
    Cli.Result missing = Cli.run("snapshot", "restore", dir.resolve("none.tbak").toString(), "--members",
        "n1=h:1:2", "--data-dir-root", dir.resolve("root").toString());
    assertEquals(ExitCodes.ERROR, missing.code(), missing.toString());
    Cli.Result badMembers = Cli.run("snapshot", "restore", dir.resolve("none.tbak").toString(), "--members",
        "n1=h:1", "--data-dir-root", dir.resolve("root").toString());
    assertEquals(ExitCodes.USAGE, badMembers.code(), badMembers.toString());
    assertTrue(badMembers.err().contains("--members: bad member"), badMembers.err());
  }
}

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

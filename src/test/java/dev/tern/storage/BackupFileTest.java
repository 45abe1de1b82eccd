package dev.tern.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.raft.HardState;
import dev.tern.raft.RaftStorage;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BackupFileTest {
  @TempDir Path dir;

  private static final byte[] DATA = "state machine bytes, opaque to the backup".getBytes(StandardCharsets.UTF_8);

  private Path backup(long index, long term) throws Exception {
    Path f = dir.resolve("b.tbak");
    try (OutputStream out = Files.newOutputStream(f)) {
      assertEquals(DATA.length, BackupFile.write(out, index, term, "c0ffee", o -> o.write(DATA)));
    }
    return f;
  }

  @Test
  void aWrittenBackupVerifiesAndSaysWhatItHolds() throws Exception {
    Path f = backup(42, 7);
    BackupFile.Verified v = BackupFile.verify(f);
    assertEquals(new BackupFile.Verified(1, 42, 7, "c0ffee", 4 + 4 + 8 + 8 + 4 + 6, DATA.length), v);
    assertArrayEquals(DATA, BackupFile.readAt(f, v.dataOffset(), DATA.length));
  }

  @Test
  void everyTruncationIsRefused() throws Exception {
    byte[] whole = Files.readAllBytes(backup(42, 7));
    for (int cut = 0; cut < whole.length; cut++) {
      Path t = dir.resolve("t" + cut);
      Files.write(t, Arrays.copyOf(whole, cut));
      assertThrows(BackupFile.BadBackupException.class, () -> BackupFile.verify(t), "cut at " + cut);
    }
  }

  @Test
  void everyFlippedByteIsRefusedWithAClearMessage() throws Exception {
    byte[] whole = Files.readAllBytes(backup(42, 7));
    for (int i = 0; i < whole.length; i++) {
      byte[] bad = whole.clone();
      bad[i] ^= 0x10;
      Path t = dir.resolve("f" + i);
      Files.write(t, bad);
      var e = assertThrows(BackupFile.BadBackupException.class, () -> BackupFile.verify(t), "byte " + i);
      assertTrue(e.getMessage().startsWith(t.toString()), e.getMessage());
    }
  }

  @Test
  void aFileThatIsNotABackupIsNamedSo() throws Exception {
    Path t = dir.resolve("notes.txt");
    Files.writeString(t, "this is not a backup at all, just some text");
    var e = assertThrows(BackupFile.BadBackupException.class, () -> BackupFile.verify(t));
    assertTrue(e.getMessage().contains("not a Tern backup"), e.getMessage());
  }

  @Test
  void aRestoredDirectoryOpensWithTheBackupAsItsSnapshot() throws Exception {
    Path f = backup(42, 7);
    BackupFile.Verified v = BackupFile.verify(f);
    Path node = dir.resolve("root").resolve("m2");
    DataDirIdentity identity = new DataDirIdentity("feed", "m2");
    RestoredDataDir.create(node, f, v, List.of("m1", "m2"), identity);
    assertEquals(identity, DataDirIdentity.read(node));
    try (FileStorage s = FileStorage.open(node, true, 1 << 20)) {
      RaftStorage.Persisted p = s.load();
      assertEquals(new HardState(7, null), p.hardState());
      assertEquals(42, p.snapshot().meta().lastIncludedIndex());
      assertEquals(7, p.snapshot().meta().lastIncludedTerm());
      assertEquals(List.of("m1", "m2"), p.snapshot().meta().members());
      assertArrayEquals(DATA, p.snapshot().data().readAll());
      assertTrue(p.log().isEmpty());
    }
    var e = assertThrows(IllegalArgumentException.class,
        () -> RestoredDataDir.create(node, f, v, List.of("m1", "m2"), identity));
    assertTrue(e.getMessage().contains("not empty"), e.getMessage());
  }

  @Test
  void writingCountsTheDataItStreams() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    long n = BackupFile.write(out, 1, 1, "x", o -> {
      o.write(1);
      o.write(new byte[] {2, 3, 4}, 1, 2);
    });
    assertEquals(3, n);
    byte[] bytes = out.toByteArray();
    assertEquals(4 + 4 + 8 + 8 + 4 + 1 + 3 + 12, bytes.length);
  }
}

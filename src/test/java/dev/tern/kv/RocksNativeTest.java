package dev.tern.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A process that opens a store and is killed leaves nothing in the temp dir but the one shared copy of RocksDB's
 * library, which the next process loads as it is: RocksDB's own loader left a new 15 MB file behind per killed start.
 */
class RocksNativeTest {

  /** Opens a store in args[0], says so, and waits to be killed. */
  public static void main(String[] args) {
    try (RocksKvStore store = RocksKvStore.open(Path.of(args[0]), new RocksKvStore.Settings(8 << 20, 4 << 20), e -> {})) {
      System.out.println("open " + store.appliedIndex());
      System.out.flush();
      while (true) Thread.onSpinWait();
    }
  }

  private static void startOpenAndKill(Path tmp, Path store) throws Exception {
    Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx64m",
        "-Djava.io.tmpdir=" + tmp, "-cp", System.getProperty("java.class.path"), RocksNativeTest.class.getName(),
        store.toString()).redirectErrorStream(true).start();
    try {
      String said = new String(child.getInputStream().readNBytes(6), StandardCharsets.UTF_8);
      assertEquals("open 0", said);
    } finally {
      child.destroyForcibly();
      assertTrue(child.waitFor(30, TimeUnit.SECONDS));
    }
  }

  private static List<Path> everything(Path dir) throws Exception {
    try (Stream<Path> files = Files.walk(dir)) {
      return files.filter(Files::isRegularFile).sorted().toList();
    }
  }

  @Test
  void killedProcessesShareOneCopyOfTheLibraryAndLeaveNoOtherFile(@TempDir Path dir) throws Exception {
    Path tmp = Files.createDirectories(dir.resolve("tmp"));
    startOpenAndKill(tmp, dir.resolve("store"));
    List<Path> after1 = everything(tmp);
    assertEquals(1, after1.size(), "one copy of the library: " + after1);
    Path lib = after1.get(0);
    assertTrue(lib.getParent().getFileName().toString().startsWith("tern-rocksdbjni-"), lib.toString());
    assertTrue(Files.size(lib) > 1 << 20, lib + " is the library");
    FileTime written = Files.getLastModifiedTime(lib);

    startOpenAndKill(tmp, dir.resolve("store"));
    assertEquals(after1, everything(tmp), "the second start added nothing");
    assertEquals(written, Files.getLastModifiedTime(lib), "the second start loaded the copy as it was");
  }
}

package dev.tern.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which JVM options a node or command gets for the class-data archive beside its jar (docs/operations.md). */
class ClassDataArchiveTest {
  @TempDir
  Path tmp;

  private Path file(String name, Instant modified) throws Exception {
    Path p = tmp.resolve(name);
    Files.writeString(p, name);
    Files.setLastModifiedTime(p, FileTime.from(modified));
    return p;
  }

  @Test
  void theArchiveOfAJarIsBesideIt() {
    assertEquals(Path.of("/x/run/tern.jsa"), ClassDataArchive.archiveOf(Path.of("/x/run/tern.jar")));
    assertEquals(Path.of("/x/tern-0.1.jsa"), ClassDataArchive.archiveOf(Path.of("/x/tern-0.1.jar")));
  }

  @Test
  void anArchiveWrittenAfterItsJarIsMapped() throws Exception {
    Instant built = Instant.parse("2026-12-07T10:00:00Z");
    Path jar = file("tern.jar", built);
    Path jsa = file("tern.jsa", built.plusSeconds(15));
    assertEquals(Optional.of(jsa.toAbsolutePath()), ClassDataArchive.forClasspath(jar.toString()));
    assertEquals(List.of("-XX:SharedArchiveFile=" + jsa.toAbsolutePath(), "-Xlog:cds=off", "-Xlog:cds+dynamic=off"),
        ClassDataArchive.jvmOptions(jar.toString()));
  }

  @Test
  void anArchiveOlderThanItsJarIsFromAnEarlierBuildAndIsNotUsed() throws Exception {
    Instant built = Instant.parse("2026-12-07T10:00:00Z");
    Path jar = file("tern.jar", built);
    file("tern.jsa", built.minusSeconds(60));
    assertEquals(List.of(), ClassDataArchive.jvmOptions(jar.toString()));
  }

  @Test
  void noArchiveOrNoSingleJarMeansNoOptions() throws Exception {
    Instant built = Instant.parse("2026-12-07T10:00:00Z");
    Path jar = file("tern.jar", built);
    assertEquals(List.of(), ClassDataArchive.jvmOptions(jar.toString()), "no tern.jsa beside it");
    file("tern.jsa", built.plusSeconds(1));
    assertTrue(ClassDataArchive.forClasspath(jar.toString()).isPresent());
    assertEquals(List.of(), ClassDataArchive.jvmOptions(jar + File.pathSeparator + tmp.resolve("other.jar")),
        "an archive is for one jar, not a class path of several");
    assertEquals(List.of(), ClassDataArchive.jvmOptions(tmp.toString()), "a directory");
    assertEquals(List.of(), ClassDataArchive.jvmOptions(""));
    assertEquals(List.of(), ClassDataArchive.jvmOptions(null));
  }
}

package dev.tern.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The JVM options {@code ./tern} chooses, checked on a copy of the script in a temporary repository whose {@code java}
 * is a stub that prints its arguments: the staged jar and its class-data archive when they come from the same build,
 * C1 and the serial collector for client commands only, the heap options for nodes.
 */
class LauncherScriptTest {
  @TempDir
  Path repo;
  private Path bin;

  @BeforeEach
  void layOut() throws Exception {
    Files.copy(LocalProcesses.REPO.resolve("tern"), repo.resolve("tern"));
    repo.resolve("tern").toFile().setExecutable(true);
    Files.createDirectories(repo.resolve("target/run"));
    bin = Files.createDirectories(repo.resolve("bin"));
    Path java = bin.resolve("java");
    Files.writeString(java, "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done\n");
    Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
  }

  private Path file(String path, String content, long modifiedSecondsAgo) throws Exception {
    Path p = repo.resolve(path);
    Files.writeString(p, content);
    Files.setLastModifiedTime(p, FileTime.fromMillis(System.currentTimeMillis() - modifiedSecondsAgo * 1000));
    return p;
  }

  /** The arguments ./tern gave java. */
  private List<String> run(Map<String, String> env, String... args) throws Exception {
    List<String> cmd = new java.util.ArrayList<>(List.of(repo.resolve("tern").toString()));
    cmd.addAll(List.of(args));
    ProcessBuilder b = new ProcessBuilder(cmd).redirectErrorStream(true);
    b.environment().remove("TERN_JAVA_OPTS");
    b.environment().put("PATH", bin + ":" + b.environment().get("PATH"));
    b.environment().putAll(env);
    Process p = b.start();
    assertTrue(p.waitFor(30, TimeUnit.SECONDS), "./tern did not exit");
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, p.exitValue(), out);
    return out.lines().toList();
  }

  @Test
  void runsTheStagedJarWithItsArchiveWhenBothComeFromTheSameBuild() throws Exception {
    file("target/tern-1.0.jar", "jar bytes", 60);
    Path staged = file("target/run/tern.jar", "jar bytes", 50);
    Path archive = file("target/run/tern.jsa", "archive", 40);
    List<String> args = run(Map.of(), "get", "k");
    assertTrue(args.contains("-XX:SharedArchiveFile=" + archive.toRealPath()), args.toString());
    assertTrue(args.contains("-Xlog:cds=off"), args.toString());
    assertEquals(List.of("-jar", staged.toRealPath().toString(), "get", "k"), args.subList(args.size() - 4, args.size()));
  }

  @Test
  void aStagedJarFromAnotherBuildOrAnArchiveOlderThanItIsNotUsed() throws Exception {
    Path built = file("target/tern-1.0.jar", "new jar bytes", 10);
    file("target/run/tern.jar", "old jar", 60); // an earlier build's: older, and another size
    file("target/run/tern.jsa", "archive", 50);
    List<String> args = run(Map.of(), "get", "k");
    assertEquals(built.toRealPath().toString(), args.get(args.indexOf("-jar") + 1));
    assertFalse(args.stream().anyMatch(a -> a.startsWith("-XX:SharedArchiveFile")), args.toString());

    file("target/run/tern.jar", "new jar bytes", 5); // this build's, but its archive predates it
    args = run(Map.of(), "get", "k");
    assertTrue(args.get(args.indexOf("-jar") + 1).endsWith("target/run/tern.jar"), args.toString());
    assertFalse(args.stream().anyMatch(a -> a.startsWith("-XX:SharedArchiveFile")), args.toString());
  }

  @Test
  void clientCommandsGetC1AndTheSerialCollectorNodesTheirHeapOptions() throws Exception {
    file("target/tern-1.0.jar", "jar bytes", 60);
    List<String> client = run(Map.of(), "put", "k", "v");
    assertTrue(client.containsAll(List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")), client.toString());

    List<String> node = run(Map.of(), "node", "--id", "n1");
    assertFalse(node.contains("-XX:TieredStopAtLevel=1"), "a node needs C2's code: " + node);
    assertTrue(node.containsAll(List.of("-Xmx512m", "-XX:G1HeapRegionSize=4m", "-XX:+ExitOnOutOfMemoryError")),
        node.toString());
    for (String longRunning : List.of("local", "bench", "experiment", "snapshot")) {
      assertFalse(run(Map.of(), longRunning).contains("-XX:TieredStopAtLevel=1"), longRunning);
    }

    List<String> ownCollector = run(Map.of("TERN_JAVA_OPTS", "-XX:+UseG1GC"), "get", "k");
    assertFalse(ownCollector.contains("-XX:+UseSerialGC"), "TERN_JAVA_OPTS chose a collector: " + ownCollector);
    assertTrue(ownCollector.contains("-XX:+UseG1GC"), ownCollector.toString());
  }
}

package dev.tern.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.cluster.Member;
import dev.tern.cluster.Members;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tern local}'s planning: cluster.conf written once and reused, size checks, --fresh; no processes. */
class LocalClusterTest {
  @TempDir
  Path tmp;

  private Path dir() {
    return tmp.resolve("cluster");
  }

  private LocalCluster.PlanException refused(Integer nodes, boolean fresh) {
    return assertThrows(LocalCluster.PlanException.class, () -> LocalCluster.plan(dir(), nodes, fresh));
  }

  @Test
  void aNewClusterGetsDistinctFreePortsWrittenToClusterConf() throws Exception {
    LocalCluster c = LocalCluster.plan(dir(), 5, false);
    assertTrue(c.created());
    assertEquals(List.of("n1", "n2", "n3", "n4", "n5"), c.members().ids());
    Set<Integer> ports = new HashSet<>();
    for (Member m : c.members().all()) {
      assertEquals("127.0.0.1", m.host());
      ports.add(m.arteryPort());
      ports.add(m.httpPort());
    }
    assertEquals(10, ports.size(), "every port differs");
    assertTrue(c.busyPorts().isEmpty(), "the picked ports are free again");

    Path conf = dir().resolve("cluster.conf");
    assertEquals(conf, c.configFile());
    String text = Files.readString(conf);
    assertTrue(text.contains("tern.cluster.members-spec = \"" + LocalCluster.membersSpec(c.members()) + "\""), text);
    // A node reading the file through NodeConfig gets the same members.
    assertEquals(c.members(), Members.fromConfig(NodeConfig.load("n2", conf).getConfig("tern")));
  }

  @Test
  void theDefaultIsThreeNodes() throws Exception {
    assertEquals(3, LocalCluster.plan(dir(), null, false).members().all().size());
  }

  @Test
  void aSecondRunReusesTheFileAndItsPorts() throws Exception {
    LocalCluster first = LocalCluster.plan(dir(), 3, false);
    LocalCluster again = LocalCluster.plan(dir(), 3, false);
    assertFalse(again.created());
    assertEquals(first.members(), again.members());
    LocalCluster unsized = LocalCluster.plan(dir(), null, false);
    assertEquals(first.members(), unsized.members(), "without --nodes the existing size is kept");
  }

  @Test
  void anotherSizeIsRefusedAndTheFileIsKept() throws Exception {
    LocalCluster first = LocalCluster.plan(dir(), 3, false);
    String before = Files.readString(first.configFile());
    LocalCluster.PlanException e = refused(5, false);
    assertTrue(e.getMessage().contains("3 nodes"), e.getMessage());
    assertTrue(e.getMessage().contains("--fresh"), e.getMessage());
    assertEquals(before, Files.readString(first.configFile()));
  }

  @Test
  void freshDeletesTheOldClusterAndItsData() throws Exception {
    LocalCluster old = LocalCluster.plan(dir(), 3, false);
    Files.createDirectories(old.dataDir("n1"));
    Files.writeString(old.dataDir("n1").resolve("raft.log"), "old entries");
    Files.writeString(old.logFile("n1"), "old log");
    Files.writeString(old.pidFile("n2"), "not a pid");

    LocalCluster fresh = LocalCluster.plan(dir(), 5, true);
    assertTrue(fresh.created());
    assertEquals(5, fresh.members().all().size());
    assertFalse(Files.exists(old.dataDir("n1")));
    assertFalse(Files.exists(old.logFile("n1")));
    assertFalse(Files.exists(old.pidFile("n2")));
    assertEquals(fresh.members(), LocalCluster.plan(dir(), 5, false).members());
  }

  @Test
  void freshRefusesToDeleteADirectoryWithOtherFiles() throws Exception {
    LocalCluster.plan(dir(), 3, false);
    Files.writeString(dir().resolve("notes.txt"), "mine");
    LocalCluster.PlanException e = refused(3, true);
    assertTrue(e.getMessage().contains("notes.txt"), e.getMessage());
    assertTrue(Files.exists(dir().resolve("notes.txt")));
    assertTrue(Files.exists(dir().resolve("cluster.conf")));
  }

  @Test
  void aNonEmptyDirectoryWithoutClusterConfIsRefused() throws Exception {
    Files.createDirectories(dir());
    Files.writeString(dir().resolve("pom.xml"), "<project/>");
    refused(3, false);
    assertFalse(Files.exists(dir().resolve("cluster.conf")));
  }

  @Test
  void anEmptyExistingDirectoryIsFine() throws Exception {
    Files.createDirectories(dir());
    assertTrue(LocalCluster.plan(dir(), 1, false).created());
  }

  @Test
  void aBrokenClusterConfIsReportedAndFreshReplacesIt() throws Exception {
    Files.createDirectories(dir());
    Files.writeString(dir().resolve("cluster.conf"), "tern.cluster.members-spec = \"n1=nonsense\"\n");
    LocalCluster.PlanException e = refused(null, false);
    assertTrue(e.getMessage().contains("--fresh"), e.getMessage());
    assertEquals(3, LocalCluster.plan(dir(), null, true).members().all().size());
  }

  @Test
  void aRunningClusterIsDetectedByItsPidFiles() throws Exception {
    LocalCluster c = LocalCluster.plan(dir(), 3, false);
    // This JVM stands in for a running node: its pid is alive and it started before the file was written.
    Files.writeString(c.pidFile("n2"), ProcessHandle.current().pid() + "\n");
    LocalCluster.PlanException running = refused(3, false);
    assertTrue(running.getMessage().contains("already running"), running.getMessage());
    refused(3, true); // --fresh must not delete it
    assertTrue(Files.exists(c.configFile()));

    Files.writeString(c.pidFile("n2"), "garbage\n");
    assertFalse(LocalCluster.plan(dir(), 3, false).created(), "an unreadable pid file is stale");
  }

  @Test
  void badSizesAreRefused() {
    refused(0, false);
    refused(LocalCluster.MAX_NODES + 1, false);
  }

  @Test
  void theNodeCommandPutsJvmOptionsBeforeTheMainClass() throws Exception {
    LocalCluster c = LocalCluster.plan(dir(), 3, false);
    Member n2 = c.members().require("n2");
    List<String> cmd = c.nodeCommand(n2, "/jdk/bin/java", "/x/tern.jar", List.of("-Xmx256m", "-Dtern.a=b"));
    assertEquals(List.of(
        "/jdk/bin/java", "-Xmx256m", "-Dtern.a=b", "-Dtern.data-dir=" + dir().toAbsolutePath().resolve("n2"),
        "-cp", "/x/tern.jar", "dev.tern.cli.TernCli", "node", "--id", "n2", "--config",
        dir().toAbsolutePath().resolve("cluster.conf").toString()), cmd);
  }

  @Test
  void localReportsAPlanProblemAsAUsageError() throws Exception {
    LocalCluster.plan(dir(), 3, false);
    Cli.Result r = Cli.run("local", "--dir", dir().toString(), "--nodes", "5");
    assertEquals(ExitCodes.USAGE, r.code(), r::toString);
    assertTrue(r.err().contains("holds a cluster of 3 nodes"), r::toString);
  }

  @Test
  void theJavaOptionsAreSplitOnWhitespace() {
    assertEquals(List.of(), LocalCommand.split(null));
    assertEquals(List.of(), LocalCommand.split("  "));
    assertEquals(List.of("-Xmx256m", "-Da=b"), LocalCommand.split(" -Xmx256m   -Da=b "));
  }

  @Test
  void exitsAreDescribed() {
    assertEquals("killed by SIGKILL (exit code 137)", LocalCommand.describeExit(137));
    assertEquals("exit code 1", LocalCommand.describeExit(1));
  }

  @Test
  void aClasspathOfDirectoriesIsUsedAsItIs() throws IOException, LocalCluster.PlanException {
    LocalCluster c = LocalCluster.plan(dir(), 1, false);
    String cp = String.join(java.io.File.pathSeparator, tmp.resolve("a").toString(), tmp.resolve("b.jar").toString());
    assertEquals(cp, c.nodeClasspath(cp));
    assertFalse(Files.exists(dir().resolve(LocalCluster.JAR_COPY)));
  }

  /** A jar with the main class in it and no Class-Path: what the shade plugin makes. */
  private Path selfContainedJar(Path jar) throws IOException {
    Files.createDirectories(jar.getParent());
    try (var out = new java.util.jar.JarOutputStream(Files.newOutputStream(jar), new java.util.jar.Manifest())) {
      out.putNextEntry(new java.util.jar.JarEntry(LocalCluster.MAIN_CLASS.replace('.', '/') + ".class"));
      out.write(new byte[] {1, 2, 3});
      out.closeEntry();
    }
    return jar;
  }

  @Test
  void aSelfContainedJarIsCopiedIntoTheClusterDirectory() throws Exception {
    LocalCluster c = LocalCluster.plan(dir(), 1, false);
    Path jar = selfContainedJar(tmp.resolve("target").resolve("tern-1.jar"));
    String cp = c.nodeClasspath(jar.toString());
    assertEquals(dir().resolve(LocalCluster.JAR_COPY).toString(), cp);
    assertEquals(-1L, Files.mismatch(jar, Path.of(cp)));
    assertEquals(List.of("-cp", cp), c.nodeCommand(c.members().require("n1"), "java", cp, List.of()).subList(2, 4),
        "no archive beside the copy: no class-data options");
  }

  @Test
  void aJarWithItsClassDataArchiveRunsInPlaceWithTheArchive() throws Exception {
    LocalCluster c = LocalCluster.plan(dir(), 1, false);
    Path jar = selfContainedJar(tmp.resolve("target").resolve("run").resolve("tern.jar"));
    Path jsa = Files.writeString(jar.resolveSibling("tern.jsa"), "archive");
    Files.setLastModifiedTime(jsa, java.nio.file.attribute.FileTime.fromMillis(
        Files.getLastModifiedTime(jar).toMillis() + 1000));
    String cp = c.nodeClasspath(jar.toString());
    assertEquals(jar.toAbsolutePath().toString(), cp, "the archive is valid only for the path it was trained with");
    assertFalse(Files.exists(dir().resolve(LocalCluster.JAR_COPY)));
    List<String> cmd = c.nodeCommand(c.members().require("n1"), "/jdk/bin/java", cp, List.of("-Xmx256m"));
    assertEquals(List.of("/jdk/bin/java", "-XX:SharedArchiveFile=" + jsa.toAbsolutePath(), "-Xlog:cds=off",
        "-Xlog:cds+dynamic=off", "-Xmx256m"), cmd.subList(0, 5), "the archive's options before the caller's");
  }
}

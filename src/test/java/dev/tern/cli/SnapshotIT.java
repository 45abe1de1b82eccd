package dev.tern.cli;

import static dev.tern.cli.LocalProcesses.startLocal;
import static dev.tern.cli.LocalProcesses.tern;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.cli.LocalProcesses.Local;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Backup and restore on real processes, after `mvn package`: `./tern snapshot save` while four clients write to a
 * `./tern local` cluster, then `./tern snapshot restore` into the data directories of a new 3-node cluster on other
 * ports, started with `./tern node`. Every write acknowledged before the save began must be there, with its value
 * and revision; a truncated or damaged backup is refused. Every process is stopped by its PID.
 */
class SnapshotIT {

  /** Waits (bounded, 120 s as startLocal) until every restored node answers /health 200; else fails with the logs. */
  private static void awaitServing(Map<String, String> http, Path root) throws Exception {
    java.net.http.HttpClient client = java.net.http.HttpClient.newBuilder().connectTimeout(java.time.Duration.ofSeconds(1)).build();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (System.nanoTime() < deadline) {
      int serving = 0;
      for (String base : http.values()) {
        try {
          var r = client.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/health"))
              .timeout(java.time.Duration.ofSeconds(2)).build(), java.net.http.HttpResponse.BodyHandlers.discarding());
          if (r.statusCode() == 200) serving++;
        } catch (IOException e) {
          // not listening yet
        }
      }
      if (serving == http.size()) return;
      Thread.sleep(200); // bounded by the deadline
    }
    StringBuilder logs = new StringBuilder();
    for (String id : http.keySet()) {
      List<String> lines = Files.readAllLines(root.resolve(id + ".log"));
      logs.append("--- ").append(id).append(" ---\n")
          .append(String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size()))).append('\n');
    }
    throw new AssertionError("the restored cluster did not serve within 120 s:\n" + logs);
  }

  /** Waits (bounded) until the load has at least {@code n} acknowledged writes. */
  private static void awaitAcked(CrashIT.Load load, int n) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (load.acked.size() < n && System.nanoTime() < deadline) Thread.sleep(50); // bounded by the deadline
  }

  @Test
  void aBackupSavedUnderLoadRestoresIntoANewClusterWithEveryEarlierWrite(@TempDir Path tmp) throws Exception {
    Path backup = tmp.resolve("backup.tbak");
    Local source = startLocal(tmp.resolve("source"));
    CrashIT.Load load = new CrashIT.Load(List.copyOf(source.http().values()));
    Map<String, CrashIT.Ack> ackedBeforeSave;
    try {
      load.start();
      awaitAcked(load, 100); // some writes first
      ackedBeforeSave = new HashMap<>(load.acked);
      String endpoints = String.join(",", source.http().values());
      LocalProcesses.Run save = tern("snapshot", "save", backup.toString(), "--endpoints", endpoints);
      assertEquals(0, save.exit(), save.toString());
      assertTrue(save.out().startsWith("saved " + backup + ": index "), save.out());
      awaitAcked(load, ackedBeforeSave.size() + 50); // writes go on during and after the save
    } finally {
      try {
        load.stop();
      } finally {
        source.stop();
      }
    }
    assertTrue(ackedBeforeSave.size() > 0, "no write acknowledged before the save");
    assertTrue(load.acked.size() > ackedBeforeSave.size(), "writes stopped during the save");

    byte[] whole = Files.readAllBytes(backup);
    Path truncated = tmp.resolve("truncated.tbak");
    Files.write(truncated, Arrays.copyOf(whole, whole.length / 2));
    Path damaged = tmp.resolve("damaged.tbak");
    byte[] flipped = whole.clone();
    flipped[whole.length / 2] ^= 1;
    Files.write(damaged, flipped);
    for (Path bad : List.of(truncated, damaged)) {
      LocalProcesses.Run r = tern("snapshot", "restore", bad.toString(), "--members", "n1=127.0.0.1:1:2",
          "--data-dir-root", tmp.resolve("never").toString());
      assertEquals(ExitCodes.ERROR, r.exit(), r.toString());
      assertTrue(r.err().contains("refused: " + bad) && r.err().contains("checksum mismatch"), r.err());
      assertTrue(!Files.exists(tmp.resolve("never").resolve("n1")), "nothing built from a bad backup");
    }

    Path root = tmp.resolve("restored");
    Map<String, String> http = new LinkedHashMap<>();
    StringBuilder spec = new StringBuilder();
    for (String id : List.of("n1", "n2", "n3")) {
      int h = dev.tern.FreePorts.one();
      if (spec.length() > 0) spec.append(',');
      spec.append(id).append("=127.0.0.1:").append(dev.tern.FreePorts.one()).append(':').append(h);
      http.put(id, "http://127.0.0.1:" + h);
    }
    LocalProcesses.Run restore = tern("snapshot", "restore", backup.toString(), "--members", spec.toString(),
        "--data-dir-root", root.toString());
    assertEquals(0, restore.exit(), restore.toString());

    List<Process> nodes = new ArrayList<>();
    Map<String, Long> pids = new LinkedHashMap<>();
    try {
      for (String id : http.keySet()) {
        Process p = LocalProcesses.ternProcess("node", "--id", id, "--config",
            root.resolve("cluster.conf").toString(), "-Dtern.data-dir=" + root.resolve(id))
            .redirectErrorStream(true)
            .redirectOutput(root.resolve(id + ".log").toFile()).start();
        nodes.add(p);
        pids.put(id, p.pid());
      }
      awaitServing(http, root); // three JVMs starting on a busy machine: give them the time `tern local` gives
      Local restored = new Local(nodes.get(0), http, pids, new ArrayList<>());
      CrashIT.Check check = CrashIT.verify(restored, ackedBeforeSave);
      System.out.println("backup test: acknowledged before the save=" + ackedBeforeSave.size() + ", found in the"
          + " restored cluster=" + check.found() + ", missing=" + check.missing().size() + ", all acknowledged="
          + load.acked.size() + "; " + restore.out().lines().findFirst().orElse(""));
      assertEquals(List.of(), check.missing(), "acknowledged before the save, missing after the restore");
      assertEquals(List.of(), check.wrong());
      assertEquals(List.of(), check.unchecked());
      assertEquals(ackedBeforeSave.size(), check.found());
    } finally {
      for (Process p : nodes) p.destroy();
      for (Process p : nodes) {
        if (!p.waitFor(20, TimeUnit.SECONDS)) p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
  }
}

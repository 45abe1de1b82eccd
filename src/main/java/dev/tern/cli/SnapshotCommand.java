package dev.tern.cli;

import dev.tern.cluster.Member;
import dev.tern.cluster.Members;
import dev.tern.storage.BackupFile;
import dev.tern.storage.DataDirIdentity;
import dev.tern.storage.RestoredDataDir;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code tern snapshot save|restore}: backups of a cluster's data, and new clusters built from them. */
@Command(
    name = "snapshot",
    description = "Save a backup of a running cluster, or build a new cluster's data directories from one.",
    mixinStandardHelpOptions = true,
    subcommands = {SnapshotCommand.Save.class, SnapshotCommand.Restore.class},
    footer = ExitCodes.FOOTER)
final class SnapshotCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    throw new CommandLine.ParameterException(spec.commandLine(), "Missing a command: save or restore");
  }

  @Command(
      name = "save",
      description = {
        "Save a consistent backup of the cluster's key-value data to FILE, from any node, without stopping writes.",
        "The node first does a linearizable read, so the backup holds every write acknowledged before the command"
            + " started. FILE is written to FILE.part, checked (checksum) and renamed; prints its index and size."
      },
      mixinStandardHelpOptions = true,
      footer = ExitCodes.FOOTER)
  static final class Save extends ClientCommand {
    @Parameters(index = "0", paramLabel = "FILE", description = "Where to store the backup.")
    Path file;

    @Override
    int run(TernClient client) throws TernClient.UnreachableException {
      Path part = file.resolveSibling(file.getFileName() + ".part");
      TernClient.UnreachableException unreachable = null;
      String lastRefusal = null;
      for (URI endpoint : client.endpoints()) {
        HttpResponse<Path> r;
        try {
          r = client.sendRaw(endpoint, "GET", "/v1/snapshot", HttpResponse.BodyHandlers.ofFile(part));
        } catch (TernClient.UnreachableException e) {
          unreachable = e;
          continue;
        }
        if (r.statusCode() != 200) {
          lastRefusal = "HTTP " + r.statusCode() + " from " + endpoint + ": " + read(part);
          deleteQuietly(part);
          if (r.statusCode() == 503) continue;
          err().println("error: " + lastRefusal);
          return ExitCodes.ERROR;
        }
        BackupFile.Verified v;
        try {
          v = BackupFile.verify(part);
          try (FileChannel ch = FileChannel.open(part, StandardOpenOption.WRITE)) {
            ch.force(true);
          }
          Files.move(part, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (BackupFile.BadBackupException e) {
          deleteQuietly(part);
          err().println("error: the backup from " + endpoint + " is incomplete: " + e.getMessage());
          return ExitCodes.ERROR;
        } catch (IOException e) {
          deleteQuietly(part);
          err().println("error: cannot write " + file + ": " + e.getMessage());
          return ExitCodes.ERROR;
        }
        out().println("saved " + file + ": index " + v.index() + ", term " + v.term() + ", cluster " + v.clusterId()
            + ", " + v.dataLength() + " bytes of data (from " + endpoint + ")");
        return ExitCodes.OK;
      }
      if (lastRefusal != null) {
        err().println("unavailable: " + lastRefusal);
        return ExitCodes.UNAVAILABLE;
      }
      throw unreachable;
    }

    private static String read(Path p) {
      try {
        String s = Files.readString(p, StandardCharsets.UTF_8).strip();
        return s.length() > 300 ? s.substring(0, 300) + "..." : s;
      } catch (IOException | RuntimeException e) {
        return "(no readable answer)";
      }
    }
  }

  @Command(
      name = "restore",
      description = {
        "Build the data directories of a NEW cluster from a backup: one directory per member under "
            + "--data-dir-root, each holding the backup as its snapshot, plus DIR/cluster.conf with the members and "
            + "the new cluster's token. Start each node with --config DIR/cluster.conf --id ID "
            + "-Dtern.data-dir=DIR/ID: the cluster serves the saved data.",
        "The new cluster may have another size and other addresses; it gets a new cluster id. A truncated or "
            + "damaged FILE is refused."
      },
      mixinStandardHelpOptions = true,
      footer = ExitCodes.FOOTER)
  static final class Restore implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "FILE", description = "A backup written by `tern snapshot save`.")
    Path file;

    @Option(names = "--members", required = true, paramLabel = "SPEC",
        description = "The new cluster's members, id=host:artery-port:http-port,... (as tern.cluster.members-spec).")
    String members;

    @Option(names = "--data-dir-root", required = true, paramLabel = "DIR",
        description = "Where to create one data directory per member (DIR/ID) and DIR/cluster.conf; each DIR/ID"
            + " must not exist or be empty.")
    Path root;

    @Option(names = "--token", paramLabel = "TOKEN",
        description = "The new cluster's tern.cluster.token (default: a new random one), so that its cluster id"
            + " differs from the saved cluster's.")
    String token;

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      PrintWriter err = spec.commandLine().getErr();
      Members parsed;
      try {
        parsed = Members.parse(members);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--members: " + e.getMessage());
      }
      if (token != null && (token.isBlank() || token.contains("\"") || token.contains("\n"))) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--token: must be one line without quotes");
      }
      String newToken = token != null ? token : "restored-" + HexFormat.of().formatHex(randomBytes());
      try {
        BackupFile.Verified v = BackupFile.verify(file);
        checkData(v);
        String clusterId = DataDirIdentity.clusterId(newToken, parsed.ids());
        if (clusterId.equals(v.clusterId())) {
          err.println("tern snapshot restore: the new cluster would have the saved cluster's id " + clusterId
              + ": give another --token");
          err.flush();
          return ExitCodes.USAGE;
        }
        Files.createDirectories(root);
        for (Member m : parsed.all()) {
          RestoredDataDir.create(root.resolve(m.id()), file, v, parsed.ids(), new DataDirIdentity(clusterId, m.id()));
        }
        Path conf = root.resolve("cluster.conf");
        Files.writeString(conf, "# Written by tern snapshot restore from " + file.toAbsolutePath() + " (index "
            + v.index() + ")\ntern.cluster.token = \"" + newToken + "\"\ntern.cluster.members-spec = \""
            + membersSpec(parsed) + "\"\n", StandardCharsets.UTF_8);
        out.println("restored index " + v.index() + " (term " + v.term() + ") of cluster " + v.clusterId() + " into "
            + parsed.all().size() + " data directories under " + root + "; new cluster id " + clusterId);
        for (Member m : parsed.all()) {
          out.println("  start " + m.id() + ": tern node --id " + m.id() + " --config " + conf + " -Dtern.data-dir="
              + root.resolve(m.id()));
        }
        out.flush();
        return ExitCodes.OK;
      } catch (BackupFile.BadBackupException e) {
        err.println("tern snapshot restore: refused: " + e.getMessage());
      } catch (IllegalArgumentException | IOException e) {
        err.println("tern snapshot restore: " + e.getMessage());
      }
      err.flush();
      return ExitCodes.ERROR;
    }

    /** The data must be the key-value state at the header's index (KvSnapshotCodec: [int version][long index]). */
    private void checkData(BackupFile.Verified v) throws IOException, BackupFile.BadBackupException {
      ByteBuffer head = ByteBuffer.wrap(BackupFile.readAt(file, v.dataOffset(), 12));
      if (v.dataLength() < 12 || !dev.tern.kv.KvStateMachine.readsSnapshotVersion(head.getInt())
          || head.getLong() != v.index()) {
        throw new BackupFile.BadBackupException(file + " does not hold key-value data at index " + v.index());
      }
    }

    private static byte[] randomBytes() {
      byte[] b = new byte[6];
      new SecureRandom().nextBytes(b);
      return b;
    }

    private static String membersSpec(Members members) {
      StringBuilder s = new StringBuilder();
      for (Member m : members.all()) {
        if (s.length() > 0) s.append(',');
        s.append(m.id()).append('=').append(m.host()).append(':').append(m.arteryPort()).append(':').append(m.httpPort());
      }
      return s.toString();
    }
  }

  private static void deleteQuietly(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException ignored) {
      // best effort: a leftover FILE.part is harmless
    }
  }
}

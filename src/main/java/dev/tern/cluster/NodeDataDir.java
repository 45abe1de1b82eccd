package dev.tern.cluster;

import com.typesafe.config.Config;
import dev.tern.storage.DataDirIdentity;
import dev.tern.storage.FileStorage;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens a node's data directory: checks that it belongs to this node of this cluster ({@link DataDirIdentity}),
 * opens its {@link FileStorage}, and records the identity on the directory's first start.
 *
 * <p>An empty directory is a new node. That is also what a node that lost its disk, or was started from another
 * folder, looks like: it has forgotten its votes and the entries it acknowledged (docs/storage.md, section 5).
 * Until membership changes can keep such a node from voting, the node says so loudly when its configuration
 * says the cluster already exists ({@code tern.cluster.initial-state = existing}).
 */
public record NodeDataDir(Path dir, String clusterId, FileStorage storage) {
  private static final Logger log = LoggerFactory.getLogger(NodeDataDir.class);

  /**
   * The cluster id this configuration makes: {@code tern.cluster.id} when set (a node that joined through
   * {@code --join} learned it from a member), else a hash of {@code tern.cluster.token} and the members' ids.
   */
  public static String clusterId(Config tern) {
    String learned = tern.hasPath("cluster.id") ? tern.getString("cluster.id").strip() : "";
    if (!learned.isEmpty()) return learned;
    return DataDirIdentity.clusterId(tern.getString("cluster.token"), Members.fromConfig(tern).ids());
  }

  /**
   * @throws DataDirIdentity.MismatchException if the directory belongs to another node or cluster
   * @throws dev.tern.storage.StorageCorruptedException if its files are damaged
   */
  public static NodeDataDir open(Config tern) {
    String id = tern.getString("node-id");
    String configured = tern.getString("data-dir");
    Path dir = Path.of(configured);
    Path abs = dir.toAbsolutePath().normalize();
    boolean fsync = tern.getBoolean("storage.fsync");
    if (!dir.isAbsolute()) {
      log.warn("{}: tern.data-dir '{}' is relative to the current directory: using {}. Set an absolute path in"
          + " production, or a restart from another directory starts this node empty.", id, configured, abs);
    }
    DataDirIdentity expected = new DataDirIdentity(clusterId(tern), id);
    DataDirIdentity found = DataDirIdentity.check(abs, expected); // before touching anything
    boolean hadState = DataDirIdentity.holdsRaftState(abs);
    FileStorage storage = FileStorage.open(abs, fsync, tern.getBytes("storage.segment-size"));
    try {
      if (found == null) {
        expected.write(abs, fsync);
        if (hadState) {
          log.info("{}: recorded the identity of {} (cluster {}, node {}): its Raft state was written by a Tern"
              + " without identity files", id, abs, expected.clusterId(), id);
        } else if ("existing".equals(tern.getString("cluster.initial-state"))) {
          log.error(emptyButExisting(id, abs));
        } else {
          log.info("{}: new data directory {} for node {} of cluster {}", id, abs, id, expected.clusterId());
        }
      }
    } catch (RuntimeException e) {
      storage.close();
      throw e;
    }
    log.info("{}: Raft state in {} (cluster {}){}", id, abs, expected.clusterId(), fsync ? "" : " (fsync off)");
    return new NodeDataDir(abs, expected.clusterId(), storage);
  }

  static String emptyButExisting(String id, Path dir) {
    return "\n*** " + id + ": THE DATA DIRECTORY " + dir + " IS EMPTY, BUT tern.cluster.initial-state = existing SAYS"
        + " THE CLUSTER ALREADY EXISTS. ***\n"
        + "*** If " + id + " was a member before, it has lost its term, its vote and its log: it may vote twice in a"
        + " term or help elect a leader that lacks committed entries. ***\n"
        + "*** Stop it now unless the other members alone hold a majority with every committed entry. To recover:"
        + " restore its directory from a copy taken while it was stopped, or rebuild the cluster from a backup"
        + " (tern snapshot save / restore); see docs/operations.md, \"Replacing a node\". ***";
  }
}

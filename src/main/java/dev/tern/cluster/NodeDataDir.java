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
 * folder, looks like: it has forgotten its term, its vote and the entries it acknowledged (docs/storage.md, section
 * 5), so as a voter it could vote twice in a term or help elect a leader that lacks committed entries. So when its
 * configuration says the cluster already exists ({@code tern.cluster.initial-state = existing}) a node refuses to
 * start on an empty directory, and says how to recover: remove the member, then start it again with {@code --join}
 * (a joining node has no configuration, never campaigns, and becomes a voter only once added and caught up). A
 * joining node ({@code tern.cluster.join}) is new by definition and may start empty.
 */
public record NodeDataDir(Path dir, String clusterId, long incarnation, FileStorage storage) {
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
   * @throws LostStateException if it is empty while {@code tern.cluster.initial-state = existing} (and the node does
   *     not join)
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
    if (found == null && !hadState && "existing".equals(tern.getString("cluster.initial-state"))
        && !tern.getBoolean("cluster.join")) {
      throw new LostStateException(emptyButExisting(id, abs)); // before anything is written there
    }
    FileStorage storage = FileStorage.open(abs, fsync, tern.getBytes("storage.segment-size"));
    DataDirIdentity recorded = found;
    try {
      if (found != null && found.incarnation() == DataDirIdentity.NO_INCARNATION) {
        recorded = found.withFreshIncarnation();
        recorded.write(abs, fsync);
        log.info("{}: recorded incarnation {} for {}: its identity was written by a Tern without incarnations", id,
            DataDirIdentity.hex(recorded.incarnation()), abs);
      }
      if (found == null) {
        recorded = expected;
        expected.write(abs, fsync);
        if (hadState) {
          log.info("{}: recorded the identity of {} (cluster {}, node {}): its Raft state was written by a Tern"
              + " without identity files", id, abs, expected.clusterId(), id);
        } else {
          log.info("{}: new data directory {} for node {} of cluster {}", id, abs, id, expected.clusterId());
        }
      }
    } catch (RuntimeException e) {
      storage.close();
      throw e;
    }
    log.info("{}: Raft state in {} (cluster {}, incarnation {}){}", id, abs, expected.clusterId(),
        DataDirIdentity.hex(recorded.incarnation()), fsync ? "" : " (fsync off)");
    return new NodeDataDir(abs, expected.clusterId(), recorded.incarnation(), storage);
  }

  /** A node that would start empty as a member of a cluster that already exists: refused. */
  public static final class LostStateException extends IllegalStateException {
    public LostStateException(String message) {
      super(message);
    }
  }

  static String emptyButExisting(String id, Path dir) {
    return "the data directory " + dir + " is empty, but tern.cluster.initial-state = existing says the cluster"
        + " already exists: if " + id + " was a member, it has lost its term, its vote and its log, and as a voter"
        + " it could vote twice in a term or help elect a leader that lacks committed entries. Refusing to start."
        + " To recover: restore the directory from a copy taken while the node was stopped; or remove the member"
        + " (tern member remove " + id + "), start it again with --join URL --advertise HOST:ARTERY-PORT:HTTP-PORT"
        + " and add it (tern member add " + id + " ...): it rejoins as a learner and votes only once caught up"
        + " (docs/operations.md, \"Replacing a node\"). If " + id + " never ran before, start it with"
        + " tern.cluster.initial-state = new.";
  }
}

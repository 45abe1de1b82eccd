package dev.tern.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.tern.storage.DataDirIdentity;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** What a node says about its data directory when it opens it. */
class NodeDataDirTest {
  @TempDir Path tmp;
  private final ListAppender<ILoggingEvent> logged = new ListAppender<>();
  private final Logger logger = (Logger) LoggerFactory.getLogger(NodeDataDir.class);

  @BeforeEach
  void capture() {
    logged.start();
    logger.addAppender(logged);
  }

  @AfterEach
  void release() {
    logger.detachAppender(logged);
  }

  private static Config tern(String dataDir, String initialState) {
    return ConfigFactory.parseString(String.join("\n",
            "tern.node-id = n3",
            "tern.data-dir = \"" + dataDir.replace("\\", "/") + "\"",
            "tern.cluster.members-spec = \"n1=h:1:2,n2=h:3:4,n3=h:5:6\"",
            "tern.cluster.initial-state = " + initialState,
            "tern.storage.fsync = off"))
        .withFallback(ConfigFactory.parseResources("application.conf"))
        .resolve()
        .getConfig("tern");
  }

  private List<ILoggingEvent> at(Level level) {
    return logged.list.stream().filter(e -> e.getLevel() == level).toList();
  }

  /** Issue 17: a member that lost its disk is refused, not absorbed; a joining node may start empty. */
  @Test
  void anEmptyDirectoryOfAnExistingClusterIsRefusedWithTheWayOut() {
    Path dir = tmp.resolve("n3");
    NodeDataDir.LostStateException refused = assertThrows(NodeDataDir.LostStateException.class,
        () -> NodeDataDir.open(tern(dir.toString(), "existing")));
    String why = refused.getMessage();
    assertTrue(why.contains("the data directory " + dir + " is empty"), why);
    assertTrue(why.contains("lost its term, its vote and its log"), why);
    assertTrue(why.contains("tern member remove n3") && why.contains("--join"), why);
    assertTrue(why.contains("Replacing a node"), why);
    // Nothing was written: a second attempt is refused the same way, not taken for a node with state.
    assertEquals(null, DataDirIdentity.read(dir));
    assertFalse(DataDirIdentity.holdsRaftState(dir));
    assertThrows(NodeDataDir.LostStateException.class, () -> NodeDataDir.open(tern(dir.toString(), "existing")));

    Config joining = ConfigFactory.parseString("cluster.join = true").withFallback(tern(dir.toString(), "existing"));
    NodeDataDir data = NodeDataDir.open(joining);
    data.storage().close();
    assertEquals(new DataDirIdentity(data.clusterId(), "n3", data.incarnation()), DataDirIdentity.read(dir));
    assertNotEquals(DataDirIdentity.NO_INCARNATION, data.incarnation());
  }

  @Test
  void aNewClusterStartsQuietlyAndARelativeDirectoryIsWarnedAbout() {
    NodeDataDir data = NodeDataDir.open(tern(tmp.resolve("n3").toString(), "new"));
    data.storage().close();
    assertEquals(List.of(), at(Level.ERROR));
    assertEquals(List.of(), at(Level.WARN));
    NodeDataDir again = NodeDataDir.open(tern(tmp.resolve("n3").toString(), "existing"));
    again.storage().close();
    assertEquals(List.of(), at(Level.ERROR), "a directory with its identity is not empty");

    Path relative = Path.of("").toAbsolutePath().relativize(tmp.resolve("rel"));
    NodeDataDir rel = NodeDataDir.open(tern(relative.toString(), "new"));
    rel.storage().close();
    assertEquals(1, at(Level.WARN).size());
    String warning = at(Level.WARN).get(0).getFormattedMessage();
    assertTrue(warning.contains("is relative to the current directory: using " + tmp.resolve("rel")), warning);
  }

  @Test
  void theClusterIdComesFromTheTokenAndTheMemberIds() {
    assertEquals(DataDirIdentity.clusterId("tern-cluster", List.of("n1", "n2", "n3")),
        NodeDataDir.clusterId(tern(tmp.toString(), "new")));
  }

  /**
   * A node that joined through {@code --join} learned the cluster id from a member ({@code tern.cluster.id}): that id
   * is recorded and checked, whatever members list it starts with, so a restart after membership changes (another
   * list learned) is its own directory, and a directory of another cluster is still refused.
   */
  @Test
  void aLearnedClusterIdIsRecordedAndCheckedWhateverTheMembers() {
    Config joined = ConfigFactory.parseString("cluster.id = learned-id").withFallback(tern(tmp.resolve("n3").toString(), "new"));
    assertEquals("learned-id", NodeDataDir.clusterId(joined));
    NodeDataDir first = NodeDataDir.open(joined);
    first.storage().close();
    assertEquals(new DataDirIdentity("learned-id", "n3", first.incarnation()), DataDirIdentity.read(first.dir()));
    Config later = ConfigFactory.parseString("cluster { id = learned-id, members-spec = \"n3=h:5:6,n7=h:7:8\" }")
        .withFallback(joined);
    NodeDataDir again = NodeDataDir.open(later);
    again.storage().close();
    Config other = ConfigFactory.parseString("cluster.id = another-id").withFallback(joined);
    assertThrows(DataDirIdentity.MismatchException.class, () -> NodeDataDir.open(other));
  }
}

package dev.tern.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.tern.cluster.Members;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** NodeConfig's layering: --id > -D system properties > the extra file > application.conf > reference.conf. */
class NodeConfigTest {
  private static final String TIMEOUT = "tern.http.request-timeout";
  private static final String NODE_ID = "tern.node-id";

  @TempDir
  Path tmp;

  @BeforeEach
  void noEnvironmentOverrides() {
    // application.conf reads these; the defaults below assume they are unset.
    assumeTrue(System.getenv("TERN_NODE_ID") == null && System.getenv("TERN_MEMBERS") == null
        && System.getenv("TERN_REQUEST_TIMEOUT") == null, "TERN_* environment variables are set");
  }

  @AfterEach
  void clearProperties() {
    System.clearProperty(TIMEOUT);
    System.clearProperty(NODE_ID);
    ConfigFactory.invalidateCaches();
  }

  private Path file(String text) throws IOException {
    Path f = tmp.resolve("extra.conf");
    Files.writeString(f, text);
    return f;
  }

  @Test
  void defaultsComeFromApplicationConfAndPekkoReference() {
    Config c = NodeConfig.load(null, null);
    assertEquals("n1", c.getString(NODE_ID));
    assertEquals(Duration.ofSeconds(5), c.getDuration(TIMEOUT));
    assertEquals(3, Members.fromConfig(c.getConfig("tern")).all().size());
    assertTrue(c.hasPath("pekko.version"), "Pekko's reference.conf is layered in");
    assertEquals("jackson-cbor", c.getString("pekko.actor.serialization-bindings.\"dev.tern.CborSerializable\""));
  }

  @Test
  void theExtraFileOverridesApplicationConfAndKeepsTheRest() throws IOException {
    Path f = file("""
        tern.http.request-timeout = 7s
        tern.cluster.members-spec = "a=10.0.0.1:7001:8001,b=10.0.0.2:7001:8001"
        tern.node-id = b
        """);
    Config c = NodeConfig.load(null, f);
    assertEquals(Duration.ofSeconds(7), c.getDuration(TIMEOUT));
    assertEquals("b", c.getString(NODE_ID));
    assertEquals("http://10.0.0.2:8001", NodeConfig.self(c).httpAddress());
    assertEquals(10000, c.getInt("tern.kv.max-list-limit"), "untouched defaults remain");
  }

  @Test
  void theExtraFileCanUseSubstitutionsFromLowerLayers() throws IOException {
    Path f = file("tern.http.request-timeout = ${tern.raft.election-timeout-max}\n");
    assertEquals(Duration.ofMillis(600), NodeConfig.load(null, f).getDuration(TIMEOUT));
  }

  @Test
  void systemPropertiesOverrideTheExtraFile() throws IOException {
    Path f = file("tern.http.request-timeout = 7s\n");
    System.setProperty(TIMEOUT, "9s");
    assertEquals(Duration.ofSeconds(9), NodeConfig.load(null, f).getDuration(TIMEOUT));
    System.clearProperty(TIMEOUT);
    assertEquals(Duration.ofSeconds(7), NodeConfig.load(null, f).getDuration(TIMEOUT), "a cleared property is gone");
  }

  @Test
  void theIdWinsOverEverything() throws IOException {
    Path f = file("tern.node-id = n2\n");
    System.setProperty(NODE_ID, "n3");
    assertEquals("n3", NodeConfig.load(null, f).getString(NODE_ID));
    assertEquals("n1", NodeConfig.load("n1", f).getString(NODE_ID));
    assertEquals("n1", NodeConfig.self(NodeConfig.load("n1", f)).id());
  }

  @Test
  void aMissingExtraFileIsAnError() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> NodeConfig.load(null, tmp.resolve("nope.conf")));
    assertTrue(e.getMessage().contains("nope.conf"), e.getMessage());
  }

  @Test
  void anIdOutsideTheMembersIsRejected() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> NodeConfig.self(NodeConfig.load("n9", null)));
    assertTrue(e.getMessage().contains("n9"), e.getMessage());
  }

  @Test
  void nodePrintConfigShowsTheResolvedSettingsWithoutStartingANode() throws IOException {
    Path f = file("tern.cluster.members-spec = \"a=127.0.0.1:7001:8001,b=127.0.0.1:7002:8002\"\n");
    Cli.Result r = Cli.run("node", "--id", "b", "--config", f.toString(), "--print-config");
    assertEquals(ExitCodes.OK, r.code(), r::toString);
    assertTrue(r.out().contains("b  artery 127.0.0.1:7002  http http://127.0.0.1:8002  (this node)"), r::toString);
    assertTrue(r.out().contains("request-timeout"), r::toString);
  }

  @Test
  void nodeWithABadConfigurationExits2() throws IOException {
    Cli.Result unknownId = Cli.run("node", "--id", "n9", "--print-config");
    assertEquals(ExitCodes.USAGE, unknownId.code(), unknownId::toString);
    assertTrue(unknownId.err().contains("n9"), unknownId::toString);

    Cli.Result missingFile = Cli.run("node", "--config", tmp.resolve("nope.conf").toString());
    assertEquals(ExitCodes.USAGE, missingFile.code(), missingFile::toString);

    Cli.Result badSyntax = Cli.run("node", "--config", file("tern { node-id = ").toString());
    assertEquals(ExitCodes.USAGE, badSyntax.code(), badSyntax::toString);
  }
}

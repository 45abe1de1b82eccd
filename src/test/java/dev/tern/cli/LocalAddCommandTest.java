package dev.tern.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.cluster.Members;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tern local add}: its bookkeeping and its refusals (MembershipIT runs it on a real local cluster). */
class LocalAddCommandTest {
  @TempDir Path dir;

  @Test
  void theNextIdFollowsEveryIdInUseAndAddedNodesAreRead() throws Exception {
    Members three = Members.parse("n1=127.0.0.1:1:2,n2=127.0.0.1:3:4,n3=127.0.0.1:5:6");
    assertEquals("n4", LocalAddCommand.nextId(three, Map.of()));
    Path added = dir.resolve(LocalAddCommand.ADDED_FILE);
    Files.writeString(added, "# comment\nn4=127.0.0.1:7:8\n\nn7=127.0.0.1:9:10\n");
    Map<String, String> read = LocalAddCommand.readAdded(added);
    assertEquals(Map.of("n4", "127.0.0.1:7:8", "n7", "127.0.0.1:9:10"), read);
    assertEquals("n8", LocalAddCommand.nextId(three, read));
    assertEquals(Map.of(), LocalAddCommand.readAdded(dir.resolve("absent.conf")));
    Files.writeString(added, "n4=127.0.0.1:7\n");
    LocalCluster.PlanException bad = assertThrows(LocalCluster.PlanException.class,
        () -> LocalAddCommand.readAdded(added));
    assertTrue(bad.getMessage().contains("expected nK=host:artery-port:http-port"), bad.getMessage());
  }

  @Test
  void refusesWithoutARunningLocalCluster() throws Exception {
    Cli.Result none = Cli.run("local", "add", "--dir", dir.resolve("nothing").toString());
    assertEquals(ExitCodes.USAGE, none.code());
    assertTrue(none.err().contains("no local cluster in"), none.err());

    Files.writeString(dir.resolve(LocalCluster.CONFIG_FILE),
        "tern.cluster.members-spec = \"n1=127.0.0.1:1:2,n2=127.0.0.1:3:4,n3=127.0.0.1:5:6\"\n");
    Cli.Result stopped = Cli.run("local", "add", "--dir", dir.toString());
    assertEquals(ExitCodes.USAGE, stopped.code());
    assertTrue(stopped.err().contains("is not running"), stopped.err());

    Files.writeString(dir.resolve("n1.pid"), ProcessHandle.current().pid() + "\n"); // a live pid: "running"
    Cli.Result member = Cli.run("local", "add", "--dir", dir.toString(), "--id", "n2");
    assertEquals(ExitCodes.USAGE, member.code());
    assertTrue(member.err().contains("n2 is one of the members tern local starts itself"), member.err());
    Cli.Result badId = Cli.run("local", "add", "--dir", dir.toString(), "--id", "x9");
    assertEquals(ExitCodes.USAGE, badId.code());
    assertTrue(badId.err().contains("--id must be nK"), badId.err());
  }
}

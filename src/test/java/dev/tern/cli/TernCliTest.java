package dev.tern.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The top-level command: help, version, missing and unknown commands. */
class TernCliTest {
  @Test
  void helpListsTheCommandsAndTheExitCodes() {
    Cli.Result r = Cli.run("--help");
    assertEquals(0, r.code(), r::toString);
    for (String word : new String[] {"node", "local", "put", "get", "del", "cas", "list", "status", "Exit codes:",
        "3  compare-and-set conflict", "TERN_NODE"}) {
      assertTrue(r.out().contains(word), () -> "missing '" + word + "' in\n" + r.out());
    }
  }

  @Test
  void clientCommandsShowTheExitCodesToo() {
    Cli.Result r = Cli.run("help", "get");
    assertEquals(0, r.code(), r::toString);
    assertTrue(r.out().contains("--stale"), r::toString);
    assertTrue(r.out().contains("1  key not found"), r::toString);
  }

  @Test
  void versionPrintsSomething() {
    Cli.Result r = Cli.run("--version");
    assertEquals(0, r.code(), r::toString);
    assertTrue(r.out().startsWith("tern "), r::toString);
  }

  @Test
  void noCommandIsAUsageError() {
    Cli.Result r = Cli.run();
    assertEquals(ExitCodes.USAGE, r.code(), r::toString);
    assertTrue(r.err().contains("Missing a command"), r::toString);
  }
}

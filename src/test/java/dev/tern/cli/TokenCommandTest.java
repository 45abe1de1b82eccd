package dev.tern.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.http.Tokens;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code tern token hash}, and where client commands take their token from. */
class TokenCommandTest {
  private static final Pattern HASH = Pattern.compile("hash: (\\S+)");

  @AfterEach
  void restore() {
    TokenCommand.stdin = () -> System.in;
    ClientCommand.env = System::getenv;
  }

  private static String hashIn(String out) {
    Matcher m = HASH.matcher(out);
    assertTrue(m.find(), out);
    return m.group(1);
  }

  @Test
  void hashesTheTokenReadFromStdin() {
    TokenCommand.stdin = () -> new ByteArrayInputStream("my-token\n".getBytes(StandardCharsets.UTF_8));
    Cli.Result r = Cli.run("token", "hash", "--iterations", "1000", "--name", "ci", "--role", "write", "--prefix", "ci/");
    assertEquals(0, r.code(), r::toString);
    Tokens.Hash hash = Tokens.Hash.parse(hashIn(r.out()));
    assertTrue(hash.matches("my-token"));
    assertEquals(1000, hash.iterations());
    assertTrue(r.out().contains("entry: { name = \"ci\", hash = \"pbkdf2-sha256:1000:"), r.out());
    assertTrue(r.out().contains("role = write, prefix = \"ci/\" }"), r.out());
    assertTrue(!r.out().contains("my-token"), "the token is never printed back: " + r.out());
  }

  @Test
  void generatesATokenAndPrintsItOnce() {
    Cli.Result r = Cli.run("token", "hash", "--generate", "--iterations", "1000");
    assertEquals(0, r.code(), r::toString);
    Matcher m = Pattern.compile("token: (tern_\\S+)").matcher(r.out());
    assertTrue(m.find(), r.out());
    assertTrue(Tokens.Hash.parse(hashIn(r.out())).matches(m.group(1)));
  }

  @Test
  void refusesAnEmptyTokenAndABadRole() {
    TokenCommand.stdin = () -> new ByteArrayInputStream(new byte[0]);
    Cli.Result empty = Cli.run("token", "hash");
    assertEquals(ExitCodes.USAGE, empty.code(), empty::toString);
    assertTrue(empty.err().contains("no token on stdin"), empty.err());
    Cli.Result role = Cli.run("token", "hash", "--generate", "--role", "root");
    assertEquals(ExitCodes.USAGE, role.code(), role::toString);
    assertTrue(role.err().contains("--role must be read, write or admin"), role.err());
  }

  @Test
  void clientCommandsTakeTheTokenFromTheOptionThenTheEnvironment() {
    ClientCommand.env = Map.of("TERN_TOKEN", "from-env")::get;
    KvCommands.Get fromEnv = new KvCommands.Get();
    new CommandLine(fromEnv).parseArgs("k");
    assertEquals("from-env", fromEnv.token());
    KvCommands.Get fromOption = new KvCommands.Get();
    new CommandLine(fromOption).parseArgs("k", "--token", "from-option");
    assertEquals("from-option", fromOption.token());
    ClientCommand.env = Map.<String, String>of()::get;
    KvCommands.Get none = new KvCommands.Get();
    new CommandLine(none).parseArgs("k");
    assertEquals(null, none.token());
  }
}

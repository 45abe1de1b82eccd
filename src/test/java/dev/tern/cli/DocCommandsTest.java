package dev.tern.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Every {@code ./tern ...} (and {@code java -jar tern-*.jar ...}) command in the shell blocks of README.md and of
 * the docs in {@link #DOCS} must parse with the real command line: an option renamed or a command removed fails here, so
 * the documentation cannot drift from the CLI.
 */
class DocCommandsTest {
  private static final List<String> DOCS = List.of("README.md", "docs/operations.md", "docs/security.md", "docs/evaluation.md");

  /** The commands in ```sh blocks, as argument lists (after ./tern or the jar). */
  static List<List<String>> documentedCommands(String markdown) {
    List<List<String>> commands = new ArrayList<>();
    boolean inShell = false;
    for (String line : markdown.split("\n")) {
      String t = line.strip();
      if (t.startsWith("```")) {
        inShell = !inShell && (t.equals("```sh") || t.equals("```bash"));
        continue;
      }
      if (!inShell) continue;
      List<String> words = shellWords(t);
      for (int i = 0; i < words.size(); i++) {
        String w = words.get(i);
        boolean launcher = w.equals("./tern") || w.endsWith("$(./tern") || w.equals("$(./tern");
        boolean jar = w.equals("-jar") && i + 1 < words.size() && words.get(i + 1).endsWith(".jar");
        if (!launcher && !jar) continue;
        int from = jar ? i + 2 : i + 1;
        List<String> args = new ArrayList<>();
        for (int j = from; j < words.size(); j++) {
          String a = words.get(j);
          if (a.startsWith("#") || a.startsWith(">") || a.startsWith("2>") || a.equals("|") || a.equals("&&")
              || a.equals(";") || a.equals("&")) {
            break;
          }
          boolean last = a.endsWith(";") || a.endsWith(")");
          while (a.endsWith(";") || a.endsWith(")")) a = a.substring(0, a.length() - 1);
          if (!a.isEmpty()) args.add(a);
          if (last) break;
        }
        commands.add(args);
        break;
      }
    }
    return commands;
  }

  /** Splits a shell line into words, honouring single and double quotes (enough for the docs' examples). */
  static List<String> shellWords(String line) {
    List<String> words = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    boolean inWord = false;
    char quote = 0;
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      if (quote != 0) {
        if (c == quote) quote = 0;
        else cur.append(c);
      } else if (c == '\'' || c == '"') {
        quote = c;
        inWord = true;
      } else if (Character.isWhitespace(c)) {
        if (inWord) words.add(cur.toString());
        cur.setLength(0);
        inWord = false;
      } else {
        cur.append(c);
        inWord = true;
      }
    }
    if (inWord) words.add(cur.toString());
    return words;
  }

  @Test
  void theWordSplitterHandlesQuotesRedirectionsAndSubstitutions() {
    assertEquals(List.of(List.of("put", "config/db/url", "postgres://db:5432/app")),
        documentedCommands("```sh\n./tern put config/db/url \"postgres://db:5432/app\"   # a comment\n```\n"));
    assertEquals(List.of(List.of("get", "feature/flag")),
        documentedCommands("```sh\nif value=$(./tern get feature/flag 2>/dev/null); then\n```\n"));
    assertEquals(List.of(List.of("cas", "k", "5", "v")),
        documentedCommands("```sh\n./tern cas k 5 v; echo \"exit $?\"\n```\n"));
    assertEquals(List.of(List.of("node", "--id", "n2")),
        documentedCommands("```sh\nX=1 java -Xmx2g -jar tern-0.1.0-SNAPSHOT.jar node --id n2\n```\n"));
    assertEquals(List.of(), documentedCommands("```\n./tern local   (output, not a command)\n```\n"));
  }

  @Test
  void everyDocumentedCommandParses() throws IOException {
    int checked = 0;
    List<String> failures = new ArrayList<>();
    for (String doc : DOCS) {
      String text = Files.readString(LocalProcesses.REPO.resolve(doc));
      for (List<String> args : documentedCommands(text)) {
        checked++;
        try {
          new CommandLine(new TernCli()).parseArgs(args.toArray(String[]::new));
        } catch (CommandLine.ParameterException e) {
          failures.add(doc + ": tern " + String.join(" ", args) + " -> " + e.getMessage());
        }
      }
    }
    assertEquals(List.of(), failures, "documented commands that do not parse");
    assertTrue(checked >= 30, "found only " + checked + " documented commands: is the extraction broken?");
  }

  @Test
  void theSystemdUnitRunsTheNodeCommandWithTheSettingsItDocuments() throws IOException {
    String unit = Files.readString(LocalProcesses.REPO.resolve(Path.of("deploy", "systemd", "tern.service")));
    String exec = unit.lines().filter(l -> l.startsWith("ExecStart=")).findFirst().orElseThrow();
    List<String> words = shellWords(exec);
    int jar = words.indexOf("-jar");
    new CommandLine(new TernCli()).parseArgs(words.subList(jar + 2, words.size()).toArray(String[]::new));
    String env = Files.readString(LocalProcesses.REPO.resolve(Path.of("deploy", "systemd", "tern.env.example")));
    String conf = Files.readString(LocalProcesses.REPO.resolve("application.conf"));
    for (String line : env.lines().filter(l -> l.startsWith("TERN_")).toList()) {
      String variable = line.substring(0, line.indexOf('='));
      boolean used = conf.contains("${?" + variable + "}") || exec.contains("${" + variable + "}");
      assertTrue(used, variable + " in tern.env.example is read neither by application.conf nor by the unit");
    }
  }
}

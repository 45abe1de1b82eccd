package dev.tern.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import picocli.CommandLine;

/** Runs {@code tern} in this JVM and captures what it prints. */
final class Cli {
  /** {@code raw}: bytes written to standard output as bytes (a value that is not text). */
  record Result(int code, String out, String err, byte[] raw) {
    Result(int code, String out, String err) {
      this(code, out, err, new byte[0]);
    }

    @Override
    public String toString() {
      return "exit " + code + "\n--- out ---\n" + out + "--- err ---\n" + err;
    }
  }

  private Cli() {}

  static Result run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = new CommandLine(new TernCli());
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    java.io.ByteArrayOutputStream raw = new java.io.ByteArrayOutputStream();
    int code;
    KvCommands.rawOut = raw;
    try {
      code = cl.execute(args);
    } finally {
      KvCommands.rawOut = null;
    }
    return new Result(code, out.toString(), err.toString(), raw.toByteArray());
  }
}

package dev.tern.cli;

/** The exit codes of every {@code tern} command; listed in {@code tern --help} and docs/operations.md. */
public final class ExitCodes {
  private ExitCodes() {}

  /** The command did what was asked. */
  public static final int OK = 0;
  /** The key does not exist (HTTP 404). */
  public static final int NOT_FOUND = 1;
  /** Bad arguments or a bad configuration (picocli's default for usage errors). */
  public static final int USAGE = 2;
  /** A compare-and-set found another revision (HTTP 409). */
  public static final int CONFLICT = 3;
  /** The node answered 503, refused the connection, or did not answer in time. */
  public static final int UNAVAILABLE = 4;
  /** Any other error: another HTTP 4xx/5xx, an unexpected answer, a node that failed. */
  public static final int ERROR = 5;

  /** The table printed at the end of {@code tern --help} and of every client command's help. */
  public static final String FOOTER = """

      Exit codes:
        0  success
        1  key not found (HTTP 404)
        2  usage error: bad arguments or a bad configuration
        3  compare-and-set conflict (HTTP 409)
        4  unavailable: HTTP 503, connection refused or timeout
        5  any other error (another HTTP 4xx/5xx, a node that failed)
      Errors, including the server's own message, go to stderr.""";
}

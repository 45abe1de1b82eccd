package dev.tern.http;

import java.util.Optional;

/**
 * Client request ids ({@code Request-Id} header) for exactly-once writes. The state machine applies a command id at
 * most once within its deduplication window (see {@code KvStateMachine.DEDUPLICATION_WINDOW}); a write that carries
 * a request id is proposed under a command id made from it, so a retry through any node is recognised there.
 *
 * <p>Command ids the front makes itself begin with the node id, and every node id added through {@code
 * /v1/members} is {@code [A-Za-z0-9_.-]}: the {@value #NAMESPACE} prefix, with its colon, keeps client ids apart
 * from those, so a client can never replay (or block) a write that another client sent without an id.
 */
public final class RequestIds {
  private RequestIds() {}

  /** The header a client sets. */
  public static final String HEADER = "Request-Id";

  /** Prefixed to a client's id to make the command id. */
  static final String NAMESPACE = "req:";

  /**
   * The command id for the header's value, or an error message when the value is not a valid id: 1 to {@code
   * maxLength} characters from {@code A-Z a-z 0-9 - _ . : ~} (enough for UUIDs, ULIDs and "client:seq" schemes;
   * nothing that needs quoting in logs).
   */
  static Parsed parse(String value, int maxLength) {
    if (value.isEmpty()) return Parsed.error(HEADER + " must not be empty");
    if (value.length() > maxLength) {
      return Parsed.error(HEADER + " is " + value.length() + " characters, more than the limit of " + maxLength);
    }
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      boolean allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || c == '-' || c == '_' || c == '.' || c == ':' || c == '~';
      if (!allowed) {
        return Parsed.error(HEADER + " may only contain A-Z a-z 0-9 - _ . : ~ (found '" + printable(c)
            + "' at position " + i + ")");
      }
    }
    return new Parsed(NAMESPACE + value, null);
  }

  /** The command id for an optional header: empty when absent. */
  static Parsed parse(Optional<String> value, int maxLength) {
    return value.isEmpty() ? Parsed.NONE : parse(value.get(), maxLength);
  }

  /** Whether a command id came from a client's request id. */
  static boolean isClientId(String commandId) {
    return commandId.startsWith(NAMESPACE);
  }

  private static String printable(char c) {
    return c >= 0x20 && c < 0x7f ? String.valueOf(c) : String.format("\\u%04x", (int) c);
  }

  /** A command id (null: none given) or an error message (null: valid). */
  record Parsed(String commandId, String error) {
    static final Parsed NONE = new Parsed(null, null);

    static Parsed error(String message) {
      return new Parsed(null, message);
    }
  }
}

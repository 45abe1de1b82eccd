package dev.tern.kv;

import java.util.List;

/**
 * A lease as the state machine holds it: {@code id} (the index of its grant), its time to live, the index of its
 * last renewal (the grant or the last keepalive) and the keys attached to it, in key order. Time is not here: only
 * the leader measures it ({@link LeaseDeadlines}), so every replica holds the same leases.
 */
public record Lease(long id, long ttlMillis, long renewedAt, List<String> keys) {
  private static final java.util.regex.Pattern TTL = java.util.regex.Pattern.compile("(\\d{1,12})(ms|s|m|h)?");

  public Lease {
    keys = List.copyOf(keys);
  }

  /** A TTL as the API and the CLI take it: 500ms, 10s, 5m, 1h, or a bare number of seconds; null if it is none. */
  public static java.time.Duration parseTtl(String s) {
    java.util.regex.Matcher m = TTL.matcher(s.trim());
    if (!m.matches()) return null;
    long n = Long.parseLong(m.group(1));
    String unit = m.group(2) == null ? "s" : m.group(2);
    return switch (unit) {
      case "ms" -> java.time.Duration.ofMillis(n);
      case "m" -> java.time.Duration.ofMinutes(n);
      case "h" -> java.time.Duration.ofHours(n);
      default -> java.time.Duration.ofSeconds(n);
    };
  }
}

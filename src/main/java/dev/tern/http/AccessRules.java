package dev.tern.http;

import java.util.List;

/**
 * Which role each route of the HTTP API needs, and which keys it touches, as one table (docs/security.md,
 * "Roles"). A new route gets a row here; a path that matches no row needs {@code admin}, so that a route added
 * without a row is closed rather than open. Rows are tried in order, the first match wins.
 */
final class AccessRules {
  private AccessRules() {}

  /** Roles, each allowing everything the ones before it allow. */
  enum Role {
    READ, WRITE, ADMIN;

    static Role parse(String name) {
      for (Role r : values()) {
        if (r.name().equalsIgnoreCase(name)) return r;
      }
      throw new IllegalArgumentException("role must be read, write or admin, not '" + name + "'");
    }

    String label() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** Which keys a request touches, for tokens limited to a key prefix. */
  enum Scope {
    /** No key (status, members, metrics, leases): a prefix-limited token may call it if its role allows. */
    NO_KEYS,
    /** The key is the rest of the path after {@code /v1/kv/}. */
    KEY_IN_PATH,
    /** Keys under the {@code prefix} query parameter (absent: every key). */
    PREFIX_PARAM,
    /** Keys under the {@code prefix} parameter, or the one {@code key} parameter (a watch). */
    WATCH_PARAMS,
    /** The keys named in the transaction's JSON body (compares and both branches). */
    TXN_BODY,
    /** Every key (a backup): never for a prefix-limited token. */
    ALL_KEYS
  }

  /**
   * One row: a path, matched exactly or as a prefix; the role GET and HEAD need, the role other methods need (a
   * method the route does not serve is still answered 405 after the check); and the keys it touches. A null role
   * leaves the route open to anyone.
   */
  record Rule(String path, boolean prefix, Role read, Role otherMethods, Scope scope) {
    boolean matches(String p) {
      return prefix ? p.startsWith(path) : p.equals(path);
    }

    Role required(String method) {
      return method.equals("GET") || method.equals("HEAD") ? read : otherMethods;
    }
  }

  private static Rule exact(String path, Role read, Role other, Scope scope) {
    return new Rule(path, false, read, other, scope);
  }

  private static Rule under(String path, Role read, Role other, Scope scope) {
    return new Rule(path, true, read, other, scope);
  }

  /** The table. Keep docs/security.md's table in step with it. */
  static final List<Rule> RULES = List.of(
      exact("/health", null, null, Scope.NO_KEYS), // load balancers ask without a token
      // The dashboard: its page and scripts hold no data (the page asks for a token when the node wants one); what it
      // shows comes from /ui/api/ and the routes below, with the token.
      exact("/", null, null, Scope.NO_KEYS),
      exact("/ui", null, null, Scope.NO_KEYS),
      under("/ui/api/", Role.READ, Role.READ, Scope.NO_KEYS),
      under("/ui/", null, null, Scope.NO_KEYS),
      under("/v1/kv/", Role.READ, Role.WRITE, Scope.KEY_IN_PATH),
      exact("/v1/kv", Role.READ, Role.WRITE, Scope.PREFIX_PARAM),
      exact("/v1/watch", Role.READ, Role.READ, Scope.WATCH_PARAMS),
      exact("/v1/status", Role.READ, Role.READ, Scope.NO_KEYS),
      exact("/metrics", Role.READ, Role.READ, Scope.NO_KEYS),
      exact("/v1/txn", Role.WRITE, Role.WRITE, Scope.TXN_BODY),
      exact("/v1/leases", Role.READ, Role.WRITE, Scope.NO_KEYS), // list (ids and counts), grant
      // Show, renew, revoke: a lease holds keys of any prefix (a revocation deletes them all, a show names them), so a
      // prefix-limited token may not touch one.
      under("/v1/leases/", Role.READ, Role.WRITE, Scope.ALL_KEYS),
      exact("/v1/snapshot", Role.ADMIN, Role.ADMIN, Scope.ALL_KEYS),
      exact("/v1/members", Role.ADMIN, Role.ADMIN, Scope.NO_KEYS),
      under("/v1/members/", Role.ADMIN, Role.ADMIN, Scope.NO_KEYS),
      exact("/v1/leader/transfer", Role.ADMIN, Role.ADMIN, Scope.NO_KEYS),
      // The consistency check: running one (POST /v1/check) and clearing an alarm need admin. A digest reveals no data,
      // and a member told its digest differs verifies that with the others before it raises its alarm, so the nodes'
      // own calls to each other (GET /v1/check/I, POST /v1/check/alarm) need only read, as the peer token has.
      exact("/v1/check", Role.READ, Role.ADMIN, Scope.NO_KEYS),
      exact("/v1/check/disarm", Role.ADMIN, Role.ADMIN, Scope.NO_KEYS),
      exact("/v1/check/alarm", Role.READ, Role.READ, Scope.NO_KEYS),
      under("/v1/check/", Role.READ, Role.ADMIN, Scope.NO_KEYS),
      under("/v1/testing/", Role.ADMIN, Role.ADMIN, Scope.NO_KEYS));

  /** What any path that matches no row needs. */
  static final Rule UNLISTED = new Rule("", true, Role.ADMIN, Role.ADMIN, Scope.ALL_KEYS);

  /** The row for {@code path} (the request's path, still percent-encoded). */
  static Rule classify(String path) {
    for (Rule r : RULES) {
      if (r.matches(path)) return r;
    }
    return UNLISTED;
  }
}

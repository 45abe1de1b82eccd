package dev.tern.http;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.extractRequest;
import static org.apache.pekko.http.javadsl.server.Directives.mapRequest;
import static org.apache.pekko.http.javadsl.server.Directives.onSuccess;

import com.typesafe.config.Config;
import dev.tern.http.AccessRules.Role;
import dev.tern.http.AccessRules.Rule;
import dev.tern.kv.TxnCompare;
import dev.tern.kv.TxnOp;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.Route;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Client authentication and authorization (docs/security.md): with {@code tern.security.enabled} on, every request
 * but {@code /health} must carry {@code Authorization: Bearer TOKEN} for a configured token, whose role and key
 * prefix must allow the call ({@link AccessRules}). 401 without a token or with an unknown one, 403 when the
 * token's role or prefix does not allow the call; both JSON errors like the rest of the API.
 *
 * <p>Per request, a known token costs a SHA-256 of it and a map lookup: a token is verified against the hashes
 * (PBKDF2, slow on purpose) once, then remembered under its digest. Unknown tokens are remembered too, so a client
 * that retries with a bad token costs one verification, not one per request. Verifications run on the blocking
 * dispatcher, never on the threads that serve requests.
 */
public final class Auth {
  private static final Logger log = LoggerFactory.getLogger(Auth.class);
  private static final HttpHeader CHALLENGE = RawHeader.create("WWW-Authenticate", "Bearer realm=\"tern\"");

  /** A configured token, as the node knows it: its name, its hash, its role, and the key prefix it is limited to. */
  public record Token(String name, Tokens.Hash hash, Role role, String prefix) {
    public Token {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(hash, "hash");
      Objects.requireNonNull(role, "role");
      prefix = prefix == null ? "" : prefix;
    }
  }

  /**
   * {@code tern.security}: whether the check is on, the tokens, and how many verified tokens are remembered.
   * {@code peerToken} (null when unset) is the token a node itself presents when it asks another node's API.
   */
  public record Settings(boolean enabled, List<Token> tokens, int cacheSize, String peerToken) {
    public Settings {
      tokens = List.copyOf(tokens);
      if (enabled && tokens.isEmpty()) {
        throw new IllegalArgumentException("tern.security.enabled is on but tern.security.tokens is empty: no client"
            + " could call the API (make a token's hash with `tern token hash`)");
      }
      if (cacheSize < 1) throw new IllegalArgumentException("tern.security.token-cache-size must be at least 1");
    }

    /** From {@code tern.security}; a bad token entry is refused with a message naming it. */
    public static Settings fromConfig(Config tern) {
      Config sec = tern.getConfig("security");
      List<Token> tokens = new ArrayList<>();
      List<? extends Config> entries = sec.getConfigList("tokens");
      for (int i = 0; i < entries.size(); i++) {
        Config t = entries.get(i);
        String where = "tern.security.tokens[" + i + "]";
        try {
          String name = t.getString("name");
          where += " (" + name + ")";
          tokens.add(new Token(name, Tokens.Hash.parse(t.getString("hash")), Role.parse(t.getString("role")),
              t.hasPath("prefix") ? t.getString("prefix") : ""));
        } catch (RuntimeException e) {
          throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
        }
      }
      String peer = sec.hasPath("peer-token") ? sec.getString("peer-token").strip() : "";
      return new Settings(sec.getBoolean("enabled"), tokens, sec.getInt("token-cache-size"), peer.isEmpty() ? null : peer);
    }
  }

  private final boolean enabled;
  private final List<Token> tokens;
  private final int cacheSize;
  private final KvLimits limits;
  private final ActorSystem<?> system;
  private final Executor verifier;
  /** Verified tokens by digest; an unknown token's digest maps to {@link #UNKNOWN}. */
  private final Map<String, Optional<Token>> verified = new ConcurrentHashMap<>();
  private static final Optional<Token> UNKNOWN = Optional.empty();

  public Auth(ActorSystem<?> system, Settings settings, KvLimits limits) {
    this.system = Objects.requireNonNull(system, "system");
    this.enabled = settings.enabled();
    this.tokens = settings.tokens();
    this.cacheSize = settings.cacheSize();
    this.limits = Objects.requireNonNull(limits, "limits");
    this.verifier = system.dispatchers().lookup(DispatcherSelector.blocking());
  }

  public boolean enabled() {
    return enabled;
  }

  /** {@code inner} behind the check; {@code inner} itself when security is off. */
  public Route protect(Route inner) {
    if (!enabled) return inner;
    log.info("Client authentication is on: {} token(s)", tokens.size());
    return ApiErrors.guarded(limits, () -> extractRequest(request -> {
      Rule rule = AccessRules.classify(request.getUri().path());
      Role needed = rule.required(request.method().name());
      if (needed == null) return inner;
      String token = bearer(request);
      if (token == null) return complete(unauthorized("this call needs an Authorization: Bearer token header"));
      String digest = Tokens.digest(token);
      Optional<Token> known = verified.get(digest);
      if (known != null) return decide(known, rule, needed, request, inner);
      return onSuccess(verify(token, digest), found -> decide(found, rule, needed, request, inner));
    }));
  }

  private Route decide(Optional<Token> found, Rule rule, Role needed, HttpRequest request, Route inner) {
    if (found.isEmpty()) return complete(unauthorized("unknown token"));
    Token t = found.get();
    if (t.role().compareTo(needed) < 0) {
      return complete(forbidden(t, "this call needs the " + needed.label() + " role; the token has " + t.role().label()));
    }
    if (t.prefix().isEmpty()) return inner;
    return switch (rule.scope()) {
      case NO_KEYS -> inner;
      case KEY_IN_PATH -> {
        String key = HttpParsing.decodePath(request.getUri().path().substring("/v1/kv/".length()));
        // An undecodable key is answered 400 by the route, which never reaches a key.
        yield key == null || key.startsWith(t.prefix()) ? inner : complete(outside(t, "key"));
      }
      case PREFIX_PARAM -> request.getUri().query().get("prefix").orElse("").startsWith(t.prefix())
          ? inner : complete(outside(t, "prefix"));
      case WATCH_PARAMS -> {
        var q = request.getUri().query();
        Optional<String> key = q.get("key");
        Optional<String> prefix = q.get("prefix");
        boolean inside = key.map(k -> k.startsWith(t.prefix())).orElse(true)
            && prefix.map(p -> p.startsWith(t.prefix())).orElse(key.isPresent());
        yield inside ? inner : complete(outside(t, key.isPresent() ? "key" : "prefix"));
      }
      case TXN_BODY -> txn(t, request, inner);
      case ALL_KEYS -> complete(forbidden(t, "a token limited to the prefix '" + t.prefix() + "' cannot make this call,"
          + " which reaches every key"));
    };
  }

  /** Reads the transaction's body (within its limit), checks every key it names, then lets the route read it again. */
  private Route txn(Token t, HttpRequest request, Route inner) {
    int maxBytes = limits.txn().maxBytes();
    CompletionStage<Object> checked = request.entity().withSizeLimit(maxBytes)
        .toStrict(limits.requestTimeout().toMillis(), system)
        .<Object>thenApply(strict -> {
          TxnJson.Parsed parsed = TxnJson.parse(strict.getData().toArray(), limits);
          if (parsed.error() != null) return strict; // the route answers 400 with the same parse
          List<String> keys = new ArrayList<>();
          for (TxnCompare c : parsed.request().compares()) keys.add(c.key());
          for (TxnOp op : parsed.request().success()) keys.add(op.key());
          for (TxnOp op : parsed.request().failure()) keys.add(op.key());
          for (String k : keys) {
            if (!k.startsWith(t.prefix())) return outside(t, "transaction key '" + k + "'");
          }
          return strict;
        })
        .exceptionally(failure -> ApiErrors.bodyFailure(ApiErrors.unwrap(failure), limits));
    return onSuccess(checked, result -> result instanceof HttpResponse refused ? complete(refused)
        : mapRequest(r -> r.withEntity((org.apache.pekko.http.javadsl.model.RequestEntity) result), () -> inner));
  }

  /** Verifies {@code token} against every configured hash, off the serving threads, and remembers the answer. */
  private CompletionStage<Optional<Token>> verify(String token, String digest) {
    return CompletableFuture.supplyAsync(() -> {
      Optional<Token> found = UNKNOWN;
      for (Token t : tokens) {
        if (t.hash().matches(token)) {
          found = Optional.of(t);
          break;
        }
      }
      // Bounded: a client sending many different bad tokens empties the memory instead of growing it.
      if (verified.size() >= cacheSize) verified.clear();
      verified.put(digest, found);
      if (found.isEmpty()) log.warn("A request presented an unknown token");
      else log.debug("Token {} verified", found.get().name());
      return found;
    }, verifier);
  }

  /** The token of an {@code Authorization: Bearer TOKEN} header, or null. */
  static String bearer(HttpRequest request) {
    Optional<HttpHeader> h = request.getHeader("Authorization");
    if (h.isEmpty()) return null;
    String v = h.get().value().strip();
    if (v.length() < 7 || !v.regionMatches(true, 0, "Bearer ", 0, 7)) return null;
    String token = v.substring(7).strip();
    return token.isEmpty() ? null : token;
  }

  private static HttpResponse unauthorized(String message) {
    return HttpJson.error(StatusCodes.UNAUTHORIZED, message).addHeader(CHALLENGE);
  }

  private static HttpResponse forbidden(Token t, String message) {
    return HttpJson.response(StatusCodes.FORBIDDEN, HttpJson.object().put("error", message).put("token", t.name()));
  }

  private static HttpResponse outside(Token t, String what) {
    return forbidden(t, "the " + what + " is outside the prefix '" + t.prefix() + "' this token is limited to");
  }
}

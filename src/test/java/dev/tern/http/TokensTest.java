package dev.tern.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.tern.http.AccessRules.Role;
import dev.tern.http.AccessRules.Scope;
import org.junit.jupiter.api.Test;

/** Token hashes, the settings that hold them, and the table of what each route needs (docs/security.md). */
class TokensTest {

  @Test
  void aHashMatchesItsTokenOnly() {
    String hash = Tokens.hash("s3cret", 1000);
    assertTrue(hash.startsWith("pbkdf2-sha256:1000:"), hash);
    Tokens.Hash parsed = Tokens.Hash.parse(hash);
    assertEquals(1000, parsed.iterations());
    assertTrue(parsed.matches("s3cret"));
    assertFalse(parsed.matches("s3cres"));
    assertFalse(parsed.matches("s3cret "));
    assertFalse(parsed.matches(""));
  }

  @Test
  void eachHashHasItsOwnSalt() {
    String a = Tokens.hash("same", 10);
    String b = Tokens.hash("same", 10);
    assertNotEquals(a, b);
    assertTrue(Tokens.Hash.parse(a).matches("same") && Tokens.Hash.parse(b).matches("same"));
  }

  @Test
  void generatedTokensAreLongAndDistinct() {
    String t = Tokens.generate();
    assertTrue(t.startsWith("tern_") && t.length() == 5 + 43, t);
    assertNotEquals(t, Tokens.generate());
    assertTrue(t.chars().allMatch(c -> Character.isLetterOrDigit(c) || c == '_' || c == '-'), t);
  }

  @Test
  void badHashesAreRefusedWithAReason() {
    for (String bad : new String[] {"", "s3cret", "md5:1:AAAA:BBBB", "pbkdf2-sha256:x:AAAAAAAAAAA:BBBB",
        "pbkdf2-sha256:0:AAAAAAAAAAAAAAAAAAAAAA:" + "A".repeat(43), "pbkdf2-sha256:10:!!!:" + "A".repeat(43),
        "pbkdf2-sha256:10:AAAAAAAAAAAAAAAAAAAAAA:AAAA"}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tokens.Hash.parse(bad), bad);
      assertFalse(e.getMessage().isBlank());
    }
    assertThrows(IllegalArgumentException.class, () -> Tokens.hash("", 10));
    assertThrows(IllegalArgumentException.class, () -> Tokens.hash("x", 0));
  }

  private static Auth.Settings settings(String security) {
    return Auth.Settings.fromConfig(ConfigFactory.parseString(security)
        .withFallback(ConfigFactory.parseResources("application.conf")).resolve().getConfig("tern"));
  }

  @Test
  void settingsAreOffByDefault() {
    Auth.Settings s = settings("");
    assertFalse(s.enabled());
    assertTrue(s.tokens().isEmpty());
    assertEquals(null, s.peerToken());
  }

  @Test
  void settingsReadTokensWithRolesAndPrefixes() {
    String h = Tokens.hash("t", 10);
    Auth.Settings s = settings("tern.security { enabled = on, peer-token = p, tokens = ["
        + "{ name = a, hash = \"" + h + "\", role = read },"
        + "{ name = b, hash = \"" + h + "\", role = ADMIN, prefix = \"x/\" } ] }");
    assertTrue(s.enabled());
    assertEquals("p", s.peerToken());
    assertEquals(Role.READ, s.tokens().get(0).role());
    assertEquals("", s.tokens().get(0).prefix());
    assertEquals(Role.ADMIN, s.tokens().get(1).role());
    assertEquals("x/", s.tokens().get(1).prefix());
  }

  @Test
  void badSettingsNameTheTokenAtFault() {
    String h = Tokens.hash("t", 10);
    IllegalArgumentException noTokens = assertThrows(IllegalArgumentException.class,
        () -> settings("tern.security.enabled = on"));
    assertTrue(noTokens.getMessage().contains("tokens is empty"), noTokens.getMessage());
    IllegalArgumentException role = assertThrows(IllegalArgumentException.class,
        () -> settings("tern.security.tokens = [ { name = ops, hash = \"" + h + "\", role = root } ]"));
    assertTrue(role.getMessage().contains("tokens[0] (ops)") && role.getMessage().contains("root"), role.getMessage());
    IllegalArgumentException hash = assertThrows(IllegalArgumentException.class,
        () -> settings("tern.security.tokens = [ { name = ops, hash = plain, role = read } ]"));
    assertTrue(hash.getMessage().contains("(ops)") && hash.getMessage().contains("tern token hash"), hash.getMessage());
  }

  @Test
  void theTableClassifiesEveryRoute() {
    assertEquals(null, AccessRules.classify("/health").required("GET"));
    assertEquals(Role.READ, AccessRules.classify("/v1/kv/a/b").required("GET"));
    assertEquals(Role.WRITE, AccessRules.classify("/v1/kv/a/b").required("PUT"));
    assertEquals(Role.WRITE, AccessRules.classify("/v1/kv/a/b").required("DELETE"));
    assertEquals(Scope.KEY_IN_PATH, AccessRules.classify("/v1/kv/a").scope());
    assertEquals(Scope.PREFIX_PARAM, AccessRules.classify("/v1/kv").scope());
    assertEquals(Scope.WATCH_PARAMS, AccessRules.classify("/v1/watch").scope());
    assertEquals(Role.READ, AccessRules.classify("/v1/status").required("GET"));
    assertEquals(Role.READ, AccessRules.classify("/metrics").required("GET"));
    assertEquals(Role.WRITE, AccessRules.classify("/v1/txn").required("POST"));
    assertEquals(Role.WRITE, AccessRules.classify("/v1/leases/7").required("DELETE"));
    for (String admin : new String[] {"/v1/members", "/v1/members/n2", "/v1/leader/transfer", "/v1/snapshot",
        "/v1/testing/partition", "/v1/unknown", "/uix", "/health/x", "/v1/statusx"}) {
      assertEquals(Role.ADMIN, AccessRules.classify(admin).required("GET"), admin);
    }
    // The dashboard's page and files are open (no data); what it shows needs read.
    for (String open : new String[] {"/", "/ui", "/ui/app.js"}) assertEquals(null, AccessRules.classify(open).required("GET"), open);
    assertEquals(Role.READ, AccessRules.classify("/ui/api/cluster").required("GET"));
    assertEquals(Role.READ, AccessRules.classify("/ui/api/events").required("GET"));
    assertEquals(Role.WRITE, AccessRules.classify("/v1/leases").required("POST"));
    assertEquals(Role.READ, AccessRules.classify("/v1/leases/7").required("GET"));
    assertEquals(Scope.ALL_KEYS, AccessRules.classify("/v1/leases/7").scope());
    assertEquals(Scope.ALL_KEYS, AccessRules.classify("/v1/snapshot").scope());
  }

  @Test
  void onlyBearerCredentialsAreTaken() {
    var request = org.apache.pekko.http.javadsl.model.HttpRequest.GET("/v1/kv/x");
    assertEquals(null, Auth.bearer(request));
    assertEquals("abc", Auth.bearer(request.addHeader(org.apache.pekko.http.javadsl.model.headers.RawHeader.create("Authorization", "Bearer abc"))));
    assertEquals("abc", Auth.bearer(request.addHeader(org.apache.pekko.http.javadsl.model.headers.RawHeader.create("Authorization", "bearer  abc "))));
    assertEquals(null, Auth.bearer(request.addHeader(org.apache.pekko.http.javadsl.model.headers.RawHeader.create("Authorization", "Basic abc"))));
    assertEquals(null, Auth.bearer(request.addHeader(org.apache.pekko.http.javadsl.model.headers.RawHeader.create("Authorization", "Bearer "))));
  }
}

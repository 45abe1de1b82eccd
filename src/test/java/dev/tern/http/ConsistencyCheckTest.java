package dev.tern.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tern.http.ConsistencyCheck.MemberDigest;
import dev.tern.http.ConsistencyCheck.Report;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The consistency check's verdict, its answers' reading, the CORRUPT alarm's file and the paths it closes. */
class ConsistencyCheckTest {
  @TempDir Path dir;

  private static MemberDigest digest(String id, String d) {
    return new MemberDigest(id, d, 10, null);
  }

  private static MemberDigest none(String id) {
    return new MemberDigest(id, null, 3, "no answer");
  }

  @Test
  void theMajorityDigestIsTheReferenceAndOthersAreMismatched() {
    Report r = ConsistencyCheck.verdict(9, List.of(digest("n1", "a"), digest("n2", "b"), digest("n3", "a")));
    assertEquals("a", r.reference());
    assertEquals(List.of("n2"), r.mismatched());
    assertFalse(r.consistent());
    assertTrue(r.conclusive());
    JsonNode json = ConsistencyCheck.reportJson(r);
    assertFalse(json.get("consistent").asBoolean());
    assertEquals("n2", json.get("mismatched").get(0).asText());
    assertTrue(json.get("problem").asText().contains("n2 holds"), json.toString());
  }

  @Test
  void aMemberThatGaveNoDigestIsUncheckedNotMismatched() {
    Report r = ConsistencyCheck.verdict(9, List.of(digest("n1", "a"), none("n2"), digest("n3", "a")));
    assertTrue(r.consistent());
    assertEquals(List.of("n2"), r.unchecked());
    JsonNode json = ConsistencyCheck.reportJson(r);
    assertEquals("no answer", json.get("members").get(1).get("error").asText());
    assertEquals(3, json.get("members").get(1).get("appliedIndex").asLong());
  }

  @Test
  void withoutAStrictMajorityOfTheMembersNothingIsMismatched() {
    // Two members of four agree: not more than half; a split of two answers; a lone answer of three members.
    for (List<MemberDigest> answers : List.of(
        List.of(digest("n1", "a"), digest("n2", "a"), digest("n3", "b"), digest("n4", "b")),
        List.of(digest("n1", "a"), digest("n2", "b"), none("n3")),
        List.of(digest("n1", "a"), none("n2"), none("n3")))) {
      Report r = ConsistencyCheck.verdict(9, answers);
      assertNull(r.reference(), answers.toString());
      assertEquals(List.of(), r.mismatched());
      assertFalse(r.consistent());
      assertFalse(r.conclusive());
      assertTrue(ConsistencyCheck.reportJson(r).get("problem").asText().contains("more than half"));
    }
    // Three of five agree: a majority, the two others are mismatched.
    Report r = ConsistencyCheck.verdict(9, List.of(digest("n1", "a"), digest("n2", "b"), digest("n3", "a"),
        digest("n4", "c"), digest("n5", "a")));
    assertEquals(List.of("n2", "n4"), r.mismatched());
  }

  @Test
  void aMembersAnswerIsADigestAnErrorOrStillToCome() throws Exception {
    var m = HttpJson.MAPPER;
    assertEquals(new MemberDigest("n2", "abc", 12, null),
        ConsistencyCheck.fromAnswer("n2", m.readTree("{\"state\":\"done\",\"digest\":\"abc\",\"appliedIndex\":12}")));
    assertNull(ConsistencyCheck.fromAnswer("n2", m.readTree("{\"state\":\"pending\",\"appliedIndex\":3}")));
    assertNull(ConsistencyCheck.fromAnswer("n2", m.readTree("{\"state\":\"computing\",\"appliedIndex\":12}")));
    MemberDigest failed = ConsistencyCheck.fromAnswer("n2",
        m.readTree("{\"state\":\"unknown\",\"error\":\"restarted\",\"appliedIndex\":40}"));
    assertEquals("restarted", failed.error());
    assertNull(failed.digest());
  }

  @Test
  void theAlarmIsKeptInTheDataDirectoryUntilDisarmed() throws Exception {
    CorruptionAlarm alarm = CorruptionAlarm.load(dir);
    assertFalse(alarm.on());
    assertNull(alarm.refusal());
    alarm.raise(new CorruptionAlarm.Alarm(42, "bad", "good", "at index 42 ...", 1000));
    assertTrue(Files.exists(dir.resolve(CorruptionAlarm.FILE)));
    assertTrue(alarm.refusal().contains("CORRUPT"));

    CorruptionAlarm reloaded = CorruptionAlarm.load(dir); // a restart
    assertTrue(reloaded.on());
    assertEquals(new CorruptionAlarm.Alarm(42, "bad", "good", "at index 42 ...", 1000), reloaded.alarm());
    assertTrue(reloaded.disarm());
    assertFalse(reloaded.on());
    assertFalse(Files.exists(dir.resolve(CorruptionAlarm.FILE)));
    assertFalse(CorruptionAlarm.load(dir).on());
    assertFalse(reloaded.disarm(), "nothing to clear");

    Files.writeString(dir.resolve(CorruptionAlarm.FILE), "{ torn");
    CorruptionAlarm unreadable = CorruptionAlarm.load(dir);
    assertTrue(unreadable.on(), "an unreadable alarm file keeps the alarm on");
  }

  @Test
  void theAlarmClosesThePathsThatServeDataOnly() {
    for (String p : List.of("/v1/kv", "/v1/kv/a/b", "/v1/txn", "/v1/watch", "/v1/leases", "/v1/leases/7", "/v1/snapshot")) {
      assertTrue(CorruptionAlarm.servesData(p), p);
    }
    for (String p : List.of("/health", "/v1/status", "/metrics", "/v1/check", "/v1/check/disarm", "/v1/members",
        "/v1/leader/transfer", "/ui", "/v1/kvx", "/v1/leasesx")) {
      assertFalse(CorruptionAlarm.servesData(p), p);
    }
  }

  @Test
  void runningAndDisarmingNeedAdminWhileTheNodesOwnCallsNeedRead() {
    assertEquals(AccessRules.Role.ADMIN, AccessRules.classify("/v1/check").required("POST"));
    assertEquals(AccessRules.Role.READ, AccessRules.classify("/v1/check").required("GET"));
    assertEquals(AccessRules.Role.ADMIN, AccessRules.classify("/v1/check/disarm").required("POST"));
    assertEquals(AccessRules.Role.READ, AccessRules.classify("/v1/check/alarm").required("POST"));
    assertEquals(AccessRules.Role.READ, AccessRules.classify("/v1/check/42").required("GET"));
    assertEquals(AccessRules.Role.ADMIN, AccessRules.classify("/v1/check/42").required("POST"));
  }
}

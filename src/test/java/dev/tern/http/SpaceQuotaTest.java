package dev.tern.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tern.storage.FsyncStats;
import dev.tern.storage.StorageHealth;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.junit.jupiter.api.Test;

/** The NOSPACE alarm (SpaceQuota) and the one admission point that acts on it and on the disk (WriteAdmission). */
class SpaceQuotaTest {

  @Test
  void theAlarmIsOnAtTheQuotaAndClearsBelowIt() {
    SpaceQuota quota = new SpaceQuota(1000);
    quota.update(999);
    assertFalse(quota.alarm());
    assertNull(quota.refusal());
    quota.update(1000);
    assertTrue(quota.alarm(), "at the quota");
    assertEquals(1000, quota.dataBytes());
    String why = quota.refusal();
    assertTrue(why.contains("tern.storage.quota-bytes") && why.contains("delet") && why.contains("revok"), why);
    quota.update(5000);
    assertTrue(quota.alarm());
    quota.update(999);
    assertFalse(quota.alarm(), "clears by itself");
  }

  @Test
  void zeroIsOff() {
    SpaceQuota off = SpaceQuota.off();
    off.update(Long.MAX_VALUE / 2);
    assertFalse(off.alarm());
    assertEquals(0, off.quotaBytes());
  }

  @Test
  void onlyWritesThatAddDataAreRefusedForTheQuotaAnd507SaysWhy() throws Exception {
    SpaceQuota quota = new SpaceQuota(1000);
    WriteAdmission admission = new WriteAdmission(null, quota);
    assertNull(admission.refuse(WriteAdmission.Write.ADDS_DATA));
    quota.update(1200);
    HttpResponse refused = admission.refuse(WriteAdmission.Write.ADDS_DATA);
    assertEquals(507, refused.status().intValue());
    JsonNode body = json(refused);
    assertEquals(1000, body.get("quotaBytes").asLong());
    assertEquals(1200, body.get("dataBytes").asLong());
    assertEquals("NOSPACE", body.get("alarm").asText());
    assertTrue(body.get("error").asText().contains("tern.storage.quota-bytes"), body.toString());
    assertNull(admission.refuse(WriteAdmission.Write.ADDS_NONE), "deletes, revocations, keepalives go on");
    assertTrue(admission.problem().contains("tern.storage.quota-bytes"));
  }

  @Test
  void aReadOnlyDiskRefusesEveryWriteFirst() throws Exception {
    AtomicLong free = new AtomicLong(10);
    StorageHealth health = new StorageHealth(Path.of("."), 100, dir -> free.get(), new FsyncStats());
    health.check();
    SpaceQuota quota = new SpaceQuota(1000);
    quota.update(2000);
    WriteAdmission admission = new WriteAdmission(health, quota);
    assertEquals(503, admission.refuse(WriteAdmission.Write.ADDS_DATA).status().intValue(), "storage before quota");
    assertEquals(503, admission.refuse(WriteAdmission.Write.ADDS_NONE).status().intValue());
    assertTrue(admission.problem().startsWith("read-only"), admission.problem());
    free.set(1000);
    health.check();
    assertEquals(507, admission.refuse(WriteAdmission.Write.ADDS_DATA).status().intValue());
    assertNull(admission.refuse(WriteAdmission.Write.ADDS_NONE));
  }

  private static JsonNode json(HttpResponse r) throws Exception {
    HttpEntity.Strict strict = (HttpEntity.Strict) r.entity();
    return new ObjectMapper().readTree(strict.getData().utf8String());
  }
}

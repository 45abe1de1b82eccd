package dev.tern.http;

import dev.tern.storage.StorageHealth;
import java.util.Objects;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;

/**
 * The one place that decides whether a write is refused before it reaches the log, for every write route (keys,
 * transactions, leases). Two reasons, in this order:
 *
 * <ul>
 *   <li>the data volume ({@link StorageHealth}): a storage failure, or free space below
 *       {@code tern.storage.min-free-space} (read-only): every write is answered 503;
 *   <li>the space quota ({@link SpaceQuota}, the NOSPACE alarm): a write that adds data (a put, a transaction with a
 *       put, a lease grant) is answered 507 with the quota and the data size; a write that frees data or adds none
 *       (a delete, a transaction of deletes and gets, a lease revocation or keepalive) goes on.
 * </ul>
 *
 * <p>Each check is a volatile read or two: no disk access and no lock per request.
 */
public final class WriteAdmission {

  /** What a write does to the data, as far as the quota cares. */
  public enum Write {
    /** Puts a key or grants a lease: refused under the NOSPACE alarm. */
    ADDS_DATA,
    /** Deletes, revokes, renews, or only compares and reads: never refused for the quota. */
    ADDS_NONE
  }

  private final StorageHealth health;
  private final SpaceQuota quota;

  /** @param health null for none (tests of the API alone) */
  public WriteAdmission(StorageHealth health, SpaceQuota quota) {
    this.health = health;
    this.quota = Objects.requireNonNull(quota, "quota");
  }

  /** Admits every write. */
  public static WriteAdmission none() {
    return new WriteAdmission(null, SpaceQuota.off());
  }

  /** The answer to refuse such a write with now (503 for storage, 507 for the quota), or null to take it. */
  public HttpResponse refuse(Write write) {
    String storage = health == null ? null : health.writeRefusal();
    if (storage != null) {
      return HttpJson.response(StatusCodes.SERVICE_UNAVAILABLE, HttpJson.error("unavailable").put("reason", storage));
    }
    if (write == Write.ADDS_DATA && quota.alarm()) return quotaExceeded();
    return null;
  }

  /** Why /health should answer 503 because of storage or the quota, or null. */
  public String problem() {
    String storage = health == null ? null : health.writeRefusal();
    return storage != null ? storage : quota.refusal();
  }

  public SpaceQuota quota() {
    return quota;
  }

  /** 507 Insufficient Storage: {@code {"error": ..., "alarm": "NOSPACE", "quotaBytes": N, "dataBytes": M}}. */
  HttpResponse quotaExceeded() {
    String why = quota.refusal();
    if (why == null) why = "space quota reached (" + SpaceQuota.SETTING + ")"; // the alarm cleared meanwhile
    return HttpJson.response(StatusCodes.INSUFFICIENT_STORAGE, HttpJson.error(why).put("alarm", SpaceQuota.ALARM)
        .put("quotaBytes", quota.quotaBytes()).put("dataBytes", quota.dataBytes()));
  }
}

package dev.tern.http;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The space quota ({@code tern.storage.quota-bytes}, docs/operations.md "Space quota"): once this node's applied
 * key-value data ({@code KvStateMachine.dataBytes()}: every key's UTF-8 bytes plus its value's bytes) reaches the
 * quota, the NOSPACE alarm is on and writes that add data are refused (507, see {@link WriteAdmission}); deletes,
 * lease revocations, reads and watches go on. The alarm clears by itself once the data is back under the quota.
 *
 * <p>The state is recomputed after every entry the node applies ({@link #update}, called by {@link AppliedNotifier}
 * on the applying thread), so the request path pays one volatile read. A write is admitted against the applied
 * state of the node that takes it: writes admitted before the alarm turned on still commit, so the data may end
 * somewhat above the quota (by what was in flight; one value is at most {@code tern.kv.max-value-bytes}).
 */
public final class SpaceQuota {
  private static final Logger log = LoggerFactory.getLogger(SpaceQuota.class);

  /** The setting's full name, for messages. */
  public static final String SETTING = "tern.storage.quota-bytes";
  /** The alarm's name in /v1/status and /health (etcd's name for the same alarm). */
  public static final String ALARM = "NOSPACE";

  private final long quotaBytes;
  private volatile long dataBytes;
  private volatile boolean alarm;

  /** @param quotaBytes the quota; 0 turns it off (the alarm never goes on) */
  public SpaceQuota(long quotaBytes) {
    if (quotaBytes < 0) throw new IllegalArgumentException(SETTING + " must be >= 0, got " + quotaBytes);
    this.quotaBytes = quotaBytes;
  }

  /** No quota: nothing is ever refused for space. */
  public static SpaceQuota off() {
    return new SpaceQuota(0);
  }

  /**
   * The node's applied data is now {@code dataBytes}: turns the alarm on at or above the quota, off below it. Each
   * change is logged once. Called on the applying thread after every applied entry and every restored snapshot.
   */
  public void update(long dataBytes) {
    this.dataBytes = dataBytes;
    boolean over = quotaBytes > 0 && dataBytes >= quotaBytes;
    if (over == alarm) return;
    alarm = over;
    if (over) {
      log.warn("NOSPACE alarm: {} bytes of keys and values, at or above the quota of {} bytes ({}): this node refuses"
          + " writes that add data (507) and serves reads, deletes and lease revocations until the data is back"
          + " under the quota", dataBytes, quotaBytes, SETTING);
    } else {
      log.info("NOSPACE alarm cleared: {} bytes of keys and values, under the quota of {} bytes ({}): this node"
          + " takes writes again", dataBytes, quotaBytes, SETTING);
    }
  }

  /** Whether the NOSPACE alarm is on (one volatile read). */
  public boolean alarm() {
    return alarm;
  }

  /** The quota in bytes; 0 when off. */
  public long quotaBytes() {
    return quotaBytes;
  }

  /** The applied data as last {@link #update updated}. */
  public long dataBytes() {
    return dataBytes;
  }

  /** Why a write that adds data must be refused now, or null: one volatile read while the alarm is off. */
  public String refusal() {
    if (!alarm) return null;
    return "space quota reached (NOSPACE): this node holds " + dataBytes + " bytes of keys and values, at or above"
        + " its quota of " + quotaBytes + " bytes (" + SETTING + "). Writes that add data are refused until space"
        + " is freed; reads, watches, deletes and lease revocations still work. Free space by deleting keys or"
        + " revoking leases, or raise " + SETTING + " (with the heap it needs: docs/operations.md, \"Space quota\")";
  }
}

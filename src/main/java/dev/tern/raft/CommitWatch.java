package dev.tern.raft;

import java.time.Duration;
import org.slf4j.Logger;

/**
 * Tells when a leader holds entries it cannot commit. A leader whose followers drop its requests, stop
 * answering, or lag behind a failing disk still believes it leads, and every write to it times out; without
 * this watch its health would say "serving" throughout. Time is counted in heartbeat ticks, so the watch is as
 * deterministic as the leader's timers: a stall is the time since commitIndex last moved while entries after it
 * were waiting. Its start and its end are each logged once.
 */
final class CommitWatch {
  private final String id;
  private final Logger log;
  private final long tickMillis;
  private final long limitTicks;

  /** Heartbeat ticks seen by this leader. */
  private long ticks;
  /** The tick since which uncommitted entries have waited without commitIndex moving (-1 = none waiting). */
  private long waitingSince = -1;
  /** Why the leader cannot commit, once the stall has lasted the limit; null while it commits. */
  private String stall;

  CommitWatch(String id, Logger log, Duration tick, Duration limit) {
    this.id = id;
    this.log = log;
    this.tickMillis = Math.max(1, tick.toMillis());
    this.limitTicks = Math.max(1, (limit.toMillis() + tickMillis - 1) / tickMillis);
  }

  long ticks() {
    return ticks;
  }

  long millis(long tickCount) {
    return tickCount * tickMillis;
  }

  /**
   * A heartbeat tick: {@code pending} says whether entries after commitIndex wait; {@code reason} explains why
   * they are not committed, and is asked only when a stall begins.
   */
  void onTick(boolean pending, java.util.function.Supplier<String> reason) {
    ticks++;
    if (!pending) {
      end();
      return;
    }
    if (stall == null && ticks - waitingSince >= limitTicks) {
      stall = "cannot commit for " + millis(ticks - waitingSince) + " ms: " + reason.get();
      log.error("{}: leader {}", id, stall);
    }
  }

  /**
   * Entries were appended: if none were waiting, the wait starts now. The leader calls it for each proposal, as it is
   * appended, and at each flush (the new leader's no-op included), so a tick that finds entries waiting always has
   * the time they started.
   */
  void onAppended() {
    if (waitingSince < 0) waitingSince = ticks;
  }

  /** commitIndex moved; {@code pending} says whether entries after it still wait. */
  void onCommit(boolean pending) {
    end();
    if (pending) waitingSince = ticks;
  }

  /** The leader is stepping down: whatever it could not commit is no longer its to report. */
  void onLeaving() {
    if (stall != null) log.info("{}: no longer leader; its stall of {} ms ends with it", id, millis(ticks - waitingSince));
    stall = null;
    waitingSince = -1;
  }

  private void end() {
    if (stall != null) {
      log.info("{}: leader commits again after {} ms", id, millis(ticks - waitingSince));
      stall = null;
    }
    waitingSince = -1;
  }

  /** Null while the leader commits; otherwise why it cannot. */
  String stall() {
    return stall;
  }
}

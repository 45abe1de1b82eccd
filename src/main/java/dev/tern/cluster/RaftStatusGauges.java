package dev.tern.cluster;

import dev.tern.raft.RaftMessage;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToDoubleFunction;

/**
 * The replica's state as gauges: term, role, indexes, and on a leader each follower's match index and lag. They
 * are read from the replica's {@link RaftMessage.Status} (what {@code /v1/status} shows), asked for once per
 * scrape, so the replica does nothing per request for them. Without a status (the replica did not answer within
 * {@code tern.metrics.status-timeout}) they are NaN and {@code tern_raft_status_available} is 0.
 */
final class RaftStatusGauges {
  private volatile RaftMessage.Status status;
  private final MultiGauge followerMatch;
  private final MultiGauge followerLag;
  private final MultiGauge followerContact;
  private final MultiGauge followerSnapshot;

  RaftStatusGauges(MeterRegistry registry) {
    Gauge.builder("tern.raft.status.available", this, g -> g.status == null ? 0 : 1)
        .description("1 if this scrape got the replica's status in time, else 0 (the tern_raft_* gauges are NaN)")
        .register(registry);
    gauge(registry, "tern.raft.term", null, "The current term (Figure 2)", RaftMessage.Status::term);
    for (RaftMessage.Role role : RaftMessage.Role.values()) {
      Gauge.builder("tern.raft.role", this, g -> {
            RaftMessage.Status s = g.status;
            return s == null ? Double.NaN : s.role() == role ? 1 : 0;
          })
          .tag("role", role.name().toLowerCase(java.util.Locale.ROOT))
          .description("1 for the role this node is in, 0 for the others").register(registry);
    }
    gauge(registry, "tern.raft.leader.known", null, "1 if this node knows a leader of its term, else 0",
        s -> s.leaderId() == null ? 0 : 1);
    gauge(registry, "tern.raft.commit.index", null, "Highest log index known committed", RaftMessage.Status::commitIndex);
    gauge(registry, "tern.raft.applied.index", null, "Highest log index applied to the key-value state",
        RaftMessage.Status::lastApplied);
    gauge(registry, "tern.raft.log.last.index", null, "Index of the last entry in the log", RaftMessage.Status::lastLogIndex);
    gauge(registry, "tern.raft.log.first.index", null, "Index of the first entry still in the log (after compaction)",
        RaftMessage.Status::firstLogIndex);
    gauge(registry, "tern.raft.log.size", "entries", "Entries in the log (last index - first index + 1)",
        s -> Math.max(0, s.lastLogIndex() - s.firstLogIndex() + 1));
    gauge(registry, "tern.raft.snapshot.index", null, "Last log index covered by this node's latest snapshot",
        RaftMessage.Status::snapshotIndex);
    gauge(registry, "tern.raft.commit.stalled", null,
        "1 on a leader whose entries have waited longer than tern.raft.commit-stall-timeout to commit",
        s -> s.commitStall() == null ? 0 : 1);
    followerMatch = MultiGauge.builder("tern.raft.follower.match.index")
        .description("Leader only: highest log index known replicated on each follower (Figure 2's matchIndex)")
        .register(registry);
    followerLag = MultiGauge.builder("tern.raft.follower.lag").baseUnit("entries")
        .description("Leader only: entries the leader's log holds beyond each follower's match index")
        .register(registry);
    followerContact = MultiGauge.builder("tern.raft.follower.last.contact").baseUnit("seconds")
        .description("Leader only: time since each follower last answered (-1 if never since this leader took over)")
        .register(registry);
    followerSnapshot = MultiGauge.builder("tern.raft.follower.sending.snapshot")
        .description("Leader only: 1 while the leader sends a follower its snapshot (InstallSnapshot)")
        .register(registry);
  }

  private void gauge(MeterRegistry registry, String name, String unit, String help,
      ToDoubleFunction<RaftMessage.Status> value) {
    Gauge.builder(name, this, g -> {
          RaftMessage.Status s = g.status;
          return s == null ? Double.NaN : value.applyAsDouble(s);
        })
        .baseUnit(unit).description(help).register(registry);
  }

  /** The status the next scrape shows (null: the replica did not answer). */
  void update(RaftMessage.Status next) {
    status = next;
    List<RaftMessage.FollowerStatus> followers = next == null ? List.of() : next.followers();
    followerMatch.register(rows(followers, f -> f.matchIndex()), true);
    followerLag.register(rows(followers, f -> f.behind()), true);
    followerContact.register(rows(followers,
        f -> f.lastHeardMillisAgo() < 0 ? -1 : f.lastHeardMillisAgo() / 1000.0), true);
    followerSnapshot.register(rows(followers, f -> f.sendingSnapshot() ? 1 : 0), true);
  }

  private static List<MultiGauge.Row<?>> rows(List<RaftMessage.FollowerStatus> followers,
      ToDoubleFunction<RaftMessage.FollowerStatus> value) {
    List<MultiGauge.Row<?>> rows = new ArrayList<>(followers.size());
    for (RaftMessage.FollowerStatus f : followers) {
      double v = value.applyAsDouble(f);
      rows.add(MultiGauge.Row.of(Tags.of("follower", f.id()), () -> v));
    }
    return rows;
  }
}

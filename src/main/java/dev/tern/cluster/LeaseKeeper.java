package dev.tern.cluster;

import dev.tern.kv.KvCodec;
import dev.tern.kv.KvCommand;
import dev.tern.kv.KvStateMachine;
import dev.tern.kv.LeaseDeadlines;
import dev.tern.raft.RaftMessage;
import dev.tern.raft.RaftObserver;
import java.time.Duration;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Expires leases on the leader ({@link LeaseDeadlines}): while this node leads, it looks at the leases every
 * {@code tern.lease.check-interval} and proposes a {@link KvCommand.LeaseExpire} for each one that ran out, to its own
 * replica only. A node that is not leader (anymore) has its proposal refused, so only a leader's clock ever ends a
 * lease, and through the log, so every replica deletes the same keys at the same revision. Off the commit path: it
 * has its own timer and reads the leases under the state machine's lock once per look.
 */
public final class LeaseKeeper {
  private static final Logger log = LoggerFactory.getLogger(LeaseKeeper.class);

  private LeaseKeeper() {}

  public sealed interface Command {}

  /** The replica to propose to (it is created after this keeper, which observes it). */
  public record Init(ActorRef<RaftMessage> replica) implements Command {}

  record LeaderChanged(long term, String leaderId) implements Command {}

  private record Tick() implements Command {}

  private record Proposed(RaftMessage.ProposeResponse response) implements Command {}

  /** Tells {@code keeper} of the replica's leaders. */
  public static RaftObserver observer(ActorRef<Command> keeper) {
    return new RaftObserver() {
      @Override
      public void electionStarted(long term) {
        keeper.tell(new LeaderChanged(term, null));
      }

      @Override
      public void leaderChanged(long term, String leaderId) {
        keeper.tell(new LeaderChanged(term, leaderId));
      }
    };
  }

  public static Behavior<Command> create(String selfId, KvStateMachine kv, Duration checkInterval) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      timers.startTimerWithFixedDelay(new Tick(), checkInterval);
      ActorRef<RaftMessage.ProposeResponse> replies = ctx.messageAdapter(RaftMessage.ProposeResponse.class, Proposed::new);
      LeaseDeadlines deadlines = new LeaseDeadlines(Math.max(checkInterval.toNanos() * 4, 1_000_000_000L));
      return new Object() {
        ActorRef<RaftMessage> replica;
        boolean leader;

        Behavior<Command> behavior() {
          return Behaviors.receive(Command.class)
              .onMessage(Init.class, m -> {
                replica = m.replica();
                return Behaviors.same();
              })
              .onMessage(LeaderChanged.class, m -> {
                boolean now = selfId.equals(m.leaderId());
                if (now && !leader) deadlines.reset(); // a new leader gives every lease its whole TTL
                leader = now;
                return Behaviors.same();
              })
              .onMessage(Proposed.class, m -> {
                if (m.response() instanceof RaftMessage.ProposeResponse.NotLeader) leader = false;
                return Behaviors.same();
              })
              .onMessage(Tick.class, m -> {
                if (!leader || replica == null) return Behaviors.same();
                for (LeaseDeadlines.Expired e : deadlines.look(kv.leases(), System.nanoTime())) {
                  log.debug("Lease {} ran out on this leader (last renewed at index {}): proposing its expiry", e.lease(),
                      e.renewedAt());
                  // The id is the same for every proposal of this expiry: a repeat is answered from the window.
                  String id = "lease-expire:" + e.lease() + ":" + e.renewedAt();
                  replica.tell(new RaftMessage.Propose(KvCodec.encode(new KvCommand.LeaseExpire(id, e.lease(), e.renewedAt())),
                      replies));
                }
                return Behaviors.same();
              })
              .build();
        }
      }.behavior();
    }));
  }
}

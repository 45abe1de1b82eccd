package dev.tern.raft;

import java.util.List;
import java.util.Random;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/** Creates the Raft replica actor of one node. It starts as a follower (Figure 4). */
public final class RaftReplica {
  private RaftReplica() {}

  /**
   * @param id this node's id
   * @param peers the ids of the other members
   * @param random source of the randomized election timeouts (seeded in tests for repeatable runs)
   */
  public static Behavior<RaftMessage> create(
      String id,
      List<String> peers,
      RaftSettings settings,
      RaftStorage storage,
      StateMachine stateMachine,
      PeerTransport transport,
      Random random) {
    return create(id, peers, settings, storage, stateMachine, transport, random, state -> {});
  }

  /** As above; {@code inspector} gets the replica's state so that tests can check it between messages. */
  static Behavior<RaftMessage> create(
      String id,
      List<String> peers,
      RaftSettings settings,
      RaftStorage storage,
      StateMachine stateMachine,
      PeerTransport transport,
      Random random,
      Consumer<ReplicaState> inspector) {
    if (peers.contains(id)) throw new IllegalArgumentException("peers must not include this node " + id);
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers -> {
                  ReplicaState s =
                      new ReplicaState(id, peers, settings, ctx, timers, storage, stateMachine, transport, random);
                  inspector.accept(s);
                  storage.onDurable(ticket -> ctx.getSelf().tell(new RaftMessage.StorageSynced(ticket)));
                  ctx.getLog()
                      .info("{}: starting in term {} with {} log entries", id, s.currentTerm, s.log.lastIndex());
                  return Follower.become(s);
                }));
  }
}

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
   * A replica of a cluster whose voters are this node and {@code peers}, known by id only (tests).
   *
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
    return create(id, bootstrapOf(id, peers), settings, storage, stateMachine, transport, random, state -> {});
  }

  /**
   * @param id this node's id
   * @param bootstrap the configuration of a brand-new cluster; the log's and the snapshot's take over once there
   *     are some (dissertation 4.1). A node joining a running cluster passes {@link Configuration#EMPTY}.
   * @param random source of the randomized election timeouts (seeded in tests for repeatable runs)
   */
  public static Behavior<RaftMessage> create(
      String id,
      Configuration bootstrap,
      RaftSettings settings,
      RaftStorage storage,
      StateMachine stateMachine,
      PeerTransport transport,
      Random random) {
    return create(id, bootstrap, settings, storage, stateMachine, transport, random, state -> {});
  }

  /** As above; {@code onConfiguration} is told the configuration in force at start and at every change (4.1). */
  public static Behavior<RaftMessage> createReporting(
      String id,
      Configuration bootstrap,
      RaftSettings settings,
      RaftStorage storage,
      StateMachine stateMachine,
      PeerTransport transport,
      Random random,
      java.util.function.Consumer<Configuration> onConfiguration) {
    return createObserved(id, bootstrap, settings, storage, stateMachine, transport, random, onConfiguration,
        RaftObserver.NONE);
  }

  /** As above; {@code observer} is told of elections and leaders (the node's metrics). */
  public static Behavior<RaftMessage> createObserved(
      String id,
      Configuration bootstrap,
      RaftSettings settings,
      RaftStorage storage,
      StateMachine stateMachine,
      PeerTransport transport,
      Random random,
      java.util.function.Consumer<Configuration> onConfiguration,
      RaftObserver observer) {
    return create(id, bootstrap, settings, storage, stateMachine, transport, random, state -> {}, onConfiguration,
        observer);
  }

  static Configuration bootstrapOf(String id, List<String> peers) {
    if (peers.contains(id)) throw new IllegalArgumentException("peers must not include this node " + id);
    List<String> all = new java.util.ArrayList<>(peers);
    all.add(id);
    return Configuration.ofVoters(all);
  }

  /** As above, by ids; {@code inspector} gets the replica's state so that tests can check it between messages. */
  static Behavior<RaftMessage> create(
      String id,
      List<String> peers,
      RaftSettings settings,
      RaftStorage storage,
      StateMachine stateMachine,
      PeerTransport transport,
      Random random,
      Consumer<ReplicaState> inspector) {
    return create(id, bootstrapOf(id, peers), settings, storage, stateMachine, transport, random, inspector);
  }

  /** As above; {@code inspector} gets the replica's state so that tests can check it between messages. */
  static Behavior<RaftMessage> create(
      String id,
      Configuration bootstrap,
      RaftSettings settings,
      RaftStorage storage,
      StateMachine stateMachine,
      PeerTransport transport,
      Random random,
      Consumer<ReplicaState> inspector) {
    return create(id, bootstrap, settings, storage, stateMachine, transport, random, inspector, c -> {},
        RaftObserver.NONE);
  }

  private static Behavior<RaftMessage> create(
      String id,
      Configuration bootstrap,
      RaftSettings settings,
      RaftStorage storage,
      StateMachine stateMachine,
      PeerTransport transport,
      Random random,
      Consumer<ReplicaState> inspector,
      Consumer<Configuration> onConfiguration,
      RaftObserver observer) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers -> {
                  ReplicaState s =
                      new ReplicaState(id, bootstrap, settings, ctx, timers, storage, stateMachine, transport, random,
                          onConfiguration, observer);
                  inspector.accept(s);
                  storage.onDurable(ticket -> ctx.getSelf().tell(new RaftMessage.StorageSynced(ticket)));
                  ctx.getLog()
                      .info("{}: starting in term {} with {} log entries", id, s.currentTerm, s.log.lastIndex());
                  return Follower.become(s);
                }));
  }
}

package dev.tern.raft;

/**
 * More of each node than its replica, run by the {@link Simulation} along with it (the front and the key-value
 * state machine: {@link KvSimulation}). The simulation tells it of each replica's life; it schedules its own
 * events through the simulation.
 */
interface SimExtension {
  /** The state machine the replica of {@code id} gets when it starts; {@code checking} must see every entry. */
  StateMachine stateMachine(String id, int incarnation, StateMachine checking);

  /** The replica of {@code id} has started (after a crash: restarted) on what its disk holds. */
  void started(String id, int incarnation);

  /** The node crashed: everything in its process is gone. */
  void crashed(String id);

  /** The replica of {@code id} ran and settled: what it sent to the rest of its node can be picked up. */
  void settled(String id);
}

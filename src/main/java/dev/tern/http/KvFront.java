package dev.tern.http;

import dev.tern.cluster.MemberDirectory;
import dev.tern.cluster.Members;
import dev.tern.cluster.PeerGateway;
import dev.tern.cluster.PeerRoutes;
import dev.tern.kv.KeyValue;
import dev.tern.kv.Bytes;
import dev.tern.kv.KvResult;
import dev.tern.kv.KvStateMachine;
import dev.tern.raft.RaftMessage;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;

/**
 * The front actor's protocol: what the HTTP layer asks of a node. Input is already validated (non-empty key,
 * sizes within {@link KvLimits}). Every reply comes once the command is committed and applied on this node,
 * or as {@link Reply.Unavailable} when that could not happen within the request timeout.
 */
public final class KvFront {
  private KvFront() {}

  /**
   * The front actor of node {@code selfId}. It holds requests until {@link #init} gives it the replica, the
   * gateway and the state machine (which need the front's own ref to be created).
   */
  public static Behavior<Command> create(String selfId, Members members, KvLimits limits) {
    return KvFrontBehavior.create(selfId, MemberDirectory.fixed(members), limits);
  }

  /** A front whose leader hints are checked against the members of the configuration in force. */
  public static Behavior<Command> create(String selfId, MemberDirectory members, KvLimits limits) {
    return KvFrontBehavior.create(selfId, members, limits);
  }

  /** Requests for other nodes go through {@code gateway} (tests). */
  public static Command init(ActorRef<RaftMessage> replica, ActorRef<PeerGateway.Command> gateway, KvStateMachine kv) {
    return new KvFrontBehavior.Init(replica, (to, m) -> gateway.tell(new PeerGateway.Outbound(to, m)), kv);
  }

  /** Requests for other nodes go out through {@code routes}, from the front's own thread. */
  public static Command init(ActorRef<RaftMessage> replica, PeerRoutes routes, KvStateMachine kv) {
    return new KvFrontBehavior.Init(replica, routes::send, kv);
  }

  public interface Command {}

  // Requests come from the HTTP layer in the same JVM and carry the future the front completes: no temporary
  // actor and no timeout task per request, as an ask would need (the front answers every request by its
  // deadline itself). They never cross the network.

  /**
   * Put; with {@code expectedRevision} >= 0 a compare-and-set on that revision (0 = must be absent).
   * {@code commandId} is the command id made from the client's request id ({@link RequestIds}), or null for one
   * the front makes.
   */
  public record Put(String key, Bytes value, long expectedRevision, String commandId, CompletableFuture<Reply> reply)
      implements Command {
    public static final long UNCONDITIONAL = -1;

    public Put(String key, Bytes value, long expectedRevision, CompletableFuture<Reply> reply) {
      this(key, value, expectedRevision, null, reply);
    }

    public Put(String key, String value, long expectedRevision, CompletableFuture<Reply> reply) {
      this(key, Bytes.utf8(value), expectedRevision, null, reply);
    }
  }

  /** A delete; {@code commandId} as for {@link Put}. */
  public record Delete(String key, String commandId, CompletableFuture<Reply> reply) implements Command {
    public Delete(String key, CompletableFuture<Reply> reply) {
      this(key, null, reply);
    }
  }

  /**
   * A transaction ({@code KvCommand.Txn}): answered {@code Done(TxnDone)} once applied; {@code commandId} as for
   * {@link Put}.
   */
  public record Txn(List<dev.tern.kv.TxnCompare> compares, List<dev.tern.kv.TxnOp> success,
      List<dev.tern.kv.TxnOp> failure, String commandId, CompletableFuture<Reply> reply) implements Command {}

  /**
   * Any other command through the log (leases, a put with a lease): {@code command} makes it from the command id,
   * which is {@code commandId} (as for {@link Put}) or one the front makes. Answered {@code Done} once applied.
   */
  public record Submit(java.util.function.Function<String, dev.tern.kv.KvCommand> command, String commandId,
      CompletableFuture<Reply> reply) implements Command {}

  /** A get; linearizable (ReadIndex) unless {@code linearizable} is false (served from applied state). */
  public record Get(String key, boolean linearizable, CompletableFuture<Reply> reply) implements Command {}

  /** Keys starting with {@code prefix}, in key order, at most {@code limit}; linearizable. */
  public record ListKeys(String prefix, int limit, CompletableFuture<Reply> reply) implements Command {}

  public record GetNodeStatus(CompletableFuture<NodeStatus> reply) implements Command {}

  public sealed interface Reply {
    /** The outcome of the command: Written, Deleted, Value, NotFound or CasConflict. */
    record Done(KvResult result) implements Reply {}

    record Items(List<KeyValue> items) implements Reply {}

    /**
     * No leader, no quorum, or leadership lost before the command was applied, within the request timeout.
     * A write answered this way may still be committed later.
     */
    record Unavailable(String reason) implements Reply {}
  }
}

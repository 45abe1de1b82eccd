package dev.tern.http;

import dev.tern.cluster.Member;
import dev.tern.cluster.Members;
import dev.tern.cluster.PeerGateway;
import dev.tern.kv.KvCodec;
import dev.tern.kv.KvCommand;
import dev.tern.kv.KvResult;
import dev.tern.kv.KvStateMachine;
import dev.tern.kv.VersionedValue;
import dev.tern.raft.RaftMessage;
import dev.tern.raft.RaftMessage.ProposeResponse;
import dev.tern.raft.RaftMessage.ReadIndexResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * The front actor: turns client requests into Raft commands and reads, and answers each once it has taken
 * effect on this node. A write gets a unique command id, goes to the leader (this node's replica or, through
 * the gateway, the leader it names), and is answered when this node's state machine applies that id. A
 * linearizable read asks the leader for a read index (ReadIndex) and is served from this node's state once
 * it has applied that far. Whatever has not completed by the request timeout is answered Unavailable.
 */
final class KvFrontBehavior extends AbstractBehavior<KvFront.Command> {

  /** From {@link AppliedNotifier}: the entry at {@code index} was applied ({@code command} null for no-ops). */
  record Applied(long index, KvCommand command, KvResult result) implements KvFront.Command {}

  /** From {@link AppliedNotifier}: the state was replaced by a snapshot up to {@code index}. */
  record Restored(long index) implements KvFront.Command {}

  private record Proposed(String id, ProposeResponse response, String askedNode) implements KvFront.Command {}

  private record ReadIndexed(long readId, ReadIndexResponse response, String askedNode) implements KvFront.Command {}

  private record Retry(String id) implements KvFront.Command {}

  private record RetryRead(long readId) implements KvFront.Command {}

  private record Expired(Object requestKey) implements KvFront.Command {}

  private record StatusReady(RaftMessage.Status status, ActorRef<NodeStatus> replyTo) implements KvFront.Command {}

  /** The replica, gateway and state machine, sent once they exist (they need the front's ref first). */
  record Init(ActorRef<RaftMessage> replica, ActorRef<PeerGateway.Command> gateway, KvStateMachine kv)
      implements KvFront.Command {}

  private static final class Write {
    final KvCommand command;
    final byte[] bytes;
    final ActorRef<KvFront.Reply> replyTo;
    long index; // where the leader put it, once known

    Write(KvCommand command, ActorRef<KvFront.Reply> replyTo) {
      this.command = command;
      this.bytes = KvCodec.encode(command);
      this.replyTo = replyTo;
    }

    /** Answers the client; a result remembered for a repeated command id lacks the value, which we know. */
    void answer(KvResult result) {
      if (result instanceof KvResult.Written w && w.value() == null) {
        String value = command instanceof KvCommand.Put p ? p.value()
            : command instanceof KvCommand.CompareAndSet c ? c.value() : null;
        result = new KvResult.Written(w.key(), value, w.revision());
      }
      replyTo.tell(new KvFront.Reply.Done(result));
    }
  }

  /** A linearizable read: a get (prefix == null) or a list. */
  private record Read(String key, String prefix, int limit, ActorRef<KvFront.Reply> replyTo) {}

  private static final Duration ASK_TIMEOUT = Duration.ofSeconds(1);
  private static final Duration RETRY_DELAY = Duration.ofMillis(50);

  private final String selfId;
  private final Members members;
  private final ActorRef<RaftMessage> replica;
  private final ActorRef<PeerGateway.Command> gateway;
  private final KvStateMachine kv;
  private final KvLimits limits;
  private final TimerScheduler<KvFront.Command> timers;
  private final String idPrefix = UUID.randomUUID().toString().substring(0, 8) + "-";
  private long nextId;
  private String leaderHint;

  private final Map<String, Write> writes = new HashMap<>();
  private final Map<Long, String> writeAtIndex = new HashMap<>();
  private final Map<Long, Read> reads = new HashMap<>();
  /** Reads whose read index is known, waiting for this node to apply that far: readId -> readIndex. */
  private final Map<Long, Long> readsWaiting = new HashMap<>();

  private KvFrontBehavior(
      ActorContext<KvFront.Command> ctx,
      TimerScheduler<KvFront.Command> timers,
      String selfId,
      Members members,
      ActorRef<RaftMessage> replica,
      ActorRef<PeerGateway.Command> gateway,
      KvStateMachine kv,
      KvLimits limits) {
    super(ctx);
    this.timers = timers;
    this.selfId = selfId;
    this.members = members;
    this.replica = replica;
    this.gateway = gateway;
    this.kv = kv;
    this.limits = limits;
  }

  static Behavior<KvFront.Command> create(String selfId, Members members, KvLimits limits) {
    return Behaviors.withStash(10_000, stash -> Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
        Behaviors.receive(KvFront.Command.class)
            .onMessage(Init.class, init -> stash.unstashAll(new KvFrontBehavior(
                ctx, timers, selfId, members, init.replica(), init.gateway(), init.kv(), limits)))
            .onAnyMessage(m -> {
              stash.stash(m);
              return Behaviors.same();
            })
            .build())));
  }

  @Override
  public Receive<KvFront.Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(KvFront.Put.class, this::onPut)
        .onMessage(KvFront.Delete.class, d -> startWrite(new KvCommand.Delete(newId(), d.key()), d.replyTo()))
        .onMessage(KvFront.Get.class, this::onGet)
        .onMessage(KvFront.ListKeys.class, l -> startRead(new Read(null, l.prefix(), l.limit(), l.replyTo())))
        .onMessage(KvFront.GetNodeStatus.class, this::onStatus)
        .onMessage(StatusReady.class, this::onStatusReady)
        .onMessage(Proposed.class, this::onProposed)
        .onMessage(Retry.class, r -> propose(r.id()))
        .onMessage(ReadIndexed.class, this::onReadIndexed)
        .onMessage(RetryRead.class, r -> askReadIndex(r.readId()))
        .onMessage(Applied.class, this::onApplied)
        .onMessage(Restored.class, this::onRestored)
        .onMessage(Expired.class, this::onExpired)
        .build();
  }

  private String newId() {
    return selfId + "-" + idPrefix + (nextId++);
  }

  // ---- writes -------------------------------------------------------------------------------------------

  private Behavior<KvFront.Command> onPut(KvFront.Put p) {
    KvCommand cmd = p.expectedRevision() == KvFront.Put.UNCONDITIONAL
        ? new KvCommand.Put(newId(), p.key(), p.value())
        : new KvCommand.CompareAndSet(newId(), p.key(), p.expectedRevision(), p.value());
    return startWrite(cmd, p.replyTo());
  }

  private Behavior<KvFront.Command> startWrite(KvCommand cmd, ActorRef<KvFront.Reply> replyTo) {
    writes.put(cmd.id(), new Write(cmd, replyTo));
    timers.startSingleTimer(cmd.id(), new Expired(cmd.id()), limits.requestTimeout());
    return propose(cmd.id());
  }

  /** Sends the write to the leader we believe in, or to our own replica, which knows better. */
  private Behavior<KvFront.Command> propose(String id) {
    Write w = writes.get(id);
    if (w == null) return this;
    String target = leaderHint == null ? selfId : leaderHint;
    askReplica(ProposeResponse.class, target, replyTo -> new RaftMessage.Propose(w.bytes, replyTo),
        (response, failure) -> new Proposed(id, response, target));
    return this;
  }

  /**
   * Asks node {@code target}'s replica: our own directly (the common case on the leader, one actor hop
   * fewer on every request), any other through the peer gateway.
   */
  private <R> void askReplica(
      Class<R> type,
      String target,
      org.apache.pekko.japi.function.Function<ActorRef<R>, RaftMessage> request,
      org.apache.pekko.japi.function.Function2<R, Throwable, KvFront.Command> toCommand) {
    if (target.equals(selfId)) {
      getContext().ask(type, replica, ASK_TIMEOUT, request, toCommand);
    } else {
      getContext().ask(type, gateway, ASK_TIMEOUT,
          replyTo -> new PeerGateway.Outbound(target, request.apply(replyTo)), toCommand);
    }
  }

  private Behavior<KvFront.Command> onProposed(Proposed p) {
    Write w = writes.get(p.id());
    if (w == null) return this; // already answered
    if (p.response() instanceof ProposeResponse.Accepted a) {
      leaderHint = p.askedNode();
      w.index = a.index();
      writeAtIndex.put(a.index(), p.id());
      if (kv.lastApplied() >= a.index()) {
        // Applied before the answer came back: the Applied message for it was already handled, so the entry at
        // that index is someone else's or ours was missed. Propose again rather than guess.
        writeAtIndex.remove(a.index());
        w.index = 0;
        timers.startSingleTimer(p.id() + "/retry", new Retry(p.id()), RETRY_DELAY);
      }
    } else {
      nextLeader(p.response() instanceof ProposeResponse.NotLeader n ? n.leaderHint() : null, p.askedNode());
      timers.startSingleTimer(p.id() + "/retry", new Retry(p.id()), RETRY_DELAY);
    }
    return this;
  }

  /** The node we asked is not the leader (or did not answer): follow its hint, else ask our own replica. */
  private void nextLeader(String hint, String asked) {
    leaderHint = hint != null && !hint.equals(asked) && members.byId(hint).isPresent() ? hint : null;
  }

  // ---- reads --------------------------------------------------------------------------------------------

  private Behavior<KvFront.Command> onGet(KvFront.Get g) {
    if (!g.linearizable()) {
      g.replyTo().tell(new KvFront.Reply.Done(get(g.key())));
      return this;
    }
    return startRead(new Read(g.key(), null, 0, g.replyTo()));
  }

  private long nextReadId;

  private Behavior<KvFront.Command> startRead(Read read) {
    long readId = nextReadId++;
    reads.put(readId, read);
    timers.startSingleTimer(readId, new Expired(readId), limits.requestTimeout());
    return askReadIndex(readId);
  }

  private Behavior<KvFront.Command> askReadIndex(long readId) {
    if (!reads.containsKey(readId) || readsWaiting.containsKey(readId)) return this;
    String target = leaderHint == null ? selfId : leaderHint;
    askReplica(ReadIndexResponse.class, target, RaftMessage.ReadIndex::new,
        (response, failure) -> new ReadIndexed(readId, response, target));
    return this;
  }

  private Behavior<KvFront.Command> onReadIndexed(ReadIndexed r) {
    if (!reads.containsKey(r.readId())) return this;
    if (r.response() instanceof ReadIndexResponse.Ok ok) {
      leaderHint = r.askedNode();
      if (kv.lastApplied() >= ok.readIndex()) answerRead(r.readId());
      else readsWaiting.put(r.readId(), ok.readIndex());
    } else {
      nextLeader(r.response() instanceof ReadIndexResponse.NotLeader n ? n.leaderHint() : null, r.askedNode());
      timers.startSingleTimer("read/" + r.readId(), new RetryRead(r.readId()), RETRY_DELAY);
    }
    return this;
  }

  private void answerRead(long readId) {
    Read read = reads.remove(readId);
    readsWaiting.remove(readId);
    timers.cancel(readId);
    if (read == null) return;
    if (read.prefix() == null) read.replyTo().tell(new KvFront.Reply.Done(get(read.key())));
    else read.replyTo().tell(new KvFront.Reply.Items(kv.range(read.prefix(), read.limit())));
  }

  private KvResult get(String key) {
    VersionedValue v = kv.get(key).orElse(null);
    return v == null ? new KvResult.NotFound(key) : new KvResult.Value(key, v.value(), v.revision());
  }

  // ---- applied entries ----------------------------------------------------------------------------------

  private Behavior<KvFront.Command> onApplied(Applied a) {
    String waiting = writeAtIndex.remove(a.index());
    String appliedId = a.command() == null ? null : a.command().id();
    if (appliedId != null) {
      Write w = writes.remove(appliedId);
      if (w != null) {
        timers.cancel(appliedId);
        timers.cancel(appliedId + "/retry");
        w.answer(a.result());
      }
    }
    if (waiting != null && !waiting.equals(appliedId) && writes.containsKey(waiting)) {
      // Another entry won this index: ours was lost with the leader that accepted it. Try again.
      writes.get(waiting).index = 0;
      propose(waiting);
    }
    if (!readsWaiting.isEmpty()) {
      List<Long> ready = new ArrayList<>();
      for (Iterator<Map.Entry<Long, Long>> it = readsWaiting.entrySet().iterator(); it.hasNext(); ) {
        Map.Entry<Long, Long> e = it.next();
        if (e.getValue() <= a.index()) ready.add(e.getKey());
      }
      for (long id : ready) answerRead(id);
    }
    return this;
  }

  /**
   * A snapshot jumped this node past entries it never applied one by one. A write among them is answered
   * with the result its command id got, which the snapshot's deduplication window carries; a write accepted
   * at an index the snapshot covers but not found there was lost, and is proposed again.
   */
  private Behavior<KvFront.Command> onRestored(Restored r) {
    for (String id : List.copyOf(writes.keySet())) {
      Write w = writes.get(id);
      KvResult result = kv.resultOf(id).orElse(null);
      if (result != null) {
        writes.remove(id);
        writeAtIndex.remove(w.index);
        timers.cancel(id);
        timers.cancel(id + "/retry");
        w.answer(result);
      } else if (w.index > 0 && w.index <= r.index()) {
        writeAtIndex.remove(w.index);
        w.index = 0;
        propose(id);
      }
    }
    writeAtIndex.keySet().removeIf(index -> index <= r.index());
    List<Long> ready = new ArrayList<>();
    for (Map.Entry<Long, Long> e : readsWaiting.entrySet()) if (e.getValue() <= r.index()) ready.add(e.getKey());
    for (long id : ready) answerRead(id);
    return this;
  }

  private Behavior<KvFront.Command> onExpired(Expired e) {
    String why = "no leader or no quorum within " + limits.requestTimeout().toMillis() + " ms";
    if (e.requestKey() instanceof String id) {
      Write w = writes.remove(id);
      if (w != null) {
        if (w.index > 0) writeAtIndex.remove(w.index);
        timers.cancel(id + "/retry");
        w.replyTo.tell(new KvFront.Reply.Unavailable(why + "; the write may still be applied later"));
      }
    } else if (e.requestKey() instanceof Long readId) {
      Read read = reads.remove(readId);
      readsWaiting.remove(readId);
      timers.cancel("read/" + readId);
      if (read != null) read.replyTo().tell(new KvFront.Reply.Unavailable(why));
    }
    return this;
  }

  // ---- status -------------------------------------------------------------------------------------------

  private Behavior<KvFront.Command> onStatus(KvFront.GetNodeStatus g) {
    getContext().ask(RaftMessage.Status.class, replica, ASK_TIMEOUT, RaftMessage.GetStatus::new,
        (status, failure) -> new StatusReady(status, g.replyTo()));
    return this;
  }

  private Behavior<KvFront.Command> onStatusReady(StatusReady s) {
    RaftMessage.Status st = s.status();
    List<Member> all = members.all();
    if (st == null) {
      s.replyTo().tell(new NodeStatus(selfId, "UNKNOWN", 0, null, 0, kv.lastApplied(), all, false));
    } else {
      // A leader that cannot commit is no use to clients, even though it still leads (issue: health must not
      // say "serving" while every write times out).
      boolean serving = st.leaderId() != null && st.commitStall() == null;
      s.replyTo().tell(new NodeStatus(selfId, st.role().name(), st.term(), st.leaderId(), st.commitIndex(),
          kv.lastApplied(), all, serving, st.firstLogIndex(), st.snapshotIndex(), st.followers(), st.commitStall()));
    }
    return this;
  }
}

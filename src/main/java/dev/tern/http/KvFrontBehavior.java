package dev.tern.http;

import dev.tern.cluster.Member;
import dev.tern.cluster.MemberDirectory;
import dev.tern.cluster.Members;
import dev.tern.http.FrontRequest.Read;
import dev.tern.http.FrontRequest.Write;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.LongFunction;
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
 *
 * <p>Nothing here costs a timer or a temporary actor per request. Replies from replicas come to two message
 * adapters made once, matched to their request by the id each proposal or read carries; one periodic sweep
 * answers requests whose deadline passed, proposes again those that got no answer within {@link #ASK_TIMEOUT}
 * (the node asked may be gone), and retries those told "not the leader". Requests all get the same timeout, so
 * the oldest are first in insertion order and the sweep stops at the first one still in time; the timeout is
 * exact to about {@link #SWEEP}.
 */
final class KvFrontBehavior extends AbstractBehavior<KvFront.Command> {

  /** From {@link AppliedNotifier}: the entry at {@code index} was applied ({@code command} null for no-ops). */
  record Applied(long index, KvCommand command, KvResult result) implements KvFront.Command {}

  /** From {@link AppliedNotifier}: the state was replaced by a snapshot up to {@code index}. */
  record Restored(long index) implements KvFront.Command {}

  private record Proposed(ProposeResponse response) implements KvFront.Command {}

  private record ReadIndexed(ReadIndexResponse response) implements KvFront.Command {}

  private enum Sweep implements KvFront.Command {
    INSTANCE
  }

  private record StatusReady(RaftMessage.Status status, CompletableFuture<NodeStatus> reply) implements KvFront.Command {}

  /** The replica, gateway and state machine, sent once they exist (they need the front's ref first). */
  record Init(ActorRef<RaftMessage> replica, BiConsumer<String, RaftMessage> toPeer, KvStateMachine kv)
      implements KvFront.Command {}

  /** How long a proposal or read request may go unanswered before it is sent again (the node may be gone). */
  static final Duration ASK_TIMEOUT = Duration.ofSeconds(1);
  /** How long to wait before asking again after "not the leader" without a hint (an election is under way). */
  private static final long RETRY_DELAY_NANOS = Duration.ofMillis(50).toNanos();
  /** The period of the sweep over deadlines and retries. */
  static final Duration SWEEP = Duration.ofMillis(50);
  /**
   * A request to another node unanswered for this long may have gone to a leader that died: the same request
   * goes to our own replica too, which accepts it if it now leads, or names the leader it follows. Without this
   * probe a client waited the whole {@link #ASK_TIMEOUT} after a leader crash (failover took 1.1-1.2 s with
   * election timeouts of 300-600 ms). An answer from a live leader comes within milliseconds, so under load
   * the probe costs little: our replica answers "not the leader" at once.
   */
  static final Duration PROBE_AFTER = Duration.ofMillis(250);

  private final String selfId;
  /** The members of the configuration in force: which leader hints name a member. */
  private final MemberDirectory members;
  private final ActorRef<RaftMessage> replica;
  /** Sends to another node's replica (through {@code PeerRoutes} in a node: no hop through the gateway). */
  private final BiConsumer<String, RaftMessage> toPeer;
  private final KvStateMachine kv;
  private final KvLimits limits;
  private final ActorRef<ProposeResponse> proposeReplies;
  private final ActorRef<ReadIndexResponse> readReplies;
  private final String idPrefix;
  /** The time source for deadlines and retries: System.nanoTime, or the simulation's clock in tests. */
  private final LongSupplier clock;
  private final long timeoutNanos;
  private final long askTimeoutNanos = ASK_TIMEOUT.toNanos();
  private final long probeAfterNanos = PROBE_AFTER.toNanos();
  private long nextSeq;
  private long nextRequestId = 1;
  private String leaderHint;

  /** Writes by seq, oldest (so earliest deadline) first. */
  private final LinkedHashMap<Long, Write> writes = new LinkedHashMap<>();
  private final Map<String, Write> writesById = new HashMap<>();
  private final Map<Long, Write> writesByRequest = new HashMap<>();
  private final Map<Long, Write> writeAtIndex = new HashMap<>();
  /** Reads by seq, oldest first. */
  private final LinkedHashMap<Long, Read> reads = new LinkedHashMap<>();
  private final Map<Long, Read> readsByRequest = new HashMap<>();
  /** Reads whose read index is known, by that index, waiting for this node to apply that far. */
  private final TreeMap<Long, List<Read>> readsWaiting = new TreeMap<>();

  private KvFrontBehavior(
      ActorContext<KvFront.Command> ctx,
      String selfId,
      MemberDirectory members,
      ActorRef<RaftMessage> replica,
      BiConsumer<String, RaftMessage> toPeer,
      KvStateMachine kv,
      KvLimits limits,
      LongSupplier clock,
      String idPrefix) {
    super(ctx);
    this.clock = clock;
    this.idPrefix = idPrefix + "-";
    this.selfId = selfId;
    this.members = members;
    this.replica = replica;
    this.toPeer = toPeer;
    this.kv = kv;
    this.limits = limits;
    this.timeoutNanos = limits.requestTimeout().toNanos();
    this.proposeReplies = ctx.messageAdapter(ProposeResponse.class, Proposed::new);
    this.readReplies = ctx.messageAdapter(ReadIndexResponse.class, ReadIndexed::new);
  }

  static Behavior<KvFront.Command> create(String selfId, MemberDirectory members, KvLimits limits) {
    return create(selfId, members, limits, System::nanoTime, UUID.randomUUID().toString().substring(0, 8));
  }

  static Behavior<KvFront.Command> create(
      String selfId, Members members, KvLimits limits, LongSupplier clock, String idPrefix) {
    return create(selfId, MemberDirectory.fixed(members), limits, clock, idPrefix);
  }

  /**
   * With the clock and the prefix of command ids given: deterministic tests (the simulation) pass their own
   * clock and a seeded prefix. Command ids are {@code selfId-idPrefix-seq}, so the prefix must differ between
   * runs of the front on one node.
   */
  static Behavior<KvFront.Command> create(
      String selfId, MemberDirectory members, KvLimits limits, LongSupplier clock, String idPrefix) {
    return Behaviors.withStash(10_000, stash -> Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
        Behaviors.receive(KvFront.Command.class)
            .onMessage(Init.class, init -> {
              timers.startTimerWithFixedDelay(Sweep.INSTANCE, SWEEP);
              return stash.unstashAll(new KvFrontBehavior(
                  ctx, selfId, members, init.replica(), init.toPeer(), init.kv(), limits, clock, idPrefix));
            })
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
        .onMessage(KvFront.Delete.class, d -> startWrite(new KvCommand.Delete(idOf(d.commandId()), d.key()), d.reply(),
            d.commandId() != null))
        .onMessage(KvFront.Txn.class, t -> startWrite(
            new KvCommand.Txn(idOf(t.commandId()), t.compares(), t.success(), t.failure()), t.reply(),
            t.commandId() != null))
        .onMessage(KvFront.Submit.class, c -> startWrite(c.command().apply(idOf(c.commandId())), c.reply(),
            c.commandId() != null))
        .onMessage(KvFront.Get.class, this::onGet)
        .onMessage(KvFront.ListKeys.class, l -> startRead(null, l.prefix(), l.limit(), l.reply()))
        .onMessage(KvFront.GetNodeStatus.class, this::onStatus)
        .onMessage(StatusReady.class, this::onStatusReady)
        .onMessage(Proposed.class, this::onProposed)
        .onMessage(ReadIndexed.class, this::onReadIndexed)
        .onMessage(Applied.class, this::onApplied)
        .onMessage(Restored.class, this::onRestored)
        .onMessage(Sweep.class, s -> sweep())
        .build();
  }

  private String newId() {
    return selfId + "-" + idPrefix + nextSeq;
  }

  /** The client's command id (from its request id), or a new one of ours. */
  private String idOf(String clientId) {
    return clientId != null ? clientId : newId();
  }

  /** Sends a request to node {@code target}'s replica: our own directly, any other over the network. */
  private void send(String target, RaftMessage message) {
    if (target.equals(selfId)) replica.tell(message);
    else toPeer.accept(target, message);
  }

  /** The leader we believe in, or our own replica, which knows better. */
  private String target() {
    return leaderHint == null ? selfId : leaderHint;
  }

  /** The node we asked is not the leader (or did not answer): follow its hint, else ask our own replica. */
  private void nextLeader(String hint, String asked) {
    leaderHint = hint != null && !hint.equals(asked) && members.current().byId(hint).isPresent() ? hint : null;
  }

  /** After "not the leader": at once if it named another leader, else once an election had time to end. */
  private long retryTime(long now) {
    return leaderHint != null ? now : now + RETRY_DELAY_NANOS;
  }

  // ---- writes -------------------------------------------------------------------------------------------

  private Behavior<KvFront.Command> onPut(KvFront.Put p) {
    String id = idOf(p.commandId());
    KvCommand cmd = p.expectedRevision() == KvFront.Put.UNCONDITIONAL
        ? new KvCommand.Put(id, p.key(), p.value())
        : new KvCommand.CompareAndSet(id, p.key(), p.expectedRevision(), p.value());
    return startWrite(cmd, p.reply(), p.commandId() != null);
  }

  /** {@code clientId}: the command id is the client's, so it may already be in progress here. */
  private Behavior<KvFront.Command> startWrite(KvCommand cmd, CompletableFuture<KvFront.Reply> reply, boolean clientId) {
    Write inProgress = clientId ? writesById.get(cmd.id()) : null; // our own ids never repeat: no lookup
    if (inProgress != null) {
      // A client retried through this node before its first try was answered: one proposal, one answer for
      // both, the first one's.
      if (inProgress.sameId == null) inProgress.sameId = new ArrayList<>(1);
      inProgress.sameId.add(reply);
      return this;
    }
    Write w = new Write(nextSeq++, clock.getAsLong() + timeoutNanos, cmd, reply);
    writes.put(w.seq, w);
    writesById.put(cmd.id(), w);
    propose(w, clock.getAsLong());
    return this;
  }

  /** Sends the write to the leader we believe in. */
  private void propose(Write w, long now) {
    sendOut(w, writesByRequest, now, id -> new RaftMessage.Propose(w.bytes, proposeReplies, id));
  }

  /**
   * Sends {@code r} (again) under a new request id, to the leader we believe in; replies to its earlier copies,
   * the probe included, no longer find it.
   */
  private <R extends FrontRequest> void sendOut(R r, Map<Long, R> byRequest, long now, LongFunction<RaftMessage> message) {
    byRequest.remove(r.requestId);
    byRequest.remove(r.probeId);
    r.probeId = 0;
    r.requestId = nextRequestId++;
    byRequest.put(r.requestId, r);
    r.askedNode = target();
    r.askedAt = now;
    r.retryAt = 0;
    send(r.askedNode, message.apply(r.requestId));
  }

  private Behavior<KvFront.Command> onProposed(Proposed p) {
    Write w = writesByRequest.remove(p.response().requestId());
    if (w == null || w.done) return this; // answered, expired, or a reply to a proposal sent again since
    String hint = p.response() instanceof ProposeResponse.NotLeader n ? n.leaderHint() : null;
    boolean accepted = p.response() instanceof ProposeResponse.Accepted;
    if (!settle(w, p.response().requestId(), accepted, hint, writesByRequest, x -> propose(x, clock.getAsLong()))) {
      return this;
    }
    String asked = w.askedNode;
    w.askedNode = null;
    long now = clock.getAsLong();
    if (p.response() instanceof ProposeResponse.Accepted a) {
      leaderHint = asked;
      w.index = a.index();
      writeAtIndex.put(a.index(), w);
      if (kv.lastApplied() >= a.index()) {
        // Applied before the answer came back: the Applied message for it was already handled, so the entry at
        // that index is someone else's or ours was missed. Propose again rather than guess.
        writeAtIndex.remove(a.index());
        w.index = 0;
        w.retryAt = now + RETRY_DELAY_NANOS;
      }
    } else {
      nextLeader(hint, asked);
      w.retryAt = retryTime(now);
      if (w.retryAt <= now) propose(w, now);
    }
    return this;
  }

  private void finish(Write w) {
    w.done = true;
    writes.remove(w.seq);
    writesById.remove(w.command.id());
    writesByRequest.remove(w.requestId);
    writesByRequest.remove(w.probeId);
    if (w.index > 0 && writeAtIndex.get(w.index) == w) writeAtIndex.remove(w.index);
  }

  // ---- reads --------------------------------------------------------------------------------------------

  private Behavior<KvFront.Command> onGet(KvFront.Get g) {
    if (!g.linearizable()) {
      g.reply().complete(new KvFront.Reply.Done(get(g.key())));
      return this;
    }
    return startRead(g.key(), null, 0, g.reply());
  }

  private Behavior<KvFront.Command> startRead(String key, String prefix, int limit, CompletableFuture<KvFront.Reply> reply) {
    long now = clock.getAsLong();
    Read read = new Read(nextSeq++, now + timeoutNanos, key, prefix, limit, reply);
    reads.put(read.seq, read);
    askReadIndex(read, now);
    return this;
  }

  private void askReadIndex(Read read, long now) {
    sendOut(read, readsByRequest, now, id -> new RaftMessage.ReadIndex(readReplies, id));
  }

  private Behavior<KvFront.Command> onReadIndexed(ReadIndexed r) {
    Read read = readsByRequest.remove(r.response().requestId());
    if (read == null || read.done) return this;
    String hint = r.response() instanceof ReadIndexResponse.NotLeader n ? n.leaderHint() : null;
    boolean answered = r.response() instanceof ReadIndexResponse.Ok;
    if (!settle(read, r.response().requestId(), answered, hint, readsByRequest, x -> askReadIndex(x, clock.getAsLong()))) {
      return this;
    }
    String asked = read.askedNode;
    read.askedNode = null;
    if (r.response() instanceof ReadIndexResponse.Ok ok) {
      leaderHint = asked;
      if (kv.lastApplied() >= ok.readIndex()) answerRead(read);
      else readsWaiting.computeIfAbsent(ok.readIndex(), i -> new ArrayList<>(2)).add(read);
    } else {
      long now = clock.getAsLong();
      nextLeader(hint, asked);
      read.retryAt = retryTime(now);
      if (read.retryAt <= now) askReadIndex(read, now);
    }
    return this;
  }

  private void answerRead(Read read) {
    if (read.done) return;
    read.done = true;
    reads.remove(read.seq);
    readsByRequest.remove(read.requestId);
    readsByRequest.remove(read.probeId);
    if (read.prefix == null) read.reply.complete(new KvFront.Reply.Done(get(read.key)));
    else read.reply.complete(new KvFront.Reply.Items(kv.range(read.prefix, read.limit)));
  }

  /** Serves every read whose read index this node has now applied. */
  private void releaseReads(long applied) {
    while (!readsWaiting.isEmpty() && readsWaiting.firstKey() <= applied) {
      for (Read read : readsWaiting.pollFirstEntry().getValue()) answerRead(read);
    }
  }

  private KvResult get(String key) {
    VersionedValue v = kv.get(key).orElse(null);
    return v == null ? new KvResult.NotFound(key) : new KvResult.Value(key, v.value(), v.revision());
  }

  // ---- applied entries ----------------------------------------------------------------------------------

  private Behavior<KvFront.Command> onApplied(Applied a) {
    Write waiting = writeAtIndex.remove(a.index());
    Write applied = a.command() == null ? null : writesById.get(a.command().id());
    if (applied != null) {
      finish(applied);
      applied.answer(a.result());
    }
    if (waiting != null && waiting != applied && !waiting.done) {
      // Another entry won this index: ours was lost with the leader that accepted it. Try again.
      waiting.index = 0;
      propose(waiting, clock.getAsLong());
    }
    if (!readsWaiting.isEmpty()) releaseReads(a.index());
    return this;
  }

  /**
   * A snapshot jumped this node past entries it never applied one by one. A write among them is answered
   * with the result its command id got, which the snapshot's deduplication window carries; a write accepted
   * at an index the snapshot covers but not found there was lost, and is proposed again.
   */
  private Behavior<KvFront.Command> onRestored(Restored r) {
    long now = clock.getAsLong();
    for (Write w : List.copyOf(writes.values())) {
      KvResult result = kv.resultOf(w.command.id()).orElse(null);
      if (result != null) {
        finish(w);
        w.answer(result);
      } else if (w.index > 0 && w.index <= r.index()) {
        writeAtIndex.remove(w.index);
        w.index = 0;
        propose(w, now);
      }
    }
    writeAtIndex.keySet().removeIf(index -> index <= r.index());
    releaseReads(r.index());
    return this;
  }

  // ---- the sweep ----------------------------------------------------------------------------------------

  /** Answers what is past its deadline, and sends again what got no answer in time or waits for a retry. */
  private Behavior<KvFront.Command> sweep() {
    long now = clock.getAsLong();
    String why = "no leader or no quorum within " + limits.requestTimeout().toMillis() + " ms";
    while (!writes.isEmpty()) {
      Write w = writes.values().iterator().next();
      if (w.deadline - now > 0) break;
      finish(w);
      w.complete(new KvFront.Reply.Unavailable(why + "; the write may still be applied later"));
    }
    while (!reads.isEmpty()) {
      Read read = reads.values().iterator().next();
      if (read.deadline - now > 0) break;
      read.done = true; // also leaves readsWaiting, lazily
      reads.remove(read.seq);
      readsByRequest.remove(read.requestId);
      readsByRequest.remove(read.probeId);
      read.reply.complete(new KvFront.Reply.Unavailable(why));
    }
    for (Write w : List.copyOf(writes.values())) {
      switch (due(w, now)) {
        case PROBE -> replica.tell(new RaftMessage.Propose(w.bytes, proposeReplies, newProbe(w, writesByRequest)));
        case RESEND -> propose(w, now);
        case NOTHING -> {}
      }
    }
    for (Read read : List.copyOf(reads.values())) {
      switch (due(read, now)) {
        case PROBE -> replica.tell(new RaftMessage.ReadIndex(readReplies, newProbe(read, readsByRequest)));
        case RESEND -> askReadIndex(read, now);
        case NOTHING -> {}
      }
    }
    return this;
  }

  private enum Due {
    NOTHING,
    /** Unanswered for PROBE_AFTER by another node: ask our own replica too. */
    PROBE,
    /** Unanswered for ASK_TIMEOUT, or its retry time came: send it again. */
    RESEND
  }

  private Due due(FrontRequest r, long now) {
    if (r.askedNode == null) return r.retryAt != 0 && r.retryAt - now <= 0 ? Due.RESEND : Due.NOTHING;
    long waited = now - r.askedAt;
    if (waited >= askTimeoutNanos) {
      nextLeader(null, r.askedNode); // no answer at all: the node may be gone
      return Due.RESEND;
    }
    return waited >= probeAfterNanos && r.probeId == 0 && !r.askedNode.equals(selfId) ? Due.PROBE : Due.NOTHING;
  }

  private <R extends FrontRequest> long newProbe(R r, Map<Long, R> byRequest) {
    r.probeId = nextRequestId++;
    byRequest.put(r.probeId, r);
    return r.probeId;
  }

  /**
   * Sorts out which of a request's two copies answered: the one sent to the node asked, or the probe sent to our
   * own replica. Returns whether the answer is to be handled as the request's answer. A probe saying our replica
   * does not lead is not; but if it follows another leader than the one asked, the request goes there at once.
   * A probe accepted by our replica (it leads now) is, and becomes the copy to follow.
   */
  private <R extends FrontRequest> boolean settle(
      R r, long answeredId, boolean accepted, String hint, Map<Long, R> byRequest, Consumer<R> resend) {
    if (answeredId == r.probeId) {
      r.probeId = 0;
      if (!accepted) {
        if (hint != null && !hint.equals(r.askedNode) && members.current().byId(hint).isPresent()) {
          leaderHint = hint;
          resend.accept(r);
        }
        return false;
      }
      byRequest.remove(r.requestId);
      r.askedNode = selfId;
    } else if (r.probeId != 0) {
      byRequest.remove(r.probeId);
      r.probeId = 0;
    }
    return true;
  }

  // ---- status -------------------------------------------------------------------------------------------

  private Behavior<KvFront.Command> onStatus(KvFront.GetNodeStatus g) {
    getContext().ask(RaftMessage.Status.class, replica, ASK_TIMEOUT, RaftMessage.GetStatus::new,
        (status, failure) -> new StatusReady(status, g.reply()));
    return this;
  }

  private Behavior<KvFront.Command> onStatusReady(StatusReady s) {
    RaftMessage.Status st = s.status();
    List<Member> all = members.current().all();
    if (st == null) {
      s.reply().complete(new NodeStatus(selfId, "UNKNOWN", 0, null, 0, kv.lastApplied(), all, false));
    } else {
      // A leader that cannot commit is no use to clients, even though it still leads (health must not say
      // "serving" while every write times out).
      boolean serving = st.leaderId() != null && st.commitStall() == null;
      s.reply().complete(new NodeStatus(selfId, st.role().name(), st.term(), st.leaderId(), st.commitIndex(),
          kv.lastApplied(), all, serving, st.firstLogIndex(), st.snapshotIndex(), st.followers(), st.commitStall(),
          st.quorumLost(), st.configuration(), st.configurationIndex()));
    }
    return this;
  }
}

package dev.tern.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.cluster.Member;
import dev.tern.cluster.Members;
import dev.tern.cluster.PeerGateway;
import dev.tern.kv.KvCodec;
import dev.tern.kv.KvCommand;
import dev.tern.kv.KvResult;
import dev.tern.kv.KvStateMachine;
import dev.tern.raft.LogEntry;
import dev.tern.raft.RaftMessage;
import dev.tern.raft.RaftMessage.ProposeResponse;
import dev.tern.raft.RaftMessage.ReadIndexResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The front actor's request handling without per-request asks or timers: replies matched by request id, one
 * sweep for deadlines and retries.
 */
class KvFrontTest {
  private static final ActorTestKit testKit = ActorTestKit.create();
  private static final Members MEMBERS = new Members(List.of(
      new Member("n1", "127.0.0.1", 7101, 8101),
      new Member("n2", "127.0.0.1", 7102, 8102),
      new Member("n3", "127.0.0.1", 7103, 8103)));
  private static final Duration WAIT = Duration.ofSeconds(5);

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private record Front(ActorRef<KvFront.Command> ref, TestProbe<RaftMessage> replica,
      TestProbe<PeerGateway.Command> gateway, KvStateMachine kv) {
    /** Applies {@code command} at the next index, as the replica would, and tells the front. */
    void apply(KvCommand command) {
      long index = kv.lastApplied() + 1;
      kv.apply(LogEntry.command(index, 1, KvCodec.encode(command)));
      ref.tell(new KvFrontBehavior.Applied(index, command, kv.resultOf(command.id()).orElseThrow()));
    }
  }

  private static Front front(Duration requestTimeout) {
    TestProbe<RaftMessage> replica = testKit.createTestProbe();
    TestProbe<PeerGateway.Command> gateway = testKit.createTestProbe();
    KvStateMachine kv = new KvStateMachine();
    ActorRef<KvFront.Command> ref =
        testKit.spawn(KvFront.create("n1", MEMBERS, new KvLimits(1024, 1024, 100, requestTimeout, 100)));
    ref.tell(KvFront.init(replica.getRef(), gateway.getRef(), kv));
    return new Front(ref, replica, gateway, kv);
  }

  private static <T> T await(CompletableFuture<T> f) throws Exception {
    return f.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
  }

  @Test
  void aWriteIsAnsweredWhenItsCommandIsApplied() throws Exception {
    Front f = front(Duration.ofSeconds(30));
    CompletableFuture<KvFront.Reply> reply = new CompletableFuture<>();
    f.ref().tell(new KvFront.Put("k", "v", KvFront.Put.UNCONDITIONAL, reply));
    RaftMessage.Propose p = f.replica().expectMessageClass(RaftMessage.Propose.class);
    p.replyTo().tell(new ProposeResponse.Accepted(1, 1, p.requestId()));
    assertFalse(reply.isDone(), "accepted is not applied");
    f.apply(KvCodec.decode(p.command()));
    assertEquals(new KvFront.Reply.Done(new KvResult.Written("k", "v", 1)), await(reply));
  }

  /** Each proposal carries its own request id, so replies need no temporary actor to find their write. */
  @Test
  void repliesFindTheirWriteByRequestId() throws Exception {
    Front f = front(Duration.ofSeconds(30));
    CompletableFuture<KvFront.Reply> a = new CompletableFuture<>();
    CompletableFuture<KvFront.Reply> b = new CompletableFuture<>();
    f.ref().tell(new KvFront.Put("a", "1", KvFront.Put.UNCONDITIONAL, a));
    f.ref().tell(new KvFront.Put("b", "2", KvFront.Put.UNCONDITIONAL, b));
    RaftMessage.Propose pa = f.replica().expectMessageClass(RaftMessage.Propose.class);
    RaftMessage.Propose pb = f.replica().expectMessageClass(RaftMessage.Propose.class);
    assertNotEquals(pa.requestId(), pb.requestId());
    assertEquals(pa.replyTo(), pb.replyTo(), "one reply address for every proposal");
    pb.replyTo().tell(new ProposeResponse.Accepted(1, 1, pb.requestId()));
    pa.replyTo().tell(new ProposeResponse.Accepted(2, 1, pa.requestId()));
    f.apply(KvCodec.decode(pb.command()));
    f.apply(KvCodec.decode(pa.command()));
    assertEquals(1, ((KvResult.Written) ((KvFront.Reply.Done) await(b)).result()).revision());
    assertEquals(2, ((KvResult.Written) ((KvFront.Reply.Done) await(a)).result()).revision());
  }

  /** The sweep answers a write that cannot complete by its deadline, once and as Unavailable. */
  @Test
  void aWriteNotAppliedByTheRequestTimeoutIsAnsweredUnavailable() throws Exception {
    Front f = front(Duration.ofMillis(300));
    CompletableFuture<KvFront.Reply> reply = new CompletableFuture<>();
    long start = System.nanoTime();
    f.ref().tell(new KvFront.Put("k", "v", KvFront.Put.UNCONDITIONAL, reply));
    RaftMessage.Propose p = f.replica().expectMessageClass(RaftMessage.Propose.class);
    p.replyTo().tell(new ProposeResponse.Accepted(1, 1, p.requestId()));
    KvFront.Reply r = await(reply);
    long tookMs = (System.nanoTime() - start) / 1_000_000;
    assertInstanceOf(KvFront.Reply.Unavailable.class, r);
    assertTrue(tookMs >= 300, "answered before its deadline: " + tookMs + " ms");
    f.apply(KvCodec.decode(p.command())); // applied after all: nothing more to answer, and no failure
  }

  /** A proposal that gets no answer (the node asked may be gone) is proposed again after the ask timeout. */
  @Test
  void anUnansweredProposalIsSentAgainAndALateReplyToTheOldOneIsIgnored() throws Exception {
    Front f = front(Duration.ofSeconds(30));
    CompletableFuture<KvFront.Reply> reply = new CompletableFuture<>();
    f.ref().tell(new KvFront.Put("k", "v", KvFront.Put.UNCONDITIONAL, reply));
    RaftMessage.Propose first = f.replica().expectMessageClass(RaftMessage.Propose.class);
    RaftMessage.Propose again = f.replica().expectMessageClass(RaftMessage.Propose.class,
        KvFrontBehavior.ASK_TIMEOUT.plus(WAIT));
    assertNotEquals(first.requestId(), again.requestId());
    assertEquals(KvCodec.decode(first.command()), KvCodec.decode(again.command()), "the same command, same id");
    first.replyTo().tell(new ProposeResponse.Accepted(7, 1, first.requestId())); // late: ignored
    again.replyTo().tell(new ProposeResponse.Accepted(1, 1, again.requestId()));
    f.apply(KvCodec.decode(again.command()));
    assertEquals(1, ((KvResult.Written) ((KvFront.Reply.Done) await(reply)).result()).revision());
  }

  /** "Not the leader, n2 is": the write goes to n2 at once, through the gateway. */
  @Test
  void aHintedLeaderIsAskedAtOnce() throws Exception {
    Front f = front(Duration.ofSeconds(30));
    CompletableFuture<KvFront.Reply> reply = new CompletableFuture<>();
    f.ref().tell(new KvFront.Put("k", "v", KvFront.Put.UNCONDITIONAL, reply));
    RaftMessage.Propose p = f.replica().expectMessageClass(RaftMessage.Propose.class);
    p.replyTo().tell(new ProposeResponse.NotLeader("n2", p.requestId()));
    PeerGateway.Outbound out = (PeerGateway.Outbound) f.gateway().expectMessageClass(PeerGateway.Outbound.class,
        Duration.ofMillis(500));
    assertEquals("n2", out.to());
    RaftMessage.Propose forwarded = (RaftMessage.Propose) out.message();
    forwarded.replyTo().tell(new ProposeResponse.Accepted(1, 2, forwarded.requestId()));
    f.apply(KvCodec.decode(forwarded.command()));
    assertInstanceOf(KvFront.Reply.Done.class, await(reply));
  }

  /**
   * Failover: a write sent to a leader that died gets no answer. After PROBE_AFTER the front asks its own
   * replica, which names the new leader; the write goes there at once, long before the ask timeout.
   */
  @Test
  void aWriteStuckAtADeadLeaderGoesToTheLeaderOurReplicaNames() throws Exception {
    Front f = front(Duration.ofSeconds(30));
    CompletableFuture<KvFront.Reply> reply = new CompletableFuture<>();
    f.ref().tell(new KvFront.Put("k", "v", KvFront.Put.UNCONDITIONAL, reply));
    RaftMessage.Propose p = f.replica().expectMessageClass(RaftMessage.Propose.class);
    p.replyTo().tell(new ProposeResponse.NotLeader("n2", p.requestId()));
    PeerGateway.Outbound toDead = (PeerGateway.Outbound) f.gateway().expectMessageClass(PeerGateway.Outbound.class);
    assertEquals("n2", toDead.to()); // n2 never answers: it died
    long sent = System.nanoTime();
    RaftMessage.Propose probe = f.replica().expectMessageClass(RaftMessage.Propose.class, Duration.ofMillis(900));
    assertTrue(System.nanoTime() - sent >= KvFrontBehavior.PROBE_AFTER.toNanos(), "probed before PROBE_AFTER");
    probe.replyTo().tell(new ProposeResponse.NotLeader("n2", probe.requestId())); // not elected yet: keep waiting
    RaftMessage.Propose again = f.replica().expectMessageClass(RaftMessage.Propose.class, Duration.ofMillis(500));
    again.replyTo().tell(new ProposeResponse.NotLeader("n3", again.requestId())); // n3 won the election
    PeerGateway.Outbound toNew = (PeerGateway.Outbound) f.gateway().expectMessageClass(PeerGateway.Outbound.class,
        Duration.ofMillis(500));
    assertEquals("n3", toNew.to());
    assertTrue(System.nanoTime() - sent < KvFrontBehavior.ASK_TIMEOUT.toNanos(), "without waiting for the ask timeout");
    RaftMessage.Propose atNew = (RaftMessage.Propose) toNew.message();
    atNew.replyTo().tell(new ProposeResponse.Accepted(5, 3, atNew.requestId()));
    f.kv().apply(LogEntry.noop(1, 1));
    f.kv().apply(LogEntry.noop(2, 1));
    f.kv().apply(LogEntry.noop(3, 1));
    f.kv().apply(LogEntry.noop(4, 1));
    f.apply(KvCodec.decode(atNew.command()));
    assertEquals(5, ((KvResult.Written) ((KvFront.Reply.Done) await(reply)).result()).revision());
  }

  /** A probe answered by our replica as the new leader: the write is accepted there. */
  @Test
  void aProbeAcceptedByOurNewlyElectedReplicaCounts() throws Exception {
    Front f = front(Duration.ofSeconds(30));
    CompletableFuture<KvFront.Reply> reply = new CompletableFuture<>();
    f.ref().tell(new KvFront.Put("k", "v", KvFront.Put.UNCONDITIONAL, reply));
    RaftMessage.Propose p = f.replica().expectMessageClass(RaftMessage.Propose.class);
    p.replyTo().tell(new ProposeResponse.NotLeader("n2", p.requestId()));
    f.gateway().expectMessageClass(PeerGateway.Outbound.class);
    RaftMessage.Propose probe = f.replica().expectMessageClass(RaftMessage.Propose.class, Duration.ofMillis(900));
    probe.replyTo().tell(new ProposeResponse.Accepted(1, 2, probe.requestId()));
    f.apply(KvCodec.decode(probe.command()));
    assertEquals(1, ((KvResult.Written) ((KvFront.Reply.Done) await(reply)).result()).revision());
  }

  /** Without a hint (an election), the front asks again a little later, from the sweep. */
  @Test
  void withoutAHintTheWriteIsRetried() throws Exception {
    Front f = front(Duration.ofSeconds(30));
    CompletableFuture<KvFront.Reply> reply = new CompletableFuture<>();
    f.ref().tell(new KvFront.Put("k", "v", KvFront.Put.UNCONDITIONAL, reply));
    RaftMessage.Propose p = f.replica().expectMessageClass(RaftMessage.Propose.class);
    p.replyTo().tell(new ProposeResponse.NotLeader(null, p.requestId()));
    RaftMessage.Propose retry = f.replica().expectMessageClass(RaftMessage.Propose.class, Duration.ofMillis(900));
    assertNotEquals(p.requestId(), retry.requestId());
  }

  /** A linearizable read is served once this node has applied up to its read index. */
  @Test
  void aReadIsServedOnceItsReadIndexIsApplied() throws Exception {
    Front f = front(Duration.ofSeconds(30));
    f.apply(new KvCommand.Put("x", "k", "old"));
    CompletableFuture<KvFront.Reply> reply = new CompletableFuture<>();
    f.ref().tell(new KvFront.Get("k", true, reply));
    RaftMessage.ReadIndex r = f.replica().expectMessageClass(RaftMessage.ReadIndex.class);
    r.replyTo().tell(new ReadIndexResponse.Ok(2, r.requestId()));
    f.replica().expectNoMessage(Duration.ofMillis(100));
    assertFalse(reply.isDone(), "index 2 is not applied yet");
    f.apply(new KvCommand.Put("y", "k", "new"));
    assertEquals(new KvFront.Reply.Done(new KvResult.Value("k", "new", 2)), await(reply));
  }

  @Test
  void aReadWithoutAReadIndexByTheTimeoutIsAnsweredUnavailable() throws Exception {
    Front f = front(Duration.ofMillis(300));
    CompletableFuture<KvFront.Reply> reply = new CompletableFuture<>();
    f.ref().tell(new KvFront.Get("k", true, reply));
    RaftMessage.ReadIndex r = f.replica().expectMessageClass(RaftMessage.ReadIndex.class);
    r.replyTo().tell(new ReadIndexResponse.Ok(5, r.requestId()));
    assertInstanceOf(KvFront.Reply.Unavailable.class, await(reply));
  }
}

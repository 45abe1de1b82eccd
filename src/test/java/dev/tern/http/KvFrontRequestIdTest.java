package dev.tern.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.tern.cluster.Member;
import dev.tern.cluster.Members;
import dev.tern.cluster.PeerGateway;
import dev.tern.kv.Bytes;
import dev.tern.kv.KvCodec;
import dev.tern.kv.KvResult;
import dev.tern.kv.KvStateMachine;
import dev.tern.kv.VersionedValue;
import dev.tern.raft.LogEntry;
import dev.tern.raft.RaftMessage;
import dev.tern.raft.RaftMessage.ProposeResponse;
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
 * Writes with a client's request id through the front (docs/api.md, "Exactly-once writes"): proposed under the
 * client's command id, applied at most once, every retry answered with the first result. The state machine is
 * real and tells the front what it applied, as {@link AppliedNotifier} does in a node.
 */
class KvFrontRequestIdTest {
  private static final ActorTestKit testKit = ActorTestKit.create();
  private static final Members MEMBERS = new Members(List.of(
      new Member("n1", "127.0.0.1", 7101, 8101),
      new Member("n2", "127.0.0.1", 7102, 8102),
      new Member("n3", "127.0.0.1", 7103, 8103)));

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private static final class Node {
    final TestProbe<RaftMessage> replica = testKit.createTestProbe();
    final TestProbe<PeerGateway.Command> gateway = testKit.createTestProbe();
    final ActorRef<KvFront.Command> front;
    final KvStateMachine kv;

    Node() {
      ActorRef<KvFront.Command>[] self = new ActorRef[1];
      kv = new KvStateMachine((index, command, result) -> self[0].tell(new KvFrontBehavior.Applied(index, command, result)));
      front = testKit.spawn(KvFront.create("n1", MEMBERS, new KvLimits(1024, 1024, 100, Duration.ofSeconds(30), 100)));
      self[0] = front;
      front.tell(KvFront.init(replica.getRef(), gateway.getRef(), kv));
    }

    /** The next proposal, accepted at the next index and applied. */
    RaftMessage.Propose acceptAndApply() {
      RaftMessage.Propose p = replica.expectMessageClass(RaftMessage.Propose.class);
      long index = kv.lastApplied() + 1;
      p.replyTo().tell(new ProposeResponse.Accepted(index, 1, p.requestId()));
      kv.apply(LogEntry.command(index, 1, p.command()));
      return p;
    }

    CompletableFuture<KvFront.Reply> put(String key, String value, String commandId) {
      CompletableFuture<KvFront.Reply> reply = new CompletableFuture<>();
      front.tell(new KvFront.Put(key, Bytes.utf8(value), KvFront.Put.UNCONDITIONAL, commandId, reply));
      return reply;
    }
  }

  private static KvResult result(CompletableFuture<KvFront.Reply> reply) throws Exception {
    return ((KvFront.Reply.Done) reply.get(10, TimeUnit.SECONDS)).result();
  }

  @Test
  void aWriteIsProposedUnderTheClientsCommandId() throws Exception {
    Node n = new Node();
    CompletableFuture<KvFront.Reply> reply = n.put("k", "v", "req:abc");
    RaftMessage.Propose p = n.acceptAndApply();
    assertEquals("req:abc", KvCodec.decode(p.command()).id());
    assertEquals(new KvResult.Written("k", "v", 1), result(reply));
  }

  /** The same id again on this node while the first is in flight: one proposal, both answered alike. */
  @Test
  void aRetryWhileTheFirstIsInFlightJoinsIt() throws Exception {
    Node n = new Node();
    CompletableFuture<KvFront.Reply> first = n.put("k", "one", "req:same");
    RaftMessage.Propose p = n.replica.expectMessageClass(RaftMessage.Propose.class);
    CompletableFuture<KvFront.Reply> retry = n.put("k", "two", "req:same");
    n.replica.expectNoMessage(Duration.ofMillis(200));
    assertFalse(retry.isDone());
    p.replyTo().tell(new ProposeResponse.Accepted(1, 1, p.requestId()));
    n.kv.apply(LogEntry.command(1, 1, p.command()));
    assertEquals(new KvResult.Written("k", "one", 1), result(first));
    assertEquals(new KvResult.Written("k", "one", 1), result(retry), "the first request's answer, its value");
    assertEquals(new VersionedValue("one", 1), n.kv.get("k").orElseThrow());
  }

  /** A retry after the answer (as through another node): proposed, applied as a no-op, the first result. */
  @Test
  void aRetryAfterTheAnswerIsAppliedOnceAndGetsTheFirstResult() throws Exception {
    Node n = new Node();
    CompletableFuture<KvFront.Reply> first = n.put("k", "v", "req:once");
    n.acceptAndApply();
    KvResult answered = result(first);
    CompletableFuture<KvFront.Reply> retry = n.put("k", "v", "req:once");
    n.acceptAndApply();
    assertEquals(answered, result(retry));
    assertEquals(new VersionedValue("v", 1), n.kv.get("k").orElseThrow(), "revision unchanged");
    assertEquals(2, n.kv.lastApplied());
  }

  /**
   * Overwritten since: the first value is not known any more, and a client's retry may carry another body, so
   * the answer has no value (never the retry's body, which was not written).
   */
  @Test
  void aRetryOfAnOverwrittenWriteIsAnsweredWithoutAValue() throws Exception {
    Node n = new Node();
    n.put("k", "first", "req:x");
    n.acceptAndApply();
    n.put("k", "later", null);
    n.acceptAndApply();
    CompletableFuture<KvFront.Reply> retry = n.put("k", "not written", "req:x");
    n.acceptAndApply();
    assertEquals(new KvResult.Written("k", (Bytes) null, 1), result(retry));
    assertEquals(new VersionedValue("later", 2), n.kv.get("k").orElseThrow());
  }

  @Test
  void aRetriedDeleteGetsTheFirstDeleteNotNotFound() throws Exception {
    Node n = new Node();
    n.put("k", "v", null);
    n.acceptAndApply();
    CompletableFuture<KvFront.Reply> first = new CompletableFuture<>();
    n.front.tell(new KvFront.Delete("k", "req:del", first));
    n.acceptAndApply();
    CompletableFuture<KvFront.Reply> retry = new CompletableFuture<>();
    n.front.tell(new KvFront.Delete("k", "req:del", retry));
    RaftMessage.Propose p = n.acceptAndApply();
    assertEquals("req:del", KvCodec.decode(p.command()).id());
    assertEquals(new KvResult.Deleted("k", 2), result(first));
    assertEquals(new KvResult.Deleted("k", 2), result(retry));
  }

  /** Without a request id every write is its own, as before: two puts, two revisions. */
  @Test
  void withoutARequestIdEachWriteIsApplied() throws Exception {
    Node n = new Node();
    CompletableFuture<KvFront.Reply> a = n.put("k", "v", null);
    RaftMessage.Propose pa = n.acceptAndApply();
    CompletableFuture<KvFront.Reply> b = n.put("k", "v", null);
    RaftMessage.Propose pb = n.acceptAndApply();
    assertEquals(new KvResult.Written("k", "v", 1), result(a));
    assertEquals(new KvResult.Written("k", "v", 2), result(b));
    assertFalse(KvCodec.decode(pa.command()).id().equals(KvCodec.decode(pb.command()).id()));
    assertFalse(RequestIds.isClientId(KvCodec.decode(pa.command()).id()));
  }
}

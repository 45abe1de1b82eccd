package dev.tern.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

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
import java.io.ByteArrayOutputStream;
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
 * The front actor when a snapshot from the leader jumps its node past entries it never applied one by one: the
 * writes waiting on those entries must still get their real outcome (or be proposed again), never hang.
 */
class KvFrontSnapshotTest {
  private static final ActorTestKit testKit = ActorTestKit.create();
  private static final Members MEMBERS = new Members(List.of(
      new Member("n1", "127.0.0.1", 7101, 8101),
      new Member("n2", "127.0.0.1", 7102, 8102),
      new Member("n3", "127.0.0.1", 7103, 8103)));
  private static final KvLimits LIMITS = new KvLimits(1024, 1024, 100, Duration.ofSeconds(30), 100);

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private record Front(ActorRef<KvFront.Command> ref, TestProbe<RaftMessage> replica, KvStateMachine kv) {}

  private static Front front() {
    TestProbe<RaftMessage> replica = testKit.createTestProbe();
    TestProbe<PeerGateway.Command> gateway = testKit.createTestProbe();
    KvStateMachine kv = new KvStateMachine();
    ActorRef<KvFront.Command> ref = testKit.spawn(KvFront.create("n1", MEMBERS, LIMITS));
    ref.tell(KvFront.init(replica.getRef(), gateway.getRef(), kv));
    return new Front(ref, replica, kv);
  }

  /** A snapshot at {@code index} of a replica that applied no-ops and then {@code commands} at the end. */
  private static byte[] snapshotOf(long index, KvCommand... commands) throws Exception {
    KvStateMachine source = new KvStateMachine();
    for (long i = 1; i <= index - commands.length; i++) source.apply(LogEntry.noop(i, 1));
    for (KvCommand c : commands) source.apply(LogEntry.command(source.lastApplied() + 1, 1, KvCodec.encode(c)));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    source.snapshot().writeTo(out);
    return out.toByteArray();
  }

  @Test
  void aWriteAppliedThroughTheSnapshotIsAnsweredWithItsResult() throws Exception {
    Front f = front();
    CompletableFuture<KvFront.Reply> client = new CompletableFuture<>();
    f.ref().tell(new KvFront.Put("k", "v", KvFront.Put.UNCONDITIONAL, client));
    RaftMessage.Propose propose = f.replica().expectMessageClass(RaftMessage.Propose.class);
    propose.replyTo().tell(new ProposeResponse.Accepted(5, 1, propose.requestId()));
    KvCommand command = KvCodec.decode(propose.command());

    f.kv().restore(5, snapshotOf(5, command));
    f.ref().tell(new KvFrontBehavior.Restored(5));
    assertEquals(new KvFront.Reply.Done(new KvResult.Written("k", "v", 5)), client.get(5, TimeUnit.SECONDS));
  }

  @Test
  void aWriteLostUnderTheSnapshotIsProposedAgain() throws Exception {
    Front f = front();
    CompletableFuture<KvFront.Reply> client = new CompletableFuture<>();
    f.ref().tell(new KvFront.Put("k", "mine", KvFront.Put.UNCONDITIONAL, client));
    RaftMessage.Propose first = f.replica().expectMessageClass(RaftMessage.Propose.class);
    first.replyTo().tell(new ProposeResponse.Accepted(3, 1, first.requestId()));

    // Another leader's entry took index 3: our command is not in the snapshot.
    f.kv().restore(4, snapshotOf(4, new KvCommand.Put("other-id", "k", "theirs")));
    f.ref().tell(new KvFrontBehavior.Restored(4));
    RaftMessage.Propose again = f.replica().expectMessageClass(RaftMessage.Propose.class);
    assertArrayEquals(first.command(), again.command(), "the same command, with its id, is proposed again");
  }
}

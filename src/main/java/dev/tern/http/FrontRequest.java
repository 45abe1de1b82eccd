package dev.tern.http;

import dev.tern.kv.KvCodec;
import dev.tern.kv.KvCommand;
import dev.tern.kv.Bytes;
import dev.tern.kv.KvResult;
import java.util.concurrent.CompletableFuture;

/**
 * The front's requests in progress (see {@link KvFrontBehavior}): a write or a linearizable read, sent to
 * {@code askedNode} at {@code askedAt} (null: not out), or waiting to be sent again at {@code retryAt}. Owned by
 * the front actor and touched only on its thread.
 */
abstract class FrontRequest {
    final long seq;
    final long deadline;
    String askedNode;
    long askedAt;
    /** The id of the proposal or read request now out, matched against replies. */
    long requestId;
    /** When to send again (0 = not waiting to). */
    long retryAt;
    /** The id of the "who leads now?" probe sent to our own replica for this request (0 = none). */
    long probeId;
    boolean done;

    FrontRequest(long seq, long deadline) {
      this.seq = seq;
      this.deadline = deadline;
    }

  static final class Write extends FrontRequest {
    final KvCommand command;
    final byte[] bytes;
    final CompletableFuture<KvFront.Reply> reply;
    long index; // where the leader put it, once known
    /**
     * Requests that came with the same client request id while this one was in progress (null: none, as almost
     * always): they get this write's answer, as a retry after it would.
     */
    java.util.List<CompletableFuture<KvFront.Reply>> sameId;

    Write(long seq, long deadline, KvCommand command, CompletableFuture<KvFront.Reply> reply) {
      super(seq, deadline);
      this.command = command;
      this.bytes = KvCodec.encode(command);
      this.reply = reply;
    }

    /**
     * Answers the client. A result remembered for a repeated command id may lack the value (the state machine
     * gives it when the key still holds it): an id this front made was proposed by this very write, so the value
     * is ours; a client's request id may have come first with another body, so its value is not known and the
     * answer goes without one (docs/api.md, "Exactly-once writes").
     */
    void answer(KvResult result) {
      if (result instanceof KvResult.Written w && w.value() == null && !RequestIds.isClientId(command.id())) {
        Bytes value = command instanceof KvCommand.Put p ? p.value()
            : command instanceof KvCommand.CompareAndSet c ? c.value() : null;
        result = new KvResult.Written(w.key(), value, w.revision());
      }
      complete(new KvFront.Reply.Done(result));
    }

    /** Completes this request and those that came with the same request id meanwhile. */
    void complete(KvFront.Reply answer) {
      reply.complete(answer);
      if (sameId != null) for (CompletableFuture<KvFront.Reply> r : sameId) r.complete(answer);
    }
  }

  /** A linearizable read: a get (prefix == null) or a list. */
  static final class Read extends FrontRequest {
    final String key;
    final String prefix;
    final int limit;
    final CompletableFuture<KvFront.Reply> reply;

    Read(long seq, long deadline, String key, String prefix, int limit, CompletableFuture<KvFront.Reply> reply) {
      super(seq, deadline);
      this.key = key;
      this.prefix = prefix;
      this.limit = limit;
      this.reply = reply;
    }
  }
}

package dev.tern.http;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeoutException;

/**
 * The safety net under requests handed to the front: the front answers each within the request timeout itself,
 * but should it ever not, {@link #sweep} fails the reply with a {@link TimeoutException} once {@code timeout} has
 * passed, so that no request holds its slot for good. All replies share the timeout, so the queue is in deadline
 * order: one periodic sweep drops the answered ones and fails the overdue ones, with no timer per request.
 */
final class OverdueReplies {
  private record Pending(long deadline, CompletableFuture<?> reply) {}

  private final long timeoutNanos;
  private final ConcurrentLinkedQueue<Pending> queue = new ConcurrentLinkedQueue<>();

  OverdueReplies(Duration timeout) {
    this.timeoutNanos = timeout.toNanos();
  }

  void add(CompletableFuture<?> reply) {
    queue.add(new Pending(System.nanoTime() + timeoutNanos, reply));
  }

  void sweep() {
    long now = System.nanoTime();
    for (Pending p = queue.peek(); p != null && p.deadline() - now <= 0; p = queue.peek()) {
      queue.poll();
      if (!p.reply().isDone()) p.reply().completeExceptionally(new TimeoutException("the front did not answer"));
    }
  }
}

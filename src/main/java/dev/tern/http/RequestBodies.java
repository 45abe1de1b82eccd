package dev.tern.http;

import static dev.tern.http.ApiErrors.bodyFailure;
import static dev.tern.http.ApiErrors.unwrap;

import dev.tern.kv.Bytes;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.RequestEntity;
import org.apache.pekko.http.javadsl.model.headers.Connection;
import org.apache.pekko.util.ByteString;
import java.util.OptionalLong;
import org.apache.pekko.stream.javadsl.Sink;

/** Request bodies for {@link HttpApi}: read within a limit (a value, a transaction), or drained when refused. */
final class RequestBodies {
  private final ActorSystem<?> system;
  private final KvLimits limits;

  RequestBodies(ActorSystem<?> system, KvLimits limits) {
    this.system = system;
    this.limits = limits;
  }

  /** The body's bytes, or the error response to answer instead. */
  record Read(Bytes value, HttpResponse error) {}

  /**
   * Answers {@code response} to a request whose body will not be used. A client that waits for "100 Continue" is
   * answered at once and sends nothing. Any other is still sending: a body declared larger than
   * {@link KvLimits#maxDiscardBytes} is not read at all (the answer closes the connection, and a client that reads
   * only once it has sent everything may see the connection reset instead); a smaller one, or one of unknown length,
   * is read and thrown away up to that many bytes, so that such a client gets the answer, and past them reading stops
   * and the answer closes the connection. The request timeout bounds the reading.
   */
  CompletionStage<HttpResponse> refuse(HttpRequest request, HttpResponse response) {
    boolean waitsForContinue = request.getHeader("Expect")
        .map(h -> h.value().trim().equalsIgnoreCase("100-continue")).orElse(false);
    if (waitsForContinue) return CompletableFuture.completedFuture(closing(response));
    OptionalLong declared = request.entity().getContentLengthOption();
    if (declared.isPresent() && declared.getAsLong() > limits.maxDiscardBytes()) {
      // Not consumed: Pekko cancels the entity once the answer is out, so not one byte more is read.
      return CompletableFuture.completedFuture(closing(response));
    }
    return discard(request.entity(), limits.maxDiscardBytes()).thenApply(ended -> ended ? response : closing(response));
  }

  /** Reads and drops at most {@code max} bytes of the entity: true if it ended within them. */
  private CompletionStage<Boolean> discard(RequestEntity entity, long max) {
    long[] seen = {0};
    return entity.withoutSizeLimit().getDataBytes()
        .completionTimeout(limits.requestTimeout())
        .takeWhile(chunk -> (seen[0] += chunk.size()) <= max)
        .runWith(Sink.ignore(), system)
        .handle((done, failure) -> failure == null && seen[0] <= max);
  }

  /** {@code response}, after which the server closes the connection (it did not read the whole request). */
  static HttpResponse closing(HttpResponse response) {
    return response.addHeader(Connection.create("close"));
  }

  /**
   * Reads the body, any bytes, at most {@code maxBytes}. A body of unknown length that turns out larger is answered
   * {@code tooLarge}: its rest is read and thrown away up to {@link KvLimits#maxDiscardBytes}, as in {@link #refuse}.
   */
  CompletionStage<Read> read(RequestEntity entity, int maxBytes, HttpResponse tooLarge) {
    if (entity instanceof HttpEntity.Strict strict) { // the whole body came with the headers: no stream to run
      return CompletableFuture.completedFuture(strict.getData().size() > maxBytes
          ? new Read(null, tooLarge) : bytes(strict.getData().toArray()));
    }
    long stopAt = maxBytes + limits.maxDiscardBytes();
    return entity.withoutSizeLimit().getDataBytes()
        .completionTimeout(limits.requestTimeout())
        .takeWhile(new org.apache.pekko.japi.function.Predicate<ByteString>() {
          long seen;

          @Override
          public boolean test(ByteString chunk) {
            seen += chunk.size();
            return seen <= stopAt;
          }
        }, true) // the chunk that crosses the line still reaches the fold, which then knows the body overflowed
        .runFold(new BoundedBody(maxBytes), BoundedBody::add, system)
        .handle((body, failure) -> {
          if (failure != null) return new Read(null, bodyFailure(unwrap(failure), limits));
          if (body.overflowed()) return new Read(null, body.total() > stopAt ? closing(tooLarge) : tooLarge);
          return bytes(body.bytes());
        });
  }

  private static Read bytes(byte[] bytes) {
    return new Read(Bytes.wrap(bytes), null); // a fresh array, handed over
  }
}

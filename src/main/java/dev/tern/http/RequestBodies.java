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
   * Answers {@code response} to a request whose body will not be used, without cutting off its upload: a client
   * that waits for "100 Continue" is answered at once and sends nothing; any other client is still sending, so the
   * body is read and thrown away first (closing a socket with unread data resets the connection, and the client
   * would see a reset instead of the 413). The request timeout bounds the reading.
   */
  CompletionStage<HttpResponse> refuse(HttpRequest request, HttpResponse response) {
    boolean waitsForContinue = request.getHeader("Expect")
        .map(h -> h.value().trim().equalsIgnoreCase("100-continue")).orElse(false);
    if (waitsForContinue) return CompletableFuture.completedFuture(response);
    return request.entity().withoutSizeLimit().getDataBytes()
        .completionTimeout(limits.requestTimeout())
        .runWith(Sink.ignore(), system)
        .handle((done, failure) -> response);
  }

  /**
   * Reads the body, any bytes, at most {@code maxBytes}. A body of unknown length that turns out larger is read to
   * its end but not kept (see {@link #refuse}), and answered {@code tooLarge}.
   */
  CompletionStage<Read> read(RequestEntity entity, int maxBytes, HttpResponse tooLarge) {
    if (entity instanceof HttpEntity.Strict strict) { // the whole body came with the headers: no stream to run
      return CompletableFuture.completedFuture(strict.getData().size() > maxBytes
          ? new Read(null, tooLarge) : bytes(strict.getData().toArray()));
    }
    return entity.withoutSizeLimit().getDataBytes()
        .completionTimeout(limits.requestTimeout())
        .runFold(new BoundedBody(maxBytes), BoundedBody::add, system)
        .handle((body, failure) -> {
          if (failure != null) return new Read(null, bodyFailure(unwrap(failure), limits));
          if (body.overflowed()) return new Read(null, tooLarge);
          return bytes(body.bytes());
        });
  }

  private static Read bytes(byte[] bytes) {
    return new Read(Bytes.wrap(bytes), null); // a fresh array, handed over
  }
}

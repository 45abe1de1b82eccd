package dev.tern.http;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.extractUri;
import static org.apache.pekko.http.javadsl.server.Directives.handleExceptions;
import static org.apache.pekko.http.javadsl.server.Directives.handleRejections;
import static org.apache.pekko.http.javadsl.server.Directives.withRequestTimeoutResponse;

import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.ExceptionHandler;
import org.apache.pekko.http.javadsl.server.MalformedQueryParamRejection;
import org.apache.pekko.http.javadsl.server.MethodRejection;
import org.apache.pekko.http.javadsl.server.MissingQueryParamRejection;
import org.apache.pekko.http.javadsl.server.Rejection;
import org.apache.pekko.http.javadsl.server.RejectionHandler;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.server.UnsupportedRequestContentTypeRejection;
import org.apache.pekko.http.scaladsl.model.EntityStreamSizeException;
import org.apache.pekko.http.scaladsl.model.IllegalHeaderException;
import org.apache.pekko.http.scaladsl.model.IllegalRequestException;
import org.apache.pekko.http.scaladsl.model.IllegalUriException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The API's error answers, every one a JSON object with an {@code "error"} string, and the safety net that turns
 * every rejection, exception and Pekko request timeout into one of them.
 */
final class ApiErrors {
  private static final Logger log = LoggerFactory.getLogger(HttpApi.class);

  private ApiErrors() {}

  /**
   * Wraps {@code inner} so that every rejection, exception and Pekko request timeout becomes a JSON error: the
   * safety net around the whole API (package-private so tests can put a misbehaving route inside it).
   */
  static Route guarded(KvLimits limits, Supplier<Route> inner) {
    // Built once: the Java DSL calls a directive's inner supplier for every request, and building the two
    // handlers there was 5% of what a node allocated per write (async-profiler, alloc).
    ExceptionHandler exceptions = exceptionHandler(limits);
    RejectionHandler rejections = rejectionHandler();
    Route handled = handleExceptions(exceptions, () -> handleRejections(rejections, inner));
    return withRequestTimeoutResponse(
        request -> HttpJson.error(StatusCodes.SERVICE_UNAVAILABLE, "request timed out"), () -> handled);
  }

  static HttpResponse methodNotAllowed(List<String> allowed) {
    return HttpJson.response(StatusCodes.METHOD_NOT_ALLOWED,
        HttpJson.error("method not allowed").put("allow", String.join(", ", allowed)),
        RawHeader.create("Allow", String.join(", ", allowed)));
  }

  static HttpResponse badRequest(String message) {
    return HttpJson.error(StatusCodes.BAD_REQUEST, message);
  }

  static HttpResponse badConsistency() {
    return badRequest("consistency must be linearizable or stale");
  }

  static HttpResponse tooLarge(String message) {
    return HttpJson.error(StatusCodes.CONTENT_TOO_LARGE, message);
  }

  static HttpResponse valueTooLarge(KvLimits limits) {
    return tooLarge("value is larger than the limit of " + limits.maxValueBytes() + " bytes");
  }

  static HttpResponse unavailable(String reason) {
    return HttpJson.response(StatusCodes.SERVICE_UNAVAILABLE,
        HttpJson.error("unavailable").put("reason", reason));
  }

  static HttpResponse internalError(Throwable t) {
    log.error("Internal error while handling a request", t);
    return HttpJson.error(StatusCodes.INTERNAL_SERVER_ERROR, "internal error");
  }

  static ExceptionHandler exceptionHandler(KvLimits limits) {
    return ExceptionHandler.newBuilder()
        .match(EntityStreamSizeException.class, e -> complete(valueTooLarge(limits)))
        .match(IllegalRequestException.class, e -> complete(clientError(e.status(), e.info().summary())))
        .match(IllegalUriException.class, e -> complete(badRequest(e.info().summary())))
        .match(IllegalHeaderException.class, e -> complete(badRequest(e.info().summary())))
        .matchAny(e -> complete(internalError(e)))
        .build();
  }

  static HttpResponse clientError(StatusCode status, String message) {
    return HttpJson.error(status.isFailure() ? status : StatusCodes.BAD_REQUEST, message);
  }

  static RejectionHandler rejectionHandler() {
    return RejectionHandler.newBuilder()
        .handleAll(MethodRejection.class, rejections -> complete(methodNotAllowed(
            rejections.stream().map(r -> r.supported().name()).distinct().toList())))
        .handle(MissingQueryParamRejection.class, r -> complete(badRequest("missing query parameter " + r.parameterName())))
        .handle(MalformedQueryParamRejection.class, r -> complete(badRequest(
            "malformed query parameter " + r.parameterName() + ": " + r.errorMsg())))
        .handle(UnsupportedRequestContentTypeRejection.class, r -> complete(HttpJson.error(
            StatusCodes.UNSUPPORTED_MEDIA_TYPE, "unsupported content type")))
        .handle(Rejection.class, r -> complete(badRequest("bad request: " + r)))
        .handleNotFound(extractUri(uri -> complete(HttpJson.response(StatusCodes.NOT_FOUND,
            HttpJson.error("not found").put("path", uri.path())))))
        .build();
  }

  /** The answer to a request body that could not be read. */
  static HttpResponse bodyFailure(Throwable failure, KvLimits limits) {
    if (failure instanceof EntityStreamSizeException) return valueTooLarge(limits);
    if (failure instanceof TimeoutException) {
      return HttpJson.error(StatusCodes.REQUEST_TIMEOUT, "the request body did not arrive in time");
    }
    log.warn("Could not read a request body", failure);
    return HttpJson.error(StatusCodes.BAD_REQUEST, "could not read the request body");
  }

  /** The failure inside a future's wrapping exceptions. */
  static Throwable unwrap(Throwable t) {
    while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }
}

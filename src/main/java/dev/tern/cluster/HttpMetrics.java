package dev.tern.cluster;

import static org.apache.pekko.http.javadsl.server.Directives.extractRequest;
import static org.apache.pekko.http.javadsl.server.Directives.mapResponse;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.IntSupplier;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * HTTP requests by route, method and status code, with their duration ({@code tern_http_requests_seconds}). The
 * route label is the route's template ({@code /v1/kv/{key}}), never the path: keys and member ids must not become
 * labels. Any path that is not a route of the API is {@code other}.
 *
 * <p>Per request: the path as a string, a few prefix comparisons, two clock reads, and a timer looked up in an
 * array by route, method and status (bound on first use of that combination, then reused).
 */
final class HttpMetrics {
  /** Route templates, in the order {@link #routeOf} returns their index. */
  static final String[] ROUTES = {
      "/v1/kv/{key}", "/v1/kv", "/v1/status", "/health", "/v1/snapshot", "/v1/members", "/v1/members/{id}",
      "/v1/leader/transfer", "/v1/testing/partition", "/metrics", "/v1/watch", "/v1/txn", "other"};
  private static final int OTHER = ROUTES.length - 1;
  static final String[] METHODS = {"GET", "PUT", "POST", "DELETE", "HEAD", "other"};
  private static final int CODES = 600;

  private final MeterRegistry registry;
  /** Timers by [route][method] then status code, bound lazily: most combinations never occur. */
  private final AtomicReferenceArray<AtomicReferenceArray<Timer>> timers =
      new AtomicReferenceArray<>(ROUTES.length * METHODS.length);

  /** The current API's count of requests in progress (a node's new actor system brings a new API). */
  private volatile IntSupplier inflight = () -> 0;

  HttpMetrics(MeterRegistry registry) {
    this.registry = registry;
    io.micrometer.core.instrument.Gauge.builder("tern.http.inflight.requests", this, m -> m.inflight.getAsInt())
        .description("HTTP requests being worked on (reading a body or waiting for the front)").register(registry);
  }

  /** Reads the number of requests in progress from {@code count} from now on. */
  void inflightFrom(IntSupplier count) {
    inflight = count;
  }

  /** {@code inner}, each of its responses counted and timed. */
  Route around(Route inner) {
    return extractRequest(request -> {
      long start = System.nanoTime();
      int slot = routeOf(request.getUri().path()) * METHODS.length + methodOf(request);
      return mapResponse(response -> {
        timer(slot, response.status().intValue()).record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
        return response;
      }, () -> inner);
    });
  }

  /** The index in {@link #ROUTES} of the route serving {@code path}. */
  static int routeOf(String path) {
    if (path.startsWith("/v1/")) {
      if (path.startsWith("kv", 4)) {
        if (path.length() == 6) return 1;
        return path.charAt(6) == '/' ? 0 : OTHER; // a key may hold slashes: all of the rest is the key
      }
      if (path.equals("/v1/status")) return 2;
      if (path.equals("/v1/snapshot")) return 4;
      if (path.equals("/v1/members")) return 5;
      if (path.startsWith("/v1/members/") && path.length() > 12 && path.indexOf('/', 12) < 0) return 6;
      if (path.equals("/v1/leader/transfer")) return 7;
      if (path.equals("/v1/testing/partition")) return 8;
      if (path.equals("/v1/watch")) return 10;
      if (path.equals("/v1/txn")) return 11;
      return OTHER;
    }
    if (path.equals("/health")) return 3;
    if (path.equals("/metrics")) return 9;
    return OTHER;
  }

  static int methodOf(HttpRequest request) {
    String m = request.method().name();
    for (int i = 0; i < METHODS.length - 1; i++) if (METHODS[i].equals(m)) return i;
    return METHODS.length - 1;
  }

  private Timer timer(int slot, int code) {
    AtomicReferenceArray<Timer> byCode = timers.get(slot);
    if (byCode == null) {
      timers.compareAndSet(slot, null, new AtomicReferenceArray<>(CODES));
      byCode = timers.get(slot);
    }
    int c = code >= 100 && code < CODES ? code : 0;
    Timer t = byCode.get(c);
    if (t == null) {
      // A race binds the same meter twice: the registry returns the one it holds.
      t = Timer.builder("tern.http.requests")
          .tag("route", ROUTES[slot / METHODS.length])
          .tag("method", METHODS[slot % METHODS.length])
          .tag("status", c == 0 ? "other" : Integer.toString(c))
          .description("HTTP requests answered, by route template, method and status code, and their duration")
          .register(registry);
      byCode.set(c, t);
    }
    return t;
  }
}

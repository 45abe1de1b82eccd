package dev.tern.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The load generator against a stand-in node (the JDK's HTTP server): what it sends, and what it counts as a
 * success, an error, a read or a write. Counts are compared with what the server saw, not with the clock.
 */
class LoadRunTest {
  private HttpServer server;
  private final AtomicLong puts = new AtomicLong();
  private final AtomicLong gets = new AtomicLong();
  private final AtomicLong refused = new AtomicLong();
  private final ConcurrentHashMap<String, String> bodies = new ConcurrentHashMap<>();
  private volatile boolean failEveryThird;

  @BeforeEach
  void start() throws Exception {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setExecutor(Executors.newFixedThreadPool(4));
    AtomicLong seen = new AtomicLong();
    server.createContext("/v1/kv/", exchange -> {
      byte[] body = exchange.getRequestBody().readAllBytes();
      int status;
      if (failEveryThird && seen.incrementAndGet() % 3 == 0) {
        refused.incrementAndGet();
        status = 503;
      } else if (exchange.getRequestMethod().equals("PUT")) {
        puts.incrementAndGet();
        bodies.put(exchange.getRequestURI().getPath(), new String(body));
        status = 200;
      } else {
        gets.incrementAndGet();
        status = exchange.getRequestURI().getPath().hashCode() % 2 == 0 ? 200 : 404; // a missing key is no error
      }
      byte[] answer = "{}".getBytes();
      exchange.sendResponseHeaders(status, answer.length);
      exchange.getResponseBody().write(answer);
      exchange.close();
    });
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
    ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
  }

  private LoadRun.Spec spec(double readRatio) {
    URI node = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    return new LoadRun.Spec(List.of(node), 3, Duration.ZERO, Duration.ofSeconds(1), 20, 7, readRatio, false,
        Duration.ofSeconds(5));
  }

  @Test
  void writesPutValuesOfTheGivenSizeAndEveryAnswerIsCounted() throws Exception {
    List<LoadRun.Second> seconds = new ArrayList<>();
    LoadRun.Result r = LoadRun.run(spec(0), seconds::add);
    assertTrue(r.ok() > 0, "nothing was sent");
    assertEquals(puts.get(), r.writes().getTotalCount(), "every 200 counted, once");
    assertEquals(0, r.reads().getTotalCount());
    assertEquals(0, r.errors());
    assertTrue(bodies.values().stream().allMatch("vvvvvvv"::equals), "7-byte values: " + bodies.values());
    assertTrue(bodies.keySet().stream().allMatch(p -> p.matches("/v1/kv/bench/1?\\d")), "20 keys: " + bodies.keySet());
    assertEquals(puts.get(), seconds.stream().mapToLong(LoadRun.Second::ok).sum(), "the seconds add up");
    assertTrue(seconds.stream().allMatch(LoadRun.Second::measuring), "no warm-up was asked for");
  }

  @Test
  void readsAndWritesAreCountedApartAndAMissingKeyIsNoError() throws Exception {
    LoadRun.Result r = LoadRun.run(spec(0.5), null);
    assertEquals(puts.get(), r.writes().getTotalCount());
    assertEquals(gets.get(), r.reads().getTotalCount(), "404 answers to reads count as answers");
    assertTrue(r.reads().getTotalCount() > 0 && r.writes().getTotalCount() > 0, r.toString());
    assertEquals(0, r.errors());
  }

  @Test
  void refusalsAndUnreachableNodesAreErrorsNotLatencies() throws Exception {
    failEveryThird = true;
    LoadRun.Result r = LoadRun.run(spec(0), null);
    assertEquals(refused.get(), r.errors(), "each 503 is an error");
    assertEquals(puts.get(), r.ok());

    server.stop(0); // nothing listens there now
    LoadRun.Result none = LoadRun.run(spec(0), null);
    assertEquals(0, none.ok());
    assertTrue(none.errors() > 0, "connection refused counts as an error");
  }

  @Test
  void aWarmUpIsNotMeasuredAndEndsWhenTheLoadStopsRising() throws Exception {
    URI node = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    List<LoadRun.Second> seconds = new ArrayList<>();
    LoadRun.Spec spec = new LoadRun.Spec(List.of(node), 2, Duration.ofSeconds(1), Duration.ofSeconds(1),
        Duration.ofSeconds(1), 20, 7, 0, false, Duration.ofSeconds(5));
    List<String> phases = new java.util.concurrent.CopyOnWriteArrayList<>();
    LoadRun.Result r = LoadRun.run(spec, s -> {
      seconds.add(s);
      phases.add(s.measuring() ? "measured second" : "warm-up second");
    }, new LoadRun.Phases() {
      @Override
      public void measuring() {
        phases.add("measuring");
      }

      @Override
      public void stopped() {
        phases.add("stopped");
      }
    });
    assertEquals(List.of("warm-up second", "measuring", "measured second", "stopped", "measured second"), phases,
        "a second of warm-up, the switch, a measured second, the stop, and the second the clients finish in");
    assertTrue(seconds.stream().anyMatch(s -> !s.measuring() && s.ok() > 0), "the warm-up sent requests: " + seconds);
    assertEquals(puts.get(), seconds.stream().mapToLong(LoadRun.Second::ok).sum(), "every request is in a second");
    assertTrue(r.writes().getTotalCount() > 0 && r.writes().getTotalCount() < puts.get(), "the warm-up is left out");
    assertTrue(seconds.stream().filter(s -> !s.measuring()).allMatch(s -> s.latencies().getTotalCount() == 0),
        "no warm-up latency in the result");

    int w = LoadRun.STEADY_WINDOW;
    assertTrue(LoadRun.steady(seconds(w, 100, w, 104)), "flat");
    assertTrue(LoadRun.steady(concat(seconds(3, 10, 0, 0), seconds(w, 100, w, 100))), "flat after a ramp");
    assertTrue(LoadRun.steady(seconds(w, 100, w, 50)), "falling is not rising");
    assertFalse(LoadRun.steady(seconds(w, 100, w, 120)), "20% faster: still warming");
    assertFalse(LoadRun.steady(seconds(w, 100, w - 1, 100)), "too few seconds to tell");
  }

  /** {@code n} seconds of {@code a} requests, then {@code m} of {@code b}. */
  private static List<Long> seconds(int n, long a, int m, long b) {
    List<Long> out = new ArrayList<>();
    for (int i = 0; i < n; i++) out.add(a);
    for (int i = 0; i < m; i++) out.add(b);
    return out;
  }

  private static List<Long> concat(List<Long> a, List<Long> b) {
    List<Long> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }

  @Test
  void badSpecsAreRefused() {
    URI node = URI.create("http://127.0.0.1:1");
    Duration s = Duration.ofSeconds(1);
    for (Runnable bad : List.<Runnable>of(
        () -> new LoadRun.Spec(List.of(), 1, s, s, 1, 1, 0, false, s),
        () -> new LoadRun.Spec(List.of(node), 0, s, s, 1, 1, 0, false, s),
        () -> new LoadRun.Spec(List.of(node), 1, s, s, 0, 1, 0, false, s),
        () -> new LoadRun.Spec(List.of(node), 1, s, s, 1, -1, 0, false, s),
        () -> new LoadRun.Spec(List.of(node), 1, s, s, 1, 1, 1.5, false, s),
        () -> new LoadRun.Spec(List.of(node), 1, s, s, 1, 1, Double.NaN, false, s),
        () -> new LoadRun.Spec(List.of(node), 1, s, Duration.ZERO, 1, 1, 0, false, s),
        () -> new LoadRun.Spec(List.of(node), 1, s, Duration.ZERO, s, 1, 1, 0, false, s))) {
      org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, bad::run);
    }
  }
}

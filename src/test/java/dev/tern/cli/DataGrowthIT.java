package dev.tern.cli;

import static dev.tern.cli.LocalProcesses.startLocal;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tern.cli.LocalProcesses.Local;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #25 section 8, at a small scale: a 3-node `tern local` with default settings and 256 MiB heaps takes twice its
 * heap of keys and values (the release before the on-disk store needed 1.5-2.5 times the data plus 512 MiB of heap: it
 * ran out of memory and could not restart); three times took 95 s of CI's 20 minutes;
 * every node stays up, and after a cold restart of all of them the cluster serves within a bound that does not grow
 * with the data (the store is opened, not loaded), with every sampled value intact.
 */
class DataGrowthIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int VALUE_BYTES = 256 * 1024;
  private static final long FILL_BYTES = 512L << 20; // twice each node's heap
  private static final int WRITERS = 6;
  private static final List<String> SMALL_HEAP = List.of("--heap", "256m");
  private static final Duration RESTART_WITHIN = Duration.ofSeconds(45);

  /** The value of key number {@code i}: the same bytes whenever asked. */
  private static byte[] value(long i) {
    byte[] v = new byte[VALUE_BYTES];
    new Random(i * 7919).nextBytes(v);
    return v;
  }

  private static String key(long i) {
    return String.format("growth/%06d", i);
  }

  private static HttpClient client() {
    return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(2)).build();
  }

  /** Writes keys 0..count-1 through the nodes in turn, each until it is acknowledged (a bounded number of tries). */
  private static void fill(List<String> nodes, long count) throws Exception {
    HttpClient http = client();
    AtomicLong next = new AtomicLong();
    ExecutorService pool = Executors.newFixedThreadPool(WRITERS);
    try {
      List<Future<?>> writers = new ArrayList<>();
      for (int w = 0; w < WRITERS; w++) {
        writers.add(pool.submit(() -> {
          for (long i = next.getAndIncrement(); i < count; i = next.getAndIncrement()) {
            byte[] v = value(i);
            int status = -1;
            for (int attempt = 0; attempt < 20 && status != 200; attempt++) {
              String node = nodes.get((int) ((i + attempt) % nodes.size()));
              HttpRequest put = HttpRequest.newBuilder(URI.create(node + "/v1/kv/" + key(i)))
                  .timeout(Duration.ofSeconds(20)).PUT(HttpRequest.BodyPublishers.ofByteArray(v)).build();
              try {
                status = http.send(put, HttpResponse.BodyHandlers.discarding()).statusCode();
              } catch (IOException e) {
                status = -1;
              }
              if (status != 200) Thread.sleep(200); // 503 while a leader is elected; bounded by the attempts
            }
            if (status != 200) throw new AssertionError("PUT " + key(i) + " was never acknowledged: " + status);
          }
          return null;
        }));
      }
      for (Future<?> f : writers) f.get(10, TimeUnit.MINUTES);
    } finally {
      pool.shutdownNow();
    }
  }

  private static JsonNode status(HttpClient http, String node) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(node + "/v1/status"))
        .timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.ofString());
    return JSON.readTree(r.body());
  }

  /** Reads a key linearizably through any node until it answers (bounded by {@code within}). */
  private static byte[] read(HttpClient http, List<String> nodes, String key, Duration within) throws Exception {
    long deadline = System.nanoTime() + within.toNanos();
    for (int attempt = 0; ; attempt++) {
      String node = nodes.get(attempt % nodes.size());
      try {
        HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(URI.create(node + "/v1/kv/" + key + "?raw"))
            .timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
        if (r.statusCode() == 200) return r.body();
        if (r.statusCode() == 404) throw new AssertionError(key + " is missing (via " + node + ")");
      } catch (IOException e) {
        // not serving yet
      }
      if (System.nanoTime() > deadline) throw new AssertionError("no node served " + key + " within " + within);
      Thread.sleep(50); // bounded by the deadline
    }
  }

  @Test
  void twiceTheHeapOfDataKeepsEveryNodeUpAndRestartsInBoundedTime(@TempDir Path dir) throws Exception {
    long count = FILL_BYTES / VALUE_BYTES;
    HttpClient http = client();
    Local cluster = startLocal(dir, SMALL_HEAP);
    List<String> nodes = List.copyOf(cluster.http().values());
    try {
      fill(nodes, count);
      for (var e : cluster.pids().entrySet()) {
        assertTrue(ProcessHandle.of(e.getValue()).map(ProcessHandle::isAlive).orElse(false),
            e.getKey() + " exited during the fill:\n" + cluster.transcript());
      }
      for (String node : nodes) {
        long data = status(http, node).path("storage").path("dataBytes").asLong();
        assertTrue(data >= FILL_BYTES, node + " holds " + data + " bytes of data, not " + FILL_BYTES);
      }
    } finally {
      cluster.stop();
    }

    long started = System.nanoTime();
    Local again = startLocal(dir, SMALL_HEAP);
    try {
      List<String> restarted = List.copyOf(again.http().values());
      byte[] first = read(http, restarted, key(0), RESTART_WITHIN);
      Duration toServing = Duration.ofNanos(System.nanoTime() - started);
      System.out.println("DataGrowthIT: " + count + " values of " + VALUE_BYTES + " bytes (" + (FILL_BYTES >> 20)
          + " MiB per node, heap 256 MiB); cold restart of all three nodes to the first linearizable read: "
          + toServing.toMillis() + " ms");
      assertTrue(toServing.compareTo(RESTART_WITHIN) < 0, "serving took " + toServing);
      assertArrayEquals(value(0), first);
      for (long i = 1; i < count; i += 97) assertArrayEquals(value(i), read(http, restarted, key(i), RESTART_WITHIN), key(i));
      assertArrayEquals(value(count - 1), read(http, restarted, key(count - 1), RESTART_WITHIN));
      for (String node : restarted) {
        long data = status(http, node).path("storage").path("dataBytes").asLong();
        assertTrue(data >= FILL_BYTES, node + " reopened with " + data + " bytes of data");
      }
    } finally {
      again.stop();
    }
  }
}

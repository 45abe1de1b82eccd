package dev.tern.cluster;

import static dev.tern.cluster.LocalCluster.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Watches over real HTTP on a 3-node cluster (issue 11, section 2): a watch through a follower sees every change in
 * revision order; a watch resumed on another node from the revision after the last one seen misses nothing and
 * repeats nothing, also after the leader and the watched node failed; a compacted revision gets 410.
 */
class WatchEndToEndTest {
  private static final Duration WITHIN = Duration.ofSeconds(30);
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  /** One SSE event as the test reads it. */
  record Sse(String type, String id, JsonNode data) {}

  /** A watch stream read on its own thread into a queue; END when the stream ends. */
  static final class Stream_ implements AutoCloseable {
    static final Sse END = new Sse("end", null, null);
    final BlockingQueue<Sse> events = new LinkedBlockingQueue<>();
    final int status;
    private final Thread reader;
    private final Stream<String> lines;

    Stream_(String url) {
      HttpResponse<Stream<String>> r;
      try {
        r = HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
            HttpResponse.BodyHandlers.ofLines());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
      status = r.statusCode();
      lines = r.body();
      reader = new Thread(() -> {
        String type = null;
        String id = null;
        StringBuilder data = new StringBuilder();
        try {
          for (var it = lines.iterator(); it.hasNext(); ) {
            String line = it.next();
            if (line.isEmpty()) {
              if (type != null || data.length() > 0) events.add(new Sse(type, id, LocalCluster.JSON.readTree(data.toString())));
              type = null;
              id = null;
              data.setLength(0);
            } else if (line.startsWith("event:")) {
              type = line.substring(6).strip();
            } else if (line.startsWith("id:")) {
              id = line.substring(3).strip();
            } else if (line.startsWith("data:")) {
              data.append(line.substring(5).strip());
            }
          }
        } catch (IOException | UncheckedIOException e) {
          // the node went away
        }
        events.add(END);
      }, "watch-reader");
      reader.setDaemon(true);
      reader.start();
    }

    /** The next change (put or delete), skipping the "watching" event; END if the stream ended. */
    Sse nextChange() throws InterruptedException {
      while (true) {
        Sse e = events.poll(WITHIN.toSeconds(), TimeUnit.SECONDS);
        if (e == null) throw new AssertionError("no event within " + WITHIN);
        if (!"watching".equals(e.type())) return e;
      }
    }

    @Override
    public void close() {
      lines.close();
    }
  }

  private static String watchUrl(LocalCluster cluster, String id, String query) {
    return cluster.node(id).self().httpAddress() + "/v1/watch?" + query;
  }

  private static List<Long> takeChanges(Stream_ s, int n, List<String> keys) throws InterruptedException {
    List<Long> revisions = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Sse e = s.nextChange();
      assertTrue(e.type().equals("put") || e.type().equals("delete"), "a change, not " + e);
      revisions.add(e.data().get("revision").asLong());
      keys.add(e.type() + " " + e.data().get("key").asText() + (e.data().has("value") ? "=" + e.data().get("value").asText() : ""));
      assertEquals(e.id(), Long.toString(e.data().get("revision").asLong()), "the SSE id is the revision");
    }
    return revisions;
  }

  @Test
  void watchesSeeEveryChangeInOrderAndResumeAnywhereWithoutGapOrDuplicate() throws Exception {
    try (LocalCluster cluster = new LocalCluster(3, "tern.watch.history-events = 50")) {
      List<String> ids = List.of("n1", "n2", "n3");
      String leader = await(() -> cluster.agreedLeader(ids), WITHIN, "a leader");
      List<String> followers = ids.stream().filter(id -> !id.equals(leader)).toList();
      String watched = followers.get(0);
      String other = followers.get(1);

      Stream_ live = new Stream_(watchUrl(cluster, watched, "prefix=w/"));
      assertEquals(200, live.status);
      assertEquals(200, cluster.put(leader, "w/a", "1").status());
      assertEquals(200, cluster.put(leader, "x/other", "not watched").status());
      assertEquals(200, cluster.put(leader, "w/b", "2").status());
      assertEquals(200, cluster.request(leader, "DELETE", "/v1/kv/w%2Fa", null).status());
      List<String> seen = new ArrayList<>();
      List<Long> revs = takeChanges(live, 3, seen);
      assertEquals(List.of("put w/a=1", "put w/b=2", "delete w/a"), seen);
      assertTrue(revs.get(0) < revs.get(1) && revs.get(1) < revs.get(2), "revision order: " + revs);

      // Resumed on another node from the revision after the first: the rest, once each, from its history.
      try (Stream_ resumed = new Stream_(watchUrl(cluster, other, "prefix=w/&from=" + (revs.get(0) + 1)))) {
        List<String> again = new ArrayList<>();
        assertEquals(revs.subList(1, 3), takeChanges(resumed, 2, again));
        assertEquals(seen.subList(1, 3), again);
      }

      // The leader fails: the watch through the follower goes on, with the writes the new leader commits.
      cluster.stopNode(leader);
      String next = await(() -> cluster.agreedLeader(followers), WITHIN, "a new leader");
      await(() -> Optional.of(cluster.put(next, "w/c", "3")).filter(r -> r.status() == 200), WITHIN, "a write to the new leader");
      List<String> after = new ArrayList<>();
      long lastSeen = takeChanges(live, 1, after).get(0);
      assertEquals(List.of("put w/c=3"), after);

      // The watched node fails too (the old leader back first, to keep a majority): the stream ends, and the watch
      // resumes on another node from the revision after the last one seen, with what was written meanwhile.
      cluster.startAgain(leader, false);
      await(() -> cluster.agreedLeader(ids), WITHIN, "three nodes agreeing again");
      cluster.stopNode(watched);
      assertEquals(Stream_.END, live.nextChange(), "the stream ends with its node");
      live.close();
      String now = await(() -> cluster.agreedLeader(List.of(leader, other)), WITHIN, "a leader of the two");
      await(() -> Optional.of(cluster.put(now, "w/d", "4")).filter(r -> r.status() == 200), WITHIN, "a write while it is down");
      try (Stream_ resumed = new Stream_(watchUrl(cluster, other, "prefix=w/&from=" + (lastSeen + 1)))) {
        List<String> rest = new ArrayList<>();
        List<Long> restRevs = takeChanges(resumed, 1, rest);
        assertEquals(List.of("put w/d=4"), rest);
        assertTrue(restRevs.get(0) > lastSeen);
        assertEquals(200, cluster.put(now, "w/e", "5").status());
        takeChanges(resumed, 1, rest);
        assertEquals(List.of("put w/d=4", "put w/e=5"), rest, "no gap, no duplicate");
      }

      // A revision older than the history (50 changes here) is refused with 410 and the oldest one held; bad
      // parameters get 400.
      for (int i = 0; i < 60; i++) assertEquals(200, cluster.put(now, "fill/" + i, "x").status());
      Stream_ gone = new Stream_(watchUrl(cluster, other, "from=1"));
      assertEquals(410, gone.status);
      LocalCluster.Response compacted = cluster.request(other, "GET", "/v1/watch?from=1", null);
      assertEquals(410, compacted.status());
      assertTrue(compacted.body().get("oldestRevision").asLong() > 1, compacted.body().toString());
      assertEquals(400, cluster.request(other, "GET", "/v1/watch?prefix=a&key=b", null).status());
      assertEquals(400, cluster.request(other, "GET", "/v1/watch?from=x", null).status());
    }
  }
}

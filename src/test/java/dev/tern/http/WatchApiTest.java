package dev.tern.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.kv.Bytes;
import dev.tern.kv.KvEvent;
import dev.tern.kv.WatchHub;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.http.javadsl.model.sse.ServerSentEvent;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** The watch stream's own rules (issue 11, section 2): a slow watcher is closed with where to resume. */
class WatchApiTest {
  private static final ActorTestKit kit = ActorTestKit.create();

  @AfterAll
  static void stop() {
    kit.shutdownTestKit();
  }

  private static List<KvEvent> put(long revision, String key) {
    return List.of(new KvEvent(revision, key, Bytes.utf8("v" + revision)));
  }

  private static List<ServerSentEvent> drain(List<List<KvEvent>> backlog, Source<WatchApi.Item, NotUsed> live)
      throws Exception {
    return WatchApi.events(HttpJson.object().put("startRevision", 1), backlog, live)
        .runWith(Sink.seq(), kit.system()).toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  // A watcher that falls its buffer behind is refused the next revision, and its stream ends with an error event
  // naming that revision to resume from, after every change it was given: nothing lost, nothing twice.
  @Test
  void aWatcherThatFallsBehindEndsWithTheRevisionToResumeFrom() throws Exception {
    Pair<BoundedSourceQueue<WatchApi.Item>, Source<WatchApi.Item, NotUsed>> live =
        Source.<WatchApi.Item>queue(3).preMaterialize(kit.system());
    WatchHub.Watcher w = WatchApi.watcher(live.first(), 2);
    long revision = 3;
    while (w.offer(put(revision, "k"))) { // the queue holds 2, plus what the stream already took in
      revision++;
      assertTrue(revision < 20, "never refused");
    }
    assertTrue(revision >= 5, "held at least its 2: refused at " + revision);
    List<ServerSentEvent> got = drain(List.of(put(2, "z")), live.second());
    List<String> ids = got.stream().filter(e -> e.getEventType().orElse("").equals("put"))
        .map(e -> e.getId().orElse("")).toList();
    List<String> expected = new java.util.ArrayList<>();
    for (long r = 2; r < revision; r++) expected.add(Long.toString(r));
    assertEquals(expected, ids, "every change it took, once, in order");
    assertEquals("error", got.get(got.size() - 1).getEventType().orElse(""));
    var error = HttpJson.MAPPER.readTree(got.get(got.size() - 1).getData());
    assertEquals(revision, error.get("resumeFrom").asLong());
    assertTrue(error.get("error").asText().contains("fell 2 revisions behind"), error.toString());
  }

  // A node that installed a snapshot over the changes a watcher needed ends its stream with where to resume, and
  // the oldest revision it holds now.
  @Test
  void aSnapshotOverTheWatchEndsItWithTheOldestRevision() throws Exception {
    Pair<BoundedSourceQueue<WatchApi.Item>, Source<WatchApi.Item, NotUsed>> live =
        Source.<WatchApi.Item>queue(9).preMaterialize(kit.system());
    WatchHub.Watcher w = WatchApi.watcher(live.first(), 8);
    w.lost(7, 30);
    List<ServerSentEvent> got = drain(List.of(), live.second());
    var error = HttpJson.MAPPER.readTree(got.get(got.size() - 1).getData());
    assertEquals(7, error.get("resumeFrom").asLong());
    assertEquals(30, error.get("oldestRevision").asLong());
  }

  // Each change is one event: its type, its revision as the SSE id, its value as text or base64; a delete has none.
  @Test
  void changesBecomeEventsWithTheirRevisionAsId() throws Exception {
    List<ServerSentEvent> events = WatchApi.toEvents(List.of(new KvEvent(9, "k", Bytes.wrap(new byte[] {0, -1})),
        new KvEvent(9, "j", null)));
    assertEquals("put", events.get(0).getEventType().orElseThrow());
    assertEquals("9", events.get(0).getId().orElseThrow());
    assertEquals("{\"type\":\"put\",\"key\":\"k\",\"valueBase64\":\"AP8=\",\"revision\":9}", events.get(0).getData());
    assertEquals("{\"type\":\"delete\",\"key\":\"j\",\"revision\":9}", events.get(1).getData());
    assertEquals(Duration.ofSeconds(15), WatchApi.Settings.fromConfig(com.typesafe.config.ConfigFactory
        .parseFile(new java.io.File("application.conf")).resolve().getConfig("tern")).keepAlive());
  }
}

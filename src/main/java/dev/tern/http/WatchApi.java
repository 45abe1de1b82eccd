package dev.tern.http;

import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.Config;
import dev.tern.kv.KvEvent;
import dev.tern.kv.WatchHub;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.marshalling.sse.EventStreamMarshalling;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.sse.ServerSentEvent;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.QueueOfferResult;
import org.apache.pekko.stream.javadsl.Source;

/**
 * {@code GET /v1/watch?prefix=P} (or {@code key=K}), optionally {@code from=REV}: every put and delete of those keys as
 * server-sent events, in revision order, none missing and none twice, from this node's {@link WatchHub}. Each event's
 * SSE id is its revision: a client that lost the stream resumes, on any node, with {@code from} = the last id + 1.
 *
 * <p>A watcher never slows writes: the hub hands its events to a bounded queue ({@code tern.watch.buffer-revisions});
 * one that falls that far behind gets an {@code error} event with the revision to resume from, and the stream ends.
 * A {@code from} older than the node's history is refused with 410 and the oldest revision it holds.
 */
public final class WatchApi extends AllDirectives {

  /** From {@code tern.watch}. */
  public record Settings(int historyEvents, long historyBytes, int bufferRevisions, int maxWatchers, Duration keepAlive) {
    public static Settings fromConfig(Config tern) {
      return new Settings(tern.getInt("watch.history-events"), tern.getBytes("watch.history-bytes"),
          tern.getInt("watch.buffer-revisions"), tern.getInt("watch.max-watchers"), tern.getDuration("watch.keep-alive"));
    }

    /** The hub these settings make. */
    public WatchHub hub() {
      return new WatchHub(historyEvents, historyBytes);
    }
  }

  /** What one watch's queue carries: the changes of a revision, then perhaps why the watch ended. */
  sealed interface Item {}

  record Changes(List<KvEvent> events) implements Item {}

  /** Why a watch ended early: its SSE {@code error} event, the last one of the stream. */
  record Ended(ServerSentEvent event) implements Item {
    static Ended because(String message, long resumeFrom, long oldestRevision) {
      ObjectNode body = HttpJson.object().put("error", message).put("resumeFrom", resumeFrom);
      if (oldestRevision > 0) body.put("oldestRevision", oldestRevision);
      return new Ended(ServerSentEvent.create(body.toString(), "error"));
    }
  }

  private final ActorSystem<?> system;
  private final WatchHub hub;
  private final Settings settings;

  public WatchApi(ActorSystem<?> system, WatchHub hub, Settings settings) {
    this.system = system;
    this.hub = hub;
    this.settings = settings;
  }

  public Route route() {
    return path(segment("v1").slash("watch"), () -> get(() -> parameterOptional("prefix", prefix ->
        parameterOptional("key", key -> parameterOptional("from", from -> watch(prefix, key, from))))));
  }

  private Route watch(Optional<String> prefix, Optional<String> key, Optional<String> fromParam) {
    if (prefix.isPresent() && key.isPresent()) {
      return complete(HttpJson.error(StatusCodes.BAD_REQUEST, "give prefix or key, not both"));
    }
    long from = 0;
    if (fromParam.isPresent()) {
      from = HttpParsing.parseNonNegativeLong(fromParam.get());
      if (from < 0) return complete(HttpJson.error(StatusCodes.BAD_REQUEST, "from must be a non-negative integer revision"));
    }
    if (hub.watchers() >= settings.maxWatchers()) {
      return complete(HttpJson.error(StatusCodes.SERVICE_UNAVAILABLE, "this node serves " + settings.maxWatchers()
          + " watches already (tern.watch.max-watchers): retry later or on another node"));
    }
    // One slot more than the watcher may use: the last item is always room for why it ended.
    Pair<BoundedSourceQueue<Item>, Source<Item, NotUsed>> live =
        Source.<Item>queue(settings.bufferRevisions() + 1).preMaterialize(system);
    BoundedSourceQueue<Item> queue = live.first();
    WatchHub.Watcher watcher = watcher(queue, settings.bufferRevisions());
    WatchHub.Registration registration;
    try {
      registration = hub.watch(key.orElse(prefix.orElse("")), key.isPresent(), from, watcher);
    } catch (WatchHub.CompactedException e) {
      queue.complete();
      return complete(HttpJson.response(StatusCodes.GONE, HttpJson.error(e.getMessage() + "; read the keys again, then"
          + " watch from the revision after").put("oldestRevision", e.oldestRevision())));
    }
    ObjectNode start = HttpJson.object().put("startRevision", registration.startRevision())
        .put("oldestRevision", hub.oldestRevision());
    Source<ServerSentEvent, NotUsed> events = events(start, registration.backlog(), live.second())
        .keepAlive(settings.keepAlive(), ServerSentEvent::heartbeat)
        .watchTermination((notUsed, done) -> {
          done.whenComplete((d, failure) -> registration.cancel().run());
          return notUsed;
        });
    return completeOK(events, EventStreamMarshalling.toEventStream());
  }

  /**
   * The hub's side of one watch: hands each revision's changes to {@code queue}; when it is full (the client fell
   * {@code bufferRevisions} behind) or the node jumped over changes, ends the stream with the reason.
   */
  static WatchHub.Watcher watcher(BoundedSourceQueue<Item> queue, int bufferRevisions) {
    return new WatchHub.Watcher() {
      @Override
      public boolean offer(List<KvEvent> events) {
        if (queue.size() < bufferRevisions && queue.offer(new Changes(events)) == QueueOfferResult.enqueued()) {
          return true;
        }
        long resumeFrom = events.get(0).revision();
        end(Ended.because("this watch fell " + bufferRevisions + " revisions behind and was closed"
            + " (tern.watch.buffer-revisions): resume with from=" + resumeFrom, resumeFrom, 0));
        return false;
      }

      @Override
      public void lost(long resumeFrom, long oldestRevision) {
        end(Ended.because("this node installed a snapshot and no longer holds revision " + resumeFrom
            + ": resume on another node with from=" + resumeFrom + ", or read the keys again", resumeFrom, oldestRevision));
      }

      /**
       * Ends the stream after what it holds (a failure would drop that, and the client would resume past changes it
       * never saw). Should even the spare slot be taken, the stream just ends: the client resumes after the last
       * change it saw, which is as correct.
       */
      private void end(Ended why) {
        queue.offer(why);
        queue.complete();
      }
    };
  }

  /** The stream: a "watching" event, the past changes, the live ones, and the reason if it ends early. */
  static Source<ServerSentEvent, NotUsed> events(ObjectNode start, List<List<KvEvent>> backlog, Source<Item, NotUsed> live) {
    return Source.single(ServerSentEvent.create(start.toString(), "watching"))
        .concat(Source.from(backlog).<Item>map(Changes::new).concat(live)
            .mapConcat(item -> item instanceof Ended e ? List.of(e.event()) : toEvents(((Changes) item).events())));
  }

  /** One SSE per change: its type ({@code put} or {@code delete}), its revision as the id, the change as JSON. */
  static List<ServerSentEvent> toEvents(List<KvEvent> revision) {
    List<ServerSentEvent> out = new ArrayList<>(revision.size());
    for (KvEvent e : revision) {
      ObjectNode data = HttpJson.object().put("type", e.isDelete() ? "delete" : "put").put("key", e.key());
      if (!e.isDelete()) {
        String text = e.value().utf8OrNull();
        if (text != null) data.put("value", text);
        else data.put("valueBase64", e.value().base64());
      }
      data.put("revision", e.revision());
      out.add(ServerSentEvent.create(data.toString(), e.isDelete() ? "delete" : "put", Long.toString(e.revision())));
    }
    return out;
  }
}

package dev.tern.http;

import dev.tern.kv.KvCommand;
import dev.tern.kv.KvResult;
import dev.tern.kv.KvStateMachine;
import dev.tern.raft.LogEntry;
import dev.tern.raft.StateMachine;
import java.util.function.LongConsumer;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * Wraps the node's KV state machine so that the front actor hears of every applied entry, no-ops included
 * (a read waits for its read index, which may be a no-op). Runs on the Raft actor's thread; it only tells.
 */
public final class AppliedNotifier implements StateMachine {
  private final KvStateMachine kv;
  private final ActorRef<KvFront.Command> front;
  /** Told the applied data's size after every entry and restore (the space quota), or null. */
  private final LongConsumer dataBytes;
  /** What the state machine reported of the batch being applied. */
  private final java.util.List<KvFrontBehavior.Applied> heard = new java.util.ArrayList<>();

  private AppliedNotifier(KvStateMachine kv, ActorRef<KvFront.Command> front, LongConsumer dataBytes) {
    this.kv = kv;
    this.front = front;
    this.dataBytes = dataBytes;
  }

  /** Creates the KV state machine wired to report to {@code front}. */
  public static AppliedNotifier create(ActorRef<KvFront.Command> front) {
    return create(front, dev.tern.kv.WatchHub.withoutHistory());
  }

  /** ... and whose changes {@code watches} follows. */
  public static AppliedNotifier create(ActorRef<KvFront.Command> front, dev.tern.kv.WatchHub watches) {
    return create(front, watches, null);
  }

  /**
   * ... and that tells {@code dataBytes} the state's {@link KvStateMachine#dataBytes()} at once, after every applied
   * entry and every restored snapshot (the node's {@link SpaceQuota#update}); null for no one.
   */
  public static AppliedNotifier create(ActorRef<KvFront.Command> front, dev.tern.kv.WatchHub watches,
      LongConsumer dataBytes) {
    return create(front, watches, dev.tern.kv.MemoryKvStore::new, dataBytes);
  }

  /** ... over the store {@code opener} opens (told of every change), which may hold a restarted node's state. */
  public static AppliedNotifier create(ActorRef<KvFront.Command> front, dev.tern.kv.WatchHub watches,
      java.util.function.Function<java.util.function.Consumer<dev.tern.kv.KvEvent>, dev.tern.kv.KvStore> opener,
      LongConsumer dataBytes) {
    AppliedNotifier[] self = new AppliedNotifier[1];
    KvStateMachine kv = new KvStateMachine((index, command, result) -> self[0].record(index, command, result), watches, opener);
    self[0] = new AppliedNotifier(kv, front, dataBytes);
    if (dataBytes != null) dataBytes.accept(kv.dataBytes()); // a reopened store's data counts before any apply
    return self[0];
  }

  private void record(long index, KvCommand command, KvResult result) {
    heard.add(new KvFrontBehavior.Applied(index, command, result));
  }

  @Override
  public void apply(LogEntry entry) {
    apply(java.util.List.of(entry));
  }

  /** The front hears of every entry of the batch in order, no-ops too, once the state machine has applied them all. */
  @Override
  public void apply(java.util.List<LogEntry> entries) {
    heard.clear();
    kv.apply(entries);
    if (dataBytes != null) dataBytes.accept(kv.dataBytes());
    int next = 0; // the state machine reports commands in index order and skips Raft's own entries
    for (LogEntry entry : entries) {
      if (next < heard.size() && heard.get(next).index() == entry.index()) {
        front.tell(heard.get(next++));
      } else {
        front.tell(new KvFrontBehavior.Applied(entry.index(), null, null));
      }
    }
    heard.clear();
  }

  @Override
  public SnapshotData snapshot() {
    return kv.snapshot();
  }

  @Override
  public boolean keepsState() {
    return kv.keepsState();
  }

  @Override
  public SnapshotData snapshotReference() {
    return kv.snapshotReference();
  }

  @Override
  public boolean isReference(dev.tern.raft.SnapshotSource data) {
    return kv.isReference(data);
  }

  @Override
  public void restore(long lastIncludedIndex, java.io.InputStream data) {
    kv.restore(lastIncludedIndex, data);
    if (dataBytes != null) dataBytes.accept(kv.dataBytes());
    front.tell(new KvFrontBehavior.Restored(lastIncludedIndex));
  }

  @Override
  public long lastApplied() {
    return kv.lastApplied();
  }

  public KvStateMachine kv() {
    return kv;
  }
}

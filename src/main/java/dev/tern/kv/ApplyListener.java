package dev.tern.kv;

/** Told about every applied command, so the node that proposed it can answer its waiting client. */
@FunctionalInterface
public interface ApplyListener {

  /**
   * Called on the applying thread after the state has changed. {@code command} is null when the entry's bytes did
   * not decode (then {@code result} is {@link KvResult.Invalid}): the proposer can still match it by {@code index}.
   */
  void onApplied(long index, KvCommand command, KvResult result);
}

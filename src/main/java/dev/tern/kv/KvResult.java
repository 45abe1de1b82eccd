package dev.tern.kv;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import dev.tern.CborSerializable;

/** The outcome of applying one {@link KvCommand}; it may be sent back to a client on another node. */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
  @JsonSubTypes.Type(value = KvResult.Written.class, name = "written"),
  @JsonSubTypes.Type(value = KvResult.Deleted.class, name = "deleted"),
  @JsonSubTypes.Type(value = KvResult.NotFound.class, name = "notFound"),
  @JsonSubTypes.Type(value = KvResult.Value.class, name = "value"),
  @JsonSubTypes.Type(value = KvResult.CasConflict.class, name = "casConflict"),
  @JsonSubTypes.Type(value = KvResult.Invalid.class, name = "invalid")
})
public sealed interface KvResult extends CborSerializable {

  /**
   * A put, or a compare-and-set that matched; {@code revision} is the index of the entry that wrote it. The value
   * is null in a result remembered for a repeated command id (the proposer knows what it wrote).
   */
  record Written(String key, String value, long revision) implements KvResult {}

  /** {@code revision} is the index of the delete entry, so clients can order it against other writes. */
  record Deleted(String key, long revision) implements KvResult {}

  /** A delete or get of a key that is absent. */
  record NotFound(String key) implements KvResult {}

  /** A get of a present key. */
  record Value(String key, String value, long revision) implements KvResult {}

  /** {@code currentRevision} is 0 when the key is absent, so the client can retry with it. */
  record CasConflict(String key, long currentRevision) implements KvResult {}

  /** The entry's bytes did not decode; it was applied as a no-op so every replica still agrees. */
  record Invalid(String reason) implements KvResult {}
}

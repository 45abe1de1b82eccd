package dev.tern.kv;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import dev.tern.CborSerializable;
import java.util.Objects;

/**
 * A client request as it travels through the Raft log. {@link #id()} is chosen by the proposing node so that,
 * when the entry is applied, it can find the client waiting for this very command.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
  @JsonSubTypes.Type(value = KvCommand.Put.class, name = "put"),
  @JsonSubTypes.Type(value = KvCommand.Delete.class, name = "del"),
  @JsonSubTypes.Type(value = KvCommand.CompareAndSet.class, name = "cas"),
  @JsonSubTypes.Type(value = KvCommand.Get.class, name = "get")
})
public sealed interface KvCommand extends CborSerializable {

  String id();

  String key();

  record Put(String id, String key, String value) implements KvCommand {
    public Put {
      Objects.requireNonNull(id, "id");
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(value, "value");
    }
  }

  record Delete(String id, String key) implements KvCommand {
    public Delete {
      Objects.requireNonNull(id, "id");
      Objects.requireNonNull(key, "key");
    }
  }

  /** Writes only if the key's revision is still {@code expectedRevision}; 0 means "only if absent". */
  record CompareAndSet(String id, String key, long expectedRevision, String value) implements KvCommand {
    public CompareAndSet {
      Objects.requireNonNull(id, "id");
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(value, "value");
      // Revisions are log indexes (>= 1) or 0 for absent; a negative one could never match and is a caller bug.
      if (expectedRevision < 0) {
        throw new IllegalArgumentException("expectedRevision must be >= 0, got " + expectedRevision);
      }
    }
  }

  /** A read that goes through the log, so it is linearizable at the cost of a round of replication. */
  record Get(String id, String key) implements KvCommand {
    public Get {
      Objects.requireNonNull(id, "id");
      Objects.requireNonNull(key, "key");
    }
  }
}

package dev.tern.kv;

import java.util.Objects;

/**
 * One condition of a transaction ({@link KvCommand.Txn}), checked against the state the transaction is applied to:
 * a key's value, its revision (the index of the entry that last wrote it, 0 when absent), or whether it exists.
 *
 * <p>Values compare as unsigned bytes, lexicographically (as etcd compares them); a value condition on an absent key
 * never holds, whatever its relation (etcd's rule: there is no value to compare). Existence takes only {@code =} and
 * {@code !=}.
 */
public record TxnCompare(String key, Target target, Relation relation, Bytes value, long revision, boolean exists) {

  public enum Target {
    VALUE,
    REVISION,
    EXISTS
  }

  public enum Relation {
    EQUAL("="),
    NOT_EQUAL("!="),
    LESS("<"),
    GREATER(">");

    /** How the API writes it. */
    public final String symbol;

    Relation(String symbol) {
      this.symbol = symbol;
    }

    boolean holds(int comparison) {
      return switch (this) {
        case EQUAL -> comparison == 0;
        case NOT_EQUAL -> comparison != 0;
        case LESS -> comparison < 0;
        case GREATER -> comparison > 0;
      };
    }
  }

  public TxnCompare {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(target, "target");
    Objects.requireNonNull(relation, "relation");
    if (target == Target.VALUE) Objects.requireNonNull(value, "value");
    else if (value != null) throw new IllegalArgumentException("only a value condition has a value");
    if (target != Target.REVISION && revision != 0) throw new IllegalArgumentException("only a revision condition has a revision");
    if (revision < 0) throw new IllegalArgumentException("revision must be >= 0, got " + revision);
    if (target != Target.EXISTS && exists) throw new IllegalArgumentException("only an existence condition has exists");
    if (target == Target.EXISTS && relation != Relation.EQUAL && relation != Relation.NOT_EQUAL) {
      throw new IllegalArgumentException("existence takes = or != only, not " + relation.symbol);
    }
  }

  public static TxnCompare value(String key, Relation relation, Bytes value) {
    return new TxnCompare(key, Target.VALUE, relation, value, 0, false);
  }

  public static TxnCompare revision(String key, Relation relation, long revision) {
    return new TxnCompare(key, Target.REVISION, relation, null, revision, false);
  }

  public static TxnCompare exists(String key, Relation relation, boolean exists) {
    return new TxnCompare(key, Target.EXISTS, relation, null, 0, exists);
  }

  /** Whether the condition holds for the key's current entry ({@code current} null: absent). */
  boolean holds(VersionedValue current) {
    return switch (target) {
      case VALUE -> current != null && relation.holds(current.value().compareUnsigned(value));
      case REVISION -> relation.holds(Long.compare(current == null ? 0 : current.revision(), revision));
      case EXISTS -> relation.holds((current != null) == exists ? 0 : 1);
    };
  }
}

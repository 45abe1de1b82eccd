package dev.tern.cluster;

import dev.tern.raft.Configuration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Where the members are, as the Raft configuration in force says (dissertation 4.1): the replica reports every
 * change of its configuration here, and the node's parts that route to peers or check who sent an envelope read
 * the current members. {@code tern.cluster.members} only seeds it: it is the bootstrap configuration of a brand-new
 * cluster, and the addresses for servers a configuration names without any (a snapshot written before
 * configurations carried addresses). Removed servers stay listed (see {@link #update}).
 *
 * <p>Read on every peer envelope: {@link #current()} is one volatile read of an immutable value.
 */
public final class MemberDirectory {
  private volatile Members current;
  /** The incarnations the configuration in force publishes (see {@link Configuration.Server}), by server id. */
  private volatile java.util.Map<String, Long> incarnations = java.util.Map.of();
  private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
  private final java.util.concurrent.atomic.AtomicLong ignored = new java.util.concurrent.atomic.AtomicLong();
  private final java.util.concurrent.atomic.AtomicLong notMembers = new java.util.concurrent.atomic.AtomicLong();

  public MemberDirectory(Members bootstrap) {
    this.current = bootstrap;
  }

  /** A directory that never changes (tests, and gateways made without a replica). */
  public static MemberDirectory fixed(Members members) {
    return new MemberDirectory(members);
  }

  public Members current() {
    return current;
  }

  /**
   * The incarnation the configuration in force publishes for {@code id}, or {@link Configuration.Server#UNPUBLISHED}.
   * A removed server keeps the one it had, as it keeps its addresses.
   */
  public long incarnation(String id) {
    Long i = incarnations.get(id);
    return i == null ? Configuration.Server.UNPUBLISHED : i;
  }

  /** Counts one envelope ignored because its sender lost its state (another incarnation); returns the count. */
  long countIgnored() {
    return ignored.incrementAndGet();
  }

  /** How many envelopes were ignored because their sender had lost its state (another incarnation). */
  public long ignoredFromLostMembers() {
    return ignored.get();
  }

  /** Counts one envelope dropped because its sender is not a member at the address it came from; returns the count. */
  long countNotMember() {
    return notMembers.incrementAndGet();
  }

  /** How many envelopes were dropped because their sender was not a member at the address it came from. */
  public long droppedFromNonMembers() {
    return notMembers.get();
  }

  /** Runs {@code listener} (on the replica's thread) after every change. */
  public void onChange(Runnable listener) {
    listeners.add(listener);
  }

  /**
   * The replica's configuration in force changed: its servers' addresses replace what was known of them. Servers it
   * no longer names stay known: a leader that removed a server, or itself, still needs the acknowledgements that
   * commit the change, and a removed server still has to be told it was removed (dissertation 4.2.2, 4.2.3; it
   * cannot disrupt: it is no voter in the configurations in force). An empty configuration (a node waiting to be
   * added) changes nothing.
   */
  public void update(Configuration configuration) {
    if (configuration.servers().isEmpty()) return;
    java.util.Map<String, Long> inc = new java.util.HashMap<>(incarnations);
    for (Configuration.Server s : configuration.servers()) inc.put(s.id(), s.incarnation());
    boolean incarnationsChanged = !inc.equals(incarnations);
    incarnations = java.util.Map.copyOf(inc);
    java.util.Map<String, Member> all = new java.util.LinkedHashMap<>();
    for (Member m : current.all()) all.put(m.id(), m);
    for (Configuration.Server s : configuration.servers()) {
      if (!s.host().isEmpty() && s.arteryPort() > 0 && s.httpPort() > 0) {
        all.put(s.id(), new Member(s.id(), s.host(), s.arteryPort(), s.httpPort()));
      }
    }
    Members next = new Members(new ArrayList<>(all.values()));
    if (next.equals(current) && !incarnationsChanged) return;
    current = next;
    for (Runnable l : listeners) l.run();
  }
}

package dev.tern.raft;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/**
 * A cluster configuration (dissertation chapter 4): the servers of the cluster, each a voter or a non-voting
 * learner (4.2.1), with the addresses the nodes need to reach each other. It is replicated state: it travels in
 * {@link LogEntry.Kind#CONFIG} entries and in snapshots, and a server uses the latest one in its log, committed
 * or not (4.1). Immutable; servers are kept in id order, so equal configurations have equal encodings.
 */
public record Configuration(List<Server> servers) {

  /**
   * One server: its id, where its Artery transport and HTTP API listen ({@code host} empty and ports 0 when not
   * known, as in the simulation and in a snapshot written before configurations carried addresses), whether it
   * votes, and its incarnation: the random number its data directory drew when it was created, published here by
   * the leader once it hears from the server ({@link #UNPUBLISHED} until then). A server that comes back with
   * another incarnation has lost its term, vote and log (a wiped or replaced disk, another directory): its peers
   * ignore it, since as a voter it could vote twice in a term or help elect a leader that lacks committed entries
   * (docs/storage.md, section 5).
   */
  public record Server(String id, String host, int arteryPort, int httpPort, boolean voter, long incarnation) {
    /** No incarnation published yet: a new server, or a configuration written before servers had one. */
    public static final long UNPUBLISHED = 0;

    public Server(String id, String host, int arteryPort, int httpPort, boolean voter) {
      this(id, host, arteryPort, httpPort, voter, UNPUBLISHED);
    }

    public Server {
      Objects.requireNonNull(id, "id");
      if (id.isBlank()) throw new IllegalArgumentException("a server id must not be blank");
      host = host == null ? "" : host;
      if (arteryPort < 0 || arteryPort > 65535 || httpPort < 0 || httpPort > 65535) {
        throw new IllegalArgumentException("ports must be in 0..65535, got " + arteryPort + " and " + httpPort);
      }
    }

    /** A server known only by its id. */
    public static Server voter(String id) {
      return new Server(id, "", 0, 0, true);
    }

    Server asVoter(boolean v) {
      return new Server(id, host, arteryPort, httpPort, v, incarnation);
    }

    Server withIncarnation(long i) {
      return new Server(id, host, arteryPort, httpPort, voter, i);
    }

    public boolean published() {
      return incarnation != UNPUBLISHED;
    }

    /** Same addresses (the role aside). */
    public boolean sameAddresses(Server other) {
      return host.equals(other.host) && arteryPort == other.arteryPort && httpPort == other.httpPort;
    }

    boolean hasAddresses() {
      return !host.isEmpty();
    }
  }

  /** No server at all: a node that joins an existing cluster starts with it and waits to be told. */
  public static final Configuration EMPTY = new Configuration(List.of());

  /** 1: no incarnations (all {@link Server#UNPUBLISHED}); 2: each server's incarnation follows its voter flag. */
  private static final byte FORMAT_1 = 1, FORMAT_2 = 2;

  public Configuration {
    List<Server> sorted = new ArrayList<>(servers);
    sorted.sort(Comparator.comparing(Server::id));
    for (int i = 1; i < sorted.size(); i++) {
      if (sorted.get(i).id().equals(sorted.get(i - 1).id())) {
        throw new IllegalArgumentException("server " + sorted.get(i).id() + " appears twice");
      }
    }
    servers = List.copyOf(sorted);
  }

  /** Voters known only by their ids (tests, and the configuration of an old snapshot). */
  public static Configuration ofVoters(List<String> ids) {
    List<Server> list = new ArrayList<>();
    for (String id : ids) list.add(Server.voter(id));
    return new Configuration(list);
  }

  public Server get(String id) {
    for (Server s : servers) if (s.id().equals(id)) return s;
    return null;
  }

  public boolean contains(String id) {
    return get(id) != null;
  }

  public boolean isVoter(String id) {
    Server s = get(id);
    return s != null && s.voter();
  }

  /** The voters' ids, in id order. */
  public List<String> voterIds() {
    List<String> ids = new ArrayList<>();
    for (Server s : servers) if (s.voter()) ids.add(s.id());
    return ids;
  }

  /** Every server's id, in id order. */
  public List<String> ids() {
    List<String> ids = new ArrayList<>(servers.size());
    for (Server s : servers) ids.add(s.id());
    return ids;
  }

  public int voterCount() {
    int n = 0;
    for (Server s : servers) if (s.voter()) n++;
    return n;
  }

  /** Whether {@code count} voters are a majority of this configuration's voters. */
  public boolean isQuorum(int count) {
    return count * 2 > voterCount();
  }

  /** With {@code server} added or replacing the one of its id. */
  public Configuration with(Server server) {
    List<Server> list = new ArrayList<>();
    for (Server s : servers) if (!s.id().equals(server.id())) list.add(s);
    list.add(server);
    return new Configuration(list);
  }

  public Configuration without(String id) {
    List<Server> list = new ArrayList<>();
    for (Server s : servers) if (!s.id().equals(id)) list.add(s);
    return new Configuration(list);
  }

  /** With the learner {@code id} made a voter. */
  public Configuration promote(String id) {
    Server s = get(id);
    if (s == null) throw new IllegalArgumentException("no server " + id);
    return with(s.asVoter(true));
  }

  /**
   * With the incarnation of {@code id} published.
   *
   * @throws IllegalArgumentException if there is no such server
   */
  public Configuration withIncarnation(String id, long incarnation) {
    Server s = get(id);
    if (s == null) throw new IllegalArgumentException("no server " + id);
    return with(s.withIncarnation(incarnation));
  }

  /** The published incarnation of {@code id}; {@link Server#UNPUBLISHED} if none, or if there is no such server. */
  public long incarnationOf(String id) {
    Server s = get(id);
    return s == null ? Server.UNPUBLISHED : s.incarnation();
  }

  /** Servers without addresses take them from {@code known} (an old snapshot's ids, completed by the bootstrap list). */
  public Configuration withAddressesFrom(Configuration known) {
    List<Server> list = new ArrayList<>();
    for (Server s : servers) {
      Server k = known.get(s.id());
      list.add(!s.hasAddresses() && k != null
          ? new Server(s.id(), k.host(), k.arteryPort(), k.httpPort(), s.voter(), s.incarnation()) : s);
    }
    return new Configuration(list);
  }

  /**
   * {@code [byte format][int count]} then per server {@code [id][host][int arteryPort][int httpPort][byte voter]}
   * and, in format 2, {@code [long incarnation]}; strings as {@code [int length][UTF-8]}. Format 1 is written while
   * no incarnation is published, so that a configuration stays readable by a Tern that predates incarnations
   * until one is.
   */
  public byte[] encode() {
    boolean incarnations = false;
    for (Server s : servers) incarnations |= s.published();
    List<byte[]> ids = new ArrayList<>();
    List<byte[]> hosts = new ArrayList<>();
    int size = 1 + 4;
    for (Server s : servers) {
      byte[] id = s.id().getBytes(StandardCharsets.UTF_8);
      byte[] host = s.host().getBytes(StandardCharsets.UTF_8);
      ids.add(id);
      hosts.add(host);
      size += 4 + id.length + 4 + host.length + 4 + 4 + 1 + (incarnations ? 8 : 0);
    }
    ByteBuffer buf = ByteBuffer.allocate(size);
    buf.put(incarnations ? FORMAT_2 : FORMAT_1).putInt(servers.size());
    for (int i = 0; i < servers.size(); i++) {
      Server s = servers.get(i);
      buf.putInt(ids.get(i).length).put(ids.get(i)).putInt(hosts.get(i).length).put(hosts.get(i));
      buf.putInt(s.arteryPort()).putInt(s.httpPort()).put((byte) (s.voter() ? 1 : 0));
      if (incarnations) buf.putLong(s.incarnation());
    }
    return buf.array();
  }

  /**
   * Reads what {@link #encode} wrote.
   *
   * @throws IllegalArgumentException if the bytes are not a configuration
   */
  public static Configuration decode(byte[] bytes) {
    try {
      ByteBuffer buf = ByteBuffer.wrap(bytes);
      byte format = buf.get();
      if (format != FORMAT_1 && format != FORMAT_2) {
        throw new IllegalArgumentException("unknown configuration format " + format);
      }
      int n = buf.getInt();
      if (n < 0 || n > bytes.length) throw new IllegalArgumentException("bad server count " + n);
      List<Server> list = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        String id = string(buf);
        String host = string(buf);
        int artery = buf.getInt();
        int http = buf.getInt();
        byte voter = buf.get();
        if (voter != 0 && voter != 1) throw new IllegalArgumentException("bad voter flag " + voter);
        long incarnation = format == FORMAT_2 ? buf.getLong() : Server.UNPUBLISHED;
        list.add(new Server(id, host, artery, http, voter == 1, incarnation));
      }
      if (buf.hasRemaining()) throw new IllegalArgumentException(buf.remaining() + " bytes after the configuration");
      return new Configuration(list);
    } catch (java.nio.BufferUnderflowException e) {
      throw new IllegalArgumentException("truncated configuration", e);
    }
  }

  private static String string(ByteBuffer buf) {
    int len = buf.getInt();
    if (len < 0 || len > buf.remaining()) throw new IllegalArgumentException("bad string length " + len);
    byte[] b = new byte[len];
    buf.get(b);
    return new String(b, StandardCharsets.UTF_8);
  }

  /** Compact, for logs: {@code n1 n2 n3 n4(learner)}. */
  @Override
  public String toString() {
    StringBuilder b = new StringBuilder("{");
    for (Server s : servers) {
      if (b.length() > 1) b.append(' ');
      b.append(s.id());
      if (!s.voter()) b.append("(learner)");
    }
    return b.append('}').toString();
  }
}

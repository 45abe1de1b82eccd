package dev.tern.cluster;

import com.typesafe.config.Config;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The cluster's fixed membership, from {@code tern.cluster.members} or, when set, the compact
 * {@code tern.cluster.members-spec} ("id=host:artery-port:http-port,..."), which is easy to pass in one
 * environment variable.
 */
public record Members(List<Member> all) {
  public Members {
    all = List.copyOf(all);
    if (all.isEmpty()) throw new IllegalArgumentException("tern.cluster.members is empty");
    Map<String, Member> seen = new LinkedHashMap<>();
    for (Member m : all) {
      if (seen.put(m.id(), m) != null) throw new IllegalArgumentException("member id " + m.id() + " appears twice");
    }
  }

  public static Members fromConfig(Config tern) {
    String spec = tern.hasPath("cluster.members-spec") ? tern.getString("cluster.members-spec").trim() : "";
    if (!spec.isEmpty()) return parse(spec);
    List<Member> out = new ArrayList<>();
    for (Config c : tern.getConfigList("cluster.members")) {
      out.add(new Member(c.getString("id"), c.getString("host"), c.getInt("artery-port"), c.getInt("http-port")));
    }
    return new Members(out);
  }

  /** Parses "n1=127.0.0.1:7101:8101,n2=...". */
  public static Members parse(String spec) {
    List<Member> out = new ArrayList<>();
    for (String part : spec.split(",")) {
      String p = part.trim();
      if (p.isEmpty()) continue;
      int eq = p.indexOf('=');
      String[] addr = eq < 0 ? new String[0] : p.substring(eq + 1).split(":");
      if (eq <= 0 || addr.length != 3) {
        throw new IllegalArgumentException("bad member '" + p + "': expected id=host:artery-port:http-port");
      }
      try {
        out.add(new Member(p.substring(0, eq), addr[0], Integer.parseInt(addr[1]), Integer.parseInt(addr[2])));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("bad member '" + p + "': ports must be numbers");
      }
    }
    return new Members(out);
  }

  public Optional<Member> byId(String id) {
    return all.stream().filter(m -> m.id().equals(id)).findFirst();
  }

  public Member require(String id) {
    return byId(id).orElseThrow(() -> new IllegalArgumentException(
        "node id '" + id + "' is not among the configured members " + ids()));
  }

  /** The member whose Artery endpoint is at host:port, if any. */
  public Optional<Member> byArteryAddress(String host, int port) {
    return all.stream().filter(m -> m.host().equals(host) && m.arteryPort() == port).findFirst();
  }

  /**
   * As a Raft configuration of voters: the bootstrap configuration of a brand-new cluster. Once the log or a
   * snapshot holds a configuration, that one is in force (dissertation 4.1).
   */
  public dev.tern.raft.Configuration toConfiguration() {
    List<dev.tern.raft.Configuration.Server> servers = new ArrayList<>();
    for (Member m : all) servers.add(new dev.tern.raft.Configuration.Server(m.id(), m.host(), m.arteryPort(), m.httpPort(), true));
    return new dev.tern.raft.Configuration(servers);
  }

  public List<String> ids() {
    return all.stream().map(Member::id).toList();
  }
}

package dev.tern.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.tern.cluster.NodeDataDir;
import dev.tern.storage.DataDirIdentity;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code tern node --join URL}: instead of the full members list, a node asks a running member for the cluster's
 * Raft configuration in force and its cluster id (one {@code GET /v1/status}), and starts from those: the members it
 * learned plus itself, as a joining node ({@code tern.cluster.join}: no configuration of its own, so it never
 * campaigns until it is added) of that cluster id. An operator then adds it ({@code tern member add}).
 *
 * <p>Where this node listens comes from the configuration learned, when it already names this node (a restart of
 * a node that was added), or else from {@code --advertise HOST:ARTERY-PORT:HTTP-PORT}
 * ({@code tern.cluster.advertise}).
 */
final class JoinConfig {
  private JoinConfig() {}

  /** What a member said of its cluster: its id, each member's "host:artery-port:http-port", and the voters. */
  record Learned(String clusterId, Map<String, String> members, java.util.Set<String> voters) {}

  /**
   * Asks the members at {@code urls} (comma-separated, the next one on a refused connection, timeout or 503) for
   * their configuration, and returns the overrides that make this node join it.
   *
   * @throws IllegalArgumentException on bad arguments (an unparsable URL or --advertise, no address for this node)
   * @throws TernClient.UnreachableException when no member answered
   * @throws IllegalStateException when a member answered something else than a configuration
   */
  static Config overrides(String nodeId, String urls, String advertise, Duration timeout, Path dataDir)
      throws TernClient.UnreachableException {
    List<URI> endpoints = TernClient.parseEndpoints(urls);
    // With tern.security on, the members' API needs a token with the read role: $TERN_TOKEN, as for client commands.
    TernClient.Response r = new TernClient(endpoints, timeout, ClientCommand.environment("TERN_TOKEN")).get("/v1/status");
    if (!r.ok()) throw new IllegalStateException("GET /v1/status answered " + r.status() + ": " + r.errorMessage());
    Learned learned = parse(r.json());
    refuseLostVoter(nodeId, learned, dataDir);
    return overrides(nodeId, learned, advertise);
  }

  /**
   * A voter of the cluster starting on an empty data directory has lost its term, its vote and its log (issue 17):
   * it is refused, with the way back (remove it, then join again). A learner may start empty: it neither votes nor
   * counts toward a commit, and that is also how a node added before it was first started looks.
   */
  static void refuseLostVoter(String nodeId, Learned learned, Path dataDir) {
    Path dir = dataDir.toAbsolutePath().normalize();
    if (learned.voters().contains(nodeId) && DataDirIdentity.blank(dir)) {
      throw new NodeDataDir.LostStateException("the cluster lists " + nodeId + " as a voter, but its data directory "
          + dir + " is empty: it has lost its term, its vote and its log, and could vote twice in a term or help elect"
          + " a leader that lacks committed entries. Refusing to start. To recover: restore the directory from a copy"
          + " taken while the node was stopped; or remove the member first (tern member remove " + nodeId + "), then"
          + " start it again with --join and add it (tern member add " + nodeId + " ...): it rejoins as a learner and"
          + " votes only once caught up (docs/operations.md, \"Replacing a node\").");
    }
  }

  /** The overrides for {@code nodeId} joining the cluster {@code learned} describes. */
  static Config overrides(String nodeId, Learned learned, String advertise) {
    Map<String, String> members = new LinkedHashMap<>(learned.members());
    String self = members.get(nodeId);
    if (advertise != null && !advertise.isBlank()) {
      String mine = checkAddress(advertise.strip());
      if (self != null && !self.equals(mine)) {
        throw new IllegalArgumentException("the cluster lists " + nodeId + " at " + self + ", not at --advertise "
            + mine + ": remove it first (tern member remove " + nodeId + ") or advertise the listed address");
      }
      members.put(nodeId, mine);
    } else if (self == null) {
      throw new IllegalArgumentException("the cluster does not list " + nodeId + " yet: say where it listens with "
          + "--advertise HOST:ARTERY-PORT:HTTP-PORT (tern.cluster.advertise)");
    }
    StringBuilder spec = new StringBuilder();
    members.forEach((id, at) -> spec.append(spec.length() == 0 ? "" : ",").append(id).append('=').append(at));
    return ConfigFactory.parseMap(Map.of(
        "tern.cluster.members-spec", spec.toString(),
        "tern.cluster.join", true,
        "tern.cluster.id", learned.clusterId()), "--join");
  }

  /** Reads the cluster id and the configuration in force (ids with "host:artery-port:http-port") of a status. */
  static Learned parse(JsonNode status) {
    if (status == null || !status.path("clusterId").isTextual()
        || !status.path("configuration").path("members").isArray()) {
      throw new IllegalStateException("the answer to GET /v1/status holds no clusterId and configuration: "
          + (status == null ? "not JSON" : "is it a Tern node of this version?"));
    }
    Map<String, String> members = new LinkedHashMap<>();
    java.util.Set<String> voters = new java.util.TreeSet<>();
    for (JsonNode m : status.path("configuration").path("members")) {
      members.put(m.path("id").asText(), m.path("host").asText() + ":" + m.path("arteryPort").asInt() + ":"
          + m.path("httpPort").asInt());
      if (!"learner".equals(m.path("role").asText())) voters.add(m.path("id").asText());
    }
    if (members.isEmpty()) throw new IllegalStateException("the member answered an empty configuration");
    return new Learned(status.path("clusterId").asText(), members, voters);
  }

  private static String checkAddress(String address) {
    String[] parts = address.split(":");
    boolean ok = parts.length == 3 && !parts[0].isBlank();
    for (int i = 1; ok && i < 3; i++) {
      try {
        int port = Integer.parseInt(parts[i]);
        ok = port > 0 && port < 65536;
      } catch (NumberFormatException e) {
        ok = false;
      }
    }
    if (!ok) throw new IllegalArgumentException("bad --advertise '" + address + "': expected HOST:ARTERY-PORT:HTTP-PORT");
    return address;
  }
}

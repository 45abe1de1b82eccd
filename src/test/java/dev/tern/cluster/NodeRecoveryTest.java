package dev.tern.cluster;

import static dev.tern.cluster.LocalCluster.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.cluster.Cluster;
import org.junit.jupiter.api.Test;

/**
 * Pekko's downing must never cut a Raft member off for good: a node that the cluster downs anyway starts a
 * new ActorSystem with the same Raft state, rejoins, and catches up.
 */
class NodeRecoveryTest {
  @Test
  void aDownedNodeRestartsItsActorSystemAndCatchesUp() throws Exception {
    try (LocalCluster cluster = new LocalCluster(3, "")) {
      List<String> ids = List.of("n1", "n2", "n3");
      String leader = await(() -> cluster.agreedLeader(ids), Duration.ofSeconds(15), "a leader");
      String victim = ids.stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
      TernNode node = cluster.node(victim);
      assertEquals(200, cluster.put(leader, "before", "1").status());

      // Run the victim's supervision loop, as `tern node` does, on the ActorSystem it already has.
      ActorSystem<Void> first = node.system();
      Thread loop = new Thread(node::superviseCurrent, "supervise-" + victim);
      loop.start();

      // Raft does not wait for the Pekko cluster to form (PeerGateway); downing needs the victim to be in it first.
      Cluster leaders = Cluster.get(Adapter.toClassic(cluster.node(leader).system()));
      org.apache.pekko.actor.Address victimAddress = Cluster.get(Adapter.toClassic(first)).selfAddress();
      await(() -> java.util.stream.StreamSupport.stream(leaders.state().getMembers().spliterator(), false)
              .filter(m -> m.address().equals(victimAddress) && m.status() == org.apache.pekko.cluster.MemberStatus.up())
              .findFirst(),
          Duration.ofSeconds(30), victim + " up in the leader's Pekko cluster");
      leaders.down(victimAddress);
      await(() -> Optional.ofNullable(node.system()).filter(s -> s != first && node.isRunning()),
          Duration.ofSeconds(30), victim + " starting a new actor system");
      assertNotSame(first, node.system());

      assertEquals(200, cluster.put(leader, "after", "2").status());
      await(() -> Optional.of(cluster.get(victim, "after", true)).filter(r -> r.status() == 200),
          Duration.ofSeconds(30), victim + " catching up after rejoining");
      assertEquals("1", cluster.get(victim, "before", true).body().get("value").asText());
      node.stop();
      loop.join(15_000);
    }
  }
}

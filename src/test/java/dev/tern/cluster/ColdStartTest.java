package dev.tern.cluster;

import static dev.tern.cluster.LocalCluster.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Any majority of the voters forms a working cluster, in any start order (issue 10, section 3): Raft addresses its
 * peers by their configured Artery addresses and waits on no Pekko cluster membership, so the first configured
 * member (Pekko's first seed node, the only one that may form a new Pekko cluster) is not special. Before, n2 and
 * n3 started without n1 waited for a Pekko cluster that never formed and elected no leader.
 */
class ColdStartTest {
  @Test
  void theOtherMembersFormAndServeWithoutTheFirstAndItCatchesUpLater() throws Exception {
    try (LocalCluster cluster = new LocalCluster(3, "", Set.of("n2", "n3"))) {
      List<String> majority = List.of("n2", "n3");
      String leader = await(() -> cluster.agreedLeader(majority), Duration.ofSeconds(30), "a leader among n2, n3");
      for (int i = 0; i < 5; i++) assertEquals(200, cluster.put(leader, "k" + i, "v" + i).status());
      String follower = majority.stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
      assertEquals("v4", cluster.get(follower, "k4", false).body().get("value").asText());

      cluster.start("n1"); // last, not first: it joins the running cluster and catches up
      await(() -> Optional.of(cluster.get("n1", "k4", true)).filter(r -> r.status() == 200),
          Duration.ofSeconds(30), "n1 catching up");
      assertEquals("v0", cluster.get("n1", "k0", true).body().get("value").asText());
      assertEquals(200, cluster.put("n1", "from-n1", "x").status()); // and serves writes, forwarded to the leader
    }
  }

  /** The members started one at a time in reverse order: a majority forms as soon as the second one is up. */
  @Test
  void membersStartedInReverseOrderElectALeaderOnceAMajorityIsUp() throws Exception {
    try (LocalCluster cluster = new LocalCluster(5, "", Set.of("n5"))) {
      cluster.start("n4");
      cluster.start("n3");
      List<String> up = List.of("n3", "n4", "n5");
      String leader = await(() -> cluster.agreedLeader(up), Duration.ofSeconds(30), "a leader among n3, n4, n5");
      assertEquals(200, cluster.put(leader, "k", "v").status());
      cluster.start("n2");
      cluster.start("n1");
      List<String> all = List.of("n1", "n2", "n3", "n4", "n5");
      await(() -> cluster.agreedLeader(all), Duration.ofSeconds(30), "all five agreeing on a leader");
      assertEquals("v", cluster.get("n1", "k", false).body().get("value").asText());
    }
  }
}

package dev.tern.cluster;

import static dev.tern.cluster.LocalCluster.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tern.storage.DataDirIdentity;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * A member that lost its disk, started again from its members list with the default
 * {@code tern.cluster.initial-state = new} (issue 17): nothing in its empty directory tells it from a first start, but
 * the cluster published the incarnation of the directory it had (docs/storage.md, section 5). It is refused at its
 * start when a member answers; started while none did, its peers ignore it and elect without it, and it stops itself
 * once it can ask; removing it and adding it again brings it back.
 */
class LostStateEndToEndTest {
  private static final Duration WITHIN = Duration.ofSeconds(30);
  /** The background check waits for the step that turns it on. */
  private static final String NO_BACKGROUND_CHECK = "tern.cluster.incarnation-check-interval = 1h";

  @Test
  void aMemberThatLostItsDiskIsRefusedIgnoredStoppedAndReplaced() {
    try (LocalCluster cluster = new LocalCluster(3, NO_BACKGROUND_CHECK)) {
      List<String> ids = List.of("n1", "n2", "n3");
      String leader = await(() -> cluster.agreedLeader(ids), WITHIN, "a first leader");
      for (String id : ids) {
        await(() -> Optional.of(cluster.status(id)).filter(s -> s.status() == 200 && published(s.body()) == 3),
            WITHIN, id + " holding the three incarnations");
      }
      assertEquals(200, cluster.put(leader, "x", "committed").status());
      List<String> followers = ids.stream().filter(id -> !id.equals(leader)).toList();
      String victim = followers.get(0);
      String other = followers.get(1);
      cluster.stopNode(victim);

      // 1. Started empty while its peers answer: refused before it writes anything.
      var refused = assertThrows(NodeDataDir.LostStateException.class, () -> cluster.startAgain(victim, true));
      assertTrue(refused.getMessage().contains("lost its term, its vote and its log"), refused.getMessage());
      assertTrue(refused.getMessage().contains("tern member remove " + victim), refused.getMessage());
      assertTrue(DataDirIdentity.blank(cluster.dataDir(victim)), "nothing written");

      // 2. Started empty while no peer answered: it runs, but its peers ignore it. Were its votes counted, the one
      // of them without x could be elected by it... here both have x, and the leader they elect needs no vote of it.
      cluster.stopNode(other);
      cluster.stopNode(leader);
      TernNode lost = cluster.startAgain(victim, false);
      cluster.startAgain(leader, false);
      cluster.startAgain(other, false);
      await(() -> Optional.of(cluster.node(leader).ignoredFromLostMembers() + cluster.node(other).ignoredFromLostMembers())
          .filter(n -> n > 0), WITHIN, "the empty node's messages ignored");
      String now = await(() -> cluster.agreedLeader(List.of(leader, other)), WITHIN, "a leader without it");
      assertEquals("committed", cluster.get(now, "x", false).body().get("value").asText());
      assertNull(lost.fatal(), "its background check is off in this step");
      assertEquals(0, cluster.status(victim).body().path("commitIndex").asLong(), "it learned nothing");

      // 3. With its background check on, it learns that it lost its state, and stops with the way back.
      cluster.stopNode(victim);
      TernNode checking = cluster.startAgain(victim, false, "tern.cluster.incarnation-check-interval = 200ms");
      String why = await(() -> Optional.ofNullable(checking.fatal()), WITHIN, "the empty node stopping itself");
      assertTrue(why.contains("lost its term, its vote and its log") && why.contains("--join"), why);
      await(() -> Optional.of(checking).filter(n -> !n.isRunning()), WITHIN, "its actor system ended");

      // 4. The way back: removed, started empty as a joining node, added again; it catches up.
      cluster.stopNode(victim);
      cluster.replace(victim, now, WITHIN);
      await(() -> Optional.of(cluster.get(victim, "x", true)).filter(r -> r.status() == 200), WITHIN,
          victim + " holding x again");
      assertEquals("committed", cluster.get(victim, "x", true).body().get("value").asText());
    }
  }

  /** How many members of a status's configuration have an incarnation published. */
  private static int published(JsonNode status) {
    int n = 0;
    for (JsonNode m : status.path("configuration").path("members")) if (m.path("incarnation").isTextual()) n++;
    return n;
  }
}

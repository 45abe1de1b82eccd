package dev.tern.cluster;

import static dev.tern.cluster.LocalCluster.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * The dashboard ({@code GET /ui}) in a real browser, headless Chromium, against a real 3-node cluster: it shows the
 * members and the leader, shows the new leader and the old one unreachable once the leader stops, and says it lost
 * contact (rather than going blank) once the node serving it stops too. Skipped, saying why, only where Chromium
 * cannot be had (not installed, and no root or apt-get to install Debian's package).
 *
 * <p>With {@code -Dtern.ui.screenshot=PATH} it also writes a PNG of the page with the healthy cluster to PATH (how
 * docs/dashboard.png is made).
 */
class DashboardBrowserTest {
  private static final List<String> IDS = List.of("n1", "n2", "n3");
  private static final Duration WITHIN = Duration.ofSeconds(30);
  /** What the page shows, as JSON: the leader card, each member row, the banner and the connection state. */
  private static final String SHOWN = "JSON.stringify({"
      + "leader: (document.getElementById('leader') || {dataset: {}}).dataset.leader || '',"
      + "members: [...document.querySelectorAll('#members tbody tr')].map(r => ({id: r.dataset.member,"
      + "  reachable: r.dataset.reachable, role: r.dataset.role})),"
      + "keys: [...document.querySelectorAll('#keys tbody td.key')].map(td => td.textContent),"
      + "timeline: (document.getElementById('timeline') || {}).textContent || '',"
      + "banner: (document.getElementById('banner') || {}).hidden ? '' : (document.getElementById('banner') || {}).textContent,"
      + "writes: (document.getElementById('writes') || {}).textContent || '',"
      + "connection: document.body ? (document.body.dataset.connection || '') : ''})";

  @Test
  void showsTheMembersAndTheLeaderThenTheNewLeaderAndThenItsOwnNodeLost() throws Exception {
    String binary = Chromium.find();
    assumeTrue(binary != null, "headless Chromium is not installed and cannot be installed here (Debian's chromium"
        + " package needs root and apt-get): the dashboard's browser test is skipped");
    try (LocalCluster cluster = new LocalCluster(3, "");
        Chromium browser = new Chromium(binary, 1400, 1100)) {
      String leader = await(() -> cluster.agreedLeader(IDS), Duration.ofSeconds(45), "a leader");
      String viewer = IDS.stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
      for (String key : List.of("config/db/url", "config/db/pool", "feature/dark-mode")) {
        assertEquals(200, cluster.put(leader, key, "value of " + key).status());
      }

      // "/" redirects to "/ui", which loads its script and style from the node.
      browser.navigate(cluster.node(viewer).self().httpAddress() + "/");
      JsonNode healthy = shownWhen(browser, s -> s.path("leader").asText().equals(leader)
          && s.path("members").size() == 3
          && allMatch(s.path("members"), m -> m.path("reachable").asText().equals("true"))
          && s.path("keys").size() == 3, "the three members up and " + leader + " leading");
      assertEquals(List.of("LEADER"), rolesOf(healthy, leader));
      assertEquals("ok", healthy.path("connection").asText());
      assertEquals("", healthy.path("banner").asText(), "no banner while all is well");
      assertEquals(List.of("/ui"), List.of(browser.evaluate("location.pathname")));

      // The key browser writes, reads and deletes through /v1/kv like any client.
      browser.evaluate(fill("ui/written", "from the browser") + "document.querySelector('#put-form button[type=submit]').click(); ''");
      String put = await(() -> Optional.ofNullable(browser.evaluate(RESULT)).filter(r -> r.startsWith("Put ")),
          WITHIN, "the put's answer");
      LocalCluster.Response written = cluster.get(leader, "ui/written", false);
      assertEquals(200, written.status());
      assertEquals("from the browser", written.body().path("value").asText());
      assertEquals("Put ui/written: revision " + written.body().path("revision").asLong(), put);
      browser.evaluate(fill("ui/written", "") + "document.getElementById('get-button').click(); ''");
      await(() -> Optional.ofNullable(browser.evaluate(RESULT))
              .filter(r -> r.equals("ui/written at revision " + written.body().path("revision").asLong() + ":\nfrom the browser")),
          WITHIN, "the get's answer");
      browser.evaluate(fill("ui/written", "") + "document.getElementById('delete-button').click(); ''");
      await(() -> Optional.ofNullable(browser.evaluate(RESULT)).filter(r -> r.startsWith("Deleted ui/written at revision ")),
          WITHIN, "the delete's answer");
      assertEquals(404, cluster.get(leader, "ui/written", false).status());

      String screenshot = System.getProperty("tern.ui.screenshot", "");
      if (!screenshot.isEmpty()) {
        // Some traffic until a poll shows a write rate, so that the picture shows numbers.
        int[] n = {0};
        shownWhen(browser, s -> {
          n[0]++;
          cluster.put(viewer, "app/counter", Integer.toString(n[0]));
          cluster.get(viewer, "app/counter", n[0] % 2 == 0);
          return s.path("writes").asText().matches("[1-9].* /s");
        }, "a write rate");
        Files.write(Path.of(screenshot), browser.screenshot());
      }

      cluster.stopNode(leader);
      List<String> rest = IDS.stream().filter(id -> !id.equals(leader)).toList();
      JsonNode failedOver = shownWhen(browser, s -> {
        String shownLeader = s.path("leader").asText();
        // The new leader as the viewer knows it, saying so itself in its own status, and in the timeline.
        return !shownLeader.isEmpty() && !shownLeader.equals(leader)
            && rowOf(s, leader).map(m -> m.path("reachable").asText().equals("false")).orElse(false)
            && rowOf(s, shownLeader).map(m -> m.path("role").asText().equals("LEADER")).orElse(false)
            && s.path("timeline").asText().contains(shownLeader + " leads term");
      }, "a new leader, and " + leader + " unreachable");
      String newLeader = failedOver.path("leader").asText();
      assertTrue(rest.contains(newLeader), newLeader + " is one of " + rest);
      assertTrue(failedOver.path("banner").asText().contains(leader + " is unreachable"), failedOver.toString());

      // The node serving the page goes too: the page says so and keeps its last picture rather than going blank.
      cluster.stopNode(viewer);
      JsonNode lost = shownWhen(browser, s -> s.path("connection").asText().equals("lost"), "the page's node lost");
      assertTrue(lost.path("banner").asText().startsWith("Lost contact with node " + viewer), lost.toString());
      assertEquals(3, lost.path("members").size(), "the members stay on the page");
      assertEquals("false", rowOf(lost, viewer).orElseThrow().path("reachable").asText());
    }
  }

  /** The key browser's answer to its last action. */
  private static final String RESULT = "document.getElementById('key-result').textContent";

  /** Script that fills the key browser's key and value fields. */
  private static String fill(String key, String value) {
    return "document.getElementById('key').value = " + LocalCluster.JSON.valueToTree(key) + "; "
        + "document.getElementById('value').value = " + LocalCluster.JSON.valueToTree(value) + "; "
        + "document.getElementById('key-result').textContent = ''; ";
  }

  /** Polls the page (bounded) until what it shows satisfies {@code condition}. */
  private static JsonNode shownWhen(Chromium browser, Predicate<JsonNode> condition, String what) {
    JsonNode[] last = {null};
    AssertionError[] failure = {null};
    try {
      return await(() -> {
        String json;
        try {
          json = browser.evaluate(SHOWN);
        } catch (AssertionError e) {
          // The page between documents (while it loads) has no context to evaluate in: try again, within the deadline.
          failure[0] = e;
          return Optional.empty();
        }
        try {
          last[0] = json == null ? null : LocalCluster.JSON.readTree(json);
        } catch (IOException e) {
          throw new AssertionError(e);
        }
        return Optional.ofNullable(last[0]).filter(condition);
      }, WITHIN, what);
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + "; the page last showed " + last[0]
          + (failure[0] == null ? "" : "; the last DevTools failure: " + failure[0].getMessage()), e);
    }
  }

  private static boolean allMatch(JsonNode array, Predicate<JsonNode> p) {
    for (JsonNode n : array) if (!p.test(n)) return false;
    return true;
  }

  private static Optional<JsonNode> rowOf(JsonNode shown, String id) {
    for (JsonNode m : shown.path("members")) if (m.path("id").asText().equals(id)) return Optional.of(m);
    return Optional.empty();
  }

  private static List<String> rolesOf(JsonNode shown, String id) {
    return rowOf(shown, id).map(m -> List.of(m.path("role").asText())).orElse(List.of());
  }
}

package dev.tern.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tern.storage.DataDirIdentity;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Which member's answer decides whether a node lost its state ({@link IncarnationCheck#verdict}): the most
 * up-to-date member still in its own configuration, never a removed member that still runs on an old configuration.
 */
class IncarnationCheckTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long OLD = 0x1111L;
  private static final long NEW = 0x2222L;

  /** A /v1/status body: {@code commitIndex} and a configuration of {@code members}; n5 published as {@code n5}. */
  private static JsonNode status(long commitIndex, Long n5, String... members) {
    ObjectNode s = JSON.createObjectNode().put("commitIndex", commitIndex);
    ArrayNode list = s.putObject("configuration").putArray("members");
    for (String id : members) {
      ObjectNode m = list.addObject().put("id", id).put("role", "voter");
      if (id.equals("n5") && n5 != null) m.put("incarnation", DataDirIdentity.hex(n5));
    }
    return s;
  }

  @Test
  void aMemberThatPublishesAnotherIncarnationRefusesTheNode() {
    Map<String, JsonNode> statuses = new LinkedHashMap<>();
    statuses.put("n1", status(40, OLD, "n1", "n2", "n5"));
    statuses.put("n2", status(38, OLD, "n1", "n2", "n5"));
    String why = IncarnationCheck.verdict("n5", NEW, statuses);
    assertNotNull(why);
    assertTrue(why.contains("n1 knows n5 as incarnation " + DataDirIdentity.hex(OLD)), why);
    assertNotNull(IncarnationCheck.verdict("n5", DataDirIdentity.NO_INCARNATION, statuses), "an empty directory");
    assertNull(IncarnationCheck.verdict("n5", OLD, statuses), "its own incarnation");
  }

  /**
   * The replacement done the documented way (remove n5, wipe it, start it with --join, add it again) while n1, removed
   * earlier, still runs on the configuration it last knew, which publishes n5's old incarnation. n5 catches up through
   * old configurations too and asks n1: n1 lags the members of the current configuration, so it does not count.
   * (Counting it stopped the replaced n5 in MembershipIT.)
   */
  @Test
  void aRemovedMemberOnAnOldConfigurationDoesNotCount() {
    Map<String, JsonNode> statuses = new LinkedHashMap<>();
    statuses.put("n1", status(900, OLD, "n1", "n2", "n4", "n5"));
    statuses.put("n2", status(1500, null, "n2", "n4", "n5"));
    statuses.put("n4", status(1498, NEW, "n2", "n4", "n5"));
    assertNull(IncarnationCheck.verdict("n5", NEW, statuses));
    // A removed member that learned its removal is not in its own configuration: it never counts, whatever its index.
    statuses.put("n3", status(5000, OLD, "n2", "n4", "n5"));
    assertNull(IncarnationCheck.verdict("n5", NEW, statuses));
  }

  @Test
  void noAnswerOrNoPublishedIncarnationTellsNothing() {
    assertNull(IncarnationCheck.verdict("n5", NEW, Map.of()));
    assertNull(IncarnationCheck.verdict("n5", NEW, Map.of("n1", status(10, null, "n1", "n5"))));
    assertEquals(null, IncarnationCheck.verdict("n5", NEW, Map.of("n1", JSON.createObjectNode())));
  }
}

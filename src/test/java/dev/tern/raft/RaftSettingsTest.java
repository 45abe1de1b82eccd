package dev.tern.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The Raft settings: read from configuration, and refused when they would break section 5.2's timing. */
class RaftSettingsTest {

  @Test
  void readsEveryValueFromTheConfiguration() {
    RaftSettings s = RaftSettings.fromConfig(ConfigFactory.parseString("""
        election-timeout-min = 200ms
        election-timeout-max = 400ms
        heartbeat-interval = 20ms
        max-append-entries = 7
        max-append-bytes = 1KiB
        max-inflight-appends = 3
        pre-vote = on
        snapshot-threshold = 2KiB
        snapshot-trailing-entries = 11
        install-snapshot-chunk-bytes = 4KiB
        """));
    assertEquals(new RaftSettings(Duration.ofMillis(200), Duration.ofMillis(400), Duration.ofMillis(20), 7, 1024, 3,
        true, 2048, 11, 4096), s);
  }

  // Section 5.2: election timeouts must be positive, the range ordered.
  @Test
  void refusesANonPositiveElectionTimeout() {
    assertThrows(IllegalArgumentException.class, () -> new RaftSettings(
        Duration.ofMillis(-300), Duration.ofMillis(600), Duration.ofMillis(50), 1, 1, 1));
    assertThrows(IllegalArgumentException.class, () -> new RaftSettings(
        Duration.ZERO, Duration.ofMillis(600), Duration.ofMillis(50), 1, 1, 1));
  }
}

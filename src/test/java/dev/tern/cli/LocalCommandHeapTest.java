package dev.tern.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The heap bound `tern local` gives each node (docs/operations.md, "Memory"). */
class LocalCommandHeapTest {
  @Test
  void boundsTheHeapByDefault() {
    assertEquals(List.of("-Xmx" + LocalCommand.DEFAULT_HEAP, "-XX:G1HeapRegionSize=4m", "-XX:+ExitOnOutOfMemoryError"),
        LocalCommand.heapOptions(List.of("-Dtern.raft.heartbeat-interval=20ms"), null));
  }

  @Test
  void takesTheHeapFromTheOptionOrEnvironment() {
    assertEquals(List.of("-Xmx2g", "-XX:G1HeapRegionSize=4m", "-XX:+ExitOnOutOfMemoryError"),
        LocalCommand.heapOptions(List.of(), " 2g "));
  }

  @Test
  void leavesAnExplicitXmxAlone() {
    assertEquals(List.of("-XX:+ExitOnOutOfMemoryError"),
        LocalCommand.heapOptions(List.of("-Xmx300m", "-XX:G1HeapRegionSize=2m"), "2g"));
  }
}

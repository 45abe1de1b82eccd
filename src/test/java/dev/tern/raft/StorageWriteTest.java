package dev.tern.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

/** One write to Raft's stable storage (Figure 2, "Persistent state"; section 7's compaction). */
class StorageWriteTest {

  // Section 7: compaction discards a prefix of the log, through an index that exists (0 = none). A negative one
  // is a caller's bug, refused where the write is made rather than half-applied by storage.
  @Test
  void aWriteNeverCompactsThroughANegativeIndex() {
    assertThrows(IllegalArgumentException.class, () -> new RaftStorage.Write(null, 0, List.of(), -1));
    assertEquals(0, new RaftStorage.Write(null, 0, List.of()).compactThrough());
  }
}

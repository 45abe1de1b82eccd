package dev.tern.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.dataformat.cbor.databind.CBORMapper;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Results travel back to clients on other nodes through Pekko's Jackson-CBOR serializer. */
class KvResultTest {

  @Test
  void everyResultSurvivesPolymorphicCbor() throws Exception {
    CBORMapper cbor = new CBORMapper();
    List<KvResult> results =
        List.of(
            new KvResult.Written("k", "v", 3),
            new KvResult.Deleted("k", 4),
            new KvResult.NotFound("k"),
            new KvResult.Value("k", "v", 3),
            new KvResult.CasConflict("k", 0),
            new KvResult.Invalid("why"));
    for (KvResult result : results) {
      byte[] bytes = cbor.writerFor(KvResult.class).writeValueAsBytes(result);
      assertEquals(result, cbor.readValue(bytes, KvResult.class));
    }
  }
}

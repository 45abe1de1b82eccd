package dev.tern.kv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.cbor.databind.CBORMapper;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class KvCodecTest {

  private static final CBORMapper CBOR = new CBORMapper();

  @Test
  void everyCommandSurvivesARoundTrip() {
    List<KvCommand> commands =
        List.of(
            new KvCommand.Put("c1", "k", "v"),
            new KvCommand.Put("c2", "ключ/é", "värde ☃ \uD83D\uDE00"),
            new KvCommand.Put("c3", "", ""),
            new KvCommand.Delete("c4", "k"),
            new KvCommand.CompareAndSet("c5", "k", 0, "v"),
            new KvCommand.CompareAndSet("c6", "k", Long.MAX_VALUE, "w"),
            new KvCommand.Get("c7", "k"));
    for (KvCommand command : commands) {
      byte[] bytes = KvCodec.encode(command);
      KvCommand decoded = KvCodec.decode(bytes);
      assertEquals(command, decoded);
      assertEquals(command.getClass(), decoded.getClass());
      // Replicas compare logs byte for byte, so encoding must be stable.
      assertArrayEquals(bytes, KvCodec.encode(decoded));
    }
  }

  @Test
  void garbageIsRejectedWithIllegalArgumentException() {
    assertUndecodable(new byte[0]);
    assertUndecodable(new byte[] {(byte) 0xff, 0x13, 0x37, 0x00, 0x42});
    assertUndecodable("put k v".getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void wellFormedCborThatIsNotACommandIsRejected() throws Exception {
    assertUndecodable(CBOR.writeValueAsBytes(null));
    assertUndecodable(CBOR.writeValueAsBytes("a string"));
    assertUndecodable(CBOR.writeValueAsBytes(List.of(1, 2, 3)));
    assertUndecodable(withField(KvCodec.encode(new KvCommand.Put("c", "k", "v")), "type", "explode"));
    assertUndecodable(without(KvCodec.encode(new KvCommand.Put("c", "k", "v")), "type"));
    assertUndecodable(without(KvCodec.encode(new KvCommand.Put("c", "k", "v")), "value"));
  }

  @Test
  void casWithoutExpectedRevisionIsNotReadAsMustBeAbsent() throws Exception {
    byte[] valid = KvCodec.encode(new KvCommand.CompareAndSet("c", "k", 7, "v"));
    assertUndecodable(without(valid, "expectedRevision"));
    assertUndecodable(withField(valid, "expectedRevision", -1));
  }

  @Test
  void trailingBytesAreRejected() {
    byte[] valid = KvCodec.encode(new KvCommand.Get("c", "k"));
    byte[] longer = java.util.Arrays.copyOf(valid, valid.length + 1);
    longer[valid.length] = 0x01;
    assertUndecodable(longer);
  }

  private static void assertUndecodable(byte[] bytes) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KvCodec.decode(bytes));
    assertEquals(true, e.getMessage().startsWith("not a KvCommand"), e.getMessage());
  }

  private static byte[] without(byte[] encoded, String field) throws Exception {
    ObjectNode node = (ObjectNode) CBOR.readTree(encoded);
    node.remove(field);
    return CBOR.writeValueAsBytes(node);
  }

  private static byte[] withField(byte[] encoded, String field, Object value) throws Exception {
    ObjectNode node = (ObjectNode) CBOR.readTree(encoded);
    node.set(field, CBOR.valueToTree(value));
    return CBOR.writeValueAsBytes(node);
  }
}

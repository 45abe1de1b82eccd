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

  /** Commands as KvCodec wrote them before its binary form (format 1): logs on disk still hold them. */
  private static byte[] legacy(KvCommand command) throws Exception {
    return CBOR.writerFor(KvCommand.class).writeValueAsBytes(command);
  }

  private static final List<KvCommand> COMMANDS =
      List.of(
          new KvCommand.Put("c1", "k", "v"),
          new KvCommand.Put("c2", "ключ/é", "värde ☃ \uD83D\uDE00"),
          new KvCommand.Put("c3", "", ""),
          new KvCommand.Delete("c4", "k"),
          new KvCommand.CompareAndSet("c5", "k", 0, "v"),
          new KvCommand.CompareAndSet("c6", "k", Long.MAX_VALUE, "w"),
          new KvCommand.CompareAndSet("c6b", "k", 0x1_0000_0001L, "w"),
          new KvCommand.Get("c7", "k"));

  @Test
  void everyCommandSurvivesARoundTrip() {
    for (KvCommand command : COMMANDS) {
      byte[] bytes = KvCodec.encode(command);
      KvCommand decoded = KvCodec.decode(bytes);
      assertEquals(command, decoded);
      assertEquals(command.getClass(), decoded.getClass());
      // Replicas compare logs byte for byte, so encoding must be stable.
      assertArrayEquals(bytes, KvCodec.encode(decoded));
    }
  }

  @Test
  void theBinaryFormIsCompactAndStartsWithItsFormatByte() {
    byte[] bytes = KvCodec.encode(new KvCommand.Put("id", "key", "value"));
    // format, type, then three length-prefixed strings: nothing else.
    assertEquals(2 + (4 + 2) + (4 + 3) + (4 + 5), bytes.length);
    assertEquals(KvCodec.FORMAT, bytes[0]);
    assertEquals(KvCodec.PUT, bytes[1]);
    assertEquals(2 + 4 + 2 + 4 + 3 + 8, KvCodec.encode(new KvCommand.CompareAndSet("id", "key", 1, "")).length - 4);
  }

  @Test
  void commandsWrittenInTheLegacyCborFormAreStillRead() throws Exception {
    for (KvCommand command : COMMANDS) {
      assertEquals(command, KvCodec.decode(legacy(command)));
    }
  }

  @Test
  void everyTruncationOfABinaryCommandIsRejected() {
    for (KvCommand command : COMMANDS) {
      byte[] bytes = KvCodec.encode(command);
      for (int length = 0; length < bytes.length; length++) {
        assertUndecodable(java.util.Arrays.copyOf(bytes, length));
      }
    }
  }

  @Test
  void badFieldsOfTheBinaryFormAreRejected() {
    byte[] put = KvCodec.encode(new KvCommand.Put("c", "k", "v"));
    byte[] unknownType = put.clone();
    unknownType[1] = 9;
    assertUndecodable(unknownType);
    byte[] negativeLength = put.clone();
    negativeLength[2] = (byte) 0x80; // the id's length
    assertUndecodable(negativeLength);
    byte[] tooLong = put.clone();
    tooLong[5] = 100; // the id claims more bytes than there are
    assertUndecodable(tooLong);
    byte[] cas = KvCodec.encode(new KvCommand.CompareAndSet("c", "k", 7, "v"));
    byte[] negativeRevision = cas.clone();
    negativeRevision[2 + 5 + 5] = (byte) 0x80;
    assertUndecodable(negativeRevision);
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
    assertUndecodable(withField(legacy(new KvCommand.Put("c", "k", "v")), "type", "explode"));
    assertUndecodable(without(legacy(new KvCommand.Put("c", "k", "v")), "type"));
    assertUndecodable(without(legacy(new KvCommand.Put("c", "k", "v")), "value"));
  }

  @Test
  void casWithoutExpectedRevisionIsNotReadAsMustBeAbsent() throws Exception {
    byte[] valid = legacy(new KvCommand.CompareAndSet("c", "k", 7, "v"));
    assertUndecodable(without(valid, "expectedRevision"));
    assertUndecodable(withField(valid, "expectedRevision", -1));
  }

  @Test
  void trailingBytesAreRejected() throws Exception {
    for (byte[] valid : List.of(KvCodec.encode(new KvCommand.Get("c", "k")), legacy(new KvCommand.Get("c", "k")),
        KvCodec.encode(new KvCommand.Put("c", "k", "v")))) {
      byte[] longer = java.util.Arrays.copyOf(valid, valid.length + 1);
      longer[valid.length] = 0x01;
      assertUndecodable(longer);
    }
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

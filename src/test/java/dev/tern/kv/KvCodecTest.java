package dev.tern.kv;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
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

  /**
   * A command as KvCodec wrote it before its binary form (format 1), built field by field: logs on disk still
   * hold such CBOR maps ({"type": "put"|"del"|"cas"|"get", "id", "key", "expectedRevision", "value"}).
   */
  private static byte[] legacy(KvCommand command) throws Exception {
    ObjectNode node = CBOR.createObjectNode();
    if (command instanceof KvCommand.Put p) {
      node.put("type", "put").put("id", p.id()).put("key", p.key()).put("value", p.value().utf8());
    } else if (command instanceof KvCommand.Delete d) {
      node.put("type", "del").put("id", d.id()).put("key", d.key());
    } else if (command instanceof KvCommand.CompareAndSet c) {
      node.put("type", "cas").put("id", c.id()).put("key", c.key()).put("expectedRevision", c.expectedRevision())
          .put("value", c.value().utf8());
    } else {
      node.put("type", "get").put("id", command.id()).put("key", ((KvCommand.Get) command).key());
    }
    return CBOR.writeValueAsBytes(node);
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
  void valuesAreAnyBytesAndDecodeAsViewsOfTheEntry() {
    byte[] binary = {0, (byte) 0xff, (byte) 0xc3, 0x28, 10};
    byte[] bytes = KvCodec.encode(new KvCommand.Put("c", "k", Bytes.copyOf(binary)));
    KvCommand.Put put = (KvCommand.Put) KvCodec.decode(bytes);
    assertArrayEquals(binary, put.value().toArray());
    assertEquals(null, put.value().utf8OrNull(), "not UTF-8");
    // A view, not a copy: the store keeps the entry's bytes, once.
    bytes[bytes.length - 1] = 11;
    assertEquals(11, put.value().toArray()[binary.length - 1]);
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
    byte[] negativeValueLength = put.clone();
    negativeValueLength[put.length - 5] = (byte) 0xff; // the value's length
    assertUndecodable(negativeValueLength);
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

  // Bad input gets a clear error: what is wrong and where, not an exception of another kind.
  @Test
  void malformedBinaryCommandsSayWhatIsWrong() {
    byte[] good = KvCodec.encode(new KvCommand.Delete("c1", "k"));
    byte[] trailing = java.util.Arrays.copyOf(good, good.length + 2);
    assertEquals("not a KvCommand (" + trailing.length + " bytes): 2 trailing bytes",
        assertThrows(IllegalArgumentException.class, () -> KvCodec.decode(trailing)).getMessage());
    byte[] formatAndType = java.util.Arrays.copyOf(good, 2);
    assertEquals("not a KvCommand (2 bytes): id runs past the end (4 bytes needed at 2)",
        assertThrows(IllegalArgumentException.class, () -> KvCodec.decode(formatAndType)).getMessage());
    byte[] formatOnly = java.util.Arrays.copyOf(good, 1);
    assertEquals("not a KvCommand (1 bytes): too short for a command",
        assertThrows(IllegalArgumentException.class, () -> KvCodec.decode(formatOnly)).getMessage());
  }

  // A legacy entry that is not a command is refused with a one-line reason (no parser source location), and an
  // encoded null is named as such.
  @Test
  void malformedLegacyCommandsSayWhatIsWrongInOneLine() throws Exception {
    byte[] notAMap = CBOR.writeValueAsBytes(List.of(1, 2));
    String message = assertThrows(IllegalArgumentException.class, () -> KvCodec.decode(notAMap)).getMessage();
    assertTrue(message.startsWith("not a KvCommand (" + notAMap.length + " bytes): "), message);
    assertFalse(message.contains("\n") || message.contains("Source"), message);
    byte[] encodedNull = CBOR.writeValueAsBytes(null);
    assertEquals("not a KvCommand: encoded null",
        assertThrows(IllegalArgumentException.class, () -> KvCodec.decode(encodedNull)).getMessage());
  }
}

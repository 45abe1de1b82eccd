package dev.tern.kv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;
import org.junit.jupiter.api.Test;

class BytesTest {

  @Test
  void textRoundTripsThroughUtf8() {
    for (String text : new String[] {"", "plain ascii", "värde ☃ \uD83D\uDE00", "ключ"}) {
      Bytes b = Bytes.utf8(text);
      assertEquals(text, b.utf8OrNull());
      assertEquals(text, b.utf8());
      assertEquals(text.getBytes(java.nio.charset.StandardCharsets.UTF_8).length, b.length());
    }
  }

  @Test
  void bytesThatAreNotUtf8AreNotText() {
    byte[][] notText = {
      {(byte) 0xff}, {(byte) 0xc3, 0x28}, {'a', (byte) 0xe2, (byte) 0x82}, {(byte) 0x80, 'a'}, {(byte) 0xed, (byte) 0xa0, (byte) 0x80}
    };
    for (byte[] bytes : notText) assertNull(Bytes.copyOf(bytes).utf8OrNull(), java.util.Arrays.toString(bytes));
    assertEquals("a\uFFFD", Bytes.wrap(new byte[] {'a', (byte) 0xff}).utf8(), "lenient decoding replaces");
    // A zero byte and control characters are still UTF-8.
    assertEquals("\0\n", Bytes.wrap(new byte[] {0, 10}).utf8OrNull());
  }

  @Test
  void aSliceSeesOnlyItsBytes() {
    byte[] array = {'x', 'a', 'b', 'y'};
    Bytes slice = Bytes.wrap(array, 1, 2);
    assertEquals(2, slice.length());
    assertArrayEquals(new byte[] {'a', 'b'}, slice.toArray());
    assertEquals("ab", slice.utf8OrNull());
    assertEquals("ab", slice.utf8());
    assertEquals(Bytes.utf8("ab"), slice);
    assertEquals(Bytes.utf8("ab").hashCode(), slice.hashCode());
    assertEquals("YWI=", slice.base64());
    ByteBuffer buffer = slice.asReadOnlyBuffer();
    assertEquals(2, buffer.remaining());
    assertEquals('a', buffer.get(0));
    assertThrows(ReadOnlyBufferException.class, () -> buffer.put(0, (byte) 'z'));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertDoesNotThrowIo(() -> slice.writeTo(out));
    assertArrayEquals(new byte[] {'a', 'b'}, out.toByteArray());
    assertThrows(IndexOutOfBoundsException.class, () -> Bytes.wrap(array, 3, 2));
    assertThrows(IndexOutOfBoundsException.class, () -> Bytes.wrap(array, -1, 1));
  }

  @Test
  void copiesAreIndependentOfTheirSource() {
    byte[] array = {1, 2, 3};
    Bytes copy = Bytes.copyOf(array);
    array[0] = 9;
    assertEquals(1, copy.toArray()[0]);
    byte[] out = copy.toArray();
    out[1] = 9;
    assertEquals(2, copy.toArray()[1]);
  }

  @Test
  void equalityIsByContent() {
    assertEquals(Bytes.EMPTY, Bytes.utf8(""));
    assertTrue(Bytes.EMPTY.isEmpty());
    assertFalse(Bytes.utf8("a").isEmpty());
    assertEquals(0, Bytes.EMPTY.hashCode());
    assertNotEquals(Bytes.utf8("ab"), Bytes.utf8("ba"));
    assertNotEquals(Bytes.utf8("ab"), Bytes.utf8("abc"));
    assertNotEquals(Bytes.utf8("ab").hashCode(), Bytes.utf8("ba").hashCode());
    assertNotEquals(Bytes.utf8("a"), "a");
  }

  @Test
  void toStringShowsShortTextAndOtherwiseTheLength() {
    assertEquals("\"hi\"", Bytes.utf8("hi").toString());
    assertEquals("<65 bytes>", Bytes.utf8("x".repeat(65)).toString());
    assertEquals("\"" + "x".repeat(64) + "\"", Bytes.utf8("x".repeat(64)).toString());
    assertEquals("<1 bytes>", Bytes.wrap(new byte[] {(byte) 0xff}).toString());
  }

  private interface IoAction {
    void run() throws java.io.IOException;
  }

  private static void assertDoesNotThrowIo(IoAction action) {
    try {
      action.run();
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
  }

  // The hash is the content's (as Arrays.hashCode): equal values from different arrays hash alike, and every
  // byte counts, the first included.
  @Test
  void theHashIsOfEveryByte() {
    byte[] a = {1, 2, 3};
    assertEquals(java.util.Arrays.hashCode(a), Bytes.wrap(a).hashCode());
    assertEquals(Bytes.wrap(a).hashCode(), Bytes.wrap(new byte[] {0, 1, 2, 3, 0}, 1, 3).hashCode());
    assertNotEquals(Bytes.wrap(a).hashCode(), Bytes.wrap(new byte[] {9, 2, 3}).hashCode());
  }

  // A value that fills its whole array, all ASCII, is text: the scan stops at the end of the array.
  @Test
  void asciiFillingItsArrayIsText() {
    assertEquals("abc", Bytes.wrap("abc".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).utf8OrNull());
    assertEquals("é", Bytes.wrap("é".getBytes(java.nio.charset.StandardCharsets.UTF_8)).utf8OrNull());
    assertEquals("", Bytes.wrap(new byte[0]).utf8OrNull());
  }
}

package dev.tern.kv;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.Objects;

/**
 * An immutable run of bytes: a value as the store keeps it. Values are any bytes, not text.
 *
 * <p>It may be a view into a larger array that nobody writes to any more: the value of a put applied from a log
 * entry is a slice of that entry's bytes, so a replica keeps one copy of each value (in the log until compaction,
 * and in the store), not two. Equality is by content.
 */
public final class Bytes {

  public static final Bytes EMPTY = new Bytes(new byte[0], 0, 0);

  private final byte[] array;
  private final int offset;
  private final int length;
  private int hash;

  private Bytes(byte[] array, int offset, int length) {
    Objects.checkFromIndexSize(offset, length, array.length);
    this.array = array;
    this.offset = offset;
    this.length = length;
  }

  /** The UTF-8 encoding of {@code text}. */
  public static Bytes utf8(String text) {
    return wrap(text.getBytes(StandardCharsets.UTF_8));
  }

  /** How many bytes {@code text} takes in UTF-8, without encoding it. */
  public static int utf8Length(String text) {
    int n = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c < 0x80) n++;
      else if (c < 0x800) n += 2;
      else if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
        n += 4;
        i++;
      } else if (Character.isSurrogate(c)) {
        n++; // a lone surrogate: String.getBytes encodes it as '?'
      } else {
        n += 3;
      }
    }
    return n;
  }

  /** A copy of {@code bytes}: later changes to the array do not change the value. */
  public static Bytes copyOf(byte[] bytes) {
    return new Bytes(bytes.clone(), 0, bytes.length);
  }

  /**
   * Takes {@code bytes} as they are, without a copy: the caller hands the array over and must never write to it
   * again (as with an array just read from a request body, or the bytes of a log entry).
   */
  public static Bytes wrap(byte[] bytes) {
    return new Bytes(bytes, 0, bytes.length);
  }

  /** As {@link #wrap(byte[])}, for {@code length} bytes from {@code offset}. */
  public static Bytes wrap(byte[] bytes, int offset, int length) {
    return new Bytes(bytes, offset, length);
  }

  public int length() {
    return length;
  }

  public boolean isEmpty() {
    return length == 0;
  }

  /** A fresh copy of the bytes. */
  public byte[] toArray() {
    return Arrays.copyOfRange(array, offset, offset + length);
  }

  /** A read-only view, without a copy. */
  public ByteBuffer asReadOnlyBuffer() {
    return ByteBuffer.wrap(array, offset, length).slice().asReadOnlyBuffer();
  }

  public void writeTo(OutputStream out) throws IOException {
    out.write(array, offset, length);
  }

  /** The bytes as text, malformed UTF-8 replaced by U+FFFD; {@link #utf8OrNull()} tells whether it is text. */
  public String utf8() {
    return new String(array, offset, length, StandardCharsets.UTF_8);
  }

  /** The bytes as text when they are well-formed UTF-8, else null. */
  public String utf8OrNull() {
    // Most values are ASCII: check that in one pass and decode without a CharsetDecoder.
    int end = offset + length;
    int i = offset;
    while (i < end && array[i] >= 0) i++;
    if (i == end) return new String(array, offset, length, StandardCharsets.ISO_8859_1);
    try {
      CharBuffer chars = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(array, offset, length));
      return chars.toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }

  /** Compares as unsigned bytes, lexicographically (a prefix is less than the longer value). */
  public int compareUnsigned(Bytes other) {
    return Arrays.compareUnsigned(array, offset, offset + length, other.array, other.offset, other.offset + other.length);
  }

  public String base64() {
    return Base64.getEncoder().encodeToString(toArray());
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Bytes other
        && Arrays.equals(array, offset, offset + length, other.array, other.offset, other.offset + other.length);
  }

  @Override
  public int hashCode() {
    int h = hash;
    if (h == 0 && length > 0) {
      h = 1;
      for (int i = offset; i < offset + length; i++) h = 31 * h + array[i];
      hash = h;
    }
    return h;
  }

  /** The text when it is short UTF-8 (for logs and test failures), else its length. */
  @Override
  public String toString() {
    String text = length <= 64 ? utf8OrNull() : null;
    return text != null ? '"' + text + '"' : "<" + length + " bytes>";
  }
}

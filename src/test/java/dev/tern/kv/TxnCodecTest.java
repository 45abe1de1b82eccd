package dev.tern.kv;

import static dev.tern.kv.TxnCompare.Relation.EQUAL;
import static dev.tern.kv.TxnCompare.Relation.GREATER;
import static dev.tern.kv.TxnCompare.Relation.LESS;
import static dev.tern.kv.TxnCompare.Relation.NOT_EQUAL;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The log form of a transaction (TxnCodec, type 5 of KvCodec's format 1): stable, exact, and strict on input. */
class TxnCodecTest {

  private static final List<KvCommand.Txn> TXNS = List.of(
      new KvCommand.Txn("t0", List.of(), List.of(), List.of()),
      new KvCommand.Txn("t1",
          List.of(TxnCompare.value("k", EQUAL, Bytes.utf8("v")), TxnCompare.revision("r", NOT_EQUAL, Long.MAX_VALUE),
              TxnCompare.exists("e", NOT_EQUAL, true), TxnCompare.exists("f", EQUAL, false),
              TxnCompare.value("l", LESS, Bytes.EMPTY), TxnCompare.revision("g", GREATER, 0x1_0000_0001L)),
          List.of(new TxnOp.Put("ключ/é", Bytes.copyOf(new byte[] {0, (byte) 0xff})), new TxnOp.Delete("d"),
              new TxnOp.Get("g")),
          List.of(new TxnOp.Get("x"), new TxnOp.Put("y", ""))));

  @Test
  void everyTransactionSurvivesARoundTripByteForByte() {
    for (KvCommand.Txn t : TXNS) {
      byte[] bytes = KvCodec.encode(t);
      KvCommand decoded = KvCodec.decode(bytes);
      assertEquals(t, decoded);
      assertArrayEquals(bytes, KvCodec.encode(decoded));
    }
  }

  /** The layout itself, pinned: a change to it must be a new format, not an accident. */
  @Test
  void theLayoutIsAsDocumented() {
    KvCommand.Txn t = new KvCommand.Txn("i",
        List.of(TxnCompare.value("k", GREATER, Bytes.utf8("v")), TxnCompare.revision("r", LESS, 2),
            TxnCompare.exists("e", NOT_EQUAL, true)),
        List.of(new TxnOp.Put("p", "w"), new TxnOp.Delete("d")),
        List.of(new TxnOp.Get("g")));
    String hex = HexFormat.of().formatHex(KvCodec.encode(t));
    assertEquals(String.join("",
        "01", "05", "00000001", "69", // format, type TXN, id "i"
        "00000003", // three compares
        "01", "04", "00000001", "6b", "00000001", "76", // value > "v" on k
        "02", "03", "00000001", "72", "0000000000000002", // revision < 2 on r
        "03", "02", "00000001", "65", "01", // exists != true on e
        "00000002", "01", "00000001", "70", "00000001", "77", "02", "00000001", "64", // success: put p=w, delete d
        "00000001", "03", "00000001", "67"), // failure: get g
        hex);
  }

  @Test
  void valuesDecodeAsViewsOfTheEntry() {
    byte[] bytes = KvCodec.encode(new KvCommand.Txn("t", List.of(), List.of(new TxnOp.Put("k", "v")), List.of()));
    TxnOp.Put put = (TxnOp.Put) ((KvCommand.Txn) KvCodec.decode(bytes)).success().get(0);
    bytes[bytes.length - 1 - 4] = 'w'; // the value's one byte, before the failure branch's count
    assertEquals(Bytes.utf8("w"), put.value());
  }

  @Test
  void everyTruncationIsRejected() {
    for (KvCommand.Txn t : TXNS) {
      byte[] bytes = KvCodec.encode(t);
      for (int length = 0; length < bytes.length; length++) assertUndecodable(Arrays.copyOf(bytes, length));
      byte[] longer = Arrays.copyOf(bytes, bytes.length + 1);
      assertUndecodable(longer);
    }
  }

  @Test
  void badFieldsAreRejectedWithTheirName() {
    KvCommand.Txn one = new KvCommand.Txn("i", List.of(TxnCompare.exists("e", EQUAL, true)), List.of(), List.of());
    byte[] good = KvCodec.encode(one);
    int target = 2 + 5 + 4; // format, type, id "i", the compare count
    assertReason(set(good, target, 9), "unknown compare target 9");
    assertReason(set(good, target + 1, 0), "unknown compare relation 0");
    assertReason(set(good, target + 1, 5), "unknown compare relation 5");
    assertReason(set(good, target + 1, 3), "existence compared with <");
    assertReason(set(good, target + 1, 4), "existence compared with >");
    assertReason(set(good, target + 2 + 5, 2), "exists is 2, not 0 or 1");
    assertReason(set(good, 2 + 5, 0x7f), "compares count 2130706433 does not fit in what is left");

    byte[] revision = KvCodec.encode(new KvCommand.Txn("i", List.of(TxnCompare.revision("r", EQUAL, 1)), List.of(), List.of()));
    assertReason(set(revision, target + 2 + 5, 0x80), "negative revision");

    byte[] op = KvCodec.encode(new KvCommand.Txn("i", List.of(), List.of(new TxnOp.Get("g")), List.of()));
    assertReason(set(op, 2 + 5 + 4 + 4, 7), "unknown operation 7 in success");
    byte[] failureOp = KvCodec.encode(new KvCommand.Txn("i", List.of(), List.of(), List.of(new TxnOp.Delete("g"))));
    assertReason(set(failureOp, 2 + 5 + 4 + 4 + 4, 0), "unknown operation 0 in failure");
    assertReason(set(failureOp, 2 + 5 + 4 + 4, 0x80), "failure count -2147483647 does not fit in what is left");
    // One more operation than there are bytes left: refused by its count, before reading any of them.
    int countAt = 2 + 5 + 4 + 4 + 3; // the low byte of the failure count
    int left = failureOp.length - (countAt + 1);
    assertReason(set(failureOp, countAt, left + 1), "failure count " + (left + 1) + " does not fit in what is left");
    assertReason(set(failureOp, countAt, left), "failure runs past the end");
  }

  /** The operations of each kind decode to their own kind (a put is never read back as a delete). */
  @Test
  void eachOperationKindKeepsItsByte() {
    byte[] bytes = KvCodec.encode(new KvCommand.Txn("i", List.of(),
        List.of(new TxnOp.Put("a", "1"), new TxnOp.Delete("b"), new TxnOp.Get("c")), List.of()));
    assertEquals(TxnCodec.OP_PUT, bytes[2 + 5 + 4 + 4]);
    assertEquals(1, TxnCodec.OP_PUT);
    assertEquals(2, TxnCodec.OP_DELETE);
    assertEquals(3, TxnCodec.OP_GET);
    assertEquals(5, KvCodec.TXN);
  }

  private static byte[] set(byte[] bytes, int at, int value) {
    byte[] copy = bytes.clone();
    copy[at] = (byte) value;
    return copy;
  }

  private static void assertReason(byte[] bytes, String reason) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KvCodec.decode(bytes));
    assertTrue(e.getMessage().startsWith("not a KvCommand") && e.getMessage().contains(reason), e.getMessage());
  }

  private static void assertUndecodable(byte[] bytes) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KvCodec.decode(bytes));
    assertTrue(e.getMessage().startsWith("not a KvCommand"), e.getMessage());
  }
}

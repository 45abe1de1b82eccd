package dev.tern.http;

import com.typesafe.config.Config;

/**
 * Limits on a transaction ({@code POST /v1/txn}), from {@code tern.txn}: how many compares, how many operations in
 * each branch, and how many bytes of request body. A larger body is answered 413, the counts 400.
 */
public record TxnLimits(int maxCompares, int maxOperations, int maxBytes) {

  /** The defaults of application.conf, for tests and callers that do not read it. */
  public static final TxnLimits DEFAULT = new TxnLimits(128, 128, 1 << 20);

  public TxnLimits {
    if (maxCompares < 0 || maxOperations < 1 || maxBytes < 1) {
      throw new IllegalArgumentException("bad transaction limits: " + maxCompares + " compares, " + maxOperations
          + " operations, " + maxBytes + " bytes");
    }
  }

  public static TxnLimits fromConfig(Config tern) {
    return new TxnLimits(
        tern.getInt("txn.max-compares"),
        tern.getInt("txn.max-operations"),
        (int) tern.getBytes("txn.max-bytes").longValue());
  }
}

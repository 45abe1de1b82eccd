package dev.tern.http;

import com.typesafe.config.Config;
import java.time.Duration;

/** Limits on client requests, from {@code tern.kv}, {@code tern.http} and {@code tern.txn}. */
public record KvLimits(int maxKeyBytes, int maxValueBytes, int maxListLimit, Duration requestTimeout, int maxInflightRequests,
    int maxRequestIdLength, TxnLimits txn, long maxDiscardBytes) {

  /** The default of {@code tern.http.max-discard-bytes}. */
  public static final long DEFAULT_MAX_DISCARD_BYTES = 4L << 20;

  public KvLimits(int maxKeyBytes, int maxValueBytes, int maxListLimit, Duration requestTimeout, int maxInflightRequests,
      int maxRequestIdLength, TxnLimits txn) {
    this(maxKeyBytes, maxValueBytes, maxListLimit, requestTimeout, maxInflightRequests, maxRequestIdLength, txn,
        DEFAULT_MAX_DISCARD_BYTES);
  }

  /** The default of {@code tern.http.max-request-id-length}. */
  public static final int DEFAULT_MAX_REQUEST_ID_LENGTH = 128;

  public KvLimits(int maxKeyBytes, int maxValueBytes, int maxListLimit, Duration requestTimeout, int maxInflightRequests) {
    this(maxKeyBytes, maxValueBytes, maxListLimit, requestTimeout, maxInflightRequests, DEFAULT_MAX_REQUEST_ID_LENGTH);
  }

  public KvLimits(int maxKeyBytes, int maxValueBytes, int maxListLimit, Duration requestTimeout, int maxInflightRequests,
      int maxRequestIdLength) {
    this(maxKeyBytes, maxValueBytes, maxListLimit, requestTimeout, maxInflightRequests, maxRequestIdLength,
        TxnLimits.DEFAULT);
  }

  public static KvLimits fromConfig(Config tern) {
    return new KvLimits(
        (int) tern.getBytes("kv.max-key-bytes").longValue(),
        (int) tern.getBytes("kv.max-value-bytes").longValue(),
        tern.getInt("kv.max-list-limit"),
        tern.getDuration("http.request-timeout"),
        tern.getInt("http.max-inflight-requests"),
        tern.getInt("http.max-request-id-length"),
        TxnLimits.fromConfig(tern),
        tern.getBytes("http.max-discard-bytes"));
  }
}

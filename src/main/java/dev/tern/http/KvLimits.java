package dev.tern.http;

import com.typesafe.config.Config;
import java.time.Duration;

/** Limits on client requests, from {@code tern.kv} and {@code tern.http}. */
public record KvLimits(int maxKeyBytes, int maxValueBytes, int maxListLimit, Duration requestTimeout, int maxInflightRequests) {
  public static KvLimits fromConfig(Config tern) {
    return new KvLimits(
        (int) tern.getBytes("kv.max-key-bytes").longValue(),
        (int) tern.getBytes("kv.max-value-bytes").longValue(),
        tern.getInt("kv.max-list-limit"),
        tern.getDuration("http.request-timeout"),
        tern.getInt("http.max-inflight-requests"));
  }
}

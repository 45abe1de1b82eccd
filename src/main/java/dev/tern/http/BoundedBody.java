package dev.tern.http;

import org.apache.pekko.util.ByteString;
import org.apache.pekko.util.ByteStringBuilder;

/**
 * A request body collected up to a limit; past it, the rest is read but not kept, up to a bound
 * ({@link RequestBodies#read}). The accumulator of a stream fold: used on one thread at a time.
 */
final class BoundedBody {
  private final int max;
  private final ByteStringBuilder kept = new ByteStringBuilder();
  private boolean overflowed;
  private long total;

  BoundedBody(int max) {
    this.max = max;
  }

  BoundedBody add(ByteString chunk) {
    total += chunk.size();
    if (overflowed) return this;
    if (kept.length() + chunk.size() > max) {
      overflowed = true;
      kept.clear();
    } else {
      kept.append(chunk);
    }
    return this;
  }

  /** Every byte seen, kept or not. */
  long total() {
    return total;
  }

  boolean overflowed() {
    return overflowed;
  }

  byte[] bytes() {
    return kept.result().toArray();
  }
}

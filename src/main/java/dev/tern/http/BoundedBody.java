package dev.tern.http;

import org.apache.pekko.util.ByteString;
import org.apache.pekko.util.ByteStringBuilder;

/**
 * A request body collected up to a limit; past it, the rest is read but not kept, so that the client's upload is
 * never cut off (see {@code HttpApi.refuseBody}). The accumulator of a stream fold: used on one thread at a time.
 */
final class BoundedBody {
  private final int max;
  private final ByteStringBuilder kept = new ByteStringBuilder();
  private boolean overflowed;

  BoundedBody(int max) {
    this.max = max;
  }

  BoundedBody add(ByteString chunk) {
    if (overflowed) return this;
    if (kept.length() + chunk.size() > max) {
      overflowed = true;
      kept.clear();
    } else {
      kept.append(chunk);
    }
    return this;
  }

  boolean overflowed() {
    return overflowed;
  }

  byte[] bytes() {
    return kept.result().toArray();
  }
}

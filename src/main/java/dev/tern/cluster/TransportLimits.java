package dev.tern.cluster;

import com.typesafe.config.Config;
import dev.tern.raft.LogEntry;
import dev.tern.raft.RaftMessage;
import java.util.ArrayList;
import java.util.List;

/**
 * How big a Raft message may be on each of Artery's two lanes between nodes, and the check that the node's size
 * limits fit them. Artery drops any message larger than its frame (256 KiB by default) with one log line; a
 * value the API accepted but the transport cannot carry would stop every later write. So: requests of up to
 * {@code pekko.remote.artery.advanced.maximum-frame-size} travel on the ordinary lane; larger ones (one big
 * entry, or a big proposal forwarded to the leader) on Artery's large-message lane, a TCP stream of its own
 * whose frames may reach {@code maximum-large-frame-size}, so that heartbeats and small writes never queue behind
 * them. A node whose limits do not fit these frames refuses to start (see {@link #check}).
 *
 * <p>The sizes here are upper bounds of the serialized form (RaftWireSerializer's envelope inside Artery's), checked
 * against the real serializer by a test.
 */
public record TransportLimits(long frameBytes, long largeFrameBytes) {

  /** The actor name of each node's large-message inbox, and the path Artery must route on the large lane. */
  public static final String BULK_INBOX = "bulk";
  public static final String BULK_PATH = "/user/" + BULK_INBOX;

  /** Artery's header plus our envelope: sender id, the sender gateway's actor path, type names, terms. */
  static final long MESSAGE_OVERHEAD = 4096;
  /** The numbers of one log entry around its data (generous: the wire form needs 21 bytes). */
  static final long ENTRY_OVERHEAD = 64;
  /** A command's id, field and type names, and CAS revision around its key and value (KvCodec, CBOR). */
  static final long COMMAND_OVERHEAD = 256;

  public enum Lane {
    ORDINARY,
    LARGE,
    /** Larger than either frame: Artery would drop it. */
    TOO_LARGE
  }

  public static TransportLimits fromConfig(Config config) {
    return new TransportLimits(
        config.getBytes("pekko.remote.artery.advanced.maximum-frame-size"),
        config.getBytes("pekko.remote.artery.advanced.maximum-large-frame-size"));
  }

  /** An upper bound of {@code message}'s size on the wire. */
  public static long wireBytes(RaftMessage message) {
    long bytes = MESSAGE_OVERHEAD;
    if (message instanceof RaftMessage.AppendEntries ae) {
      for (LogEntry e : ae.entries()) bytes += e.data().length + ENTRY_OVERHEAD;
    } else if (message instanceof RaftMessage.Propose p) {
      bytes += p.command().length;
    } else if (message instanceof RaftMessage.InstallSnapshot is) {
      bytes += is.data().length;
      bytes += is.configuration().encode().length + 4L; // rare (snapshot pieces): the exact size is cheap enough
    }
    return bytes;
  }

  public Lane laneFor(RaftMessage message) {
    long bytes = wireBytes(message);
    if (bytes <= frameBytes) return Lane.ORDINARY;
    if (bytes <= largeFrameBytes) return Lane.LARGE;
    return Lane.TOO_LARGE;
  }

  /**
   * Refuses settings that cannot work together, naming the settings to change.
   *
   * @throws IllegalArgumentException listing every problem found
   */
  public static void check(Config config) {
    TransportLimits t = fromConfig(config);
    Config tern = config.getConfig("tern");
    long keyBytes = tern.getBytes("kv.max-key-bytes");
    long valueBytes = tern.getBytes("kv.max-value-bytes");
    long appendBytes = tern.getBytes("raft.max-append-bytes");
    long appendEntries = tern.getInt("raft.max-append-entries");
    long chunkBytes = tern.getBytes("raft.install-snapshot-chunk-bytes");
    List<String> problems = new ArrayList<>();

    // The largest command: a put or compare-and-set of the largest key and value. As an entry of an
    // AppendEntries, or as a proposal forwarded to the leader, it must fit the large lane.
    long largestEntry = keyBytes + valueBytes + COMMAND_OVERHEAD + ENTRY_OVERHEAD + MESSAGE_OVERHEAD;
    if (largestEntry > t.largeFrameBytes) {
      problems.add("a value of tern.kv.max-value-bytes (" + valueBytes + " bytes) with a key of tern.kv.max-key-bytes ("
          + keyBytes + ") needs frames of at least " + largestEntry + " bytes, but "
          + "pekko.remote.artery.advanced.maximum-large-frame-size is " + t.largeFrameBytes
          + ": raise maximum-large-frame-size to at least " + roundUpMiB(largestEntry) + " or lower the limits");
    }
    // A transaction is one entry too; its binary form is no larger than its JSON body (each key, value and number
    // takes fewer bytes in it than in JSON, base64 values far fewer), plus the command's overhead.
    long txnBytes = tern.getBytes("txn.max-bytes");
    long largestTxn = txnBytes + COMMAND_OVERHEAD + ENTRY_OVERHEAD + MESSAGE_OVERHEAD;
    if (largestTxn > t.largeFrameBytes) {
      problems.add("a transaction of tern.txn.max-bytes (" + txnBytes + " bytes) needs frames of at least " + largestTxn
          + " bytes, but pekko.remote.artery.advanced.maximum-large-frame-size is " + t.largeFrameBytes
          + ": raise maximum-large-frame-size to at least " + roundUpMiB(largestTxn) + " or lower tern.txn.max-bytes");
    }
    // A batch of small entries travels on the ordinary lane.
    long largestBatch = appendBytes + appendEntries * ENTRY_OVERHEAD + MESSAGE_OVERHEAD;
    if (largestBatch > t.frameBytes) {
      problems.add("an AppendEntries of tern.raft.max-append-bytes (" + appendBytes + ") in up to "
          + "tern.raft.max-append-entries (" + appendEntries + ") entries needs frames of " + largestBatch
          + " bytes, but pekko.remote.artery.advanced.maximum-frame-size is " + t.frameBytes
          + ": lower max-append-bytes or max-append-entries, or raise maximum-frame-size");
    }
    long largestChunk = chunkBytes + MESSAGE_OVERHEAD + 1024;
    if (largestChunk > t.frameBytes) {
      problems.add("tern.raft.install-snapshot-chunk-bytes (" + chunkBytes + ") needs frames of " + largestChunk
          + " bytes, but pekko.remote.artery.advanced.maximum-frame-size is " + t.frameBytes
          + ": lower install-snapshot-chunk-bytes or raise maximum-frame-size");
    }
    if (t.largeFrameBytes < t.frameBytes) {
      problems.add("pekko.remote.artery.advanced.maximum-large-frame-size (" + t.largeFrameBytes
          + ") must not be smaller than maximum-frame-size (" + t.frameBytes + ")");
    }
    List<String> destinations = config.getStringList("pekko.remote.artery.large-message-destinations");
    if (!destinations.contains(BULK_PATH)) {
      problems.add("pekko.remote.artery.large-message-destinations must contain \"" + BULK_PATH
          + "\" (large Raft messages travel there; see application.conf)");
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException("size limits do not fit the transport: " + String.join("; ", problems));
    }
  }

  private static String roundUpMiB(long bytes) {
    return ((bytes + (1 << 20) - 1) >> 20) + "MiB";
  }
}

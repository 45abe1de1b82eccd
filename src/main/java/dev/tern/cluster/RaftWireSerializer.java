package dev.tern.cluster;

import dev.tern.raft.Configuration;
import dev.tern.raft.LogEntry;
import dev.tern.raft.RaftMessage.Change;
import dev.tern.raft.RaftMessage.ChangeMembership;
import dev.tern.raft.RaftMessage.ChangeMembershipResponse;
import dev.tern.raft.RaftMessage;
import dev.tern.raft.RaftMessage.AppendEntries;
import dev.tern.raft.RaftMessage.AppendEntriesResponse;
import dev.tern.raft.RaftMessage.InstallSnapshot;
import dev.tern.raft.RaftMessage.InstallSnapshotResponse;
import dev.tern.raft.RaftMessage.Propose;
import dev.tern.raft.RaftMessage.ProposeResponse;
import dev.tern.raft.RaftMessage.ReadIndex;
import dev.tern.raft.RaftMessage.ReadIndexResponse;
import dev.tern.raft.RaftMessage.RequestVote;
import dev.tern.raft.RaftMessage.RequestVoteResponse;
import java.io.NotSerializableException;
import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.ByteBufferSerializer;
import org.apache.pekko.serialization.SerializerWithStringManifest;

/**
 * The binary form of every message Raft sends between nodes: the gateway envelope with the Raft message inside,
 * and the answers to forwarded proposals and reads. Hand-written because the profile asked for it: with Jackson
 * CBOR, serializing and deserializing these took 6.5% of a node's CPU under a write load (deserializing 4.2%,
 * more than the whole Raft replica), docs/performance.md. This format is a tag byte per message and its fields in
 * a fixed order, big-endian; strings are UTF-8 with a length (-1 for null); actor refs are their serialized path,
 * resolved once and cached. Artery writes it straight into its buffers ({@link ByteBufferSerializer}).
 *
 * <p>Every message starts with the format's version byte ({@link #VERSION}); a node refuses a message of another
 * version with a clear error rather than misread it. Nodes of two builds with different versions cannot talk: a
 * rolling upgrade that changes this format will have to accept the old version for a while.
 * {@code RaftWireSerializerTest} round-trips every message.
 */
public final class RaftWireSerializer extends SerializerWithStringManifest implements ByteBufferSerializer {
  /** Pekko's id for this serializer; must not change while nodes of two builds may talk. */
  public static final int IDENTIFIER = 7341;

  /**
   * The version of the format written here; change it with any change to the layout below, or to what the
   * entries inside mean. 2: commands in KvCodec's binary form, which a version-1 node would apply as undecodable
   * no-ops (its state would silently diverge from the others'), so the two must not talk. 3: TimeoutNow, and
   * RequestVote's transfer flag (leadership transfer, dissertation 3.10); InstallSnapshot carries the
   * configuration (servers, addresses, voter or learner) instead of member ids; configuration entries (kind 2) in
   * AppendEntries; ChangeMembership and its answers (membership changes, dissertation chapter 4). 4: the envelope
   * carries the sender's incarnation, and configurations may carry incarnations (their format 2).
   */
  static final byte VERSION = 4;

  private static final String ENVELOPE = "E";
  private static final String ACCEPTED = "A";
  private static final String NOT_LEADER = "N";
  private static final String READ_OK = "O";
  private static final String READ_NOT_LEADER = "R";
  /** The answer to a membership change forwarded to the leader (dissertation chapter 4). */
  private static final String MEMBERSHIP = "M";

  private static final byte VOTE = 1, VOTE_RESPONSE = 2, APPEND = 3, APPEND_RESPONSE = 4, INSTALL = 5,
      INSTALL_RESPONSE = 6, PROPOSE = 7, READ_INDEX = 8, TIMEOUT_NOW = 9, CHANGE_MEMBERSHIP = 10;
  private static final byte CHANGE_ADD = 1, CHANGE_REMOVE = 2;
  private static final byte ANSWER_DONE = 1, ANSWER_NOT_LEADER = 2, ANSWER_FAILED = 3;

  /** Refs seen on the wire (senders, reply addresses: a handful per node); cleared if it ever grows large. */
  private static final int REF_CACHE_LIMIT = 4096;

  private final ExtendedActorSystem system;
  private volatile ActorRefResolver resolver;
  private final ConcurrentHashMap<String, ActorRef<?>> refsByPath = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<ActorRef<?>, String> pathsByRef = new ConcurrentHashMap<>();

  public RaftWireSerializer(ExtendedActorSystem system) {
    this.system = system;
  }

  @Override
  public int identifier() {
    return IDENTIFIER;
  }

  @Override
  public String manifest(Object o) {
    if (o instanceof PeerGateway.Envelope) return ENVELOPE;
    if (o instanceof ProposeResponse.Accepted) return ACCEPTED;
    if (o instanceof ProposeResponse.NotLeader) return NOT_LEADER;
    if (o instanceof ReadIndexResponse.Ok) return READ_OK;
    if (o instanceof ReadIndexResponse.NotLeader) return READ_NOT_LEADER;
    if (o instanceof ChangeMembershipResponse) return MEMBERSHIP;
    throw new IllegalArgumentException("RaftWireSerializer cannot serialize " + o.getClass().getName());
  }

  @Override
  public byte[] toBinary(Object o) {
    int capacity = estimate(o);
    while (true) {
      ByteBuffer buf = ByteBuffer.allocate(capacity);
      try {
        toBinary(o, buf);
        return Arrays.copyOf(buf.array(), buf.position());
      } catch (BufferOverflowException e) {
        capacity *= 2; // the estimate is generous; only unusually long strings get here
      }
    }
  }

  @Override
  public Object fromBinary(byte[] bytes, String manifest) throws NotSerializableException {
    return fromBinary(ByteBuffer.wrap(bytes), manifest);
  }

  @Override
  public void toBinary(Object o, ByteBuffer buf) {
    buf.put(VERSION);
    if (o instanceof PeerGateway.Envelope env) {
      putString(buf, env.from());
      buf.putLong(env.incarnation());
      putRef(buf, env.fromGateway());
      putMessage(buf, env.message());
    } else if (o instanceof ProposeResponse.Accepted a) {
      buf.putLong(a.index()).putLong(a.term()).putLong(a.requestId());
    } else if (o instanceof ProposeResponse.NotLeader n) {
      putString(buf, n.leaderHint());
      buf.putLong(n.requestId());
    } else if (o instanceof ReadIndexResponse.Ok ok) {
      buf.putLong(ok.readIndex()).putLong(ok.requestId());
    } else if (o instanceof ReadIndexResponse.NotLeader n) {
      putString(buf, n.leaderHint());
      buf.putLong(n.requestId());
    } else if (o instanceof ChangeMembershipResponse.Done d) {
      buf.put(ANSWER_DONE).putLong(d.index());
      putBytes(buf, d.configuration().encode());
    } else if (o instanceof ChangeMembershipResponse.NotLeader n) {
      buf.put(ANSWER_NOT_LEADER);
      putString(buf, n.leaderHint());
    } else if (o instanceof ChangeMembershipResponse.Failed f) {
      buf.put(ANSWER_FAILED).put((byte) f.reason().ordinal());
      putString(buf, f.message());
    } else {
      throw new IllegalArgumentException("RaftWireSerializer cannot serialize " + o.getClass().getName());
    }
  }

  @Override
  public Object fromBinary(ByteBuffer buf, String manifest) throws NotSerializableException {
    try {
      byte version = buf.get();
      if (version != VERSION) {
        throw new NotSerializableException("a Raft message in wire format version " + version + ", but this node reads "
            + "version " + VERSION + " only: are two versions of Tern in one cluster?");
      }
      return switch (manifest) {
        case ENVELOPE -> new PeerGateway.Envelope(getString(buf), buf.getLong(), getRef(buf), getMessage(buf));
        case ACCEPTED -> new ProposeResponse.Accepted(buf.getLong(), buf.getLong(), buf.getLong());
        case NOT_LEADER -> new ProposeResponse.NotLeader(getString(buf), buf.getLong());
        case READ_OK -> new ReadIndexResponse.Ok(buf.getLong(), buf.getLong());
        case READ_NOT_LEADER -> new ReadIndexResponse.NotLeader(getString(buf), buf.getLong());
        case MEMBERSHIP -> getMembershipAnswer(buf);
        default -> throw new NotSerializableException("unknown manifest [" + manifest + "] for RaftWireSerializer");
      };
    } catch (RuntimeException e) { // underflow, a bad count or tag: bytes that are not ours
      if (e instanceof IllegalStateException) throw e;
      NotSerializableException failure = new NotSerializableException("malformed " + manifest + " message: " + e);
      failure.initCause(e);
      throw failure;
    }
  }

  // ---- Raft messages -------------------------------------------------------------------------------------

  private void putMessage(ByteBuffer buf, RaftMessage m) {
    if (m instanceof AppendEntries ae) {
      buf.put(APPEND).putLong(ae.term());
      putString(buf, ae.from());
      buf.putLong(ae.prevLogIndex()).putLong(ae.prevLogTerm()).putLong(ae.leaderCommit()).putLong(ae.readRound());
      buf.putInt(ae.entries().size());
      for (LogEntry e : ae.entries()) {
        buf.putLong(e.index()).putLong(e.term()).put((byte) e.kind().ordinal());
        putBytes(buf, e.data());
      }
    } else if (m instanceof AppendEntriesResponse r) {
      buf.put(APPEND_RESPONSE).putLong(r.term());
      putString(buf, r.from());
      buf.put((byte) (r.success() ? 1 : 0)).putLong(r.matchIndex()).putLong(r.rejectedIndex())
          .putLong(r.conflictIndex()).putLong(r.conflictTerm()).putLong(r.readRound());
    } else if (m instanceof Propose p) {
      buf.put(PROPOSE);
      putBytes(buf, p.command());
      putRef(buf, p.replyTo());
      buf.putLong(p.requestId());
    } else if (m instanceof ReadIndex r) {
      buf.put(READ_INDEX);
      putRef(buf, r.replyTo());
      buf.putLong(r.requestId());
    } else if (m instanceof ChangeMembership c) {
      buf.put(CHANGE_MEMBERSHIP);
      if (c.change() instanceof Change.AddLearner add) {
        Configuration.Server s = add.server();
        buf.put(CHANGE_ADD);
        putString(buf, s.id());
        putString(buf, s.host());
        buf.putInt(s.arteryPort()).putInt(s.httpPort());
      } else {
        buf.put(CHANGE_REMOVE);
        putString(buf, c.change().id());
      }
      putRef(buf, c.replyTo());
    } else if (m instanceof RequestVote v) {
      buf.put(VOTE).putLong(v.term());
      putString(buf, v.from());
      buf.putLong(v.lastLogIndex()).putLong(v.lastLogTerm()).put((byte) (v.preVote() ? 1 : 0))
          .put((byte) (v.transfer() ? 1 : 0));
    } else if (m instanceof RequestVoteResponse v) {
      buf.put(VOTE_RESPONSE).putLong(v.term());
      putString(buf, v.from());
      buf.put((byte) (v.voteGranted() ? 1 : 0)).put((byte) (v.preVote() ? 1 : 0));
    } else if (m instanceof InstallSnapshot is) {
      buf.put(INSTALL).putLong(is.term());
      putString(buf, is.from());
      buf.putLong(is.lastIncludedIndex()).putLong(is.lastIncludedTerm());
      putBytes(buf, is.configuration().encode());
      buf.putLong(is.offset());
      putBytes(buf, is.data());
      buf.put((byte) (is.done() ? 1 : 0));
    } else if (m instanceof RaftMessage.TimeoutNow t) {
      buf.put(TIMEOUT_NOW).putLong(t.term());
      putString(buf, t.from());
    } else if (m instanceof InstallSnapshotResponse r) {
      buf.put(INSTALL_RESPONSE).putLong(r.term());
      putString(buf, r.from());
      buf.putLong(r.lastIncludedIndex()).putLong(r.nextOffset()).put((byte) (r.done() ? 1 : 0));
    } else {
      throw new IllegalArgumentException("not a message between nodes: " + m.getClass().getName());
    }
  }

  private RaftMessage getMessage(ByteBuffer buf) {
    byte tag = buf.get();
    switch (tag) {
      case APPEND -> {
        long term = buf.getLong();
        String from = getString(buf);
        long prevLogIndex = buf.getLong(), prevLogTerm = buf.getLong(), leaderCommit = buf.getLong();
        long readRound = buf.getLong();
        int n = count(buf, 17);
        List<LogEntry> entries = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
          long index = buf.getLong(), entryTerm = buf.getLong();
          LogEntry.Kind kind = LogEntry.Kind.values()[buf.get()];
          entries.add(new LogEntry(index, entryTerm, kind, getBytes(buf)));
        }
        return new AppendEntries(term, from, prevLogIndex, prevLogTerm, entries, leaderCommit, readRound);
      }
      case APPEND_RESPONSE -> {
        long term = buf.getLong();
        String from = getString(buf);
        boolean success = buf.get() != 0;
        return new AppendEntriesResponse(term, from, success, buf.getLong(), buf.getLong(), buf.getLong(),
            buf.getLong(), buf.getLong());
      }
      case PROPOSE -> {
        byte[] command = getBytes(buf);
        ActorRef<ProposeResponse> replyTo = getRef(buf);
        return new Propose(command, replyTo, buf.getLong());
      }
      case READ_INDEX -> {
        ActorRef<ReadIndexResponse> replyTo = getRef(buf);
        return new ReadIndex(replyTo, buf.getLong());
      }
      case CHANGE_MEMBERSHIP -> {
        byte kind = buf.get();
        Change change = switch (kind) {
          case CHANGE_ADD -> new Change.AddLearner(
              new Configuration.Server(getString(buf), getString(buf), buf.getInt(), buf.getInt(), false));
          case CHANGE_REMOVE -> new Change.Remove(getString(buf));
          default -> throw new IllegalArgumentException("unknown membership change " + kind);
        };
        ActorRef<ChangeMembershipResponse> replyTo = getRef(buf);
        return new ChangeMembership(change, replyTo);
      }
      case VOTE -> {
        long term = buf.getLong();
        String from = getString(buf);
        return new RequestVote(term, from, buf.getLong(), buf.getLong(), buf.get() != 0, buf.get() != 0);
      }
      case VOTE_RESPONSE -> {
        long term = buf.getLong();
        String from = getString(buf);
        return new RequestVoteResponse(term, from, buf.get() != 0, buf.get() != 0);
      }
      case INSTALL -> {
        long term = buf.getLong();
        String from = getString(buf);
        long lastIncludedIndex = buf.getLong(), lastIncludedTerm = buf.getLong();
        Configuration configuration = Configuration.decode(getBytes(buf));
        long offset = buf.getLong();
        byte[] data = getBytes(buf);
        return new InstallSnapshot(term, from, lastIncludedIndex, lastIncludedTerm, configuration, offset, data,
            buf.get() != 0);
      }
      case TIMEOUT_NOW -> {
        long term = buf.getLong();
        return new RaftMessage.TimeoutNow(term, getString(buf));
      }
      case INSTALL_RESPONSE -> {
        long term = buf.getLong();
        String from = getString(buf);
        return new InstallSnapshotResponse(term, from, buf.getLong(), buf.getLong(), buf.get() != 0);
      }
      default -> throw new IllegalArgumentException("unknown message tag " + tag);
    }
  }

  private static ChangeMembershipResponse getMembershipAnswer(ByteBuffer buf) {
    byte kind = buf.get();
    return switch (kind) {
      case ANSWER_DONE -> {
        long index = buf.getLong();
        yield new ChangeMembershipResponse.Done(Configuration.decode(getBytes(buf)), index);
      }
      case ANSWER_NOT_LEADER -> new ChangeMembershipResponse.NotLeader(getString(buf));
      case ANSWER_FAILED -> {
        int reason = buf.get();
        ChangeMembershipResponse.Reason[] all = ChangeMembershipResponse.Reason.values();
        if (reason < 0 || reason >= all.length) throw new IllegalArgumentException("unknown reason " + reason);
        yield new ChangeMembershipResponse.Failed(all[reason], getString(buf));
      }
      default -> throw new IllegalArgumentException("unknown membership answer " + kind);
    };
  }

  // ---- fields --------------------------------------------------------------------------------------------

  /** A count of items of at least {@code minBytes} each, checked against what is left (a corrupt count fails). */
  private static int count(ByteBuffer buf, int minBytes) {
    int n = buf.getInt();
    if (n < 0 || (long) n * minBytes > buf.remaining()) throw new IllegalArgumentException("bad count " + n);
    return n;
  }

  private static void putBytes(ByteBuffer buf, byte[] bytes) {
    buf.putInt(bytes.length).put(bytes);
  }

  private static byte[] getBytes(ByteBuffer buf) {
    byte[] bytes = new byte[count(buf, 1)];
    buf.get(bytes);
    return bytes;
  }

  private static void putString(ByteBuffer buf, String s) {
    if (s == null) {
      buf.putInt(-1);
      return;
    }
    putBytes(buf, s.getBytes(StandardCharsets.UTF_8));
  }

  private static String getString(ByteBuffer buf) {
    int n = buf.getInt();
    if (n == -1) return null;
    if (n < 0 || n > buf.remaining()) throw new IllegalArgumentException("bad string length " + n);
    if (!buf.hasArray()) { // Artery's buffers are direct
      byte[] bytes = new byte[n];
      buf.get(bytes);
      return new String(bytes, StandardCharsets.UTF_8);
    }
    String s = new String(buf.array(), buf.arrayOffset() + buf.position(), n, StandardCharsets.UTF_8);
    buf.position(buf.position() + n);
    return s;
  }

  private void putRef(ByteBuffer buf, ActorRef<?> ref) {
    if (ref == null) {
      buf.putInt(-1);
      return;
    }
    String path = pathsByRef.get(ref);
    if (path == null) {
      path = resolver().toSerializationFormat(ref);
      if (pathsByRef.size() >= REF_CACHE_LIMIT) pathsByRef.clear();
      pathsByRef.put(ref, path);
    }
    putString(buf, path);
  }

  @SuppressWarnings("unchecked")
  private <T> ActorRef<T> getRef(ByteBuffer buf) {
    String path = getString(buf);
    if (path == null) return null;
    ActorRef<?> ref = refsByPath.get(path);
    if (ref == null) {
      ref = resolver().resolveActorRef(path);
      if (refsByPath.size() >= REF_CACHE_LIMIT) refsByPath.clear();
      refsByPath.put(path, ref);
    }
    return (ActorRef<T>) ref;
  }

  private ActorRefResolver resolver() {
    ActorRefResolver r = resolver;
    if (r == null) {
      r = ActorRefResolver.get(Adapter.toTyped(system));
      resolver = r;
    }
    return r;
  }

  /** A size that holds {@code o} unless its strings are unusually long. */
  private static int estimate(Object o) {
    int bytes = 512;
    if (o instanceof PeerGateway.Envelope env) {
      RaftMessage m = env.message();
      if (m instanceof AppendEntries ae) {
        for (LogEntry e : ae.entries()) bytes += e.data().length + 32;
      } else if (m instanceof Propose p) {
        bytes += p.command().length;
      } else if (m instanceof InstallSnapshot is) {
        bytes += is.data().length + 64 * is.configuration().servers().size();
      }
    }
    return bytes;
  }
}

package dev.tern.raft;

import dev.tern.CborSerializable;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * Everything a Raft replica actor receives: the RPCs of Figure 2 exchanged with peers, client proposals,
 * and its own timer and storage signals. One sealed protocol, immutable records. The ones that cross the
 * network (the peer messages, proposals and reads, and their answers) have a binary form of their own, written by
 * {@code dev.tern.cluster.RaftWireSerializer}: adding a field means adding it there.
 */
public sealed interface RaftMessage {

  /** An RPC or RPC reply between replicas. Every one carries its sender's term (Figure 2, "All Servers"). */
  sealed interface PeerMessage extends RaftMessage
      permits RequestVote, RequestVoteResponse, AppendEntries, AppendEntriesResponse, InstallSnapshot,
          InstallSnapshotResponse, TimeoutNow {
    long term();

    /** Node id of the sender. */
    String from();
  }

  /**
   * RequestVote RPC (Figure 2), sent by a candidate. With {@code preVote} it only asks whether the sender
   * could win an election in {@code term} (dissertation 9.6): no one changes term or vote for it. With
   * {@code transfer} the candidate was told to run by the leader ({@link TimeoutNow}, dissertation 3.10): voters
   * consider it even while they hear from that leader (with CheckQuorum they otherwise ignore it, 4.2.3).
   */
  record RequestVote(long term, String from, long lastLogIndex, long lastLogTerm, boolean preVote, boolean transfer)
      implements PeerMessage {
    public RequestVote(long term, String from, long lastLogIndex, long lastLogTerm) {
      this(term, from, lastLogIndex, lastLogTerm, false, false);
    }

    public RequestVote(long term, String from, long lastLogIndex, long lastLogTerm, boolean preVote) {
      this(term, from, lastLogIndex, lastLogTerm, preVote, false);
    }
  }

  /**
   * Leadership transfer (dissertation 3.10): the leader, having brought {@code to} up to date, tells it to start an
   * election at once, without pre-vote and without waiting for its election timer.
   */
  record TimeoutNow(long term, String from) implements PeerMessage {}

  /** A granted pre-vote carries the term it was asked about; any other reply carries the voter's term. */
  record RequestVoteResponse(long term, String from, boolean voteGranted, boolean preVote) implements PeerMessage {
    public RequestVoteResponse(long term, String from, boolean voteGranted) {
      this(term, from, voteGranted, false);
    }
  }

  /**
   * AppendEntries RPC (Figure 2). {@code entries} is empty for a heartbeat. The leader keeps several of these
   * in flight per follower; each one stands alone, so a lost or reordered one is harmless.
   */
  record AppendEntries(
      long term,
      String from,
      long prevLogIndex,
      long prevLogTerm,
      List<LogEntry> entries,
      long leaderCommit,
      long readRound)
      implements PeerMessage {
    public AppendEntries {
      entries = List.copyOf(entries);
    }

    /** A request outside any ReadIndex round. */
    public AppendEntries(
        long term, String from, long prevLogIndex, long prevLogTerm, List<LogEntry> entries, long leaderCommit) {
      this(term, from, prevLogIndex, prevLogTerm, entries, leaderCommit, 0);
    }

    /** Index of the last entry this request carries (prevLogIndex for a heartbeat). */
    public long lastIndex() {
      return prevLogIndex + entries.size();
    }

    /** Names the range of entries rather than each one: batches run to hundreds. */
    @Override
    public String toString() {
      return "AppendEntries[term=" + term + ", from=" + from + ", prev=" + prevLogIndex + "@" + prevLogTerm
          + ", entries=" + (entries.isEmpty() ? "none" : (prevLogIndex + 1) + ".." + lastIndex())
          + ", leaderCommit=" + leaderCommit + (readRound == 0 ? "" : ", readRound=" + readRound) + "]";
    }
  }

  /**
   * Reply to AppendEntries. On success {@code matchIndex} is the last index now known to match the leader's
   * log. On rejection, {@code rejectedIndex} is the request's prevLogIndex, and the conflict hint lets the
   * leader skip back a whole term at a time (section 5.3, the optimization described after Figure 7):
   * {@code conflictTerm} is the follower's term at prevLogIndex (0 if its log is shorter) and
   * {@code conflictIndex} the first index of that term in its log (or its lastIndex + 1). {@code readRound}
   * echoes the request's: any reply of the leader's term shows the follower still took it as leader when that
   * round had begun (ReadIndex, dissertation 6.4).
   */
  record AppendEntriesResponse(
      long term,
      String from,
      boolean success,
      long matchIndex,
      long rejectedIndex,
      long conflictIndex,
      long conflictTerm,
      long readRound)
      implements PeerMessage {

    public AppendEntriesResponse(
        long term, String from, boolean success, long matchIndex, long rejectedIndex, long conflictIndex,
        long conflictTerm) {
      this(term, from, success, matchIndex, rejectedIndex, conflictIndex, conflictTerm, 0);
    }

    public static AppendEntriesResponse success(long term, String from, long matchIndex) {
      return new AppendEntriesResponse(term, from, true, matchIndex, 0, 0, 0, 0);
    }

    public static AppendEntriesResponse reject(
        long term, String from, long rejectedIndex, long conflictIndex, long conflictTerm) {
      return new AppendEntriesResponse(term, from, false, 0, rejectedIndex, conflictIndex, conflictTerm, 0);
    }

    /** The same reply, answering a request of the given ReadIndex round. */
    public AppendEntriesResponse forRound(long round) {
      return new AppendEntriesResponse(
          term, from, success, matchIndex, rejectedIndex, conflictIndex, conflictTerm, round);
    }
  }

  /**
   * InstallSnapshot RPC (Figure 13): sent by the leader to a follower that needs entries it has compacted. The
   * snapshot's data travels in pieces of at most {@code tern.raft.install-snapshot-chunk-bytes}, one at a time;
   * {@code offset} is where this piece starts in the data, and {@code done} marks the last piece.
   */
  record InstallSnapshot(
      long term,
      String from,
      long lastIncludedIndex,
      long lastIncludedTerm,
      Configuration configuration,
      long offset,
      byte[] data,
      boolean done)
      implements PeerMessage {
    public InstallSnapshot {
      java.util.Objects.requireNonNull(configuration, "configuration");
    }

    /** A snapshot of a cluster of voters known by id only (tests). */
    public InstallSnapshot(long term, String from, long lastIncludedIndex, long lastIncludedTerm, List<String> members,
        long offset, byte[] data, boolean done) {
      this(term, from, lastIncludedIndex, lastIncludedTerm, Configuration.ofVoters(members), offset, data, done);
    }

    public SnapshotMeta meta() {
      return new SnapshotMeta(lastIncludedIndex, lastIncludedTerm, configuration);
    }

    @Override
    public String toString() {
      return "InstallSnapshot[term=" + term + ", from=" + from + ", snapshot=" + lastIncludedIndex + "@"
          + lastIncludedTerm + ", offset=" + offset + ", " + data.length + "B" + (done ? ", done" : "") + "]";
    }
  }

  /**
   * Reply to InstallSnapshot: the follower holds {@code nextOffset} bytes of the snapshot ending at
   * {@code lastIncludedIndex} (where the leader goes on from; 0 = start over), and with {@code done} it has
   * installed it, so its log matches the leader's up to that index.
   */
  record InstallSnapshotResponse(long term, String from, long lastIncludedIndex, long nextOffset, boolean done)
      implements PeerMessage {}

  /** From the storage: this node's own snapshot is durable ({@code failure} null), or could not be written. */
  record SnapshotSaved(SnapshotMeta meta, boolean full, Throwable failure) implements RaftMessage {
    /** A snapshot that carries the state machine's data. */
    public SnapshotSaved(SnapshotMeta meta, Throwable failure) {
      this(meta, true, failure);
    }
  }

  /** From the storage: a piece of the snapshot {@code meta} read for sending to {@code peer}. */
  record SnapshotChunkRead(String peer, SnapshotMeta meta, long offset, RaftStorage.Chunk chunk) implements RaftMessage {}

  /** From the storage: a piece of a snapshot sent by {@code leader} in {@code term} was stored. */
  record SnapshotChunkWritten(String leader, long term, SnapshotMeta meta, RaftStorage.ChunkWritten written)
      implements RaftMessage {}

  /**
   * A client command to append to the log. Only the leader accepts it; the answer says where it went, and the
   * proposer learns the outcome when its state machine applies that index (the command carries its own id).
   * The answer echoes {@code requestId}, so that a proposer can keep one reply address for all its proposals
   * (no temporary actor per request).
   */
  record Propose(byte[] command, ActorRef<ProposeResponse> replyTo, long requestId)
      implements RaftMessage {
    public Propose(byte[] command, ActorRef<ProposeResponse> replyTo) {
      this(command, replyTo, 0);
    }
  }

  sealed interface ProposeResponse {
    long requestId();

    /** Appended at {@code index} in {@code term}; it is committed only if that entry survives there. */
    record Accepted(long index, long term, long requestId) implements ProposeResponse {
      public Accepted(long index, long term) {
        this(index, term, 0);
      }
    }

    /** This node is not the leader; {@code leaderHint} is the leader it knows of, or null. */
    record NotLeader(String leaderHint, long requestId) implements ProposeResponse {
      public NotLeader(String leaderHint) {
        this(leaderHint, 0);
      }
    }
  }

  /**
   * Asks the leader for a read index (dissertation 6.4): once it answers {@link ReadIndexResponse.Ok}, any
   * replica whose state machine has applied up to {@code readIndex} can serve a linearizable read.
   */
  record ReadIndex(ActorRef<ReadIndexResponse> replyTo, long requestId) implements RaftMessage {
    public ReadIndex(ActorRef<ReadIndexResponse> replyTo) {
      this(replyTo, 0);
    }
  }

  sealed interface ReadIndexResponse {
    /** The {@code requestId} of the ReadIndex answered. */
    long requestId();

    record Ok(long readIndex, long requestId) implements ReadIndexResponse {
      public Ok(long readIndex) {
        this(readIndex, 0);
      }
    }

    record NotLeader(String leaderHint, long requestId) implements ReadIndexResponse {
      public NotLeader(String leaderHint) {
        this(leaderHint, 0);
      }
    }
  }

  /**
   * Asks the leader to hand leadership to {@code target} (dissertation 3.10), or, with a null target, to the most
   * up-to-date voter. The leader stops accepting proposals, brings the target up to date and sends it
   * {@link TimeoutNow}; the answer comes once a leader of a later term is known, or when the transfer fails. Local:
   * a node forwards the request to the leader over HTTP, not as a Raft message.
   */
  record TransferLeadership(String target, ActorRef<TransferLeadershipResponse> replyTo) implements RaftMessage {}

  sealed interface TransferLeadershipResponse {
    /** Leadership moved: {@code leaderId} leads {@code term} (the target, unless another node won). */
    record Transferred(String leaderId, long term) implements TransferLeadershipResponse {}

    /** This node is not the leader; {@code leaderHint} is the leader it knows of, or null. */
    record NotLeader(String leaderHint) implements TransferLeadershipResponse {}

    /** {@code target} is not a voter of this cluster. */
    record UnknownTarget(String target) implements TransferLeadershipResponse {}

    /** Not started: another transfer is under way, or there is no other voter. */
    record Refused(String reason) implements TransferLeadershipResponse {}

    /** Started but did not complete in time: the leader (if still leader) accepts proposals again. */
    record Failed(String reason) implements TransferLeadershipResponse {}
  }

  /** Timer: a leadership transfer has had its election timeout (dissertation 3.10). */
  enum TransferTimeout implements RaftMessage {
    INSTANCE
  }

  /**
   * Asks the leader to change the configuration by one server (dissertation 4.1, 4.2). It is answered once the new
   * configuration is committed, or refused with the reason. An added server joins as a learner; the leader makes it
   * a voter by itself once it has caught up (4.2.1).
   */
  record ChangeMembership(Change change, ActorRef<ChangeMembershipResponse> replyTo) implements RaftMessage {}

  /**
   * The node's transport saw a message from server {@code id} (or the node itself) sent by the data directory of
   * incarnation {@code incarnation}, while the configuration has none published for it. A leader publishes it with a
   * configuration change (see {@link Configuration.Server}); other roles ignore it.
   */
  record ObservedIncarnation(String id, long incarnation) implements RaftMessage {}

  /** One single-server change. */
  sealed interface Change {
    /** The server to change. */
    String id();

    /** Adds a server as a non-voting learner (4.2.1), to be promoted to voter once caught up. */
    record AddLearner(Configuration.Server server) implements Change {
      public AddLearner {
        server = new Configuration.Server(server.id(), server.host(), server.arteryPort(), server.httpPort(), false);
      }

      @Override
      public String id() {
        return server.id();
      }
    }

    /** Removes a server, voter or learner (4.2.2 when it is the leader). */
    record Remove(String id) implements Change {}
  }

  sealed interface ChangeMembershipResponse {
    /** The change is committed: {@code configuration} is in force from {@code index}. */
    record Done(Configuration configuration, long index) implements ChangeMembershipResponse {}

    /** This node is not the leader; {@code leaderHint} is the leader it knows of, or null. */
    record NotLeader(String leaderHint) implements ChangeMembershipResponse {}

    /** Refused or not known to have committed; {@code reason} says which and why. */
    record Failed(Reason reason, String message) implements ChangeMembershipResponse {}

    enum Reason {
      /** Another change is not yet committed, or the leader has not yet committed an entry of its term: retry. */
      IN_PROGRESS,
      /** No such server to remove. */
      UNKNOWN_MEMBER,
      /** The server to add is already a member, at other addresses. */
      ALREADY_MEMBER,
      /** It would leave no voter. */
      LAST_VOTER,
      /** The leader lost its leadership before the change committed: it may or may not commit later. */
      LEADERSHIP_LOST
    }
  }

  /** Asks for a snapshot of the replica's volatile and persistent state. */
  record GetStatus(ActorRef<Status> replyTo) implements RaftMessage {}

  record Status(
      String id,
      Role role,
      long term,
      String leaderId,
      long commitIndex,
      long lastApplied,
      long lastLogIndex,
      long lastLogTerm,
      long firstLogIndex,
      long snapshotIndex,
      List<FollowerStatus> followers,
      String commitStall,
      String quorumLost,
      Configuration configuration,
      long configurationIndex)
      implements CborSerializable {
    public Status {
      followers = List.copyOf(followers);
    }
  }

  /**
   * A leader's view of one follower: {@code matchIndex} and {@code nextIndex} (Figure 2), how many entries it is
   * {@code behind} the leader's last, and how long ago it last answered (-1: not since this leader took over).
   */
  record FollowerStatus(
      String id, long matchIndex, long nextIndex, long behind, long lastHeardMillisAgo, boolean sendingSnapshot)
      implements CborSerializable {}

  enum Role {
    FOLLOWER,
    CANDIDATE,
    LEADER
  }

  /** Timer: no valid AppendEntries or granted vote for an election timeout (section 5.2). */
  enum ElectionTimeout implements RaftMessage {
    INSTANCE
  }

  /** Timer: the leader's heartbeat interval has passed. */
  enum HeartbeatTick implements RaftMessage {
    INSTANCE
  }

  /**
   * Sent by the leader to itself after accepting a proposal, so that the proposals already queued in its
   * mailbox are written and replicated together as one batch (one storage write, one AppendEntries).
   */
  enum Flush implements RaftMessage {
    INSTANCE
  }

  /** From the storage: every write up to {@code ticket} is durable. */
  record StorageSynced(long ticket) implements RaftMessage {}
}

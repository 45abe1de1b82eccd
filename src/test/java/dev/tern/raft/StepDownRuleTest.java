package dev.tern.raft;

import static dev.tern.raft.RaftFixtures.cancelled;
import static dev.tern.raft.RaftFixtures.electionTimers;
import static dev.tern.raft.RaftFixtures.replica;
import static dev.tern.raft.RaftFixtures.storage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.raft.RaftFixtures.Replica;
import dev.tern.raft.RaftMessage.AppendEntries;
import dev.tern.raft.RaftMessage.AppendEntriesResponse;
import dev.tern.raft.RaftMessage.PeerMessage;
import dev.tern.raft.RaftMessage.RequestVote;
import dev.tern.raft.RaftMessage.RequestVoteResponse;
import dev.tern.storage.InMemoryStorage;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.pekko.actor.testkit.typed.Effect;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Figure 2, "Rules for Servers / All Servers" (section 5.1): if an RPC request or response contains term T >
 * currentTerm, set currentTerm = T and convert to follower - from every role, for every kind of message.
 */
class StepDownRuleTest {
  private static final long HIGHER = 7;

  enum Role {
    FOLLOWER,
    CANDIDATE,
    LEADER
  }

  enum Kind {
    REQUEST_VOTE,
    APPEND_ENTRIES,
    REQUEST_VOTE_RESPONSE,
    APPEND_ENTRIES_RESPONSE
  }

  /** n1 in the given role in term 3 with vote "n1" (the follower voted for n2 in term 3); log [1@1]. */
  private static Replica inRole(Role role, InMemoryStorage st) {
    Replica r = replica(st);
    switch (role) {
      case FOLLOWER -> {}
      case CANDIDATE -> {
        r.run(RaftMessage.ElectionTimeout.INSTANCE);
        assertInstanceOf(Candidate.class, r.behavior());
      }
      case LEADER -> r.electLeader();
    }
    r.transport.drain();
    r.effects();
    assertEquals(3, r.status().term());
    return r;
  }

  private static InMemoryStorage storageFor(Role role) {
    // The follower starts in term 3 having voted; the others reach term 3 by their own election.
    return role == Role.FOLLOWER ? storage(3, "n2", 1) : storage(2, null, 1);
  }

  /** A message of term 7 from n3; the RequestVote's log (empty) is behind ours, so no vote is granted. */
  private static PeerMessage higherTerm(Kind kind) {
    return switch (kind) {
      case REQUEST_VOTE -> new RequestVote(HIGHER, "n3", 0, 0);
      case APPEND_ENTRIES -> new AppendEntries(HIGHER, "n3", 0, 0, List.of(), 0);
      case REQUEST_VOTE_RESPONSE -> new RequestVoteResponse(HIGHER, "n3", false);
      case APPEND_ENTRIES_RESPONSE -> AppendEntriesResponse.reject(HIGHER, "n3", 1, 1, 0);
    };
  }

  static Stream<Arguments> everyRoleAndMessage() {
    List<Arguments> out = new ArrayList<>();
    for (Role r : Role.values()) for (Kind k : Kind.values()) out.add(Arguments.of(r, k));
    return out.stream();
  }

  // Figure 2, All Servers: term T > currentTerm => currentTerm = T (persisted, vote cleared), become follower.
  @ParameterizedTest(name = "{0} receiving {1}")
  @MethodSource("everyRoleAndMessage")
  void higherTermMakesEveryRoleAFollowerOfThatTerm(Role role, Kind kind) {
    InMemoryStorage st = storageFor(role);
    Replica r = inRole(role, st);

    r.run(higherTerm(kind));

    assertInstanceOf(Follower.class, r.behavior());
    RaftMessage.Status status = r.status();
    assertEquals(RaftMessage.Role.FOLLOWER, status.role());
    assertEquals(HIGHER, status.term());
    assertEquals(new HardState(HIGHER, null), st.hardState(), "new term must be persisted with no vote");
    // Any reply already speaks for the new term.
    for (CapturingTransport.Sent s : r.transport.drain()) assertEquals(HIGHER, s.message().term());
  }

  // Section 5.1 + 5.4.1: the step-down happens first, then the request is judged as a follower of the new
  // term: an up-to-date candidate gets the (now free) vote.
  @ParameterizedTest(name = "{0}")
  @MethodSource("roles")
  void higherTermRequestVoteIsThenAnsweredAsAFollower(Role role) {
    InMemoryStorage st = storageFor(role);
    Replica r = inRole(role, st);
    r.run(new RequestVote(HIGHER, "n3", 5, 3));
    assertInstanceOf(Follower.class, r.behavior());
    assertEquals(new HardState(HIGHER, "n3"), st.hardState());
    assertEquals(List.of(new RequestVoteResponse(HIGHER, "n1", true)),
        r.transport.drain().stream().map(CapturingTransport.Sent::message).toList());
  }

  // Section 5.2: a candidate or leader that learns of a leader with a newer term follows it and accepts its
  // AppendEntries in the same step.
  @ParameterizedTest(name = "{0}")
  @MethodSource("roles")
  void higherTermAppendEntriesIsThenAcceptedAsAFollower(Role role) {
    Replica r = inRole(role, storageFor(role));
    r.run(new AppendEntries(HIGHER, "n3", 1, 1, RaftFixtures.entries(2, HIGHER), 0));
    assertEquals("n3", r.status().leaderId());
    List<PeerMessage> sent = r.transport.drain().stream().map(CapturingTransport.Sent::message).toList();
    assertEquals(List.of(AppendEntriesResponse.success(HIGHER, "n1", 2)), sent);
    assertEquals(HIGHER, r.log().termAt(2));
  }

  static Stream<Role> roles() {
    return Stream.of(Role.values());
  }

  // Figure 2, Followers: a deposed leader must again time out into elections, and stop its heartbeats.
  @Test
  void deposedLeaderStopsHeartbeatsAndRestartsTheElectionTimer() {
    Replica r = inRole(Role.LEADER, storageFor(Role.LEADER));
    r.run(new RequestVoteResponse(HIGHER, "n3", false));
    List<Effect> effects = r.effects();
    assertTrue(cancelled(effects, ReplicaState.HEARTBEAT_TIMER), "heartbeat timer not cancelled: " + effects);
    assertEquals(1, electionTimers(effects).size(), "election timer not restarted: " + effects);
    r.run(RaftMessage.HeartbeatTick.INSTANCE); // a tick already in the mailbox is ignored
    assertTrue(r.appendsSent().isEmpty());
  }

  // Figure 2, All Servers: a message of the same or an older term does not change the term or the role.
  @ParameterizedTest(name = "{0}")
  @MethodSource("roles")
  void olderTermDoesNotChangeTermOrRole(Role role) {
    InMemoryStorage st = storageFor(role);
    Replica r = inRole(role, st);
    HardState before = st.hardState();
    Class<?> roleClass = r.behavior().getClass();
    r.run(new AppendEntries(2, "n3", 0, 0, List.of(), 0));
    r.run(new RequestVote(2, "n3", 9, 2));
    r.run(new RequestVoteResponse(2, "n3", true));
    r.run(AppendEntriesResponse.success(2, "n3", 1));
    assertEquals(roleClass, r.behavior().getClass());
    assertEquals(before, st.hardState());
    for (CapturingTransport.Sent s : r.transport.drain()) {
      if (s.message() instanceof RequestVoteResponse v) assertFalse(v.voteGranted());
      if (s.message() instanceof AppendEntriesResponse a) assertFalse(a.success());
      assertEquals(3, s.message().term());
    }
  }
}

package dev.tern.raft;

import dev.tern.raft.RaftMessage.ProposeResponse;
import dev.tern.raft.RaftMessage.ReadIndexResponse;
import org.apache.pekko.actor.testkit.typed.javadsl.TestInbox;

/**
 * A client request made in the simulation: to which node (and which run of its process), when, and its answer
 * once one came. Each request has its own inbox, so an answer is never mistaken for another request's.
 */
abstract sealed class SimRequest<A> permits SimRequest.Proposal, SimRequest.Read {
  final String node;
  final int incarnation;
  final long askedAtNanos;
  /** The term the node led when asked, or -1 if it was not the leader. */
  final long ledTerm;
  final TestInbox<A> inbox = TestInbox.create();
  private A answer;

  SimRequest(String node, int incarnation, long askedAtNanos, long ledTerm) {
    this.node = node;
    this.incarnation = incarnation;
    this.askedAtNanos = askedAtNanos;
    this.ledTerm = ledTerm;
  }

  /** The answer, taken from the inbox the first time it is there; null while there is none. */
  A answer() {
    if (answer == null && inbox.hasMessages()) answer = inbox.receiveMessage();
    return answer;
  }

  /** A command proposed to one node (Propose). */
  static final class Proposal extends SimRequest<ProposeResponse> {
    final String command;

    Proposal(String node, int incarnation, long askedAtNanos, long ledTerm, String command) {
      super(node, incarnation, askedAtNanos, ledTerm);
      this.command = command;
    }

    @Override
    public String toString() {
      return "proposal '" + command + "' to " + node + " at " + askedAtNanos / 1_000_000 + "ms" + (ledTerm >= 0 ? " (leader of term " + ledTerm + ")" : "");
    }
  }

  /** A ReadIndex request to one node (dissertation 6.4). */
  static final class Read extends SimRequest<ReadIndexResponse> {
    /** How many entries were known committed when the read was asked: the read index must cover them. */
    final long committedBefore;

    Read(String node, int incarnation, long askedAtNanos, long ledTerm, long committedBefore) {
      super(node, incarnation, askedAtNanos, ledTerm);
      this.committedBefore = committedBefore;
    }

    @Override
    public String toString() {
      return "read to " + node + " at " + askedAtNanos / 1_000_000 + "ms" + (ledTerm >= 0 ? " (leader of term " + ledTerm + ")" : "");
    }
  }
}

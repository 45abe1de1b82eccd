package dev.tern.raft;

/**
 * How a replica reaches its peers, by node id. Sending never blocks and may silently lose the message: Raft
 * retries whatever matters. Over Pekko Cluster this is a tell to the peer's actor; tests put a simulated
 * network here.
 */
@FunctionalInterface
public interface PeerTransport {
  void send(String to, RaftMessage.PeerMessage message);
}

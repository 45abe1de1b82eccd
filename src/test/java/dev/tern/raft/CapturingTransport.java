package dev.tern.raft;

import dev.tern.raft.RaftMessage.PeerMessage;
import java.util.ArrayList;
import java.util.List;

/** A transport for single-replica tests: keeps what the replica sent, in order. */
final class CapturingTransport implements PeerTransport {
  record Sent(String to, PeerMessage message) {}

  private final List<Sent> sent = new ArrayList<>();

  @Override
  public void send(String to, PeerMessage message) {
    sent.add(new Sent(to, message));
  }

  /** Everything sent since the last call, and forgets it. */
  List<Sent> drain() {
    List<Sent> out = List.copyOf(sent);
    sent.clear();
    return out;
  }

  /** The messages of one type sent since the last drain, and forgets everything. */
  <T extends PeerMessage> List<T> drain(Class<T> type) {
    List<T> out = new ArrayList<>();
    for (Sent s : drain()) if (type.isInstance(s.message())) out.add(type.cast(s.message()));
    return out;
  }
}

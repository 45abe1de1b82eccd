package dev.tern.cluster;

/** One configured member of the cluster: its node id and where its Artery and HTTP endpoints listen. */
public record Member(String id, String host, int arteryPort, int httpPort) {
  public Member {
    if (id == null || id.isBlank()) throw new IllegalArgumentException("a member needs an id");
    if (host == null || host.isBlank()) throw new IllegalArgumentException("member " + id + " needs a host");
    if (arteryPort < 1 || arteryPort > 65535) throw new IllegalArgumentException("member " + id + ": bad artery-port " + arteryPort);
    if (httpPort < 1 || httpPort > 65535) throw new IllegalArgumentException("member " + id + ": bad http-port " + httpPort);
  }

  public String httpAddress() {
    return "http://" + host + ":" + httpPort;
  }
}

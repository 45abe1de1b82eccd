package dev.tern.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tern.cluster.Member;
import dev.tern.cluster.Members;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code tern local add}: grows a running local cluster by one node, the way an operator adds a machine
 * (docs/operations.md, "Adding a node"): it starts a node process that joins through the running members
 * ({@code tern node --join ... --advertise ...}), adds it with {@code PUT /v1/members/ID} (a learner), and waits until
 * the leader has promoted it to voter. The node's ports are kept in {@code D/added.conf}, so the same command with
 * {@code --id} brings it back on its data after the local cluster restarts.
 */
@Command(
    name = "add",
    description = {
      "Add one node to the local cluster running in D: start it (joining through the running members), add it "
          + "as a learner, and wait until the leader makes it a voter. The node keeps running after this command "
          + "ends; Ctrl-C on `tern local` stops it with the others. After a restart of the local cluster, "
          + "`tern local add --id ID` brings an added node back on its data."
    },
    mixinStandardHelpOptions = true,
    footer = {"", "Exit codes: 0 added and a voter; 2 bad arguments, or no local cluster in D; 4 the cluster does "
        + "not answer, or the node was not a voter in time; 5 the node could not start or the add was refused."})
final class LocalAddCommand implements Callable<Integer> {
  static final String ADDED_FILE = "added.conf";

  @Spec
  CommandSpec spec;

  @Option(names = "--dir", paramLabel = "D", defaultValue = "tern-local",
      description = "The local cluster's directory (default: ./${DEFAULT-VALUE}).")
  Path dir;

  @Option(names = "--id", paramLabel = "ID",
      description = "The node's id (default: the next nK free in D); an id added before restarts that node.")
  String id;

  @Option(names = "--java-opts", paramLabel = "OPTS", description = "JVM options for the node (default: $TERN_JAVA_OPTS).")
  String javaOpts;

  @Option(names = "--heap", paramLabel = "SIZE", description = "The node's maximum heap (default: $TERN_HEAP, else "
      + LocalCommand.DEFAULT_HEAP + ").")
  String heap;

  @Option(names = "--ready-timeout", paramLabel = "DURATION", defaultValue = "90s",
      converter = ClientCommand.DurationConverter.class,
      description = "How long to wait for the add and the promotion (default: ${DEFAULT-VALUE}).")
  Duration readyTimeout;

  @Option(names = "--classpath", paramLabel = "CP", hidden = true, description = "The node's class path.")
  String classpath;

  @Override
  public Integer call() throws IOException, InterruptedException {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    Path d = dir.toAbsolutePath().normalize();
    Path conf = d.resolve(LocalCluster.CONFIG_FILE);
    Members bootstrap;
    Map<String, String> added;
    try {
      if (!Files.exists(conf)) throw new LocalCluster.PlanException("no local cluster in " + d + " (start one with tern local)");
      bootstrap = LocalCluster.readMembers(conf);
      if (LocalSecurity.client(conf) != null) {
        throw new LocalCluster.PlanException("the local cluster in " + d + " is secured (tern local --secure), which"
            + " tern local add does not support: add a node by hand (docs/security.md, docs/operations.md)");
      }
      added = readAdded(d.resolve(ADDED_FILE));
      if (LocalCluster.livePids(d).isEmpty()) {
        throw new LocalCluster.PlanException("the local cluster in " + d + " is not running: start it with tern local --dir " + dir);
      }
      id = id != null ? id.strip() : nextId(bootstrap, added);
      if (bootstrap.byId(id).isPresent()) {
        throw new LocalCluster.PlanException(id + " is one of the members tern local starts itself");
      }
      if (!id.matches("n\\d+")) throw new LocalCluster.PlanException("--id must be nK (n4, n5, ...), not '" + id + "'");
      if (LocalCluster.readPid(d.resolve(id + ".pid")).filter(p -> ProcessHandle.of(p).map(ProcessHandle::isAlive).orElse(false)).isPresent()) {
        throw new LocalCluster.PlanException(id + " is already running (see " + d.resolve(id + ".pid") + ")");
      }
    } catch (LocalCluster.PlanException e) {
      err.println("tern local add: " + e.getMessage());
      err.flush();
      return ExitCodes.USAGE;
    }
    String address = added.get(id);
    if (address == null) {
      Member m = LocalCluster.pickFreePorts(1).get(0);
      address = LocalCluster.HOST + ":" + m.arteryPort() + ":" + m.httpPort();
      Files.writeString(d.resolve(ADDED_FILE), id + "=" + address + "\n", StandardCharsets.UTF_8,
          StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }
    String[] parts = address.split(":");
    String http = "http://" + parts[0] + ":" + parts[2];
    List<String> others = new ArrayList<>();
    for (Member m : bootstrap.all()) others.add(m.httpAddress());
    added.forEach((other, at) -> {
      if (!other.equals(id)) others.add("http://" + at.split(":")[0] + ":" + at.split(":")[2]);
    });
    String endpoints = String.join(",", others);

    Process node;
    try {
      node = start(d, conf, address, endpoints);
    } catch (IOException e) {
      err.println("tern local add: could not start " + id + ": " + e.getMessage());
      err.flush();
      return ExitCodes.ERROR;
    }
    out.println("Started " + id + " (pid " + node.pid() + ", HTTP " + http + ", log " + d.resolve(id + ".log")
        + "), joining through " + endpoints);
    out.flush();

    TernClient client = new TernClient(TernClient.parseEndpoints(endpoints), Duration.ofSeconds(5));
    long deadline = System.nanoTime() + readyTimeout.toNanos();
    String body = "{\"host\":\"" + parts[0] + "\",\"arteryPort\":" + parts[1] + ",\"httpPort\":" + parts[2] + "}";
    String last = "";
    boolean isAdded = false;
    while (!isAdded && System.nanoTime() < deadline && node.isAlive()) {
      try {
        TernClient.Response r = client.put("/v1/members/" + id, body);
        if (r.ok()) {
          isAdded = true;
          break;
        }
        if (r.status() != 503) {
          err.println("tern local add: adding " + id + " was refused (HTTP " + r.status() + "): " + r.errorMessage());
          err.flush();
          return ExitCodes.ERROR;
        }
        last = r.errorMessage();
      } catch (TernClient.UnreachableException e) {
        last = e.getMessage();
      }
      Thread.sleep(300); // the cluster is electing or finishing another change; bounded by the deadline
    }
    if (!isAdded) {
      err.println("tern local add: " + id + (node.isAlive() ? " was not added within " + readyTimeout.toSeconds()
          + "s (last answer: " + last + ")" : " exited: see " + d.resolve(id + ".log")));
      err.flush();
      return node.isAlive() ? ExitCodes.UNAVAILABLE : ExitCodes.ERROR;
    }
    out.println("Added " + id + " as a learner; waiting for the leader to promote it...");
    out.flush();
    while (System.nanoTime() < deadline && node.isAlive()) {
      try {
        TernClient.Response r = client.get("/v1/members");
        JsonNode members = r.json();
        if (r.ok() && members != null) {
          for (JsonNode m : members.path("members")) {
            if (m.path("id").asText().equals(id) && m.path("role").asText().equals("voter")) {
              List<String> ids = new ArrayList<>();
              members.path("members").forEach(x -> ids.add(x.path("id").asText()));
              out.println(id + " is a voter; members: " + String.join(" ", ids) + ". Endpoints: " + endpoints + ","
                  + http);
              out.flush();
              return ExitCodes.OK;
            }
          }
        }
      } catch (TernClient.UnreachableException e) {
        // ask again
      }
      Thread.sleep(250); // bounded by the deadline
    }
    err.println("tern local add: " + id + (node.isAlive() ? " was not a voter within " + readyTimeout.toSeconds()
        + "s; see tern member list" : " exited: see " + d.resolve(id + ".log")));
    err.flush();
    return node.isAlive() ? ExitCodes.UNAVAILABLE : ExitCodes.ERROR;
  }

  /**
   * The class path the cluster's nodes run: this JVM's own jar when it has a class-data archive beside it (as
   * {@link LocalCluster#nodeClasspath} chose for them), else their copy {@code D/tern.jar}, else this JVM's.
   */
  static String nodeClasspath(Path d) {
    String own = System.getProperty("java.class.path");
    if (ClassDataArchive.forClasspath(own).isPresent()) return Path.of(own).toAbsolutePath().toString();
    Path jar = d.resolve(LocalCluster.JAR_COPY);
    return Files.exists(jar) ? jar.toString() : own;
  }

  /** Starts the node detached from this command (its output to D/ID.log, its pid in D/ID.pid). */
  private Process start(Path d, Path conf, String address, String endpoints) throws IOException {
    List<String> jvm = new ArrayList<>(LocalCommand.split(javaOpts != null ? javaOpts : System.getenv("TERN_JAVA_OPTS")));
    jvm.addAll(LocalCommand.heapOptions(jvm, heap != null ? heap : System.getenv("TERN_HEAP")));
    String cp = classpath != null ? classpath : nodeClasspath(d);
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(ClassDataArchive.jvmOptions(cp));
    cmd.addAll(jvm);
    cmd.add("-Dtern.data-dir=" + d.resolve(id));
    cmd.addAll(List.of("-cp", cp, LocalCluster.MAIN_CLASS, "node", "--id", id, "--config", conf.toString(),
        "--join", endpoints, "--advertise", address));
    Files.createDirectories(d.resolve(id));
    Path log = d.resolve(id + ".log");
    Files.writeString(log, "==== tern local add: starting " + id + " at " + Instant.now() + " ====\n",
        StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    p.getOutputStream().close();
    Files.writeString(d.resolve(id + ".pid"), p.pid() + "\n", StandardCharsets.UTF_8);
    return p;
  }

  /**
   * Asks the node processes that pid files in D name, other than {@code cluster}'s own (those {@code tern local add}
   * started), to stop (SIGTERM), and returns them with their pid files for {@link #awaitStopped}. Signalled together
   * with the cluster's own nodes, so that none is left alone waiting for the others.
   */
  static List<Map.Entry<ProcessHandle, Path>> stopAdded(LocalCluster cluster) {
    java.util.Set<Long> own = new java.util.HashSet<>();
    for (LocalCluster.NodeProcess n : cluster.processes()) own.add(n.process().pid());
    List<Map.Entry<ProcessHandle, Path>> added = new ArrayList<>();
    try (java.util.stream.Stream<Path> files = Files.list(cluster.dir())) {
      for (Path f : files.filter(f -> LocalCluster.PID_FILE.matcher(f.getFileName().toString()).matches()).toList()) {
        java.util.Optional<Long> pid = LocalCluster.readPid(f);
        if (pid.isEmpty() || own.contains(pid.get())) continue;
        ProcessHandle.of(pid.get()).filter(ProcessHandle::isAlive)
            .ifPresent(h -> added.add(Map.entry(h, f)));
      }
    } catch (IOException e) {
      return List.of(); // nothing readable to stop
    }
    added.forEach(e -> e.getKey().destroy());
    return added;
  }

  /**
   * Waits for the processes {@link #stopAdded} signalled: after {@code grace} they are killed, and waited for again,
   * so that none is still running when {@code tern local} returns; then their pid files go.
   */
  static void awaitStopped(List<Map.Entry<ProcessHandle, Path>> added, Duration grace) {
    long deadline = System.nanoTime() + grace.toNanos();
    for (Map.Entry<ProcessHandle, Path> e : added) {
      ProcessHandle h = e.getKey();
      try {
        h.onExit().get(Math.max(1, deadline - System.nanoTime()), java.util.concurrent.TimeUnit.NANOSECONDS);
      } catch (Exception timedOut) {
        h.destroyForcibly();
        try {
          h.onExit().get(10, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception stillThere) {
          // a process that survives SIGKILL for 10 s is beyond us; its pid file says so
          continue;
        }
      }
      try {
        Files.deleteIfExists(e.getValue());
      } catch (IOException io) {
        // a stale pid file is recognised as such on the next start
      }
    }
  }

  /** D/added.conf: one "nK=host:artery-port:http-port" line per node added so far. */
  static Map<String, String> readAdded(Path file) throws IOException, LocalCluster.PlanException {
    Map<String, String> added = new LinkedHashMap<>();
    if (!Files.exists(file)) return added;
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      String l = line.strip();
      if (l.isEmpty() || l.startsWith("#")) continue;
      int eq = l.indexOf('=');
      if (eq <= 0 || l.substring(eq + 1).split(":").length != 3) {
        throw new LocalCluster.PlanException(file + ": bad line '" + l + "' (expected nK=host:artery-port:http-port)");
      }
      added.put(l.substring(0, eq), l.substring(eq + 1));
    }
    return added;
  }

  /** The next nK after every id the bootstrap and the added nodes use. */
  static String nextId(Members bootstrap, Map<String, String> added) {
    int max = 0;
    List<String> ids = new ArrayList<>(bootstrap.ids());
    ids.addAll(added.keySet());
    for (String i : ids) {
      if (i.matches("n\\d+")) max = Math.max(max, Integer.parseInt(i.substring(1)));
    }
    return "n" + (max + 1);
  }
}

package dev.tern;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Free ports on 127.0.0.1 for the nodes a test starts, taken below the kernel's ephemeral range. A port the kernel
 * hands out for port 0 lies inside that range, and between the test picking it and the node binding it, any outbound
 * connection (the nodes' own, Artery's, an HTTP client's) may get it as its local port: "Address already in use"
 * (LargeValueTest failed so, 2026-12-07). Below the range no connection takes a port by itself; this JVM hands out
 * each port once, from a random start so that test JVMs running side by side rarely meet, and checks that it binds.
 */
public final class FreePorts {
  private static final int LOWEST = 10_000;
  private static final int ephemeralStart = ephemeralStart();
  private static final AtomicInteger next =
      new AtomicInteger(LOWEST + ThreadLocalRandom.current().nextInt(Math.max(1, ephemeralStart - LOWEST)));

  private FreePorts() {}

  /** One free port. */
  public static int one() {
    return take(1).get(0);
  }

  /** {@code count} different free ports. */
  public static List<Integer> take(int count) {
    List<Integer> ports = new ArrayList<>(count);
    for (int tried = 0; ports.size() < count; tried++) {
      if (tried > 10_000) throw new IllegalStateException("no free port below " + ephemeralStart + " on 127.0.0.1");
      int p = next.getAndUpdate(x -> x + 1 >= ephemeralStart ? LOWEST : x + 1);
      if (bindable(p)) ports.add(p);
    }
    return ports;
  }

  private static boolean bindable(int port) {
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), port));
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** The first port of /proc/sys/net/ipv4/ip_local_port_range (32768 where it cannot be read, Linux's default). */
  private static int ephemeralStart() {
    try {
      String range = Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).trim();
      int start = Integer.parseInt(range.split("\\s+")[0]);
      return start > LOWEST + 1000 ? start : 32768;
    } catch (IOException | RuntimeException e) {
      return 32768;
    }
  }
}

package dev.tern.cluster;

import java.io.File;
import java.util.concurrent.TimeUnit;

/**
 * Finds Prometheus's {@code promtool}, installing Debian's {@code prometheus} package when it is missing and this
 * process runs as root (as CI does; .ci/run installs it first too). Null when it cannot be had.
 */
final class Promtool {
  private Promtool() {}

  static synchronized String find() throws InterruptedException {
    String found = onPath();
    if (found != null) return found;
    if (!isRoot() || onPath("apt-get") == null) return null;
    // Bounded: a machine without the package registry gives up rather than hang the suite.
    run(300, "apt-get", "update", "-qq");
    run(600, "apt-get", "install", "-y", "-qq", "--no-install-recommends", "prometheus");
    return onPath();
  }

  private static String onPath() {
    return onPath("promtool");
  }

  static String onPath(String name) {
    String path = System.getenv("PATH");
    if (path == null) return null;
    for (String dir : path.split(File.pathSeparator)) {
      File f = new File(dir, name);
      if (f.canExecute()) return f.getAbsolutePath();
    }
    return null;
  }

  private static boolean isRoot() {
    return "root".equals(System.getProperty("user.name"));
  }

  private static void run(long seconds, String... command) throws InterruptedException {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
      }
    } catch (java.io.IOException e) {
      // not installable here: the caller skips
    }
  }
}

package dev.tern.cli;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The application class-data archive (AppCDS, JDK 17's dynamic archive) beside a jar: {@code tern.jar} has
 * {@code tern.jsa}. The build stages the shaded jar as {@code target/run/tern.jar} and trains its archive with
 * {@link ClassDataTraining}; a JVM started with it maps the classes a node and the CLI load already parsed and
 * verified instead of reading them out of an 87 MB jar, which halves a node's start on 2 cores (docs/performance.md,
 * "Start time").
 *
 * <p>The archive is only valid for the jar path it was trained with (JDK 17 does not relocate a dynamic archive's
 * class path) and for that jar's size and modification time; the JVM checks both and, on a mismatch, runs
 * without it. {@link #jvmOptions} silences that case: a stale or foreign archive costs the speed-up, nothing else.
 * A jar with an archive beside it is replaced only by renaming a new file over it (the build does so), so a
 * running node's jar is never rewritten in place.
 */
public final class ClassDataArchive {
  private ClassDataArchive() {}

  /** The archive that belongs beside {@code jar}: the same name with {@code .jsa} for {@code .jar}. */
  public static Path archiveOf(Path jar) {
    String name = jar.getFileName().toString();
    String base = name.endsWith(".jar") ? name.substring(0, name.length() - 4) : name;
    return jar.resolveSibling(base + ".jsa");
  }

  /**
   * The archive for a class path, when it is one jar with an archive beside it that was written after the jar
   * (an archive older than its jar was trained on an earlier build).
   */
  public static Optional<Path> forClasspath(String classpath) {
    if (classpath == null || classpath.isBlank() || classpath.contains(File.pathSeparator)) return Optional.empty();
    Path jar = Path.of(classpath);
    if (!jar.getFileName().toString().endsWith(".jar")) return Optional.empty();
    Path archive = archiveOf(jar);
    try {
      if (!Files.isRegularFile(jar) || !Files.isRegularFile(archive)) return Optional.empty();
      if (Files.getLastModifiedTime(archive).compareTo(Files.getLastModifiedTime(jar)) < 0) return Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    }
    return Optional.of(archive.toAbsolutePath());
  }

  /**
   * JVM options that map the archive of {@code classpath}, or none. The JVM's own cds warnings are turned off: it
   * prints them on standard output, where a CLI command's answer goes.
   */
  public static List<String> jvmOptions(String classpath) {
    return forClasspath(classpath)
        .map(a -> List.of("-XX:SharedArchiveFile=" + a, "-Xlog:cds=off", "-Xlog:cds+dynamic=off"))
        .orElse(List.of());
  }
}

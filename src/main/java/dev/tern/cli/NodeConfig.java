package dev.tern.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import dev.tern.cluster.Member;
import dev.tern.cluster.Members;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A node's configuration, layered from highest to lowest priority:
 *
 * <ol>
 *   <li>{@code --id}, which sets {@code tern.node-id};
 *   <li>JVM system properties ({@code -Dtern.http.request-timeout=8s});
 *   <li>the extra file given with {@code --config}, if any;
 *   <li>{@code application.conf} on the classpath, which holds every default and reads the {@code TERN_*}
 *       environment variables;
 *   <li>the libraries' {@code reference.conf} files (Pekko's defaults).
 * </ol>
 *
 * The merged result is resolved once, so {@code ${...}} substitutions see every layer.
 */
public final class NodeConfig {
  private NodeConfig() {}

  /**
   * Loads and resolves a node's configuration.
   *
   * @param nodeId the node's id, overriding every other source; null to keep {@code tern.node-id} as configured
   * @param extraFile a HOCON file layered over application.conf; null for none
   * @throws com.typesafe.config.ConfigException if a file does not parse or a substitution does not resolve
   * @throws IllegalArgumentException if {@code extraFile} does not exist
   */
  public static Config load(String nodeId, Path extraFile) {
    // System properties are cached by the config library; re-read them so a -D set in this JVM counts.
    ConfigFactory.invalidateCaches();
    Config config = ConfigFactory.systemProperties();
    if (nodeId != null) {
      config = ConfigFactory.parseMap(Map.of("tern.node-id", nodeId), "--id").withFallback(config);
    }
    if (extraFile != null) {
      if (!Files.isRegularFile(extraFile)) {
        throw new IllegalArgumentException("config file " + extraFile + " does not exist");
      }
      config = config.withFallback(
          ConfigFactory.parseFile(extraFile.toFile(), ConfigParseOptions.defaults().setAllowMissing(false)));
    }
    return config
        .withFallback(ConfigFactory.parseResources("application.conf"))
        .withFallback(ConfigFactory.defaultReference())
        .resolve();
  }

  /**
   * Checks that the membership parses and contains {@code tern.node-id}, and returns this node's member.
   *
   * @throws IllegalArgumentException or {@link com.typesafe.config.ConfigException} when it does not
   */
  public static Member self(Config config) {
    Config tern = config.getConfig("tern");
    return Members.fromConfig(tern).require(tern.getString("node-id"));
  }
}

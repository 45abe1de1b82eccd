package dev.tern.raft;

import com.typesafe.config.ConfigFactory;

/** Raft settings for tests: the shipped defaults from application.conf, so tests exercise what runs. */
final class TestSettings {
  private TestSettings() {}

  static final RaftSettings DEFAULTS =
      RaftSettings.fromConfig(ConfigFactory.parseResources("application.conf").resolve().getConfig("tern.raft"));
}

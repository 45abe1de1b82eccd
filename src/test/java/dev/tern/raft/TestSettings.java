package dev.tern.raft;

import com.typesafe.config.ConfigFactory;

/** Raft settings for tests, from the shipped application.conf, so tests exercise what runs. */
final class TestSettings {
  private TestSettings() {}

  /** Exactly what application.conf ships (pre-vote on). */
  static final RaftSettings SHIPPED =
      RaftSettings.fromConfig(ConfigFactory.parseResources("application.conf").resolve().getConfig("tern.raft"));

  /**
   * The shipped settings without pre-vote and CheckQuorum: the protocol of the paper's Figure 2, which the rule
   * tests pin down (CheckQuorumRuleTest turns CheckQuorum on).
   */
  static final RaftSettings DEFAULTS = SHIPPED.withPreVote(false).withCheckQuorum(false);
}

package dev.tern.cli;

import java.io.IOException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/** A CLI test against a {@link FakeNode} started before each test: {@link #tern} runs a command with --node at it. */
abstract class FakeNodeTest {
  FakeNode node;

  @BeforeEach
  void startFakeNode() throws IOException {
    node = new FakeNode();
  }

  @AfterEach
  void stopFakeNode() {
    node.close();
  }

  /** Runs {@code tern ARGS --node <the fake node>}. */
  Cli.Result tern(String... args) {
    String[] withNode = new String[args.length + 2];
    System.arraycopy(args, 0, withNode, 0, args.length);
    withNode[args.length] = "--node";
    withNode[args.length + 1] = node.url();
    return Cli.run(withNode);
  }
}

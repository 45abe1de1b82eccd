package dev.tern.http;

import dev.tern.cluster.Members;
import java.util.function.LongSupplier;
import org.apache.pekko.actor.typed.Behavior;

/** Opens the front's deterministic constructor (its own clock, a seeded command-id prefix) to the simulation. */
public final class SimFronts {
  private SimFronts() {}

  public static Behavior<KvFront.Command> create(
      String selfId, Members members, KvLimits limits, LongSupplier clock, String idPrefix) {
    return KvFrontBehavior.create(selfId, members, limits, clock, idPrefix);
  }
}

package dev.docktunnel.lifecycle;

import java.time.Instant;

/**
 * What {@link IdlePolicy} needs of the activity ledger at one instant.
 *
 * @param lastActivity the newest activity the ledger counts (a Docker request, a Docker stream or
 *     forward connection opening or closing, bytes through a forward), or null when there was
 *     none since docktunnel started
 * @param ongoing something open counts as activity now (a forward connection, a Docker
 *     connection or stream, within {@code lifecycle.connectionTimeout} of its last bytes): the
 *     server is not idle at all, whatever {@code lastActivity} says
 * @param activityCount the ledger's {@code activityCount()}: rises with every activity it
 *     counts, never falls; an idle stop is carried out only while it is unchanged
 * @param detail one line on the newest activity, for reasons ("docker-request GET
 *     /containers/json"), or null
 */
public record ActivitySnapshot(Instant lastActivity, boolean ongoing, long activityCount, String detail) {
  /** No activity seen yet. */
  public static final ActivitySnapshot NONE = new ActivitySnapshot(null, false, 0, null);

  public ActivitySnapshot {
    if (activityCount < 0) {
      throw new IllegalArgumentException("activityCount must be 0 or more, got " + activityCount);
    }
  }
}

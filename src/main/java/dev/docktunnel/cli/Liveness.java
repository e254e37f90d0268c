package dev.docktunnel.cli;

import dev.docktunnel.state.HostState;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.function.LongPredicate;

/**
 * Whether a state file shows a live daemon and, when not, why, in the words {@code status}
 * prints and puts in {@code staleReason}: always starting with "not running" or "stale", the
 * words scripts and people look for. Follows {@link HostState#isStale} exactly. Pure: the clock
 * and the PID check are passed in.
 *
 * @param live true when the record is a live daemon's
 * @param reason null when live; else e.g. {@code not running (stopped at ...)}
 */
record Liveness(boolean live, String reason) {

  static Liveness of(HostState state, Instant now, LongPredicate pidAlive) {
    if (!state.isStale(now, pidAlive)) {
      return new Liveness(true, null);
    }
    if (!state.running()) {
      String at = state.stoppedAt() == null ? "" : " at " + seconds(state.stoppedAt());
      return new Liveness(false, "not running (stopped" + at + ")");
    }
    if (!pidAlive.test(state.pid())) {
      return new Liveness(false, "not running (PID " + state.pid() + " is gone without a clean stop: killed or "
          + "crashed; last written at " + seconds(state.updatedAt()) + ")");
    }
    return new Liveness(false, "stale (last written at " + seconds(state.updatedAt()) + "; PID " + state.pid()
        + " is alive but not writing it: stuck, or not docktunnel)");
  }

  // Absolute times, not "42s ago": the reason is part of the document, and status --watch --json
  // prints a document again only when it changed.
  private static Instant seconds(Instant time) {
    return time.truncatedTo(ChronoUnit.SECONDS);
  }

  /** The stderr line when the file is shown instead of the daemon's answer. */
  String warning(String host, Path stateFile) {
    return "docktunnel: host " + host + " is " + reason + "; showing the last state file " + stateFile + " (stale)";
  }
}

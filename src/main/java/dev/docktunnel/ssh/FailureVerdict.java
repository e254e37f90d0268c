package dev.docktunnel.ssh;

import dev.docktunnel.bus.SessionState;
import java.util.Objects;

/**
 * What a failed connection attempt means for the session: the state to report and whether the
 * retries end. Pure.
 *
 * <ul>
 *   <li>a refused host key ends everything: it will not fix itself, and trying again would
 *       only repeat the warning;
 *   <li>before the first success a person is watching {@code docktunnel run}: any failure ends it
 *       (exit 3 with the message), unless told to wait ({@code --wait}, {@code ssh.waitForHost});
 *   <li>otherwise it never gives up: a refused authentication is {@code auth_required} (a key may
 *       appear), anything else is {@code connecting}/{@code reconnecting}, and {@code failed} once
 *       there was no progress for the progress timeout, still retrying.
 * </ul>
 *
 * @param state the state to publish
 * @param terminal whether retrying stops
 */
record FailureVerdict(SessionState.State state, boolean terminal) {

  /** What went wrong, as far as the decision cares. */
  enum Cause {
    /** The host key is unknown (under {@code yes}) or changed. */
    HOST_KEY_REFUSED,
    /** The server accepted none of our keys, or we had none. */
    AUTH_REJECTED,
    /** Anything else: unresolvable, refused, unreachable, timed out, dropped during set-up. */
    UNREACHABLE
  }

  FailureVerdict {
    Objects.requireNonNull(state, "state");
  }

  /**
   * @param cause what went wrong
   * @param everConnected whether a session was ever up
   * @param waitForHost whether the first connection may wait ({@code --wait})
   * @param progressTimedOut whether there was no progress for the progress timeout
   */
  static FailureVerdict of(Cause cause, boolean everConnected, boolean waitForHost, boolean progressTimedOut) {
    if (cause == Cause.HOST_KEY_REFUSED) {
      return new FailureVerdict(SessionState.State.FAILED, true);
    }
    if (!everConnected && !waitForHost) {
      return new FailureVerdict(SessionState.State.FAILED, true);
    }
    if (cause == Cause.AUTH_REJECTED) {
      return new FailureVerdict(SessionState.State.AUTH_REQUIRED, false);
    }
    if (progressTimedOut) {
      return new FailureVerdict(SessionState.State.FAILED, false);
    }
    return new FailureVerdict(everConnected ? SessionState.State.RECONNECTING : SessionState.State.CONNECTING, false);
  }
}

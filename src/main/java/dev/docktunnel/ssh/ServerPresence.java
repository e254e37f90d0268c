package dev.docktunnel.ssh;

import dev.docktunnel.bus.LifecycleState;
import java.util.Objects;

/**
 * What the SSH session makes of the lifecycle, for a provider that stops the server: no attempts
 * while the server is stopped or starting (they could only fail, loudly), a lost session is
 * expected once a stop began, and after a start the session goes where the provider said. With
 * the static provider nothing is ever suspended. Pure; one owner (the session verticle) calls it.
 */
final class ServerPresence {
  /** What the session should do after a lifecycle fact. */
  enum Change {
    /** Nothing changes for the session. */
    NONE,
    /** Stop trying and close the session: the server is stopped or being started. */
    SUSPEND,
    /** The server runs again: connect at once (to {@link #address()}). */
    RESUME
  }

  private boolean suspended;
  private boolean stopExpected;
  private boolean justStarted;
  private LifecycleState last;
  private String address;

  /** @param managed the provider stops the server: suspended until the lifecycle says it runs */
  ServerPresence(boolean managed) {
    this.suspended = managed;
  }

  /** A {@code docktunnel.lifecycle} fact's state, and its address (null: the configured one). */
  Change lifecycle(LifecycleState state, String newAddress) {
    Objects.requireNonNull(state, "state");
    LifecycleState before = last;
    last = state;
    if (newAddress != null) {
      address = newAddress;
    }
    switch (state) {
      case STOPPING -> {
        stopExpected = true;
        return Change.NONE;
      }
      case STOPPED, STARTING -> {
        stopExpected = false;
        if (suspended) {
          return Change.NONE;
        }
        suspended = true;
        return Change.SUSPEND;
      }
      case RUNNING, IDLE_WARNING -> {
        stopExpected = false;
        if (!suspended) {
          return Change.NONE;
        }
        suspended = false;
        // Just booted: its sshd may take a moment, so early failures are not the user's error.
        justStarted = before == LifecycleState.STARTING;
        return Change.RESUME;
      }
      default -> {
        // unknown, failed: what the session does stays as it was
        stopExpected = false;
        return Change.NONE;
      }
    }
  }

  /**
   * The lifecycle is about to stop the server (its checks passed): suspend now, before the stop
   * takes the session, so nothing reads the stop as a fault. SUSPEND, or NONE when suspended already.
   */
  Change stopComing() {
    stopExpected = true;
    if (suspended) {
      return Change.NONE;
    }
    suspended = true;
    return Change.SUSPEND;
  }

  /**
   * The session closed (or an attempt failed) while a stop was under way: expected, and the
   * session is suspended from now on; false when the loss is a fault to reconnect from.
   */
  boolean lostAsExpected() {
    if (suspended) {
      return true;
    }
    if (stopExpected) {
      suspended = true;
      return true;
    }
    return false;
  }

  /** No attempts now. */
  boolean suspended() {
    return suspended;
  }

  /** Resumed right after the provider started the server: failures to connect are retried, not final. */
  boolean justStarted() {
    return justStarted;
  }

  /** The session succeeded: later failures are judged as usual. */
  void connected() {
    justStarted = false;
  }

  /** Where the last start put the server ({@code host[:port]}), or null for the configured address. */
  String address() {
    return address;
  }

  /** Why there are no attempts, for the session's state. */
  String reason() {
    return last == null ? "waiting for the lifecycle to report the server's state"
        : "the server is " + last.text() + " (lifecycle); no SSH attempts until it runs again";
  }
}

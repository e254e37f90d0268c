package dev.docktunnel.ssh;

import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.nio.channels.UnresolvedAddressException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeoutException;
import org.apache.sshd.common.SshConstants;
import org.apache.sshd.common.SshException;

/**
 * The user-facing words for a failed SSH attempt: one line saying what failed and, where a
 * person can act, what to do. Pure: the target is passed in ({@code null} before it resolved).
 */
final class FailureMessages {
  private static final String TOO_MANY_AUTH_FAILURES = "Too many authentication failures";
  private static final String NO_KEY = "no usable --identity file, IdentityFile, ssh-agent key or "
      + "~/.ssh/id_ed25519, id_ecdsa, id_rsa";

  private final String host;
  private final Duration connectTimeout;

  /**
   * @param host the host as the user gave it, named while the target is not resolved
   * @param connectTimeout the limit a timed-out attempt is reported against
   */
  FailureMessages(String host, Duration connectTimeout) {
    this.host = host;
    this.connectTimeout = connectTimeout;
  }

  /**
   * Whether the server turned all our keys down: MINA ran out of keys, or OpenSSH hung up after
   * MaxAuthTries ("Too many authentication failures", sent with a generic disconnect code).
   */
  static boolean isAuthRejected(Throwable err) {
    for (Throwable t = err; t != null; t = t.getCause()) {
      if (t instanceof SshException ssh
          && (ssh.getDisconnectCode() == SshConstants.SSH2_DISCONNECT_NO_MORE_AUTH_METHODS_AVAILABLE
              || String.valueOf(ssh.getMessage()).contains(TOO_MANY_AUTH_FAILURES))) {
        return true;
      }
    }
    return false;
  }

  /** A one-line description of a failed attempt. */
  String describe(Throwable err, SshTarget target) {
    Throwable root = rootCause(err);
    String where = target == null ? host : target.display();
    if (err instanceof TimeoutException || root instanceof TimeoutException) {
      return "no SSH session to " + where + " within " + connectTimeout.toSeconds()
          + " s (connect, key exchange and authentication)";
    }
    if (root instanceof UnresolvedAddressException || root instanceof UnknownHostException) {
      return "cannot resolve host name " + (target == null ? host : target.hostName());
    }
    if (root instanceof ConnectException || root instanceof NoRouteToHostException) {
      String message = root.getMessage() == null ? "refused" : root.getMessage();
      return "cannot connect to " + where + ": " + message;
    }
    String message = err.getMessage() == null ? err.getClass().getSimpleName() : err.getMessage();
    return "SSH session to " + where + " failed: " + message;
  }

  /**
   * The one message {@code docktunnel run} exits with when the first connection fails: what
   * failed and what to do about it.
   */
  String firstFailure(Throwable err, AttemptReport report, boolean authRejected, SshTarget target) {
    String retry = " (--wait, or ssh.waitForHost in the config, keeps retrying instead)";
    if (authRejected) {
      return "Permission denied (publickey) for user '" + target.user() + "' at " + target.display() + ": "
          + (report.offered().isEmpty() ? "no key to offer (" + NO_KEY + ")"
              : "the server accepted none of the offered keys: " + String.join(", ", report.offered()))
          + keyNotes(report, err)
          + ". Check the user name (ssh://USER@host or User in ~/.ssh/config), add the public key to that "
          + "user's ~/.ssh/authorized_keys on the host, load the right key into ssh-agent (ssh-add) or pass "
          + "--identity FILE" + retry;
    }
    String advice;
    Throwable root = rootCause(err);
    if (root instanceof UnresolvedAddressException || root instanceof UnknownHostException) {
      advice = "check the host name (--host, or HostName in ~/.ssh/config) and the network";
    } else if (root instanceof ConnectException || root instanceof NoRouteToHostException) {
      advice = "check that the host is up, that sshd listens on port " + target.port() + " and that no firewall is "
          + "in the way";
    } else if (err instanceof TimeoutException || root instanceof TimeoutException) {
      advice = "check the host name and port, the network and firewalls (ssh.connectTimeout sets the limit)";
    } else {
      advice = "check the host and its sshd log";
    }
    return describe(err, target) + "; " + advice + retry;
  }

  /** The reason of an {@code auth_required} state, which goes on retrying. */
  String authRequired(AttemptReport report, Throwable err, SshTarget target) {
    return (report.offered().isEmpty() ? "no key to offer to " + target.display() + ": " + NO_KEY
            : target.display() + " accepted none of the offered keys: " + String.join(", ", report.offered()))
        + keyNotes(report, err)
        + ". Add an authorized key to ssh-agent (ssh-add) or pass --identity FILE; retrying";
  }

  /** What both auth messages add: the server's MaxAuthTries and the keys that could not be used. */
  private static String keyNotes(AttemptReport report, Throwable err) {
    StringBuilder notes = new StringBuilder();
    if (String.valueOf(err.getMessage()).contains(TOO_MANY_AUTH_FAILURES)) {
      notes.append(" (the server stopped after its MaxAuthTries; pass the right key first with --identity FILE)");
    }
    List<String> problems = report.problems();
    if (!problems.isEmpty()) {
      notes.append("; problems: ").append(String.join("; ", problems));
    }
    return notes.toString();
  }

  /** A duration as people write it: whole seconds as "5 s", else milliseconds. */
  static String human(Duration d) {
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
  }

  private static Throwable rootCause(Throwable err) {
    Throwable root = err;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return root;
  }
}

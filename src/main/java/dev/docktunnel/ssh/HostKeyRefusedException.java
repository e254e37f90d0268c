package dev.docktunnel.ssh;

import java.io.IOException;
import java.util.Objects;

/**
 * The server's host key was not accepted. The message is meant for the user as is: it names the
 * host, the key type and the SHA256 fingerprint, and says what to do. A refusal is final for the
 * session: retrying cannot fix a changed or unknown key.
 */
public final class HostKeyRefusedException extends IOException {

  private static final long serialVersionUID = 1L;

  /** Why the key was refused. */
  public enum Reason {
    /** The host is not in known_hosts and checking is {@code yes}. */
    UNKNOWN,
    /** known_hosts lists a different key of this type for the host. */
    CHANGED,
    /** known_hosts marks this key {@code @revoked}. */
    REVOKED,
    /** known_hosts could not be read, so nothing can be verified. */
    UNREADABLE
  }

  private final Reason reason;
  private final String host;
  private final String keyType;
  private final String fingerprint;

  /**
   * @param reason why
   * @param host the host as written in known_hosts ({@code [host]:port} when the port is not 22)
   * @param keyType the SSH key type, e.g. {@code ssh-ed25519}
   * @param fingerprint the key's fingerprint, {@code SHA256:...}
   * @param message the full user-facing message
   */
  public HostKeyRefusedException(
      Reason reason, String host, String keyType, String fingerprint, String message) {
    super(message);
    this.reason = Objects.requireNonNull(reason, "reason");
    this.host = host;
    this.keyType = keyType;
    this.fingerprint = fingerprint;
  }

  /** Why the key was refused. */
  public Reason reason() {
    return reason;
  }

  /** The host as written in known_hosts. */
  public String host() {
    return host;
  }

  /** The offered key's type, e.g. {@code ssh-ed25519}. */
  public String keyType() {
    return keyType;
  }

  /** The offered key's fingerprint, {@code SHA256:...}. */
  public String fingerprint() {
    return fingerprint;
  }
}

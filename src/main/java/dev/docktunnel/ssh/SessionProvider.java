package dev.docktunnel.ssh;

import java.util.Optional;
import org.apache.sshd.client.session.ClientSession;

/**
 * Hands out the live SSH session to the components that open channels on it (the forward
 * proxy, the Docker client). The SSH verticle owns the session's life; this is the read side.
 */
public interface SessionProvider {

  /** The authenticated, open session, or empty while connecting or reconnecting. Never blocks. */
  Optional<ClientSession> current();

  /**
   * Someone needs a session now and {@link #current()} had none (a local connection or a Docker
   * request is waiting): try to connect at once instead of waiting out the backoff. Never
   * blocks, any thread, cheap to call often: attempts are at most one per second and none while
   * one is running or after a refused host key. Providers with a fixed session (tests) ignore it.
   */
  default void wake() {
  }
}

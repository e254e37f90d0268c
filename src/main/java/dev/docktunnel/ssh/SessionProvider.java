package dev.docktunnel.ssh;

import java.util.Optional;
import java.util.function.Consumer;
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

  /**
   * Calls {@code waiter} once with the next session that is up: at once (on the caller's thread)
   * if one is up now, else on the thread that brings it up (callers hop to their own). Never
   * blocks. Running the returned handle withdraws a waiter not yet called, so one that gave up
   * leaves nothing behind. The default serves a fixed session (tests): it calls at once when
   * {@link #current()} has one and never otherwise.
   */
  default Runnable whenConnected(Consumer<ClientSession> waiter) {
    current().ifPresent(waiter);
    return () -> {
    };
  }
}

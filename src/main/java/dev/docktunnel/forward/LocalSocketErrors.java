package dev.docktunnel.forward;

import java.io.IOException;
import java.nio.channels.ClosedChannelException;

/**
 * The one place that tells a local client's own ending (it reset or closed its socket) from a
 * fault on our side. Only the former may end a connection quietly.
 */
final class LocalSocketErrors {
  private LocalSocketErrors() {
  }

  /**
   * Whether {@code error} from a local socket read or write means the client went away: a reset
   * ({@code ECONNRESET}), a write after its close ({@code EPIPE}), or a channel already closed.
   */
  static boolean isClientGone(Throwable error) {
    if (error instanceof ClosedChannelException) {
      return true;
    }
    if (!(error instanceof IOException)) {
      return false;
    }
    String message = String.valueOf(error.getMessage());
    return message.contains("Connection reset") || message.contains("Broken pipe");
  }
}

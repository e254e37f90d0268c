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
}

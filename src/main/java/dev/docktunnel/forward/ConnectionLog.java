package dev.docktunnel.forward;

import dev.docktunnel.bus.ActivityConnection.Event;

/** Receives each proxied connection's opening and closing; called from I/O threads. */
@FunctionalInterface
public interface ConnectionLog {
  /**
   * @param event opened or closed
   * @param peer the local client's address
   * @param bytesIn bytes from the remote service to the client so far
   * @param bytesOut bytes from the client to the remote service so far
   */
  void connection(Event event, String peer, long bytesIn, long bytesOut);
}

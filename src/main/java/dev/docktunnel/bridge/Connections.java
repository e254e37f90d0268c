package dev.docktunnel.bridge;

import io.netty.channel.ChannelHandlerContext;
import io.vertx.core.net.impl.ConnectionBase;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes a Vert.x connection at once. Vert.x's own {@code close()} queues the close behind the
 * pending writes, so against a peer that never reads it never happens and the queue stays in
 * memory; only a Netty close below Vert.x's handler discards them. The channel is reached through
 * Vert.x's {@code ConnectionBase} (an implementation class: NetSocket and the HTTP
 * connection of a WebSocket both are one); if a Vert.x upgrade changes that, the graceful close is
 * the fallback, with a WARN.
 */
final class Connections {
  private static final Logger LOG = LoggerFactory.getLogger(Connections.class);

  private Connections() {
  }

  /** Closes {@code connection} (a NetSocket or an HttpConnection) now, discarding unsent data. */
  static void abort(Object connection, Runnable gracefulClose, String name) {
    if (connection instanceof ConnectionBase base) {
      // From the first handler's context the close goes straight to the transport, past Vert.x's
      // handler that would queue it behind the pending writes (channel().close() passes through
      // it). The channel is the one the WebSocket was upgraded on, whatever handlers it has now.
      ChannelHandlerContext first = base.channel().pipeline().firstContext();
      if (first != null) {
        first.close();
      } else {
        base.channel().close();
      }
    } else {
      LOG.warn("event bridge: cannot abort {} ({}); closing it gracefully, which waits for its queue",
          name, connection == null ? "no connection" : connection.getClass().getName());
      gracefulClose.run();
    }
  }
}

package dev.docktunnel.forward;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;

/**
 * Watches one proxied connection's bytes as they pass, and may hold back the stream to the
 * client (the local Docker socket reads HTTP requests and holds a container start's answer
 * until its forwards are up). It never changes a byte. Every call is on the connection's
 * event loop.
 */
public interface ConnectionTap {

  /** Makes one tap per accepted connection. */
  @FunctionalInterface
  interface Factory {
    /**
     * @param local the accepted connection
     * @param limitRaised to call (on {@code local}'s loop) when {@link #clientLimit()} grew
     */
    ConnectionTap open(Channel local, Runnable limitRaised);
  }

  /** Forwards watch nothing. */
  Factory NONE = (local, limitRaised) -> new ConnectionTap() {
  };

  /** Bytes read from the client, on their way to the remote; the buffer's indexes must stay. */
  default void fromClient(ByteBuf bytes) {
  }

  /** Bytes from the remote, in order, each once, before any of them is written to the client. */
  default void fromRemote(ByteBuf bytes) {
  }

  /**
   * How many bytes of the remote's stream, counted from the connection's start, may be written
   * to the client now; {@link Long#MAX_VALUE} when nothing is held.
   */
  default long clientLimit() {
    return Long.MAX_VALUE;
  }

  /**
   * The connection is refused before the remote was reached (the server did not start, no SSH
   * session came, the channel was refused): what to send the client instead of a reset, which is
   * then closed, or null for the reset. {@code why} is for a person: "starting server failed: ...".
   */
  default ByteBuf refusal(ByteBufAllocator alloc, String why) {
    return null;
  }

  /** The connection ended (after its last bytes were passed on, or not). */
  default void closed() {
  }
}

package dev.docktunnel.docker;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;

/**
 * One byte stream to the engine's API socket, used for exactly one HTTP exchange. Futures
 * complete on the context that opened the connection, never synchronously inside the call
 * (so read loops cannot grow the stack).
 */
interface EngineConnection {

  /** Writes bytes; completes once they were handed to the transport. */
  Future<Void> write(Buffer data);

  /**
   * The next bytes from the engine, at most one read outstanding at a time; completes with
   * {@code null} at end of stream.
   */
  Future<Buffer> read();

  /** Closes the stream; idempotent, never fails. */
  Future<Void> close();
}

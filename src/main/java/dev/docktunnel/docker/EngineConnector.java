package dev.docktunnel.docker;

import io.vertx.core.Future;

/** Opens {@link EngineConnection}s; the seam between the HTTP layer and the transport. */
interface EngineConnector {

  /** A new connection; completes on the caller's context. */
  Future<EngineConnection> connect();

  /** Where connections go, for messages (e.g. {@code unix:/var/run/docker.sock over SSH}). */
  String describe();
}

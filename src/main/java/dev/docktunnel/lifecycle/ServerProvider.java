package dev.docktunnel.lifecycle;

import io.vertx.core.Future;

/**
 * Whatever can tell whether the remote server is there, and start, stop or delete it: the
 * lifecycle verticle's one view of a cloud API or of the user's scripts. Every call is bounded in
 * time by the provider (a call never leaves its future pending forever) and fails with a message
 * that names what went wrong ({@link ProviderException}); blocking work runs off the event loop.
 * The caller serializes the actions (one start or stop at a time); a {@link #status()} may run
 * beside them.
 */
public interface ServerProvider {

  /** The provider's config name: {@code static}, {@code command}, {@code hetzner}. */
  String name();

  /** Whether the server runs now. */
  Future<ServerStatus> status();

  /**
   * Starts the server (or creates it) and completes once the provider says it runs; the SSH
   * session may still need a moment. The result may carry a new address for the session.
   */
  Future<StartResult> start();

  /** Stops the server, keeping it (a stopped machine may still be billed). */
  Future<Void> stop();

  /** Deletes the server, or does what the provider documents instead (e.g. a stop). */
  Future<Void> destroy();
}

package dev.docktunnel.lifecycle;

import io.vertx.core.Future;

/**
 * What the lifecycle needs from the place the remote server lives: find out whether it is there,
 * bring it up, put it away. Every call is bounded by a timeout; output and failures are logged by
 * the provider (never secrets).
 */
public interface ServerProvider {

  /** {@code static}, {@code command} or {@code hetzner}. */
  String name();

  /** Whether the server is running, stopped or gone, with a one-line detail. */
  Future<ServerStatus> status();

  /** Brings the server up; the result may carry a new address (host[:port]). */
  Future<StartResult> start();

  /** Puts the server away for an idle period (it can be started again). */
  Future<Void> stop();

  /** Removes the server for good. */
  Future<Void> destroy();
}

package dev.docktunnel.lifecycle;

import io.vertx.core.Future;

/**
 * The server is always there (a box under the desk, a server someone else runs): the lifecycle
 * only reports idleness and the countdown. {@link #status()} is always running; start, stop and
 * destroy succeed at once and do nothing, so a person's {@code docktunnel server stop} changes
 * nothing on the server.
 */
public final class StaticProvider implements ServerProvider {

  /** The {@code lifecycle.provider} value. */
  public static final String NAME = "static";

  private static final ServerStatus ALWAYS = ServerStatus.running("static provider: the server is always there");

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Future<ServerStatus> status() {
    return Future.succeededFuture(ALWAYS);
  }

  @Override
  public Future<StartResult> start() {
    return Future.succeededFuture(StartResult.unchanged());
  }

  @Override
  public Future<Void> stop() {
    return Future.succeededFuture();
  }

  @Override
  public Future<Void> destroy() {
    return Future.succeededFuture();
  }
}

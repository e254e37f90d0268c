package dev.docktunnel.forward;

import io.vertx.core.Future;
import java.time.Duration;

/**
 * The server's door for local connections: a connection {@link #enter enters} when it arrives; if
 * the server is stopping or stopped it cannot, {@link #wake asks} for the server to be started and
 * waits for it, at most {@link #timeout}. The lifecycle implements it; a proxy without a lifecycle
 * (tests, tools) uses {@link #ALWAYS_RUNNING}. Any thread.
 */
public interface WakeOnDemand {

  /** A server that is always there: every connection enters. */
  WakeOnDemand ALWAYS_RUNNING = new WakeOnDemand() {
    @Override
    public boolean enter() {
      return true;
    }

    @Override
    public Future<Void> wake(String why) {
      return Future.succeededFuture();
    }

    @Override
    public Duration timeout() {
      return Duration.ofSeconds(1);
    }
  };

  /**
   * Counts a new connection as activity the lifecycle must see before it may stop the server;
   * false when the server is stopping, stopped or not known to run (the caller wakes it).
   * Called after the connection's opening fact is published, so that fact is always ahead of
   * any stop decision that counted this entry.
   */
  boolean enter();

  /**
   * Asks for the server to be started for {@code why} ("a connection to 127.0.0.1:8080"):
   * completes once it runs (the SSH session may still be on its way), fails with why it will not
   * (the provider's start failed). The caller bounds its wait by {@link #timeout}.
   */
  Future<Void> wake(String why);

  /** {@code lifecycle.wakeTimeout}: how long a connection waits for a stopped server. */
  Duration timeout();
}

package dev.docktunnel.lifecycle;

import dev.docktunnel.activity.ActivityGate;
import dev.docktunnel.bus.Addresses;
import dev.docktunnel.forward.WakeOnDemand;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.Objects;

/**
 * The lifecycle's side of {@link WakeOnDemand}: entering is the {@link ActivityGate}; a wake is a
 * {@link Addresses#LIFECYCLE_WAKE} request, answered by the {@link LifecycleVerticle} once the
 * server runs, or failed with why it will not start. Any thread.
 */
public final class LifecycleWake implements WakeOnDemand {
  /** The bus gives up a little after the connection's own timer, so the timer's message is the one seen. */
  private static final long BUS_MARGIN_MS = 1_000;

  private final Vertx vertx;
  private final ActivityGate gate;
  private final Duration timeout;

  /** @param timeout {@code lifecycle.wakeTimeout} */
  public LifecycleWake(Vertx vertx, ActivityGate gate, Duration timeout) {
    this.vertx = Objects.requireNonNull(vertx, "vertx");
    this.gate = Objects.requireNonNull(gate, "gate");
    this.timeout = Objects.requireNonNull(timeout, "timeout");
  }

  @Override
  public boolean enter() {
    return gate.enter();
  }

  @Override
  public Future<Void> wake(String why) {
    return vertx.eventBus().request(Addresses.LIFECYCLE_WAKE, new JsonObject().put("why", why),
        new DeliveryOptions().setSendTimeout(timeout.toMillis() + BUS_MARGIN_MS)).mapEmpty();
  }

  @Override
  public Duration timeout() {
    return timeout;
  }
}

package dev.docktunnel.metrics;

import dev.docktunnel.bus.ActivityBytes;
import dev.docktunnel.bus.ActivityConnection;
import dev.docktunnel.bus.ActivityState;
import dev.docktunnel.bus.Addresses;
import dev.docktunnel.bus.ContainersSynced;
import dev.docktunnel.bus.ContainersUnsynced;
import dev.docktunnel.bus.DockerSocketStatus;
import dev.docktunnel.bus.ForwardStatus;
import dev.docktunnel.bus.LifecycleState;
import dev.docktunnel.bus.LifecycleStatus;
import dev.docktunnel.bus.SessionState;
import io.micrometer.core.instrument.Counter;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.json.JsonObject;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Feeds {@link TunnelMeters} from the facts, read through their records. Deployed before the
 * verticles that publish them, so it sees the first ones. A fact that does not read is a WARN
 * naming the field and counts in {@code docktunnel_metrics_unreadable_facts_total}. The registry
 * lives as long as this verticle: its stop closes {@link DocktunnelMetrics} (the GC listener).
 */
public final class MetricsVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(MetricsVerticle.class);

  private final TunnelMeters meters;
  private final DocktunnelMetrics metrics;
  private final Counter unreadable;

  public MetricsVerticle(TunnelMeters meters, DocktunnelMetrics metrics) {
    this.meters = meters;
    this.metrics = metrics;
    this.unreadable = Counter.builder("docktunnel.metrics.unreadable.facts")
        .description("Facts the metrics could not read (each also a WARN)").register(metrics.registry());
  }

  @Override
  public Future<?> start() {
    EventBus bus = vertx.eventBus();
    return Future.all(
        on(bus, Addresses.FORWARD_STATUS, ForwardStatus::fromJson, meters::onForwardStatus),
        on(bus, Addresses.ACTIVITY_BYTES, ActivityBytes::fromJson, meters::onBytes),
        on(bus, Addresses.ACTIVITY_CONNECTION, ActivityConnection::fromJson, meters::onConnection),
        on(bus, Addresses.SSH_STATE, SessionState::fromJson, meters::onSession),
        on(bus, Addresses.CONTAINERS_SYNCED, ContainersSynced::fromJson, meters::onSynced),
        on(bus, Addresses.CONTAINERS_UNSYNCED, ContainersUnsynced::fromJson, meters::onUnsynced),
        on(bus, Addresses.DOCKER_SOCKET, DockerSocketStatus::fromJson, meters::onDockerSocket),
        on(bus, Addresses.LIFECYCLE, MetricsVerticle::lifecycle, meters::onLifecycle),
        on(bus, Addresses.ACTIVITY_STATE, ActivityState::fromJson, meters::onActivityState));
  }

  /** A lifecycle fact, whose countdown must have its deadline: without one the countdown meter would lie. */
  static LifecycleStatus lifecycle(JsonObject json) {
    LifecycleStatus fact = LifecycleStatus.fromJson(json);
    if (fact.state() == LifecycleState.IDLE_WARNING && fact.stopAt() == null) {
      throw new IllegalArgumentException("lifecycle fact: stopAt is missing, expected the countdown's deadline while "
          + LifecycleState.IDLE_WARNING.text());
    }
    return fact;
  }

  @Override
  public Future<?> stop() {
    metrics.close();
    return Future.succeededFuture();
  }

  private <T> Future<Void> on(EventBus bus, String address, Function<JsonObject, T> read, Consumer<T> apply) {
    return bus.<Object>consumer(address, message -> {
      T fact;
      try {
        if (!(message.body() instanceof JsonObject json)) {
          throw new IllegalArgumentException("not a JSON object");
        }
        fact = read.apply(json);
      } catch (IllegalArgumentException e) {
        unreadable.increment();
        LOG.warn("metrics: unreadable fact on {}: {}", address, e.getMessage());
        return;
      }
      apply.accept(fact);
    }).completion();
  }
}

package dev.docktunnel.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docktunnel.bus.ActivityReason;
import dev.docktunnel.bus.ActivityState;
import dev.docktunnel.bus.Addresses;
import dev.docktunnel.bus.Facts;
import dev.docktunnel.bus.LifecycleState;
import dev.docktunnel.bus.LifecycleStatus;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The metrics verticle driven through the bus: the lifecycle and activity-state facts in, meters out. */
@ExtendWith(VertxExtension.class)
class MetricsVerticleTest {
  static final Instant T0 = Instant.parse("2026-12-01T10:00:00Z");

  final DocktunnelMetrics metrics = DocktunnelMetrics.create();
  final MeterRegistry registry = metrics.registry();
  Vertx vertx;

  @BeforeEach
  void deploy(Vertx vertx) throws Exception {
    this.vertx = vertx;
    // The verticle's stop closes the registry, when the extension closes Vert.x.
    vertx.deployVerticle(new MetricsVerticle(new TunnelMeters(registry, Clock.fixed(T0, ZoneOffset.UTC)), metrics))
        .await(10, TimeUnit.SECONDS);
  }

  double gauge(String name, String... tags) {
    return registry.get(name).tags(tags).gauge().value();
  }

  double unreadable() {
    return registry.get("docktunnel.metrics.unreadable.facts").counter().count();
  }

  /** The meters change on the verticle's context: poll, with a deadline. */
  static void await(BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean()) {
      assertTrue(System.nanoTime() < deadline, "not within 10 s: " + what);
      Thread.sleep(10);
    }
  }

  static LifecycleStatus lifecycle(LifecycleState state, Instant stopAt) {
    return new LifecycleStatus(state, "command", "because", T0, stopAt, null, 1_800_000, 60_000, T0);
  }

  @Test
  void lifecycleAndActivityFactsMoveTheirMeters() throws Exception {
    Facts.publish(vertx.eventBus(), Addresses.LIFECYCLE, lifecycle(LifecycleState.IDLE_WARNING, T0.plusSeconds(45)));
    Facts.publish(vertx.eventBus(), Addresses.ACTIVITY_STATE, new ActivityState(false, T0, 0, 1_800_000, 3,
        List.of(new ActivityReason(ActivityReason.Source.DOCKER_STREAM, true, null, "web", null, "GET logs open", T0,
            0)), 1, 2, T0, 0));
    await(() -> gauge("docktunnel.lifecycle.state", "state", "idle-warning") == 1, "idle-warning");
    assertEquals(45, gauge("docktunnel.lifecycle.stop.countdown"));
    assertEquals(1, gauge("docktunnel.lifecycle.info", "provider", "command"));
    assertEquals(1, registry.get("docktunnel.lifecycle.transitions").tags("state", "idle-warning").counter().count());
    await(() -> gauge("docktunnel.activity.reasons", "source", "docker-stream") == 1, "the ledger's reason");
    assertEquals(0, gauge("docktunnel.activity.idle"));
    assertEquals(2, registry.get("docktunnel.activity.unmatched.ends").functionCounter().count());
    assertEquals(0, unreadable());
  }

  /** Each is a WARN and counted, and changes nothing; the facts after them still apply. */
  @Test
  void malformedFactsAreCountedAndChangeNothing() throws Exception {
    JsonObject good = lifecycle(LifecycleState.RUNNING, null).toJson();
    vertx.eventBus().publish(Addresses.LIFECYCLE, good.copy().put("state", "asleep"));
    vertx.eventBus().publish(Addresses.LIFECYCLE, lifecycle(LifecycleState.IDLE_WARNING, null).toJson());
    vertx.eventBus().publish(Addresses.LIFECYCLE, "running");
    JsonObject picture = new ActivityState(true, T0, 1_800_000, 1_800_000, 3, List.of(), 0, 0, T0, 0).toJson();
    vertx.eventBus().publish(Addresses.ACTIVITY_STATE, picture.copy().put("reasons", "none"));
    vertx.eventBus().publish(Addresses.ACTIVITY_STATE, picture.copy().put("reasons", new JsonArray().add(
        new ActivityReason(ActivityReason.Source.FORWARD_BYTES, false, null, null, null, "x", T0, 0).toJson()
            .put("source", "ssh-keepalive"))));
    await(() -> unreadable() == 5, "5 unreadable facts, now " + unreadable());
    assertEquals(1, gauge("docktunnel.lifecycle.state", "state", "unknown"), "no state applied");
    assertEquals(0, registry.get("docktunnel.lifecycle.transitions").tags("state", "idle-warning").counter().count());
    assertEquals(0, gauge("docktunnel.activity.idle"), "no picture applied");

    vertx.eventBus().publish(Addresses.LIFECYCLE, good);
    vertx.eventBus().publish(Addresses.ACTIVITY_STATE, picture);
    await(() -> gauge("docktunnel.lifecycle.state", "state", "running") == 1, "the good fact after them");
    await(() -> gauge("docktunnel.activity.idle") == 1, "the good picture after them");
    assertEquals(5, unreadable());
  }
}

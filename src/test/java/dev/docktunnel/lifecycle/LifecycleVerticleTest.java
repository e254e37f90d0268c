package dev.docktunnel.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docktunnel.activity.ActivityGate;
import dev.docktunnel.activity.ActivityVerticle;
import dev.docktunnel.bus.Addresses;
import dev.docktunnel.bus.DockerActivity;
import dev.docktunnel.bus.FactRecorder;
import dev.docktunnel.bus.Facts;
import dev.docktunnel.config.DocktunnelConfig;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The lifecycle verticle with the real activity verticle and the static provider, driven through
 * the bus: the provider's status makes it running, idleness starts the countdown, activity
 * cancels it, the static provider leaves the server running when it ends, extend pushes it, a
 * person's stop is refused for static, and status answers.
 */
class LifecycleVerticleTest {
  static final Duration WAIT = Duration.ofSeconds(10);

  Vertx vertx;
  FactRecorder lifecycle;

  @BeforeEach
  void setUp() throws Exception {
    vertx = Vertx.vertx();
    lifecycle = FactRecorder.on(vertx, Addresses.LIFECYCLE);
    DocktunnelConfig.Lifecycle config = new DocktunnelConfig.Lifecycle("static", Duration.ofMillis(500),
        Duration.ofMillis(2000), Duration.ofHours(2), Duration.ofSeconds(120), DocktunnelConfig.Command.NONE,
        DocktunnelConfig.Hetzner.DEFAULT);
    vertx.deployVerticle(new ActivityVerticle(Clock.systemUTC(), config.connectionTimeout(), config.idleTimeout()))
        .await(10, TimeUnit.SECONDS);
    vertx.deployVerticle(new LifecycleVerticle(config, new StaticProvider(), new ActivityGate(), Clock.systemUTC()))
        .await(10, TimeUnit.SECONDS);
  }

  @AfterEach
  void tearDown() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  JsonObject await(String state) throws InterruptedException {
    return lifecycle.await(f -> state.equals(f.getString("state")), WAIT);
  }

  @Test
  void idlenessCountsDownActivityCancelsAndTheStaticProviderLeavesTheServerRunning() throws Exception {
    await("running");
    JsonObject warning = await("idle-warning");
    assertNotNull(warning.getString("stopAt"), warning.encode());
    int seen = lifecycle.facts().size();
    Facts.publish(vertx.eventBus(), Addresses.ACTIVITY_DOCKER, new DockerActivity(DockerActivity.Event.REQUEST,
        "c1", "GET", "/containers/json", null, Instant.now()));
    JsonObject cancelled = lifecycle.await(f -> lifecycle.facts().indexOf(f) >= seen
        && "running".equals(f.getString("state")), WAIT);
    assertTrue(cancelled.getString("reason").contains("activity"), cancelled.encode());
    // Idle again: this time the countdown runs out, and the static provider stops nothing.
    int later = lifecycle.facts().size();
    lifecycle.await(f -> lifecycle.facts().indexOf(f) >= later && "idle-warning".equals(f.getString("state")), WAIT);
    JsonObject leftRunning = lifecycle.await(f -> lifecycle.facts().indexOf(f) > later
        && "running".equals(f.getString("state")), WAIT);
    assertTrue(leftRunning.getString("reason").contains("static"), leftRunning.encode());
  }

  @Test
  void extendStatusAndAStaticStopAreAnsweredOverTheBus() throws Exception {
    await("running");
    JsonObject extended = vertx.eventBus().<JsonObject>request(Addresses.LIFECYCLE_EXTEND,
        new JsonObject().put("durationMs", 60_000)).await(10, TimeUnit.SECONDS).body();
    assertEquals("static", extended.getString("provider"));
    JsonObject status = vertx.eventBus().<JsonObject>request(Addresses.LIFECYCLE_SERVER,
        new JsonObject().put("action", "status")).await(10, TimeUnit.SECONDS).body();
    assertEquals("running", status.getString("state"), "extended by a minute: no countdown yet");
    ReplyException refused = (ReplyException) assertThrows(Exception.class,
        () -> vertx.eventBus().request(Addresses.LIFECYCLE_SERVER, new JsonObject().put("action", "stop"))
            .await(10, TimeUnit.SECONDS));
    assertEquals(409, refused.failureCode(), refused.getMessage());
    ReplyException bad = (ReplyException) assertThrows(Exception.class,
        () -> vertx.eventBus().request(Addresses.LIFECYCLE_EXTEND, new JsonObject().put("durationMs", -5))
            .await(10, TimeUnit.SECONDS));
    assertEquals(400, bad.failureCode());
  }
}

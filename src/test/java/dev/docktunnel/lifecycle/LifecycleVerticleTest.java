package dev.docktunnel.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docktunnel.activity.ActivityGate;
import dev.docktunnel.activity.ActivityVerticle;
import dev.docktunnel.bus.Addresses;
import dev.docktunnel.bus.DockerActivity;
import dev.docktunnel.bus.FactRecorder;
import dev.docktunnel.bus.Facts;
import dev.docktunnel.config.DocktunnelConfig;
import dev.docktunnel.state.HostState;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The lifecycle verticle with the real activity verticle, driven through the bus. With the static
 * provider: the provider's status makes it running, idleness starts the countdown, activity
 * cancels it, the static provider leaves the server running when it ends, extend pushes it, a
 * person's stop is refused, and status answers. With a provider the test answers, wake on demand:
 * the gate is closed until the provider says the server runs, a wake starts a stopped server and
 * is answered once it runs (at the address the start gave), a failed start fails every held wake
 * with its error and the next wakes at once for a moment, an idle stop suspends the session and
 * closes the gate, and a wake during a stop starts the server right after it.
 */
class LifecycleVerticleTest {
  static final Duration WAIT = Duration.ofSeconds(10);

  Vertx vertx = Vertx.vertx();
  FactRecorder lifecycle = FactRecorder.on(vertx, Addresses.LIFECYCLE);
  ActivityGate gate = new ActivityGate();
  AnsweredProvider provider = new AnsweredProvider();
  LifecycleWake wake;
  /** When the SSH session was asked to suspend (the stop's first step), in nanoTime; 0 before. */
  volatile long suspendAsked;

  /** The activity verticle and the lifecycle verticle for {@code provider}, with a stand-in SSH session. */
  void deploy(ServerProvider server, Duration idleTimeout, Duration gracePeriod) throws Exception {
    deploy(server, idleTimeout, gracePeriod, Optional.empty());
  }

  /** As above, with the last run's lifecycle from a state file. */
  void deploy(ServerProvider server, Duration idleTimeout, Duration gracePeriod, Optional<HostState.Server> lastRun)
      throws Exception {
    vertx.eventBus().<JsonObject>consumer(Addresses.SSH_SUSPEND, m -> {
      suspendAsked = System.nanoTime();
      m.reply(new JsonObject().put("state", "suspended"));
    }).completion().await(10, TimeUnit.SECONDS);
    DocktunnelConfig.Lifecycle config = new DocktunnelConfig.Lifecycle(server.name(), idleTimeout, gracePeriod,
        Duration.ofHours(2), Duration.ofSeconds(5), DocktunnelConfig.Command.NONE, DocktunnelConfig.Hetzner.DEFAULT);
    vertx.deployVerticle(new ActivityVerticle(Clock.systemUTC(), config.connectionTimeout(), config.idleTimeout()))
        .await(10, TimeUnit.SECONDS);
    vertx.deployVerticle(new LifecycleVerticle(config, server, gate, Clock.systemUTC(), lastRun))
        .await(10, TimeUnit.SECONDS);
    wake = new LifecycleWake(vertx, gate, config.wakeTimeout());
  }

  @AfterEach
  void tearDown() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  /** A provider whose every call waits for the test's answer. */
  static final class AnsweredProvider implements ServerProvider {
    final BlockingQueue<Promise<ServerStatus>> statuses = new LinkedBlockingQueue<>();
    final BlockingQueue<Promise<StartResult>> starts = new LinkedBlockingQueue<>();
    final BlockingQueue<Promise<Void>> stops = new LinkedBlockingQueue<>();

    @Override
    public String name() {
      return "command";
    }

    @Override
    public Future<ServerStatus> status() {
      return add(statuses);
    }

    @Override
    public Future<StartResult> start() {
      return add(starts);
    }

    @Override
    public Future<Void> stop() {
      return add(stops);
    }

    @Override
    public Future<Void> destroy() {
      return stop();
    }

    private static <T> Future<T> add(BlockingQueue<Promise<T>> queue) {
      Promise<T> promise = Promise.promise();
      queue.add(promise);
      return promise.future();
    }

    static <T> Promise<T> next(BlockingQueue<Promise<T>> queue, String what) throws InterruptedException {
      Promise<T> promise = queue.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
      if (promise == null) {
        throw new AssertionError("the provider was not asked to " + what + " within " + WAIT);
      }
      return promise;
    }
  }

  JsonObject await(String state) throws InterruptedException {
    return lifecycle.await(f -> state.equals(f.getString("state")), WAIT);
  }

  @Test
  void idlenessCountsDownActivityCancelsAndTheStaticProviderLeavesTheServerRunning() throws Exception {
    deploy(new StaticProvider(), Duration.ofMillis(500), Duration.ofMillis(2000));
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
    deploy(new StaticProvider(), Duration.ofMillis(500), Duration.ofMillis(2000));
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

  /** Deploys with the last run's lifecycle ({@code provider}, {@code address}); the first fact, then the running one. */
  List<JsonObject> restartedWith(String lastProvider, String lastAddress) throws Exception {
    deploy(provider, Duration.ofHours(1), Duration.ofMillis(200), Optional.of(new HostState.Server("running",
        lastProvider, "started", Instant.parse("2026-12-01T10:00:00Z"), null, lastAddress)));
    JsonObject first = await("unknown");
    AnsweredProvider.next(provider.statuses, "report the status").complete(ServerStatus.running("Running"));
    return List.of(first, await("running"));
  }

  @Test
  void theLastRunsStartAddressIsWhereTheSessionGoesAfterARestart() throws Exception {
    List<JsonObject> facts = restartedWith("command", "203.0.113.9:2222");
    assertEquals("203.0.113.9:2222", facts.get(0).getString("address"), "the first fact already says it");
    assertEquals("203.0.113.9:2222", facts.get(1).getString("address"), facts.get(1).encode());
  }

  @Test
  void aStateFileAddressThatDoesNotReadIsNotUsed() throws Exception {
    JsonObject running = restartedWith("command", "box:not-a-port").get(1);
    assertNull(running.getValue("address"), running.encode());
  }

  @Test
  void anAddressFromAnotherProviderIsNotUsed() throws Exception {
    JsonObject running = restartedWith("hetzner", "203.0.113.9").get(1);
    assertNull(running.getValue("address"), running.encode());
  }

  @Test
  void aWakeStartsAStoppedServerAndIsAnsweredOnceItRunsAtItsNewAddress() throws Exception {
    deploy(provider, Duration.ofHours(1), Duration.ofMillis(200));
    assertFalse(wake.enter(), "until the provider says the server runs, connections wake it");
    AnsweredProvider.next(provider.statuses, "report the status").complete(ServerStatus.stopped("Stopped"));
    await("stopped");
    assertFalse(wake.enter());
    Future<Void> woken = wake.wake("a connection to 127.0.0.1:8080");
    Future<Void> second = wake.wake("a Docker API connection");
    Promise<StartResult> start = AnsweredProvider.next(provider.starts, "start");
    JsonObject starting = await("starting");
    assertTrue(starting.getString("reason").contains("127.0.0.1:8080"), starting.encode());
    assertFalse(woken.isComplete(), "held until the server runs");
    start.complete(StartResult.at(ServerAddress.parse("203.0.113.9:2222")));
    woken.await(10, TimeUnit.SECONDS);
    second.await(10, TimeUnit.SECONDS);
    JsonObject running = await("running");
    assertEquals("203.0.113.9:2222", running.getString("address"), running.encode());
    assertTrue(wake.enter(), "the gate is open while the server runs");
    assertTrue(provider.starts.isEmpty(), "one start for both wakes");
  }

  @Test
  void aFailedStartFailsTheHeldWakesWithItsErrorAndTheNextOnesAtOnce() throws Exception {
    deploy(provider, Duration.ofHours(1), Duration.ofMillis(200));
    AnsweredProvider.next(provider.statuses, "report the status").complete(ServerStatus.stopped("Stopped"));
    await("stopped");
    Future<Void> held = wake.wake("a Docker API connection");
    AnsweredProvider.next(provider.starts, "start").fail(new ProviderException("start exited 3: no capacity"));
    ReplyException failed = replyFailure(held);
    assertEquals(503, failed.failureCode());
    assertEquals("start exited 3: no capacity", failed.getMessage());
    await("failed");
    assertFalse(wake.enter());
    // The docker CLI's second ping comes at once: it gets the error, not a second start.
    ReplyException again = replyFailure(wake.wake("a Docker API connection"));
    assertEquals("start exited 3: no capacity", again.getMessage());
    assertNull(provider.starts.poll(300, TimeUnit.MILLISECONDS), "no second start right after a failure");
    // A person's start always tries again.
    vertx.eventBus().request(Addresses.LIFECYCLE_SERVER, new JsonObject().put("action", "start"))
        .await(10, TimeUnit.SECONDS);
    AnsweredProvider.next(provider.starts, "start again").complete(StartResult.unchanged());
    await("running");
    assertTrue(wake.enter());
  }

  @Test
  void anIdleStopClosesTheGateAndAWakeDuringTheStopStartsRightAfterIt() throws Exception {
    deploy(provider, Duration.ofMillis(300), Duration.ofMillis(200));
    AnsweredProvider.next(provider.statuses, "report the status").complete(ServerStatus.running("Running"));
    await("running");
    assertTrue(wake.enter());
    await("idle-warning");
    Promise<Void> stop = AnsweredProvider.next(provider.stops, "stop");
    assertTrue(suspendAsked != 0, "the session is suspended before the provider stops the server");
    await("stopping");
    assertFalse(wake.enter(), "no connection enters once the stop is decided and checked");
    Future<Void> woken = wake.wake("a connection to 127.0.0.1:8080");
    stop.complete();
    Promise<StartResult> start = AnsweredProvider.next(provider.starts, "start after the stop");
    assertFalse(woken.isComplete());
    start.complete(StartResult.unchanged());
    woken.await(10, TimeUnit.SECONDS);
    assertTrue(wake.enter());
  }

  private static ReplyException replyFailure(Future<Void> wake) {
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> wake.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS));
    return (ReplyException) e.getCause();
  }
}

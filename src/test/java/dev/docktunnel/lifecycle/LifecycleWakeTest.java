package dev.docktunnel.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docktunnel.activity.ActivityGate;
import dev.docktunnel.activity.ActivityVerticle;
import dev.docktunnel.bus.Addresses;
import dev.docktunnel.bus.FactRecorder;
import dev.docktunnel.config.DocktunnelConfig;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Wake on demand through the lifecycle verticle with a provider the test answers: the gate is
 * closed until the provider says the server runs, a wake starts a stopped server and is answered
 * once it runs (at the address the start gave), a failed start fails every held wake with its
 * error and the next wakes at once for a moment, an idle stop closes the gate, and a wake during
 * a stop starts the server right after it.
 */
class LifecycleWakeTest {
  static final Duration WAIT = Duration.ofSeconds(10);

  Vertx vertx = Vertx.vertx();
  FactRecorder lifecycle = FactRecorder.on(vertx, Addresses.LIFECYCLE);
  ActivityGate gate = new ActivityGate();
  AnsweredProvider provider = new AnsweredProvider();
  LifecycleWake wake;

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

  /** When the SSH session was asked to suspend (the stop's first step), in nanoTime; 0 before. */
  volatile long suspendAsked;

  void deploy(Duration idleTimeout) throws Exception {
    vertx.eventBus().<JsonObject>consumer(Addresses.SSH_SUSPEND, m -> {
      suspendAsked = System.nanoTime();
      m.reply(new JsonObject().put("state", "suspended"));
    }).completion().await(10, TimeUnit.SECONDS);
    DocktunnelConfig.Lifecycle config = new DocktunnelConfig.Lifecycle("command", idleTimeout,
        Duration.ofMillis(200), Duration.ofHours(2), Duration.ofSeconds(5), DocktunnelConfig.Command.NONE,
        DocktunnelConfig.Hetzner.DEFAULT);
    vertx.deployVerticle(new ActivityVerticle(Clock.systemUTC(), config.connectionTimeout(), config.idleTimeout()))
        .await(10, TimeUnit.SECONDS);
    vertx.deployVerticle(new LifecycleVerticle(config, provider, gate, Clock.systemUTC()))
        .await(10, TimeUnit.SECONDS);
    wake = new LifecycleWake(vertx, gate, config.wakeTimeout());
  }

  @AfterEach
  void tearDown() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  JsonObject await(String state) throws InterruptedException {
    return lifecycle.await(f -> state.equals(f.getString("state")), WAIT);
  }

  @Test
  void aWakeStartsAStoppedServerAndIsAnsweredOnceItRunsAtItsNewAddress() throws Exception {
    deploy(Duration.ofHours(1));
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
    deploy(Duration.ofHours(1));
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
    deploy(Duration.ofMillis(300));
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

package dev.docktunnel.lifecycle;

import dev.docktunnel.activity.ActivityGate;
import dev.docktunnel.bus.ActivityReason;
import dev.docktunnel.bus.ActivityState;
import dev.docktunnel.bus.Addresses;
import dev.docktunnel.bus.Facts;
import dev.docktunnel.bus.LifecycleState;
import dev.docktunnel.bus.LifecycleStatus;
import dev.docktunnel.config.DocktunnelConfig;
import dev.docktunnel.state.HostState;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries out {@link IdlePolicy}'s decisions: asks the activity verticle for its picture (on
 * every {@code docktunnel.activity.state} change and at the policy's next check), calls the
 * provider, publishes every change as {@code docktunnel.lifecycle}, and answers
 * {@code docktunnel.lifecycle.extend} and {@code docktunnel.lifecycle.server}. The policy and its
 * timer are owned by this verticle's context; provider results hop back onto it.
 *
 * <p>An idle stop is carried out only if the ledger's activity count is still the one the policy
 * decided on and the {@link ActivityGate} closes on the entries seen before that check, so a
 * connection arriving meanwhile calls the stop off.
 */
public final class LifecycleVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(LifecycleVerticle.class);
  private static final long QUERY_TIMEOUT_MS = 5_000;

  private final DocktunnelConfig.Lifecycle config;
  private final ServerProvider provider;
  private final ActivityGate gate;
  private final Clock clock;
  /** The last run's lifecycle from the state file, read once at the start. */
  private final Optional<HostState.Server> lastRun;
  private IdlePolicy policy;
  private long timer = -1;
  /** The last activity picture, for a stop that could not ask for a fresh one. */
  private ActivitySnapshot lastSnapshot = ActivitySnapshot.NONE;
  private long providerFailures;
  /** Set by the undeploy: answers that no longer come are the stop's, not faults. */
  private boolean stopping;
  /** Wake requests of held connections, answered once the server runs or will not start. */
  private final List<Message<JsonObject>> pendingWakes = new ArrayList<>();

  /** A lifecycle with nothing kept from a last run. */
  public LifecycleVerticle(DocktunnelConfig.Lifecycle config, ServerProvider provider, ActivityGate gate,
      Clock clock) {
    this(config, provider, gate, clock, Optional.empty());
  }

  /**
   * @param lastRun the last run's lifecycle from the state file: its start's address is where the
   *     session goes until a start or a status says otherwise, if the provider is the same
   */
  public LifecycleVerticle(DocktunnelConfig.Lifecycle config, ServerProvider provider, ActivityGate gate,
      Clock clock, Optional<HostState.Server> lastRun) {
    this.config = Objects.requireNonNull(config, "config");
    this.provider = Objects.requireNonNull(provider, "provider");
    this.gate = Objects.requireNonNull(gate, "gate");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.lastRun = Objects.requireNonNull(lastRun, "lastRun");
  }

  @Override
  public Future<?> start() {
    policy = IdlePolicy.forConfig(config, clock.instant());
    lastRun.filter(last -> last.address() != null && !IdlePolicy.STATIC.equals(config.provider()))
        .ifPresent(last -> {
          if (!last.provider().equals(config.provider())) {
            LOG.info("lifecycle: the last run's server address {} came from the {} provider, not {}: not used",
                last.address(), last.provider(), config.provider());
            return;
          }
          try {
            policy.restoreAddress(ServerAddress.parse(last.address()).toString());
            LOG.info("lifecycle: the last run's start put the server at {}; the session goes there until a start "
                + "or the {} provider's status says otherwise", last.address(), config.provider());
          } catch (IllegalArgumentException e) {
            LOG.warn("lifecycle: the state file's server.address '{}' does not read ({}); the session goes to the "
                + "configured host until a start gives an address", last.address(), e.getMessage());
          }
        });
    if (!IdlePolicy.STATIC.equals(config.provider())) {
      // Until the provider says the server runs, a connection wakes it rather than waiting for a
      // session that may never come.
      gate.close();
    }
    var bus = vertx.eventBus();
    return Future.all(
            bus.<JsonObject>consumer(Addresses.LIFECYCLE_WAKE, this::onWake).completion(),
            bus.<JsonObject>consumer(Addresses.LIFECYCLE_EXTEND, this::onExtend).completion(),
            bus.<JsonObject>consumer(Addresses.LIFECYCLE_SERVER, this::onServer).completion(),
            bus.<JsonObject>consumer(Addresses.ACTIVITY_STATE, m -> evaluate()).completion())
        .onSuccess(v -> {
          publish(policy.status(clock.instant()));
          onContext(provider.status(), this::onProviderStatus);
        });
  }

  @Override
  public Future<?> stop() {
    stopping = true;
    cancelTimer();
    pendingWakes.forEach(m -> m.fail(503, "docktunnel is stopping"));
    pendingWakes.clear();
    return Future.succeededFuture();
  }

  // ---- inputs

  private void onProviderStatus(AsyncResult<ServerStatus> status) {
    Instant now = clock.instant();
    if (status.failed()) {
      carry(policy.providerStatusFailed(now, providerFailed("status", status.cause())));
      return;
    }
    ServerStatus s = status.result();
    carry(s.state() == ServerStatus.State.RUNNING
        ? policy.providerRunning(now, s.detail(), s.address().map(ServerAddress::toString).orElse(null))
        : policy.providerStopped(now, s.detail()));
    evaluate();
  }

  /** Asks for the activity picture and lets the policy judge it. */
  private void evaluate() {
    activity().onSuccess(snapshot -> carry(policy.evaluate(clock.instant(), snapshot)))
        .onFailure(e -> {
          if (stopping) {
            LOG.debug("lifecycle: no activity picture while docktunnel stops: {}", e.getMessage());
          } else {
            LOG.warn("lifecycle: the activity picture is not available ({}); asking again at the next check",
                e.getMessage());
          }
        });
  }

  /** A held connection asks for the server: answered when it runs, failed when it will not start. */
  private void onWake(Message<JsonObject> request) {
    String why = request.body() == null ? null : request.body().getString("why");
    if (why == null || why.isBlank()) {
      request.fail(400, "wake needs why, a text saying what arrived");
      return;
    }
    pendingWakes.add(request);
    carry(policy.wake(clock.instant(), why));
  }

  private void onExtend(Message<JsonObject> request) {
    Object ms = request.body() == null ? null : request.body().getValue("durationMs");
    if (ms != null && (!(ms instanceof Number n) || n.longValue() <= 0)) {
      request.fail(400, "extend needs durationMs above 0, not " + ms);
      return;
    }
    Duration by = ms == null ? config.idleTimeout() : Duration.ofMillis(((Number) ms).longValue());
    answer(request, policy.extend(clock.instant(), by));
  }

  private void onServer(Message<JsonObject> request) {
    String action = request.body() == null ? null : request.body().getString("action");
    Instant now = clock.instant();
    if ("status".equals(action)) {
      request.reply(policy.status(now).toJson());
    } else if ("start".equals(action)) {
      answer(request, policy.requestStart(now));
    } else if ("stop".equals(action)) {
      answer(request, policy.requestStop(now));
    } else {
      request.fail(400, "server needs action start, stop or status, not " + action);
    }
  }

  /** Carries out a command's decision and answers at once with the picture, or 409 with the refusal. */
  private void answer(Message<JsonObject> request, Decision decision) {
    carry(decision);
    if (decision.refused()) {
      request.fail(409, decision.refusal());
    } else {
      request.reply(decision.status().toJson());
    }
  }

  // ---- carrying decisions out

  private void carry(Decision decision) {
    if (decision.changed()) {
      publish(decision.status());
    }
    schedule(decision.nextCheck());
    openOrCloseGate();
    switch (decision.action()) {
      case START -> startServer();
      case STOP -> stopServer(decision);
      case FAIL_HELD -> failWakes();
      case WARN, CANCEL_WARNING, NONE -> {
        // published with the status
      }
    }
    if (policy.state() == LifecycleState.RUNNING || policy.state() == LifecycleState.IDLE_WARNING) {
      pendingWakes.forEach(m -> m.reply(new JsonObject()));
      pendingWakes.clear();
    }
  }

  /**
   * Connections enter while the server runs; from a stop's start (its own check closes the gate,
   * see {@link #stopServer}) until the server runs again, they wake it. Static: always open.
   */
  private void openOrCloseGate() {
    switch (policy.state()) {
      case RUNNING, IDLE_WARNING -> gate.open();
      case STARTING, STOPPED, FAILED -> gate.close();
      case UNKNOWN, STOPPING -> {
        // closed since the start (not static) or by the stop's check
      }
    }
  }

  private void failWakes() {
    String error = policy.startError() == null ? policy.status(clock.instant()).reason() : policy.startError();
    if (!pendingWakes.isEmpty()) {
      LOG.warn("lifecycle: {} held connection(s) get no server: {}", pendingWakes.size(), error);
    }
    pendingWakes.forEach(m -> m.fail(503, error));
    pendingWakes.clear();
  }

  private void startServer() {
    onContext(provider.start(), started -> {
      Instant now = clock.instant();
      if (started.succeeded()) {
        carry(policy.started(now, started.result().address().map(ServerAddress::toString).orElse(null)));
      } else {
        carry(policy.startFailed(now, providerFailed("start", started.cause())));
      }
    });
  }

  /**
   * An idle stop goes ahead only if nothing happened since the decision: the ledger's count is
   * unchanged and the gate closes on the entries seen before asking; a person's stop always.
   */
  private void stopServer(Decision decision) {
    long entries = gate.entries();
    activity().onComplete(asked -> {
      Instant now = clock.instant();
      ActivitySnapshot snapshot = asked.succeeded() ? asked.result() : lastSnapshot;
      boolean idleStop = decision.stopIfActivityCount() != null;
      if (idleStop && (asked.failed() || !decision.stopStillValid(snapshot.activityCount())
          || !gate.closeIfNoEntrySince(entries))) {
        LOG.info("lifecycle: idle stop called off: {}", asked.failed() ? "the activity picture is not available"
            : "activity since the decision");
        carry(policy.stopAborted(now, snapshot));
        return;
      }
      if (!idleStop) {
        gate.close(); // a person's stop: whatever enters from now on waits for the next start
      }
      // The session goes first, so that nothing reads the stop taking it as a fault.
      suspendSession().onComplete(v -> onContext(provider.stop(), stopped -> {
        if (stopped.succeeded()) {
          carry(policy.stopped(clock.instant()));
        } else {
          carry(policy.stopFailed(clock.instant(), providerFailed("stop", stopped.cause())));
        }
      }));
    });
  }

  /** Asks the SSH session to suspend; a failure is a WARN and the stop goes on. */
  private Future<Void> suspendSession() {
    return vertx.eventBus().request(Addresses.SSH_SUSPEND, new JsonObject(),
            new DeliveryOptions().setSendTimeout(QUERY_TIMEOUT_MS))
        .<Void>mapEmpty()
        .recover(e -> {
          LOG.warn("lifecycle: the SSH session did not suspend before the stop ({}); its loss may be reported",
              e.getMessage());
          return Future.succeededFuture();
        });
  }

  /** A provider's result, handled on this verticle's context whichever thread completed it. */
  private <T> void onContext(Future<T> result, Handler<AsyncResult<T>> handler) {
    result.onComplete(done -> context.runOnContext(v -> handler.handle(done)));
  }

  private Future<ActivitySnapshot> activity() {
    return vertx.eventBus().<JsonObject>request(Addresses.ACTIVITY_QUERY, new JsonObject(),
            new DeliveryOptions().setSendTimeout(QUERY_TIMEOUT_MS))
        .map(reply -> {
          ActivityState state = ActivityState.fromJson(reply.body());
          String detail = state.reasons().isEmpty() ? null : state.reasons().get(0).detail();
          lastSnapshot = new ActivitySnapshot(state.lastActivityAt(),
              state.reasons().stream().anyMatch(ActivityReason::open), state.activityCount(), detail);
          return lastSnapshot;
        });
  }

  private void schedule(Instant next) {
    cancelTimer();
    if (next != null) {
      long delay = Math.max(1, Duration.between(clock.instant(), next).toMillis());
      timer = vertx.setTimer(delay, id -> {
        timer = -1;
        evaluate();
      });
    }
  }

  private void cancelTimer() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
      timer = -1;
    }
  }

  private String providerFailed(String call, Throwable cause) {
    providerFailures++;
    String message = cause.getMessage() == null ? cause.toString() : cause.getMessage();
    LOG.warn("lifecycle: the {} provider's {} failed ({} provider failure(s) so far): {}", provider.name(), call,
        providerFailures, message);
    return message;
  }

  private void publish(LifecycleStatus status) {
    LOG.info("lifecycle: {}{}{}", status.state().text(), status.reason() == null ? "" : ": " + status.reason(),
        status.stopAt() == null ? "" : " (stops at " + status.stopAt() + ")");
    Facts.publish(vertx.eventBus(), Addresses.LIFECYCLE, status);
  }
}

package dev.docktunnel.ssh;

import dev.docktunnel.bus.SessionState;
import dev.docktunnel.bus.Addresses;
import dev.docktunnel.bus.Facts;
import dev.docktunnel.bus.LifecycleStatus;
import dev.docktunnel.config.DocktunnelConfig;
import dev.docktunnel.lifecycle.IdlePolicy;
import dev.docktunnel.lifecycle.ServerAddress;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.DoubleSupplier;
import java.util.function.LongSupplier;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.config.hosts.HostConfigEntry;
import org.apache.sshd.client.future.ConnectFuture;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.AttributeRepository;
import org.apache.sshd.common.NamedFactory;
import org.apache.sshd.common.SshConstants;
import org.apache.sshd.common.kex.KexProposalOption;
import org.apache.sshd.common.signature.Signature;
import org.apache.sshd.common.util.threads.ThreadUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns the SSH session to the remote Docker host: resolves the target, connects, verifies the
 * host key, authenticates, keeps a PTY session open (so OpenSSH's sshd sets TCP_NODELAY),
 * reconnects with exponential backoff and jitter, and publishes every state change as a
 * {@link SessionState} fact on {@link Addresses#SSH_STATE}. Other components read the live
 * session through {@link #sessionProvider()}.
 *
 * <p>{@link #start()} completes after the first connection attempt: it fails when the target is
 * invalid or the host key is refused (so {@code docktunnel run} exits with that message), and
 * succeeds otherwise. Use {@link #firstConnection()} to wait until the session is actually up:
 * it fails fast when the first attempt fails (a person is watching), unless
 * {@code ssh.waitForHost} says to keep trying. After a first success the session never gives up
 * (see {@link FailureVerdict}); {@link #wake()} asks for an attempt at once.
 *
 * <p>Liveness: a timer every {@link #TICK} feeds the socket's byte counts to {@link LinkLiveness}
 * (our keepalive probes; dead links are closed and reconnected at once) and the clocks to
 * {@link SleepDetector} (after a wake from sleep the session is probed at once). While
 * {@code auth_required}, the key files and the agent are polled ({@link AuthInputs}) and a change
 * triggers an attempt.
 *
 * <p>Threading: MINA calls back on its own threads; every callback hops onto this verticle's
 * context before touching state. Blocking work (reading key files, a passphrase prompt, stopping
 * the client) runs in {@code executeBlocking}.
 */
public final class SshSessionVerticle extends VerticleBase implements SessionProvider {

  private static final Logger LOG = LoggerFactory.getLogger(SshSessionVerticle.class);
  /** How long the session waits for the lifecycle's status at its start. */
  private static final long LIFECYCLE_QUERY_MS = 5_000;
  /** The liveness and sleep-detection timer's period. */
  static final Duration TICK = Duration.ofMillis(500);
  /** A gap this far beyond {@link #TICK} between ticks means the machine slept or froze. */
  static final Duration SLEEP_GAP = Duration.ofSeconds(3);
  /** How long the probe after a wake may go unanswered before the session is replaced. */
  static final Duration WAKE_PROBE_TIMEOUT = Duration.ofSeconds(2);
  /** At most one attempt per this interval is started by {@link #wake()}. */
  static final Duration WAKE_MIN_INTERVAL = Duration.ofSeconds(1);
  /** How often key files and the agent are polled while {@code auth_required}. */
  static final Duration AUTH_POLL = Duration.ofSeconds(2);
  /** A state that lasts (auth_required, failed, reconnecting) is logged again this often. */
  static final Duration REPEAT_LOG = Duration.ofMinutes(1);

  private final DocktunnelConfig config;
  private final SshEnvironment environment;
  private final DoubleSupplier random;
  private final ReconnectPolicy policy;
  private final FailureMessages failures;
  private final LongSupplier wallClock;
  private final Promise<SessionState> firstConnection = Promise.promise();
  /** The lifecycle's word on the server: attempts only while it runs (static: always). */
  private final ServerPresence presence;

  // Read from any thread.
  private volatile ClientSession current;
  private volatile SessionState state;
  /** Held local connections waiting for the next session; called on each connected transition. */
  private final SessionWaiters waiters = new SessionWaiters();

  // Owned by the verticle's context.
  private SshTarget target;
  private SshClient client;
  private HostKeyVerifier verifier;
  private IdentityPlanner identities;
  private boolean everConnected;
  private boolean stopping;
  /** Retrying ended: a refused host key, or the first connection failed without waitForHost. */
  private boolean terminal;
  private boolean attemptRunning;
  /** Resumed by the lifecycle and not yet connected. */
  private boolean resumed;
  private int attempt;
  private Instant lastProgress;
  private String lastFailure;
  private long retryTimer = -1;
  private ClientSession pending;
  private AttemptReport currentReport;
  private LinkLiveness liveness;
  private final SleepDetector sleep = new SleepDetector(TICK, SLEEP_GAP);
  private long tickTimer = -1;
  /** System.nanoTime() of the last attempt started by wake(); 0 before any. */
  private long lastWakeAttempt;
  private boolean wakeRequested;
  private AuthInputs authInputs;
  /** The auth inputs the latest attempt read before building its plan. */
  private AuthInputs attemptInputs;
  private boolean authPollRunning;
  private long authPollTimer = -1;
  /** When a lasting state was last logged loudly (WARN/ERROR). */
  private Instant lastLoudLog = Instant.EPOCH;

  /**
   * The verticle for {@code docktunnel run}: SSH settings from {@code config}, keys and agent
   * from the process environment.
   */
  public SshSessionVerticle(DocktunnelConfig config) {
    this(config, SshEnvironment.system());
  }

  /**
   * @param config the host, identities, known_hosts, host key policy and tuning
   * @param environment where default keys, the agent and the passphrase prompt come from
   */
  public SshSessionVerticle(DocktunnelConfig config, SshEnvironment environment) {
    this(config, environment, () -> ThreadLocalRandom.current().nextDouble(), System::currentTimeMillis);
  }

  /**
   * @param random uniform values in [0, 1) for the backoff jitter
   * @param wallClock the wall clock for sleep detection (tests move it to simulate a sleep)
   */
  SshSessionVerticle(DocktunnelConfig config, SshEnvironment environment, DoubleSupplier random,
      LongSupplier wallClock) {
    this.config = Objects.requireNonNull(config, "config");
    this.environment = Objects.requireNonNull(environment, "environment");
    this.random = Objects.requireNonNull(random, "random");
    this.wallClock = Objects.requireNonNull(wallClock, "wallClock");
    DocktunnelConfig.Ssh ssh = Objects.requireNonNull(config.ssh(), "config.ssh");
    this.policy = new ReconnectPolicy(ssh.reconnectMinDelay(), ssh.reconnectMaxDelay(), ssh.progressTimeout());
    this.failures = new FailureMessages(config.host(), ssh.connectTimeout());
    this.presence = new ServerPresence(!IdlePolicy.STATIC.equals(config.lifecycle().provider()));
  }

  /** The read side other components use to open channels. */
  public SessionProvider sessionProvider() {
    return this;
  }

  @Override
  public Optional<ClientSession> current() {
    ClientSession session = current;
    return session != null && session.isOpen() && session.isAuthenticated() ? Optional.of(session) : Optional.empty();
  }

  /** The latest published state, or empty before the first one. Any thread. */
  public Optional<SessionState> state() {
    return Optional.ofNullable(state);
  }

  /**
   * Completes with the {@code connected} state the first time the session is up; fails when
   * the first attempt fails (unreachable, unresolvable, authentication refused, timed out: the
   * message says what to do), the host key is refused, the target is bad, or the verticle stops.
   * With {@code ssh.waitForHost} only a refused host key fails it: it stays pending while
   * {@code auth_required} or {@code failed} retries; watch {@link Addresses#SSH_STATE} for those.
   */
  public Future<SessionState> firstConnection() {
    return firstConnection.future();
  }

  /**
   * Tries to connect now instead of waiting for the backoff timer, also after {@code failed}
   * from the progress timeout (e.g. once the lifecycle restarted the server), and counts that as
   * progress. No effect while connected or while an attempt is running. Not after the retries
   * ended (refused host key, failed first connection): restart instead.
   */
  public Future<Void> reconnectNow() {
    if (context == null) {
      return Future.failedFuture("the SSH session verticle is not deployed");
    }
    Promise<Void> promise = Promise.promise();
    context.runOnContext(v -> {
      if (stopping) {
        promise.fail("the SSH session verticle is stopping");
      } else if (terminal) {
        promise.fail(state.reason());
      } else {
        if (current == null && !attemptRunning && client != null) {
          attempt = 0;
          lastProgress = Instant.now();
        }
        attemptNow("asked to reconnect now", false);
        promise.complete();
      }
    });
    return promise.future();
  }

  @Override
  public Runnable whenConnected(Consumer<ClientSession> waiter) {
    Runnable withdraw = waiters.add(waiter);
    // Up already, or came up between the add and here: connected() calls each waiter once.
    current().ifPresent(waiters::connected);
    return withdraw;
  }

  @Override
  public void wake() {
    var owner = context;
    if (owner != null && current == null) {
      owner.runOnContext(v -> attemptNow("a local connection or Docker request is waiting for the session", true));
    }
  }

  /**
   * Starts an attempt at once unless one is running (then the next retry comes at once), the
   * session is up, or retrying ended. Rate-limited attempts come at most once per
   * {@link #WAKE_MIN_INTERVAL}; one asked for sooner is scheduled for then.
   */
  private void attemptNow(String why, boolean rateLimited) {
    if (stopping || terminal || client == null || current != null || presence.suspended()) {
      return;
    }
    if (attemptRunning) {
      wakeRequested = true;
      return;
    }
    long now = System.nanoTime();
    long waitMillis = rateLimited && lastWakeAttempt != 0
        ? (lastWakeAttempt + WAKE_MIN_INTERVAL.toNanos() - now) / 1_000_000 : 0;
    if (waitMillis > 0) {
      wakeRequested = true;
      cancelRetry();
      retryTimer = vertx.setTimer(waitMillis, id -> {
        retryTimer = -1;
        attemptNow(why, true);
      });
      return;
    }
    wakeRequested = false;
    lastWakeAttempt = now;
    cancelRetry();
    LOG.debug("SSH attempt to {} now: {}", target.display(), why);
    runAttempt();
  }

  @Override
  public Future<?> start() {
    return vertx.executeBlocking(this::prepare)
        .onFailure(err -> {
          publish(SessionState.State.FAILED, err.getMessage(), 0, null);
          firstConnection.tryFail(err);
        })
        .compose(prepared -> {
          target = prepared.target();
          verifier = prepared.verifier();
          client = prepared.client();
          identities = prepared.identities();
          lastProgress = Instant.now();
          tickTimer = vertx.setPeriodic(TICK.toMillis(), id -> tick());
          LOG.info("SSH target {} resolved to {}; AES-GCM provider {}", config.host(), target.display(),
              SshClientFactory.aesGcmProvider());
          if (presence.suspended()) {
            return followLifecycle();
          }
          return runAttempt()
              // A failed start is never stopped by Vert.x: release the client ourselves.
              .recover(err -> shutDown().transform(ignored -> Future.failedFuture(err)));
        });
  }

  /**
   * A provider that stops the server: attempts wait for the lifecycle's word. Its facts from now
   * on, and its status now (it deployed first and may have said already).
   */
  private Future<Void> followLifecycle() {
    publish(SessionState.State.SUSPENDED, presence.reason(), 0, null);
    boolean[] factSeen = {false};
    vertx.eventBus().<JsonObject>consumer(Addresses.SSH_SUSPEND, request -> {
      if (presence.stopComing() == ServerPresence.Change.SUSPEND) {
        suspend();
      }
      request.reply(new JsonObject().put("state", state.state().text()));
    });
    return vertx.eventBus().<JsonObject>consumer(Addresses.LIFECYCLE, message -> {
          factSeen[0] = true;
          onLifecycle(message.body());
        }).completion()
        .onSuccess(v -> vertx.eventBus().<JsonObject>request(Addresses.LIFECYCLE_SERVER,
                new JsonObject().put("action", "status"), new DeliveryOptions().setSendTimeout(LIFECYCLE_QUERY_MS))
            .onComplete(answer -> {
              if (answer.failed()) {
                LOG.warn("SSH session: the lifecycle's status is not available ({}); waiting for its next fact",
                    answer.cause().getMessage());
              } else if (!factSeen[0]) {
                onLifecycle(answer.result().body());
              }
            }));
  }

  private void onLifecycle(JsonObject fact) {
    LifecycleStatus status;
    try {
      status = LifecycleStatus.fromJson(fact);
    } catch (IllegalArgumentException e) {
      LOG.warn("SSH session: ignoring a malformed lifecycle fact: {}", e.getMessage());
      return;
    }
    switch (presence.lifecycle(status.state(), status.address())) {
      case SUSPEND -> suspend();
      case RESUME -> {
        LOG.info("SSH session: the server runs ({}); connecting to {}", status.reason(), dialTarget().display());
        attempt = 0;
        lastProgress = Instant.now();
        lastFailure = null;
        resumed = true;
        attemptNow("the server runs again", false);
      }
      case NONE -> {
      }
    }
  }

  /**
   * The server is stopped, starting or about to stop: no attempts, and the session (if any) is
   * closed, after the fact, so those watching the session pause before its channels end.
   */
  private void suspend() {
    cancelRetry();
    wakeRequested = false;
    resumed = false;
    stopAuthWatch();
    publish(SessionState.State.SUSPENDED, presence.reason(), attempt, null);
    ClientSession session = current;
    if (session != null) {
      LOG.debug("SSH session to {}: closed, {}", target.display(), presence.reason());
      session.close(false);
    }
  }

  /** Where attempts go: the configured target, or the address the lifecycle's last start gave. */
  private SshTarget dialTarget() {
    String moved = presence.address();
    if (moved == null) {
      return target;
    }
    ServerAddress address = ServerAddress.parse(moved);
    return new SshTarget(address.host(), address.port().orElse(target.port()), target.user(),
        target.identityFiles(), target.alias());
  }

  @Override
  public Future<?> stop() {
    firstConnection.tryFail("the SSH session verticle was stopped before the session was up");
    return shutDown();
  }

  /** Stops retrying and closes the session and the client (blocking parts on a worker). */
  private Future<Void> shutDown() {
    stopping = true;
    cancelRetry();
    for (long timer : new long[] {tickTimer, authPollTimer}) {
      if (timer >= 0) {
        vertx.cancelTimer(timer);
      }
    }
    tickTimer = -1;
    authPollTimer = -1;
    ClientSession session = current;
    ClientSession inFlight = pending;
    current = null;
    pending = null;
    SshClient toStop = client;
    return vertx.executeBlocking(() -> {
      for (ClientSession s : new ClientSession[] {session, inFlight}) {
        if (s != null) {
          s.close(true);
        }
      }
      if (toStop != null) {
        toStop.stop();
      }
      return null;
    });
  }

  private record Prepared(SshTarget target, HostKeyVerifier verifier, SshClient client, IdentityPlanner identities) {
  }

  /** Blocking set-up: resolve the target (reads the SSH config) and start the client. */
  private Prepared prepare() throws IOException {
    SshTarget resolved = SshTargetResolver.resolve(config.host(), config.sshConfig());
    HostKeyVerifier hostKeys = new HostKeyVerifier(new KnownHosts(config.knownHosts()), config.strictHostKeyChecking());
    SshClient sshClient = SshClientFactory.create(config.ssh(), hostKeys);
    sshClient.start();
    IdentityPlanner planner = new IdentityPlanner(config.identities(), resolved.identityFiles(),
        environment.sshDir(), environment.agentSocket(), new KeyFileLoader(environment.passphrasePrompt()));
    return new Prepared(resolved, hostKeys, sshClient, planner);
  }

  /** What one attempt needs that is read from disk first. */
  private record Preflight(AuthInputs inputs, AuthPlan plan, List<NamedFactory<Signature>> signatures) {
  }

  /**
   * One connection attempt and its outcome. Fails only for a refused host key, so that the
   * first attempt can fail {@link #start()}; every other outcome is handled here.
   */
  private Future<Void> runAttempt() {
    retryTimer = -1;
    if (stopping || terminal || presence.suspended()) {
      return Future.succeededFuture();
    }
    attempt++;
    attemptRunning = true;
    // In auth_required and failed the state stays until an attempt changes it: no flapping.
    if (state == null || (state.state() != SessionState.State.AUTH_REQUIRED
        && state.state() != SessionState.State.FAILED)) {
      publish(everConnected ? SessionState.State.RECONNECTING : SessionState.State.CONNECTING,
          lastFailure == null ? "connecting to " + target.display() : lastFailure, attempt, null);
    }
    AttemptReport report = new AttemptReport();
    List<Path> keyFiles = authKeyFiles();
    // The auth inputs are read before the plan: a key that appears meanwhile counts as a change.
    return vertx.executeBlocking(() -> new Preflight(AuthInputs.read(keyFiles, environment.agentSocket().get()),
            identities.plan(), SshClientFactory.signaturePreference(
                verifier.knownHosts().knownKeyTypes(target.hostName(), target.port()))))
        .compose(preflight -> {
          attemptInputs = preflight.inputs();
          return connectOnce(preflight, report);
        })
        .transform(outcome -> {
          attemptRunning = false;
          if (outcome.succeeded()) {
            onConnected(outcome.result(), report);
            return Future.succeededFuture();
          }
          return onAttemptFailed(outcome.cause(), report);
        });
  }

  /** TCP connect, key exchange (host key check), authentication, PTY: within connectTimeout. */
  private Future<ClientSession> connectOnce(Preflight preflight, AttemptReport report) {
    if (stopping) {
      return Future.failedFuture("stopping");
    }
    client.setSignatureFactories(preflight.signatures());
    AttributeRepository attributes = AttributeRepository.ofAttributesMap(Map.of(
        HostKeyVerifier.TARGET, target,
        OrderedPublicKeyAuth.PLAN, preflight.plan(),
        AttemptReport.KEY, report));
    // The host key is checked for the configured target (TARGET), wherever a start moved the server.
    SshTarget dial = dialTarget();
    HostConfigEntry entry = new HostConfigEntry(dial.hostName(), dial.hostName(), dial.port(), dial.user());
    Duration timeout = config.ssh().connectTimeout();
    // Our own timer rather than Future.timeout: its handler runs on this context.
    Promise<ClientSession> result = Promise.promise();
    long timer = vertx.setTimer(Math.max(1, timeout.toMillis()), id -> result.tryFail(new TimeoutException(
        "no SSH session within " + timeout.toMillis() + " ms")));
    // connect() resolves the host name, which can block: keep it off the event loop.
    vertx.executeBlocking(() -> client.connect(entry, attributes, null))
        .compose(connecting -> {
          if (result.future().isComplete()) {
            abandon(connecting);
            return Future.failedFuture("attempt already over");
          }
          result.future().onFailure(err -> abandon(connecting));
          return MinaFutures.connected(context, connecting);
        })
        .compose(session -> {
          pending = session;
          try {
            return MinaFutures.authenticated(context, session.auth()).map(session);
          } catch (IOException e) {
            return Future.failedFuture(e);
          }
        })
        .compose(session -> !config.ssh().ptySession() ? Future.succeededFuture(session)
            : PtySession.open(session, context, target.display(),
                () -> session == current && session.isOpen() && !stopping).map(session))
        .onComplete(outcome -> {
          vertx.cancelTimer(timer);
          if (outcome.succeeded()) {
            result.tryComplete(outcome.result());
          } else {
            result.tryFail(outcome.cause());
          }
        });
    return result.future().onFailure(err -> {
      ClientSession session = pending;
      pending = null;
      if (session != null) {
        session.close(true);
      }
    });
  }

  /** Gives up an attempt still in flight: a late connect must not leak a session. */
  private static void abandon(ConnectFuture connecting) {
    connecting.cancel();
    connecting.addListener(f -> {
      if (f.isConnected()) {
        f.getClientSession().close(true);
      }
    });
  }

  private void onConnected(ClientSession session, AttemptReport report) {
    pending = null;
    if (stopping || presence.suspended()) {
      session.close(true); // an attempt that outlived its reason
      return;
    }
    presence.connected();
    resumed = false;
    current = session;
    currentReport = report;
    liveness = new LinkLiveness(config.ssh().keepaliveInterval(), config.ssh().keepaliveCountMax(),
        WAKE_PROBE_TIMEOUT, System.nanoTime());
    everConnected = true;
    lastProgress = Instant.now();
    lastFailure = null;
    stopAuthWatch();
    String reason = "authenticated to " + target.display() + " as " + target.user()
        + (report.accepted() == null ? "" : " with " + report.accepted())
        + "; cipher " + session.getNegotiatedKexParameter(KexProposalOption.C2SENC)
        + " (" + SshClientFactory.aesGcmProvider() + " AES-GCM provider); server " + session.getServerVersion();
    publish(SessionState.State.CONNECTED, reason, attempt, null);
    attempt = 0;
    firstConnection.tryComplete(state);
    session.addCloseFutureListener(f -> context.runOnContext(v -> onSessionClosed(session, report)));
    waiters.connected(session);
  }

  private void onSessionClosed(ClientSession session, AttemptReport report) {
    if (session != current) {
      return;
    }
    current = null;
    currentReport = null;
    liveness = null;
    if (stopping) {
      return;
    }
    if (presence.lostAsExpected()) {
      LOG.debug("SSH session to {} ended with the server's stop", target.display());
      publish(SessionState.State.SUSPENDED, presence.reason(), 0, null);
      return;
    }
    lastProgress = Instant.now();
    attempt = 0;
    String why = report.closeReason();
    lastFailure = "session to " + target.display() + " lost" + (why == null ? "" : ": " + why);
    runAttempt();
  }

  private Future<Void> onAttemptFailed(Throwable err, AttemptReport report) {
    pending = null;
    if (stopping) {
      return Future.succeededFuture();
    }
    if (report.refusal() == null && presence.lostAsExpected()) {
      LOG.debug("SSH attempt to {} failed while the server stops or is stopped: {}", target.display(),
          err.toString());
      return Future.succeededFuture();
    }
    HostKeyRefusedException refusal = report.refusal();
    boolean authRejected = refusal == null && FailureMessages.isAuthRejected(err);
    if (authRejected) {
      // The server is reachable and verified: that is progress; keep waiting for a usable key.
      lastProgress = Instant.now();
    }
    Instant now = Instant.now();
    FailureVerdict.Cause cause = refusal != null ? FailureVerdict.Cause.HOST_KEY_REFUSED
        : authRejected ? FailureVerdict.Cause.AUTH_REJECTED : FailureVerdict.Cause.UNREACHABLE;
    FailureVerdict verdict = FailureVerdict.of(cause, everConnected || presence.justStarted(),
        config.ssh().waitForHost(),
        policy.progressTimedOut(lastProgress, now));
    if (verdict.terminal()) {
      terminal = true;
      stopAuthWatch();
      if (refusal != null) {
        // A changed or unknown key will not fix itself: give up now, loudly.
        publish(SessionState.State.FAILED, refusal.getMessage(), attempt, refusal.fingerprint());
        firstConnection.tryFail(refusal);
        return Future.failedFuture(refusal);
      }
      String reason = failures.firstFailure(err, report, authRejected, target);
      publish(SessionState.State.FAILED, reason, attempt, null);
      firstConnection.tryFail(new IOException(reason));
      return Future.succeededFuture();
    }
    SessionState.State previous = state == null ? null : state.state();
    switch (verdict.state()) {
      case AUTH_REQUIRED -> {
        publish(SessionState.State.AUTH_REQUIRED, failures.authRequired(report, err, target), attempt, null);
        startAuthWatch(attemptInputs);
      }
      case FAILED -> {
        lastFailure = failures.describe(err, target);
        stopAuthWatch();
        publish(SessionState.State.FAILED, "no SSH session to " + target.display() + " for "
            + Duration.between(lastProgress, now).toSeconds() + " s (progress timeout "
            + FailureMessages.human(config.ssh().progressTimeout()) + "); still retrying every "
            + FailureMessages.human(config.ssh().reconnectMaxDelay()) + " at most, and at once when a connection "
            + "or Docker request needs it; last error: " + lastFailure, attempt, null);
      }
      default -> {
        lastFailure = failures.describe(err, target);
        stopAuthWatch();
        if (previous == SessionState.State.AUTH_REQUIRED || previous == SessionState.State.FAILED) {
          // Attempts in these states publish nothing at start; say that the host is gone now.
          publish(verdict.state(), lastFailure, attempt, null);
        }
      }
    }
    scheduleRetry();
    return Future.succeededFuture();
  }

  private void scheduleRetry() {
    long delay = policy.delay(Math.max(1, attempt), lastProgress, Instant.now(), random).toMillis();
    if (wakeRequested) {
      // Someone asked for an attempt while this one ran: the next comes as soon as the rate allows.
      wakeRequested = false;
      delay = Math.min(delay, (lastWakeAttempt + WAKE_MIN_INTERVAL.toNanos() - System.nanoTime()) / 1_000_000);
    }
    if (waiters.size() > 0) {
      // Held connections wait (bounded by their hold timeout): retry at the wake rate, not the backoff.
      delay = Math.min(delay, WAKE_MIN_INTERVAL.toMillis());
    }
    LOG.debug("next SSH attempt to {} in {} ms", target.display(), delay);
    retryTimer = vertx.setTimer(Math.max(1, delay), id -> runAttempt());
  }

  /** The periodic check: sleep detection, then the live session's liveness. */
  private void tick() {
    long now = System.nanoTime();
    Optional<Duration> away = sleep.tick(wallClock.getAsLong(), now);
    if (away.isPresent()) {
      LOG.info("woke after {} s away (sleep or freeze); {}", away.get().toSeconds(),
          current != null ? "probing the SSH session to " + target.display() : "reconnecting to " + target.display());
      if (current != null && liveness != null) {
        liveness.woke(now);
      } else {
        attemptNow("woke from sleep", false);
      }
    }
    ClientSession session = current;
    LinkLiveness live = liveness;
    if (session == null || live == null) {
      return;
    }
    MeteredNio2Transport.LinkMeter meter = MeteredNio2Transport.meterOf(session.getIoSession());
    if (meter == null) {
      return; // not our transport (cannot happen with SshClientFactory's client)
    }
    switch (live.check(now, meter.inBytes(), meter.outBytes())) {
      case PROBE -> sendProbe(session, live);
      case DEAD -> linkDead(session, live.deadReason());
      default -> {
      }
    }
  }

  /**
   * Sends one {@code keepalive@openssh.com} global request with want-reply; any reply (OpenSSH
   * answers failure) proves the link. Sent as a MINA-internal write, so a key exchange in
   * progress queues it instead of blocking this event loop.
   */
  private void sendProbe(ClientSession session, LinkLiveness live) {
    try {
      ThreadUtils.runAsInternal(() -> {
        org.apache.sshd.common.util.buffer.Buffer request = session.createBuffer(SshConstants.SSH_MSG_GLOBAL_REQUEST,
            SshClientFactory.KEEPALIVE_REQUEST.length() + Byte.SIZE);
        request.putString(SshClientFactory.KEEPALIVE_REQUEST);
        request.putBoolean(true);
        return session.request(request, SshClientFactory.KEEPALIVE_REQUEST,
            (command, reply) -> context.runOnContext(v -> {
              if (liveness == live) {
                live.answered();
              }
            }));
      });
    } catch (Exception e) {
      linkDead(session, "keepalive could not be sent: " + e.getMessage());
    }
  }

  /** Closes a session whose link is dead; its close listener reconnects at once. */
  private void linkDead(ClientSession session, String why) {
    if (session != current) {
      return;
    }
    LOG.warn("SSH link to {} is dead: {}; closing the session and reconnecting", target.display(), why);
    if (currentReport != null) {
      currentReport.closeReason(why);
    }
    liveness = null;
    session.close(true);
  }

  /**
   * While {@code auth_required}: polls the key files and the agent ({@link AuthInputs}) and
   * tries at once when they change. Started on entering the state, stopped on leaving it.
   */
  private void startAuthWatch(AuthInputs usedByTheAttempt) {
    // Changes count against what the failed attempt saw.
    authInputs = usedByTheAttempt;
    if (authPollTimer >= 0 || stopping) {
      return;
    }
    authPollTimer = vertx.setPeriodic(AUTH_POLL.toMillis(), id -> pollAuthInputs());
  }

  private void stopAuthWatch() {
    if (authPollTimer >= 0) {
      vertx.cancelTimer(authPollTimer);
      authPollTimer = -1;
    }
    authInputs = null;
  }

  private void pollAuthInputs() {
    if (authPollRunning) {
      return;
    }
    authPollRunning = true;
    List<Path> keyFiles = authKeyFiles();
    vertx.executeBlocking(() -> AuthInputs.read(keyFiles, environment.agentSocket().get()))
        .onComplete(outcome -> {
          authPollRunning = false;
          if (outcome.failed()) {
            LOG.warn("cannot check key files and ssh-agent for changes: {}", outcome.cause().toString());
            return;
          }
          if (state == null || state.state() != SessionState.State.AUTH_REQUIRED || authPollTimer < 0) {
            return;
          }
          AuthInputs now = outcome.result();
          if (authInputs != null && !authInputs.equals(now)) {
            LOG.info("key files or ssh-agent keys changed; trying {} again", target.display());
            attemptNow("key files or ssh-agent keys changed", false);
          }
          authInputs = now;
        });
  }

  /** The key files an attempt may offer: explicit, IdentityFile, defaults. */
  private List<Path> authKeyFiles() {
    List<Path> keyFiles = new ArrayList<>(config.identities());
    keyFiles.addAll(target.identityFiles());
    if (environment.sshDir() != null) {
      IdentityPlanner.DEFAULT_KEY_FILES.forEach(name -> keyFiles.add(environment.sshDir().resolve(name)));
    }
    return keyFiles;
  }

  private void cancelRetry() {
    if (retryTimer >= 0) {
      vertx.cancelTimer(retryTimer);
      retryTimer = -1;
    }
  }

  /**
   * Publishes a fact and logs it: one line per state change; a trouble state that lasts
   * (auth_required, failed, reconnecting) again at WARN/ERROR once per {@link #REPEAT_LOG},
   * other repeats at debug. The failure that ends the first connection is logged at debug only:
   * whoever waits on {@link #firstConnection()} reports it (docktunnel run prints it once).
   */
  private void publish(SessionState.State newState, String reason, int attemptNumber, String fingerprint) {
    SessionState previous = state;
    Instant now = Instant.now();
    SessionState fact = new SessionState(newState, config.host(), reason, now, attemptNumber, fingerprint);
    state = fact;
    boolean changed = previous == null || previous.state() != newState || !previous.reason().equals(fact.reason());
    // The first attempt after the lifecycle started the server is expected, not trouble.
    boolean expectedReconnect = resumed && attemptNumber <= 1;
    boolean trouble = newState == SessionState.State.FAILED || newState == SessionState.State.AUTH_REQUIRED
        || (newState == SessionState.State.RECONNECTING && !expectedReconnect)
        || (newState == SessionState.State.CONNECTING && attemptNumber > 1);
    boolean loud = trouble && (changed || Duration.between(lastLoudLog, now).compareTo(REPEAT_LOG) >= 0);
    if (terminal && !everConnected) {
      LOG.debug("SSH session {}: {} (attempt {})", newState.text(), fact.reason(), attemptNumber);
    } else if (loud && newState == SessionState.State.FAILED) {
      LOG.error("SSH session {}: {} (attempt {})", newState.text(), fact.reason(), attemptNumber);
    } else if (loud) {
      LOG.warn("SSH session {}: {} (attempt {})", newState.text(), fact.reason(), attemptNumber);
    } else if (changed && !trouble) {
      LOG.info("SSH session {}: {} (attempt {})", newState.text(), fact.reason(), attemptNumber);
    } else {
      LOG.debug("SSH session {}: {} (attempt {})", newState.text(), fact.reason(), attemptNumber);
    }
    if (loud) {
      lastLoudLog = now;
    }
    Facts.publish(vertx.eventBus(), Addresses.SSH_STATE, fact);
  }
}

package dev.docktunnel.ssh;

import dev.docktunnel.bus.Addresses;
import dev.docktunnel.config.DocktunnelConfig;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import java.io.IOException;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.nio.channels.UnresolvedAddressException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeoutException;
import java.util.function.DoubleSupplier;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.channel.ChannelExec;
import org.apache.sshd.client.config.hosts.HostConfigEntry;
import org.apache.sshd.client.future.ConnectFuture;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.AttributeRepository;
import org.apache.sshd.common.NamedFactory;
import org.apache.sshd.common.SshConstants;
import org.apache.sshd.common.SshException;
import org.apache.sshd.common.kex.KexProposalOption;
import org.apache.sshd.common.signature.Signature;
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
 * succeeds otherwise, retrying in the background if that attempt did not connect. Use
 * {@link #firstConnection()} to wait until the session is actually up.
 *
 * <p>Threading: MINA calls back on its own threads; every callback hops onto this verticle's
 * context before touching state. Blocking work (reading key files, a passphrase prompt, stopping
 * the client) runs in {@code executeBlocking}.
 */
public final class SshSessionVerticle extends VerticleBase implements SessionProvider {

  private static final Logger LOG = LoggerFactory.getLogger(SshSessionVerticle.class);
  /**
   * The command of the PTY session: it just sits, reading a terminal nobody writes to. With it,
   * OpenSSH 9.2 on loopback answered two-write replies through a forward in 1.5 ms (p50) instead
   * of 44 ms (see PtyNagleMeasurementTest).
   */
  static final String PTY_COMMAND = "cat";

  private final DocktunnelConfig config;
  private final SshEnvironment environment;
  private final DoubleSupplier random;
  private final ReconnectPolicy policy;
  private final Promise<SessionState> firstConnection = Promise.promise();

  // Read from any thread.
  private volatile ClientSession current;
  private volatile SessionState state;

  // Owned by the verticle's context.
  private SshTarget target;
  private SshClient client;
  private HostKeyVerifier verifier;
  private IdentityPlanner identities;
  private boolean everConnected;
  private boolean stopping;
  private boolean gaveUp;
  private boolean hostKeyRefused;
  private boolean attemptRunning;
  private int attempt;
  private Instant lastProgress;
  private String lastFailure;
  private long retryTimer = -1;
  private ClientSession pending;

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
    this(config, environment, () -> ThreadLocalRandom.current().nextDouble());
  }

  SshSessionVerticle(DocktunnelConfig config, SshEnvironment environment, DoubleSupplier random) {
    this.config = Objects.requireNonNull(config, "config");
    this.environment = Objects.requireNonNull(environment, "environment");
    this.random = Objects.requireNonNull(random, "random");
    DocktunnelConfig.Ssh ssh = Objects.requireNonNull(config.ssh(), "config.ssh");
    this.policy = new ReconnectPolicy(ssh.reconnectMinDelay(), ssh.reconnectMaxDelay(), ssh.progressTimeout());
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
   * the session reaches {@code failed} first (refused host key, no progress for the progress
   * timeout, bad target) or the verticle stops. Stays pending while {@code auth_required}
   * waits for a usable key; watch {@link Addresses#SSH_STATE} to show that to the user.
   */
  public Future<SessionState> firstConnection() {
    return firstConnection.future();
  }

  /**
   * Tries to connect now instead of waiting for the backoff timer, also after {@code failed}
   * from the progress timeout (e.g. once the lifecycle restarted the server). No effect while
   * connected or while an attempt is running. Not after a refused host key: restart instead.
   */
  public Future<Void> reconnectNow() {
    if (context == null) {
      return Future.failedFuture("the SSH session verticle is not deployed");
    }
    Promise<Void> promise = Promise.promise();
    context.runOnContext(v -> {
      if (stopping) {
        promise.fail("the SSH session verticle is stopping");
      } else if (hostKeyRefused) {
        promise.fail(state.reason());
      } else if (current != null || attemptRunning || client == null) {
        promise.complete();
      } else {
        cancelRetry();
        gaveUp = false;
        attempt = 0;
        lastProgress = Instant.now();
        runAttempt();
        promise.complete();
      }
    });
    return promise.future();
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
          LOG.info("SSH target {} resolved to {}; AES-GCM provider {}", config.host(), target.display(),
              SshClientFactory.aesGcmProvider());
          return runAttempt()
              // A failed start is never stopped by Vert.x: release the client ourselves.
              .recover(err -> shutDown().transform(ignored -> Future.failedFuture(err)));
        });
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
  private record Preflight(AuthPlan plan, List<NamedFactory<Signature>> signatures) {
  }

  /**
   * One connection attempt and its outcome. Fails only for a refused host key, so that the
   * first attempt can fail {@link #start()}; every other outcome is handled here.
   */
  private Future<Void> runAttempt() {
    retryTimer = -1;
    if (stopping || gaveUp) {
      return Future.succeededFuture();
    }
    attempt++;
    attemptRunning = true;
    if (state == null || state.state() != SessionState.State.AUTH_REQUIRED) {
      publish(everConnected ? SessionState.State.RECONNECTING : SessionState.State.CONNECTING,
          lastFailure == null ? "connecting to " + target.display() : lastFailure, attempt, null);
    }
    AttemptReport report = new AttemptReport();
    return vertx.executeBlocking(() -> new Preflight(identities.plan(), SshClientFactory.signaturePreference(
            verifier.knownHosts().knownKeyTypes(target.hostName(), target.port()))))
        .compose(preflight -> connectOnce(preflight, report))
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
    HostConfigEntry entry = new HostConfigEntry(target.hostName(), target.hostName(), target.port(), target.user());
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
        .compose(session -> openPtySession(session).map(session))
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

  /**
   * Opens the PTY session when configured. Its failure is logged, not fatal: the session works,
   * only forwarded connections may see Nagle delays.
   */
  private Future<Void> openPtySession(ClientSession session) {
    if (!config.ssh().ptySession()) {
      return Future.succeededFuture();
    }
    ChannelExec channel;
    try {
      channel = session.createExecChannel(PTY_COMMAND);
    } catch (IOException e) {
      LOG.warn("PTY session on {} not created ({}); forwarded connections may see ~40 ms Nagle delays",
          target.display(), e.getMessage());
      return Future.succeededFuture();
    }
    channel.setUsePty(true);
    channel.setOut(OutputStream.nullOutputStream());
    channel.setErr(OutputStream.nullOutputStream());
    try {
      return MinaFutures.opened(context, channel.open())
          .map(v -> {
            channel.addCloseFutureListener(f -> context.runOnContext(x -> onPtyClosed(session, channel)));
            return (Void) null;
          })
          .recover(err -> {
            LOG.warn("PTY session on {} not opened ({}); forwarded connections may see ~40 ms Nagle delays",
                target.display(), describe(err));
            channel.close(true);
            return Future.succeededFuture();
          });
    } catch (IOException e) {
      LOG.warn("PTY session on {} not opened ({}); forwarded connections may see ~40 ms Nagle delays",
          target.display(), e.getMessage());
      return Future.succeededFuture();
    }
  }

  private void onPtyClosed(ClientSession session, ChannelExec channel) {
    if (session == current && session.isOpen() && !stopping) {
      LOG.warn("PTY session on {} closed (exit status {}); the server may stop setting TCP_NODELAY, "
          + "forwarded connections may see ~40 ms Nagle delays until the next reconnect",
          target.display(), channel.getExitStatus());
    }
  }

  private void onConnected(ClientSession session, AttemptReport report) {
    pending = null;
    if (stopping) {
      session.close(true);
      return;
    }
    current = session;
    everConnected = true;
    lastProgress = Instant.now();
    lastFailure = null;
    String reason = "authenticated to " + target.display() + " as " + target.user()
        + (report.accepted() == null ? "" : " with " + report.accepted())
        + "; cipher " + session.getNegotiatedKexParameter(KexProposalOption.C2SENC)
        + " (" + SshClientFactory.aesGcmProvider() + " AES-GCM provider); server " + session.getServerVersion();
    publish(SessionState.State.CONNECTED, reason, attempt, null);
    attempt = 0;
    firstConnection.tryComplete(state);
    session.addCloseFutureListener(f -> context.runOnContext(v -> onSessionClosed(session, report)));
  }

  private void onSessionClosed(ClientSession session, AttemptReport report) {
    if (session != current) {
      return;
    }
    current = null;
    if (stopping) {
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
    HostKeyRefusedException refusal = report.refusal();
    if (refusal != null) {
      // A changed or unknown key will not fix itself: give up now, loudly.
      gaveUp = true;
      hostKeyRefused = true;
      publish(SessionState.State.FAILED, refusal.getMessage(), attempt, refusal.fingerprint());
      firstConnection.tryFail(refusal);
      return Future.failedFuture(refusal);
    }
    if (isAuthRejected(err)) {
      // The server is reachable and verified: that is progress; keep waiting for a usable key.
      lastProgress = Instant.now();
      String reason = authRequiredReason(report, err);
      if (state == null || state.state() != SessionState.State.AUTH_REQUIRED || !state.reason().equals(reason)) {
        publish(SessionState.State.AUTH_REQUIRED, reason, attempt, null);
      }
      scheduleRetry();
      return Future.succeededFuture();
    }
    lastFailure = describe(err);
    Instant now = Instant.now();
    if (policy.progressTimedOut(lastProgress, now)) {
      gaveUp = true;
      String reason = "no SSH session to " + target.display() + " for "
          + Duration.between(lastProgress, now).toSeconds() + " s (progress timeout "
          + config.ssh().progressTimeout().toSeconds() + " s); last error: " + lastFailure;
      publish(SessionState.State.FAILED, reason, attempt, null);
      firstConnection.tryFail(new IOException(reason));
      return Future.succeededFuture();
    }
    if (state != null && state.state() == SessionState.State.AUTH_REQUIRED) {
      // Attempts in auth_required publish nothing at start; say that the host is gone now.
      publish(everConnected ? SessionState.State.RECONNECTING : SessionState.State.CONNECTING,
          lastFailure, attempt, null);
    }
    scheduleRetry();
    return Future.succeededFuture();
  }

  private void scheduleRetry() {
    Duration delay = policy.delay(Math.max(1, attempt), random);
    LOG.debug("next SSH attempt to {} in {} ms", target.display(), delay.toMillis());
    retryTimer = vertx.setTimer(Math.max(1, delay.toMillis()), id -> runAttempt());
  }

  private void cancelRetry() {
    if (retryTimer >= 0) {
      vertx.cancelTimer(retryTimer);
      retryTimer = -1;
    }
  }

  /**
   * Whether the server turned all our keys down: MINA ran out of keys, or OpenSSH hung up after
   * MaxAuthTries ("Too many authentication failures", sent with a generic disconnect code).
   */
  private static boolean isAuthRejected(Throwable err) {
    for (Throwable t = err; t != null; t = t.getCause()) {
      if (t instanceof SshException ssh
          && (ssh.getDisconnectCode() == SshConstants.SSH2_DISCONNECT_NO_MORE_AUTH_METHODS_AVAILABLE
              || String.valueOf(ssh.getMessage()).contains("Too many authentication failures"))) {
        return true;
      }
    }
    return false;
  }

  private String authRequiredReason(AttemptReport report, Throwable err) {
    StringBuilder reason = new StringBuilder();
    List<String> offered = report.offered();
    if (offered.isEmpty()) {
      reason.append("no key to offer to ").append(target.display())
          .append(": no usable --identity file, IdentityFile, ssh-agent key or ~/.ssh/id_ed25519, id_ecdsa, id_rsa");
    } else {
      reason.append(target.display()).append(" accepted none of the offered keys: ").append(String.join(", ", offered));
    }
    if (String.valueOf(err.getMessage()).contains("Too many authentication failures")) {
      reason.append(" (the server stopped after its MaxAuthTries; pass the right key first with --identity FILE)");
    }
    List<String> problems = report.problems();
    if (!problems.isEmpty()) {
      reason.append("; problems: ").append(String.join("; ", problems));
    }
    reason.append(". Add an authorized key to ssh-agent (ssh-add) or pass --identity FILE; retrying");
    return reason.toString();
  }

  /** A one-line, user-facing description of a failed attempt. */
  private String describe(Throwable err) {
    Throwable root = err;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String where = target == null ? config.host() : target.display();
    if (err instanceof TimeoutException || root instanceof TimeoutException) {
      return "no SSH session to " + where + " within " + config.ssh().connectTimeout().toSeconds()
          + " s (connect, key exchange and authentication)";
    }
    if (root instanceof UnresolvedAddressException || root instanceof UnknownHostException) {
      return "cannot resolve host name " + (target == null ? config.host() : target.hostName());
    }
    if (root instanceof ConnectException || root instanceof NoRouteToHostException) {
      String message = root.getMessage() == null ? "refused" : root.getMessage();
      return "cannot connect to " + where + ": " + message;
    }
    String message = err.getMessage() == null ? err.getClass().getSimpleName() : err.getMessage();
    return "SSH session to " + where + " failed: " + message;
  }

  /** Publishes a fact and logs it: one line per state change, repeats at debug. */
  private void publish(SessionState.State newState, String reason, int attemptNumber, String fingerprint) {
    SessionState previous = state;
    SessionState fact = new SessionState(newState, config.host(), reason, Instant.now(), attemptNumber, fingerprint);
    state = fact;
    boolean changed = previous == null || previous.state() != newState || !previous.reason().equals(fact.reason());
    if (newState == SessionState.State.FAILED) {
      LOG.error("SSH session {}: {} (attempt {})", newState.text(), fact.reason(), attemptNumber);
    } else if (changed) {
      LOG.info("SSH session {}: {} (attempt {})", newState.text(), fact.reason(), attemptNumber);
    } else {
      LOG.debug("SSH session {}: {} (attempt {})", newState.text(), fact.reason(), attemptNumber);
    }
    vertx.eventBus().publish(Addresses.SSH_STATE, fact.toJson());
  }
}

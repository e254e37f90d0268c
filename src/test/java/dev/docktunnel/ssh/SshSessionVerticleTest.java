package dev.docktunnel.ssh;

import dev.docktunnel.bus.SessionState;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.docktunnel.bus.Addresses;
import dev.docktunnel.config.DocktunnelConfig;
import dev.docktunnel.config.DocktunnelConfig.HostKeyChecking;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.kex.KexProposalOption;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The session verticle against MINA's own SSH server on 127.0.0.1: facts on the bus, reconnects,
 * host key refusal before any authentication, key order, auth_required recovery, PTY session.
 */
@ExtendWith(VertxExtension.class)
class SshSessionVerticleTest {

  private static final Duration WAIT = Duration.ofSeconds(20);

  @TempDir
  Path dir;

  private Vertx vertx;
  private TestSshServer server;
  private KeyPair clientKey;
  private Path clientKeyFile;
  private Path knownHosts;
  private final LinkedBlockingQueue<SessionState> facts = new LinkedBlockingQueue<>();
  private final List<SessionState> seen = new ArrayList<>();
  // Settings a test may change before building its config.
  private boolean waitForHost;
  private Duration minDelay = Duration.ofMillis(50);
  private Duration maxDelay = Duration.ofMillis(400);
  private Duration keepaliveInterval = Duration.ofSeconds(2);
  private int keepaliveCountMax = 3;

  @BeforeEach
  void setUp(Vertx vertx) throws Exception {
    this.vertx = vertx;
    clientKey = TestKeys.ed25519();
    clientKeyFile = TestKeys.writeOpenSsh(dir.resolve("id_test"), clientKey, null);
    server = new TestSshServer(TestKeys.ed25519()).accepting(clientKey.getPublic());
    server.start(0);
    knownHosts = dir.resolve("known_hosts");
    MessageConsumer<JsonObject> consumer =
        vertx.eventBus().consumer(Addresses.SSH_STATE, msg -> facts.add(SessionState.fromJson(msg.body())));
    await(consumer.completion());
  }

  @AfterEach
  void tearDown() throws Exception {
    for (String id : vertx.deploymentIDs()) {
      await(vertx.undeploy(id));
    }
    server.close();
  }

  private void trustServerKey() throws Exception {
    Files.writeString(knownHosts, "[127.0.0.1]:" + server.port() + " "
        + PublicKeyEntry.toString(server.hostKey.getPublic()) + "\n");
  }

  private DocktunnelConfig config(List<Path> identities, HostKeyChecking mode, boolean pty, Duration progressTimeout) {
    return new DocktunnelConfig("ssh://tester@127.0.0.1:" + server.port(), identities, knownHosts,
        dir.resolve("ssh_config"), mode, "/var/run/docker.sock", dir.resolve("state"),
        new DocktunnelConfig.Ssh(Duration.ofSeconds(5), keepaliveInterval, keepaliveCountMax, minDelay,
            maxDelay, progressTimeout, pty, waitForHost),
        new DocktunnelConfig.Forwarding(List.of("127.0.0.1"), List.of(), List.of(),
            DocktunnelConfig.ConflictStrategy.FAIL), 0, 0, DocktunnelConfig.Docker.DEFAULT,
        DocktunnelConfig.Lifecycle.DEFAULT);
  }

  private DocktunnelConfig config(List<Path> identities) {
    return config(identities, HostKeyChecking.YES, false, Duration.ofMinutes(1));
  }

  /** No default keys, no agent, no terminal: only what a test passes. */
  private SshEnvironment isolated(Optional<Path> agent) {
    return new SshEnvironment(dir.resolve("no-home/.ssh"), () -> agent, null);
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS);
  }

  private static Throwable awaitFailure(Future<?> future) throws Exception {
    try {
      await(future);
    } catch (ExecutionException e) {
      return e.getCause();
    }
    fail("expected a failure");
    return null;
  }

  private SessionState awaitFact(Predicate<SessionState> wanted) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      SessionState fact = facts.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
      if (fact == null) {
        break;
      }
      seen.add(fact);
      if (wanted.test(fact)) {
        return fact;
      }
    }
    fail("no matching SSH state fact; seen: " + seen);
    return null;
  }

  private static Predicate<SessionState> state(SessionState.State state) {
    return fact -> fact.state() == state;
  }

  @Test
  void connectsLosesTheServerReconnectsAndPublishesEachState() throws Exception {
    trustServerKey();
    SshSessionVerticle verticle = new SshSessionVerticle(config(List.of(clientKeyFile)), isolated(Optional.empty()));
    await(vertx.deployVerticle(verticle));

    SessionState connecting = awaitFact(state(SessionState.State.CONNECTING));
    assertEquals(1, connecting.attempt());
    assertEquals("ssh://tester@127.0.0.1:" + server.port(), connecting.host());
    SessionState connected = awaitFact(state(SessionState.State.CONNECTED));
    assertEquals(connected, await(verticle.firstConnection()));
    assertTrue(connected.reason().contains("aes128-gcm@openssh.com"), connected.reason());
    assertTrue(connected.reason().contains("SunJCE"), connected.reason());
    assertTrue(connected.reason().contains(KeyUtils.getFingerPrint(clientKey.getPublic())), connected.reason());
    ClientSession session = verticle.sessionProvider().current().orElseThrow();
    assertTrue(session.isAuthenticated());
    assertEquals("aes128-gcm@openssh.com", session.getNegotiatedKexParameter(KexProposalOption.C2SENC));

    int port = server.port();
    server.stop();
    SessionState lost = awaitFact(state(SessionState.State.RECONNECTING));
    assertEquals(1, lost.attempt());
    assertTrue(lost.reason().contains("lost"), lost.reason());
    assertTrue(verticle.current().isEmpty());
    SessionState retry = awaitFact(fact -> fact.state() == SessionState.State.RECONNECTING && fact.attempt() >= 2);
    assertTrue(retry.reason().contains("cannot connect"), retry.reason());

    server.start(port);
    SessionState again = awaitFact(state(SessionState.State.CONNECTED));
    assertTrue(again.attempt() >= 2);
    ClientSession second = verticle.current().orElseThrow();
    assertTrue(second != session && second.isAuthenticated());
    assertTrue(seen.stream().noneMatch(f -> f.state() == SessionState.State.FAILED), seen.toString());

    await(vertx.undeploy(verticle.deploymentID()));
    assertTrue(verticle.current().isEmpty());
    assertFalse(second.isOpen());
  }

  @Test
  void changedHostKeyFailsDeploymentBeforeAnyAuthentication() throws Exception {
    Files.writeString(knownHosts, "[127.0.0.1]:" + server.port() + " "
        + PublicKeyEntry.toString(TestKeys.ed25519().getPublic()) + "\n");
    SshSessionVerticle verticle = new SshSessionVerticle(config(List.of(clientKeyFile)), isolated(Optional.empty()));

    Throwable error = awaitFailure(vertx.deployVerticle(verticle));
    HostKeyRefusedException refused = assertInstanceOf(HostKeyRefusedException.class, error);
    String fingerprint = KeyUtils.getFingerPrint(server.hostKey.getPublic());
    assertEquals(fingerprint, refused.fingerprint());
    assertTrue(refused.getMessage().contains("CHANGED") && refused.getMessage().contains(fingerprint), refused.getMessage());
    assertTrue(refused.getMessage().contains("[127.0.0.1]:" + server.port()), refused.getMessage());

    SessionState failed = awaitFact(state(SessionState.State.FAILED));
    assertEquals(fingerprint, failed.fingerprint());
    assertEquals(refused.getMessage(), failed.reason());
    assertInstanceOf(HostKeyRefusedException.class, awaitFailure(verticle.firstConnection()));
    assertEquals(0, server.authRequests.get(), "no authentication after a refused host key");
    assertTrue(server.offeredKeys.isEmpty());
  }

  @Test
  void unknownHostUnderYesIsRefusedWithTheKeyscanAdvice() throws Exception {
    SshSessionVerticle verticle = new SshSessionVerticle(config(List.of(clientKeyFile)), isolated(Optional.empty()));
    Throwable error = awaitFailure(vertx.deployVerticle(verticle));
    HostKeyRefusedException refused = assertInstanceOf(HostKeyRefusedException.class, error);
    assertEquals(HostKeyRefusedException.Reason.UNKNOWN, refused.reason());
    assertTrue(refused.getMessage().contains("ssh-keyscan -p " + server.port()), refused.getMessage());
    assertEquals(0, server.authRequests.get());
    assertFalse(Files.exists(knownHosts));
    // Refused once, not retried in a loop.
    awaitFact(state(SessionState.State.FAILED));
    assertTrue(facts.poll(500, TimeUnit.MILLISECONDS) == null, "no attempts after the refusal");
  }

  @Test
  void acceptNewTrustsOnFirstUseAndRecordsTheKey() throws Exception {
    SshSessionVerticle verticle = new SshSessionVerticle(
        config(List.of(clientKeyFile), HostKeyChecking.ACCEPT_NEW, false, Duration.ofMinutes(1)), isolated(Optional.empty()));
    await(vertx.deployVerticle(verticle));
    await(verticle.firstConnection());
    assertEquals(List.of("[127.0.0.1]:" + server.port() + " " + PublicKeyEntry.toString(server.hostKey.getPublic())),
        Files.readAllLines(knownHosts));
  }

  @Test
  void offersKeysInOrderExplicitConfigAgentDefault() throws Exception {
    trustServerKey();
    KeyPair explicit = TestKeys.ed25519();
    KeyPair configured = TestKeys.ecdsa();
    KeyPair inAgent = TestKeys.ed25519();
    KeyPair byDefault = TestKeys.ed25519();
    Path explicitFile = TestKeys.writeOpenSsh(dir.resolve("explicit"), explicit, null);
    Path configuredFile = TestKeys.writeOpenSsh(dir.resolve("configured"), configured, null);
    Path sshDir = Files.createDirectories(dir.resolve("home/.ssh"));
    TestKeys.writeOpenSsh(sshDir.resolve("id_ed25519"), byDefault, null);
    Files.writeString(dir.resolve("ssh_config"), "Host 127.0.0.1\n  IdentityFile " + configuredFile + "\n");
    server.accepting(byDefault.getPublic());
    try (FakeSshAgent agent = new FakeSshAgent(dir.resolve("agent.sock"))) {
      agent.add(inAgent, "agent key");
      SshSessionVerticle verticle = new SshSessionVerticle(config(List.of(explicitFile)),
          new SshEnvironment(sshDir, () -> Optional.of(agent.socket()), null));
      await(vertx.deployVerticle(verticle));
      await(verticle.firstConnection());
      List<String> offered = server.offeredKeys.stream().map(KeyUtils::getFingerPrint).distinct().toList();
      assertEquals(List.of(explicit, configured, inAgent, byDefault).stream()
          .map(k -> KeyUtils.getFingerPrint(k.getPublic())).toList(), offered);
    }
  }

  @Test
  void authRequiredWaitsUntilAUsableKeyAppearsInTheAgent() throws Exception {
    trustServerKey();
    waitForHost = true;
    try (FakeSshAgent agent = new FakeSshAgent(dir.resolve("agent.sock"))) {
      KeyPair other = TestKeys.ed25519();
      agent.add(other, "not authorized");
      SshSessionVerticle verticle = new SshSessionVerticle(config(List.of()), isolated(Optional.of(agent.socket())));
      await(vertx.deployVerticle(verticle));
      SessionState authRequired = awaitFact(state(SessionState.State.AUTH_REQUIRED));
      assertTrue(authRequired.reason().contains("accepted none of the offered keys"), authRequired.reason());
      assertTrue(authRequired.reason().contains(KeyUtils.getFingerPrint(other.getPublic())), authRequired.reason());
      assertFalse(verticle.firstConnection().isComplete());

      agent.add(clientKey, "authorized");
      SessionState connected = awaitFact(state(SessionState.State.CONNECTED));
      assertTrue(connected.reason().contains("from ssh-agent"), connected.reason());
      assertEquals(SessionState.State.CONNECTED, await(verticle.firstConnection()).state());
      assertTrue(agent.signFlags().size() >= 1);
    }
  }

  @Test
  void noKeyAtAllIsAuthRequiredWithTheProblems() throws Exception {
    trustServerKey();
    waitForHost = true;
    Path encrypted = TestKeys.writeOpenSsh(dir.resolve("enc"), TestKeys.ed25519(), "pw");
    SshSessionVerticle verticle = new SshSessionVerticle(config(List.of(encrypted)), isolated(Optional.empty()));
    await(vertx.deployVerticle(verticle));
    SessionState authRequired = awaitFact(state(SessionState.State.AUTH_REQUIRED));
    assertTrue(authRequired.reason().contains("no key to offer"), authRequired.reason());
    assertTrue(authRequired.reason().contains(encrypted + " is encrypted"), authRequired.reason());
  }

  private static int closedPort() throws Exception {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  private DocktunnelConfig withHost(DocktunnelConfig base, String host) {
    return base.withHost(host);
  }

  @Test
  void anUnreachableFirstConnectionFailsAtOnceWithWhatToDo() throws Exception {
    int port = closedPort();
    SshSessionVerticle verticle = new SshSessionVerticle(
        withHost(config(List.of(clientKeyFile)), "ssh://tester@127.0.0.1:" + port), isolated(Optional.empty()));
    await(vertx.deployVerticle(verticle));
    Throwable error = awaitFailure(verticle.firstConnection());
    assertTrue(error.getMessage().contains("cannot connect to tester@127.0.0.1:" + port), error.getMessage());
    assertTrue(error.getMessage().contains("sshd listens on port " + port), error.getMessage());
    assertTrue(error.getMessage().contains("--wait"), error.getMessage());
    SessionState failed = awaitFact(state(SessionState.State.FAILED));
    assertEquals(error.getMessage(), failed.reason());
    assertTrue(facts.poll(700, TimeUnit.MILLISECONDS) == null, "no retries after the first connection failed");
  }

  @Test
  void anUnresolvableNameFailsAtOnce() throws Exception {
    SshSessionVerticle verticle = new SshSessionVerticle(
        withHost(config(List.of(clientKeyFile)), "ssh://tester@no-such-host.invalid"), isolated(Optional.empty()));
    await(vertx.deployVerticle(verticle));
    Throwable error = awaitFailure(verticle.firstConnection());
    assertTrue(error.getMessage().contains("cannot resolve host name no-such-host.invalid"), error.getMessage());
    assertTrue(error.getMessage().contains("check the host name"), error.getMessage());
  }

  @Test
  void aRejectedKeyFailsTheFirstConnectionNamingTheUserAndTheKeysOffered() throws Exception {
    trustServerKey();
    KeyPair other = TestKeys.ed25519();
    Path otherFile = TestKeys.writeOpenSsh(dir.resolve("other"), other, null);
    SshSessionVerticle verticle = new SshSessionVerticle(config(List.of(otherFile)), isolated(Optional.empty()));
    await(vertx.deployVerticle(verticle));
    Throwable error = awaitFailure(verticle.firstConnection());
    String message = error.getMessage();
    assertTrue(message.startsWith("Permission denied (publickey) for user 'tester' at tester@127.0.0.1:"), message);
    assertTrue(message.contains(KeyUtils.getFingerPrint(other.getPublic()) + " (" + otherFile + ")"), message);
    assertTrue(message.contains("authorized_keys") && message.contains("--identity"), message);
    assertEquals(SessionState.State.FAILED, awaitFact(state(SessionState.State.FAILED)).state());
    assertTrue(seen.stream().noneMatch(state(SessionState.State.AUTH_REQUIRED)), seen.toString());
  }

  @Test
  void withWaitAnUnreachableHostIsFailedAfterTheProgressTimeoutAndStillRetried() throws Exception {
    waitForHost = true;
    int port = closedPort();
    DocktunnelConfig config = withHost(config(List.of(clientKeyFile), HostKeyChecking.YES, false, Duration.ofSeconds(1)),
        "ssh://tester@127.0.0.1:" + port);
    SshSessionVerticle verticle = new SshSessionVerticle(config, isolated(Optional.empty()));
    await(vertx.deployVerticle(verticle));
    SessionState failed = awaitFact(state(SessionState.State.FAILED));
    assertTrue(failed.reason().contains("progress timeout") && failed.reason().contains("cannot connect")
        && failed.reason().contains("still retrying"), failed.reason());
    assertTrue(seen.stream().filter(state(SessionState.State.CONNECTING)).count() >= 2, seen.toString());
    assertFalse(verticle.firstConnection().isComplete(), "waiting, not given up");

    server.stop();
    Files.writeString(knownHosts, "[127.0.0.1]:" + port + " " + PublicKeyEntry.toString(server.hostKey.getPublic()) + "\n");
    server.start(port);
    assertEquals(SessionState.State.CONNECTED, await(verticle.firstConnection()).state());
  }

  @Test
  void afterAFirstSuccessItNeverGivesUpAndAWakeTriesAtOnce() throws Exception {
    trustServerKey();
    maxDelay = Duration.ofSeconds(60); // the backoff alone would not bring it back within the test
    SshSessionVerticle verticle = new SshSessionVerticle(
        config(List.of(clientKeyFile), HostKeyChecking.YES, false, Duration.ofSeconds(1)), isolated(Optional.empty()));
    await(vertx.deployVerticle(verticle));
    await(verticle.firstConnection());
    int port = server.port();
    server.stop();
    SessionState failed = awaitFact(state(SessionState.State.FAILED));
    assertTrue(failed.reason().contains("still retrying"), failed.reason());
    // the retries now wait 30-60 s each
    server.start(port);
    long woken = System.nanoTime();
    verticle.sessionProvider().wake();
    verticle.sessionProvider().wake(); // a burst of callers makes one attempt
    SessionState connected = awaitFact(state(SessionState.State.CONNECTED));
    long millis = (System.nanoTime() - woken) / 1_000_000;
    assertTrue(millis < 20_000, "connected " + millis + " ms after wake(), not after the backoff");
    System.out.printf("wake() to connected: %d ms%n", millis);
    assertTrue(connected.attempt() >= 2, connected.toString());
    assertTrue(verticle.current().isPresent());
  }

  @Test
  void aHalfOpenLinkIsNoticedAndReplaced() throws Exception {
    trustServerKey();
    keepaliveInterval = Duration.ofSeconds(1);
    keepaliveCountMax = 2;
    try (FreezingRelay relay = new FreezingRelay(server.port())) {
      Files.writeString(knownHosts, "[127.0.0.1]:" + relay.port() + " "
          + PublicKeyEntry.toString(server.hostKey.getPublic()) + "\n");
      SshSessionVerticle verticle = new SshSessionVerticle(
          withHost(config(List.of(clientKeyFile)), "ssh://tester@127.0.0.1:" + relay.port()), isolated(Optional.empty()));
      await(vertx.deployVerticle(verticle));
      awaitFact(state(SessionState.State.CONNECTED));
      ClientSession first = verticle.current().orElseThrow();
      // idle for three intervals: answered probes keep the session
      SessionState quiet = facts.poll(3_500, TimeUnit.MILLISECONDS);
      assertTrue(quiet == null, "no state change while the link answers: " + quiet);
      assertTrue(first.isOpen() && verticle.current().orElseThrow() == first);

      long frozen = System.nanoTime();
      relay.freezeExisting();
      SessionState lost = awaitFact(state(SessionState.State.RECONNECTING));
      long detected = (System.nanoTime() - frozen) / 1_000_000;
      assertTrue(lost.reason().contains("no answer from the server"), lost.reason());
      System.out.printf("half-open link (keepalive 1 s x 2) noticed after %d ms%n", detected);
      awaitFact(state(SessionState.State.CONNECTED));
      assertTrue(verticle.current().orElseThrow() != first);
      assertFalse(first.isOpen());
    }
  }

  @Test
  void afterAWakeFromSleepTheSessionIsProbedAtOnceAndReplacedWhenDead() throws Exception {
    trustServerKey();
    keepaliveInterval = Duration.ofSeconds(30); // no regular probe due during the test
    AtomicLong wallOffset = new AtomicLong();
    try (FreezingRelay relay = new FreezingRelay(server.port())) {
      Files.writeString(knownHosts, "[127.0.0.1]:" + relay.port() + " "
          + PublicKeyEntry.toString(server.hostKey.getPublic()) + "\n");
      SshSessionVerticle verticle = new SshSessionVerticle(
          withHost(config(List.of(clientKeyFile)), "ssh://tester@127.0.0.1:" + relay.port()), isolated(Optional.empty()),
          () -> 0.5, () -> System.currentTimeMillis() + wallOffset.get());
      await(vertx.deployVerticle(verticle));
      awaitFact(state(SessionState.State.CONNECTED));
      ClientSession first = verticle.current().orElseThrow();

      // a wake with a live link: the probe is answered, the session stays
      wallOffset.addAndGet(60_000);
      SessionState none = facts.poll(3_000, TimeUnit.MILLISECONDS);
      assertTrue(none == null, "an answered wake probe changes nothing: " + none);
      assertTrue(first.isOpen());

      // the path died during the "sleep": replaced within the 2 s wake probe timeout
      relay.freezeExisting();
      long woke = System.nanoTime();
      wallOffset.addAndGet(60_000);
      SessionState lost = awaitFact(state(SessionState.State.RECONNECTING));
      assertTrue(lost.reason().contains("after a wake from sleep"), lost.reason());
      awaitFact(state(SessionState.State.CONNECTED));
      long back = (System.nanoTime() - woke) / 1_000_000;
      System.out.printf("wake with a dead path: new session after %d ms%n", back);
      assertTrue(back < 10_000, "back " + back + " ms after the wake, not after the 90 s idle detection");
    }
  }

  @Test
  void authRequiredTriesAgainAtOnceWhenAKeyFileAppears() throws Exception {
    trustServerKey();
    waitForHost = true;
    minDelay = Duration.ofSeconds(30); // the backoff alone would not retry within the test
    maxDelay = Duration.ofSeconds(60);
    Path later = dir.resolve("later_key");
    SshSessionVerticle verticle = new SshSessionVerticle(config(List.of(later)), isolated(Optional.empty()));
    await(vertx.deployVerticle(verticle));
    SessionState authRequired = awaitFact(state(SessionState.State.AUTH_REQUIRED));
    assertTrue(authRequired.reason().contains(later + " does not exist"), authRequired.reason());
    TestKeys.writeOpenSsh(later, clientKey, null);
    long written = System.nanoTime();
    awaitFact(state(SessionState.State.CONNECTED));
    System.out.printf("key file written to connected: %d ms%n", (System.nanoTime() - written) / 1_000_000);
  }

  @Test
  void ptySessionRunsCatWithATerminal() throws Exception {
    trustServerKey();
    SshSessionVerticle verticle = new SshSessionVerticle(
        config(List.of(clientKeyFile), HostKeyChecking.YES, true, Duration.ofMinutes(1)), isolated(Optional.empty()));
    await(vertx.deployVerticle(verticle));
    await(verticle.firstConnection());
    // The PTY channel opens after the session is up, not before "connected": wait for it (bounded).
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (server.execs.isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(10); // polling the server's record, bounded by the deadline
    }
    assertEquals(1, server.execs.size(), server.execs.toString());
    TestSshServer.Exec exec = server.execs.get(0);
    assertEquals(PtySession.COMMAND, exec.command());
    assertTrue(exec.pty(), exec.toString());
  }

  @Test
  void badHostFailsDeploymentWithTheMessage() throws Exception {
    DocktunnelConfig base = config(List.of());
    DocktunnelConfig bad = base.withHost("ssh://tester@host:99999");
    Throwable error = awaitFailure(vertx.deployVerticle(new SshSessionVerticle(bad, isolated(Optional.empty()))));
    assertInstanceOf(IllegalArgumentException.class, error);
    assertTrue(error.getMessage().contains("99999"), error.getMessage());
    assertEquals(SessionState.State.FAILED, awaitFact(state(SessionState.State.FAILED)).state());
  }
}

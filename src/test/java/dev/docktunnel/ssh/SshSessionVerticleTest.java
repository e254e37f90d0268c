package dev.docktunnel.ssh;

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
        new DocktunnelConfig.Ssh(Duration.ofSeconds(5), Duration.ofSeconds(2), 3, Duration.ofMillis(50),
            Duration.ofMillis(400), progressTimeout, pty),
        new DocktunnelConfig.Forwarding(List.of("127.0.0.1"), List.of(), List.of(),
            DocktunnelConfig.ConflictStrategy.FAIL));
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
    Path encrypted = TestKeys.writeOpenSsh(dir.resolve("enc"), TestKeys.ed25519(), "pw");
    SshSessionVerticle verticle = new SshSessionVerticle(config(List.of(encrypted)), isolated(Optional.empty()));
    await(vertx.deployVerticle(verticle));
    SessionState authRequired = awaitFact(state(SessionState.State.AUTH_REQUIRED));
    assertTrue(authRequired.reason().contains("no key to offer"), authRequired.reason());
    assertTrue(authRequired.reason().contains(encrypted + " is encrypted"), authRequired.reason());
  }

  @Test
  void unreachableHostFailsAfterTheProgressTimeout() throws Exception {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
    DocktunnelConfig base = config(List.of(clientKeyFile), HostKeyChecking.YES, false, Duration.ofSeconds(1));
    DocktunnelConfig unreachable = new DocktunnelConfig("ssh://tester@127.0.0.1:" + closedPort, base.identities(),
        base.knownHosts(), base.sshConfig(), base.strictHostKeyChecking(), base.remoteDockerSocket(), base.stateDir(),
        base.ssh(), base.forwarding());
    SshSessionVerticle verticle = new SshSessionVerticle(unreachable, isolated(Optional.empty()));
    await(vertx.deployVerticle(verticle));
    SessionState failed = awaitFact(state(SessionState.State.FAILED));
    assertTrue(failed.reason().contains("progress timeout") && failed.reason().contains("cannot connect"), failed.reason());
    assertTrue(seen.stream().filter(state(SessionState.State.CONNECTING)).count() >= 2, seen.toString());
    assertNotNull(awaitFailure(verticle.firstConnection()));
  }

  @Test
  void ptySessionRunsCatWithATerminal() throws Exception {
    trustServerKey();
    SshSessionVerticle verticle = new SshSessionVerticle(
        config(List.of(clientKeyFile), HostKeyChecking.YES, true, Duration.ofMinutes(1)), isolated(Optional.empty()));
    await(vertx.deployVerticle(verticle));
    await(verticle.firstConnection());
    assertEquals(1, server.execs.size(), server.execs.toString());
    TestSshServer.Exec exec = server.execs.get(0);
    assertEquals(SshSessionVerticle.PTY_COMMAND, exec.command());
    assertTrue(exec.pty(), exec.toString());
  }

  @Test
  void badHostFailsDeploymentWithTheMessage() throws Exception {
    DocktunnelConfig base = config(List.of());
    DocktunnelConfig bad = new DocktunnelConfig("ssh://tester@host:99999", base.identities(), base.knownHosts(),
        base.sshConfig(), base.strictHostKeyChecking(), base.remoteDockerSocket(), base.stateDir(), base.ssh(),
        base.forwarding());
    Throwable error = awaitFailure(vertx.deployVerticle(new SshSessionVerticle(bad, isolated(Optional.empty()))));
    assertInstanceOf(IllegalArgumentException.class, error);
    assertTrue(error.getMessage().contains("99999"), error.getMessage());
    assertEquals(SessionState.State.FAILED, awaitFact(state(SessionState.State.FAILED)).state());
  }
}

package dev.docktunnel.docker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docktunnel.bus.Addresses;
import dev.docktunnel.containers.ContainerWatcherVerticle;
import dev.docktunnel.ssh.SessionProvider;
import dev.docktunnel.testbed.Testbed;
import dev.docktunnel.testbed.TestbedExtension;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.channel.ChannelExec;
import org.apache.sshd.client.keyverifier.KnownHostsServerKeyVerifier;
import org.apache.sshd.client.keyverifier.RejectAllServerKeyVerifier;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.keyprovider.FileKeyPairProvider;
import org.apache.sshd.core.CoreModuleProperties;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The engine client and the watcher against the testbed's real OpenSSH sshd and dockerd:
 * a plain MINA client, authenticated with the testbed's key and verifying its known_hosts.
 */
@ExtendWith({VertxExtension.class, TestbedExtension.class})
class DockerEngineClientIT {
  OnContext calls() {
    return new OnContext(context, TIMEOUT);
  }

  static final Duration TIMEOUT = Duration.ofSeconds(30);

  Vertx vertx;
  Context context;
  Testbed testbed;
  SshClient client;
  ClientSession session;
  ChannelExec pty;

  @BeforeEach
  void connect(Vertx vertx, Testbed testbed) throws Exception {
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    this.testbed = testbed;
    client = SshClient.setUpDefaultClient();
    // Known key only: an unknown or changed host key is refused.
    client.setServerKeyVerifier(new KnownHostsServerKeyVerifier(RejectAllServerKeyVerifier.INSTANCE,
        testbed.knownHostsFile()));
    client.setKeyIdentityProvider(new FileKeyPairProvider(testbed.clientPrivateKey()));
    // As the real SSH session does; without it Nagle adds ~40 ms to every small exchange.
    CoreModuleProperties.TCP_NODELAY.set(client, true);
    client.start();
    session = client.connect(testbed.sshUser(), testbed.sshHost(), testbed.sshPort())
        .verify(TIMEOUT).getSession();
    session.auth().verify(TIMEOUT);
    // As docktunnel's SSH session does: OpenSSH's sshd turns on TCP_NODELAY only for sessions
    // with a PTY; without one, multi-packet answers (inspect) wait for delayed ACKs.
    pty = session.createExecChannel("cat");
    pty.setUsePty(true);
    pty.open().verify(TIMEOUT);
  }

  @AfterEach
  void disconnect() throws Exception {
    testbed.removeAllContainers();
    client.stop();
  }

  SessionProvider sessions() {
    return () -> Optional.of(session);
  }


  static DockerEvent awaitEvent(BlockingQueue<DockerEvent> events, Predicate<DockerEvent> wanted)
      throws InterruptedException {
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      DockerEvent e = events.poll(100, TimeUnit.MILLISECONDS);
      if (e != null && wanted.test(e)) {
        return e;
      }
    }
    throw new AssertionError("event not seen within " + TIMEOUT);
  }

  @Test
  void pingVersionListInspectAndTheEventsOfARealContainer() throws Exception {
    DockerEngineClient docker = new DockerEngineClient(vertx, sessions(),
        testbed.dockerSocket().toString());

    calls().await(docker::ping);
    EngineVersion version = calls().await(docker::version);
    assertTrue(version.negotiated().compareTo(DockerEngineClient.MIN_API) >= 0, version.toString());
    assertNotNull(version.serverTime(), "dockerd sends a Date header");

    BlockingQueue<DockerEvent> events = new LinkedBlockingQueue<>();
    CompletableFuture<Throwable> ended = new CompletableFuture<>();
    EventStream stream = calls().await(() -> docker.events(Set.of("container"), events::add,
        ended::complete));

    String id = testbed.runContainer(List.of("--name", "dt-engine-it", "-p",
        "18431:" + Testbed.HTTPD_CONTAINER_PORT), "httpd", "-f", "-p", "80", "-h", "/www");
    DockerEvent start = awaitEvent(events, e -> e.id().equals(id) && e.action().equals("start"));
    assertEquals("dt-engine-it", start.name());

    ContainerInfo listed = calls().await(docker::listContainers).stream()
        .filter(c -> c.id().equals(id)).findFirst().orElseThrow();
    assertEquals("dt-engine-it", listed.name());
    assertEquals(Testbed.IMAGE, listed.image());
    assertEquals(ContainerInfo.RUNNING, listed.state());
    assertTrue(listed.ports().stream().anyMatch(p -> p.hostPort() == 18431
        && p.containerPort() == Testbed.HTTPD_CONTAINER_PORT && p.protocol().equals("tcp")),
        listed.ports().toString());
    ContainerInfo inspected = calls().await(() -> docker.inspect(id));
    assertEquals(listed, inspected, "list and inspect agree on a real container");

    testbed.docker("stop", "-t", "1", id);
    awaitEvent(events, e -> e.id().equals(id) && e.action().equals("die"));
    assertEquals(ContainerInfo.EXITED, calls().await(() -> docker.inspect(id)).state());
    testbed.docker("rm", id);
    awaitEvent(events, e -> e.id().equals(id) && e.action().equals("destroy"));
    assertInstanceOf(NoSuchContainerException.class, calls().failure(() -> docker.inspect(id)));
    assertEquals(0, stream.malformedLines() + stream.oversizedLines());

    context.runOnContext(v -> stream.cancel());
    assertTrue(session.isOpen());
    assertFalse(ended.isDone(), "cancel ends the stream without an end callback");
  }


  @Test
  void theWatcherPublishesStartedAndExitedContainers() throws Exception {
    DockerEngineClient docker = new DockerEngineClient(vertx, sessions(),
        testbed.dockerSocket().toString());
    BlockingQueue<JsonObject> facts = new LinkedBlockingQueue<>();
    BlockingQueue<JsonObject> synced = new LinkedBlockingQueue<>();
    BlockingQueue<DockerEvent> events = new LinkedBlockingQueue<>();
    vertx.eventBus().<JsonObject>consumer(Addresses.CONTAINER, m -> facts.add(m.body()))
        .completion().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    vertx.eventBus().<JsonObject>consumer(Addresses.CONTAINERS_SYNCED, m -> synced.add(m.body()))
        .completion().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    // A second stream sees the engine's own events, so each start can be matched to its fact.
    EventStream probe = calls().await(() -> docker.events(Set.of("container"), events::add, e -> { }));
    vertx.deployVerticle(new ContainerWatcherVerticle(docker))
        .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    vertx.eventBus().publish(Addresses.SSH_STATE, new JsonObject().put("state", "connected"));
    assertNotNull(synced.poll(TIMEOUT.toSeconds(), TimeUnit.SECONDS), "initial sync");

    for (int i = 0; i < 5; i++) {
      String name = "dt-watch-it-" + i;
      String id = testbed.runContainer(List.of("--name", name, "-p", (18440 + i) + ":80"),
          "httpd", "-f", "-p", "80", "-h", "/www");
      awaitEvent(events, e -> e.id().equals(id) && e.action().equals("start"));
      JsonObject fact;
      do {
        fact = facts.poll(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        assertNotNull(fact, "no fact for " + name);
      } while (!fact.getString("id").equals(id));
      assertEquals("running", fact.getString("state"));
      assertEquals(name, fact.getString("name"));
      assertEquals(18440 + i, fact.getJsonArray("ports").getJsonObject(0).getInteger("hostPort"));
    }
    // Start-to-forward latency is measured by the benchmark (bench/), not asserted in a test.

    String gone = testbed.docker("ps", "-q", "--no-trunc", "--filter", "name=dt-watch-it-0").trim();
    testbed.docker("rm", "-f", gone);
    JsonObject fact;
    do {
      fact = facts.poll(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      assertNotNull(fact, "no exit fact");
    } while (!fact.getString("id").equals(gone));
    assertEquals("exited", fact.getString("state"));
    context.runOnContext(v -> probe.cancel());
  }
}

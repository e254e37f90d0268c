package dev.docktunnel.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docktunnel.bus.Addresses;
import dev.docktunnel.bus.FactRecorder;
import dev.docktunnel.testbed.Figures;
import dev.docktunnel.testbed.ProcessResult;
import dev.docktunnel.testbed.RunningDocktunnel;
import dev.docktunnel.testbed.ServerSwitch;
import dev.docktunnel.testbed.StreamServerContainer;
import dev.docktunnel.testbed.Testbed;
import dev.docktunnel.testbed.TestbedExtension;
import dev.docktunnel.testbed.Traffic;
import io.vertx.core.json.JsonObject;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.StandardProtocolFamily;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The idle lifecycle end to end on the testbed with the {@code command} provider, whose commands
 * really stop and start the testbed's sshd (and dockerd, for a full stop; {@link ServerSwitch}):
 * the idle stop comes after a warning and only without activity (docktunnel's own probes and
 * health checks are none), a trickle of bytes, a long open connection and {@code docker logs -f}
 * each keep the server up, extend pushes the deadline, a stopped server is woken by {@code docker
 * ps} and by a connection to a forwarded port (answered byte-exact), and a failed start gives the
 * held clients a clear error within the wake timeout.
 */
@ExtendWith(TestbedExtension.class)
class IdleLifecycleIT {
  static final Duration IDLE = Duration.ofSeconds(2);
  static final Duration GRACE = Duration.ofSeconds(1);
  static final Duration WAKE = Duration.ofSeconds(30);
  /** Long enough for any stop the rules allow to have come: idle timeout, grace period and the 5 s margin. */
  static final Duration STOP_BOUND = IDLE.plus(GRACE).plusSeconds(5);
  static final Duration WAIT = Duration.ofSeconds(60);

  final ExecutorService threads = Executors.newCachedThreadPool();
  Testbed testbed;
  ServerSwitch server;
  RunningDocktunnel docktunnel;
  FactRecorder lifecycle;
  Path socket;

  @BeforeEach
  void setUp(Testbed bed) throws Exception {
    testbed = bed;
    Path folder = bed.workDir().resolve("idle-lifecycle-it");
    Files.createDirectories(folder);
    Files.setPosixFilePermissions(folder, PosixFilePermissions.fromString("rwx------"));
    socket = folder.resolve("docker.sock");
  }

  @AfterEach
  void tearDown() {
    try {
      RunningDocktunnel.tearDown(docktunnel, threads, testbed);
    } finally {
      if (server != null) {
        server.close(); // the daemons run again for the next test, also after a failure
      }
    }
  }

  int httpPort;

  void start(boolean fullStop, JsonObject lifecycleSettings) throws Exception {
    server = ServerSwitch.start(testbed, fullStop);
    httpPort = Figures.freePort();
    JsonObject settings = new JsonObject().put("provider", "command").put("idleTimeout", "2s")
        .put("gracePeriod", "1s").put("wakeTimeout", "30s").put("command", server.commands());
    lifecycleSettings.forEach(e -> settings.put(e.getKey(), e.getValue()));
    docktunnel = RunningDocktunnel.start(testbed, new JsonObject().put("lifecycle", settings)
        .put("http", new JsonObject().put("port", httpPort)), Optional.of(socket));
    lifecycle = FactRecorder.on(docktunnel.vertx, Addresses.LIFECYCLE);
  }

  JsonObject awaitState(String state, int fromIndex, Duration timeout) throws InterruptedException {
    return lifecycle.await(f -> lifecycle.facts().indexOf(f) >= fromIndex && state.equals(f.getString("state")),
        timeout);
  }

  JsonObject activity() throws Exception {
    return docktunnel.vertx.eventBus().<JsonObject>request(Addresses.ACTIVITY_QUERY, new JsonObject())
        .await(10, TimeUnit.SECONDS).body();
  }

  /** Fails if any lifecycle fact from {@code fromIndex} on says the countdown began or the server stops. */
  void assertNoCountdownSince(int fromIndex, String why) {
    Predicate<JsonObject> countdown = f -> List.of("idle-warning", "stopping", "stopped")
        .contains(f.getString("state"));
    List<JsonObject> facts = lifecycle.facts();
    for (int i = fromIndex; i < facts.size(); i++) {
      assertFalse(countdown.test(facts.get(i)), why + ": " + facts.get(i).encode());
    }
  }

  /** The docker CLI against docktunnel's socket, bounded by the wake timeout and a margin. */
  ProcessResult docker(String... args) {
    List<String> command = new java.util.ArrayList<>(List.of("env", "DOCKER_HOST=unix://" + socket,
        "DOCKER_CONFIG=" + testbed.workDir().resolve("idle-lifecycle-it-cli"), testbed.dockerCli().toString()));
    command.addAll(List.of(args));
    return testbed.exec(command, WAKE.plusSeconds(30));
  }

  @Test
  void theIdleStopComesAfterAWarningAndDocktunnelsOwnTrafficIsNoActivity() throws Exception {
    start(false, new JsonObject());
    StreamServerContainer streams = testbed.runStreamServer("idle-probed", 1 << 20);
    docktunnel.awaitForward("active", streams.echoPort()); // its probe is docktunnel's own traffic
    HttpClient http = HttpClient.newHttpClient();
    AtomicBoolean polling = new AtomicBoolean(true);
    Future<?> health = threads.submit(() -> {
      while (polling.get()) {
        for (String path : List.of("/health", "/server", "/metrics")) {
          http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path)).build(),
              HttpResponse.BodyHandlers.discarding());
        }
        Thread.sleep(100); // a monitor's polling rhythm, not a wait for a condition
      }
      return null;
    });
    Instant idleSince = Instant.parse(activity().getString("lastActivityAt"));
    try {
      JsonObject warning = awaitState("idle-warning", 0, STOP_BOUND);
      JsonObject stopped = awaitState("stopped", lifecycle.facts().indexOf(warning), STOP_BOUND);
      assertTrue(lifecycle.find(f -> "stopping".equals(f.getString("state"))).isPresent());
      Instant stopCalled = server.stops().get(0);
      assertTrue(!stopCalled.isBefore(Instant.parse(warning.getString("stopAt")).minusMillis(50)),
          "the stop came at the end of the warning: " + stopCalled + " vs " + warning.encode());
      Duration afterIdle = Duration.between(idleSince, stopCalled);
      assertTrue(afterIdle.compareTo(STOP_BOUND) <= 0, "stopped " + afterIdle + " after true idleness");
      assertTrue(afterIdle.compareTo(IDLE.plus(GRACE)) >= 0, "not before idle timeout and grace: " + afterIdle);
      assertEquals(1, server.stops().size());
      Figures.report("lifecycle: stop after idle %d ms (idle timeout %d ms + grace %d ms; reason: %s)",
          afterIdle.toMillis(), IDLE.toMillis(), GRACE.toMillis(), stopped.getString("reason"));
      assertTrue(health.isDone() == false, "the health polling ran all along");
    } finally {
      polling.set(false);
      health.get(10, TimeUnit.SECONDS);
    }
    docktunnel.sshStates.await(f -> "suspended".equals(f.getString("state")), WAIT);
  }

  @Test
  void aLongOpenConnectionAndDockerLogsFollowEachKeepTheServerUp() throws Exception {
    start(false, new JsonObject());
    StreamServerContainer streams = testbed.runStreamServer("idle-open", 1 << 20);
    docktunnel.awaitForward("active", streams.echoPort());
    int before = lifecycle.facts().size();
    try (Socket open = Traffic.connect(streams.echoPort(), WAIT)) {
      open.getOutputStream().write(1); // opened, one byte, then silence far past the idle timeout
      Instant until = Instant.now().plus(STOP_BOUND);
      awaitReason("forward-connection", true);
      while (Instant.now().isBefore(until)) {
        assertNoCountdownSince(before, "an open connection counts while open");
        Thread.sleep(200); // the rule under test is about time passing: the window itself
      }
      assertNoCountdownSince(before, "an open connection counts while open");
    }
    // Idle again: the countdown comes; docker logs -f during it cancels and then holds the server up.
    JsonObject warning = awaitState("idle-warning", before, STOP_BOUND);
    String logs = testbed.runContainer(List.of("--name", "idle-logs"), "sh", "-c",
        "while true; do sleep 30; done");
    List<String> follow = List.of("env", "DOCKER_HOST=unix://" + socket, testbed.dockerCli().toString(), "logs", "-f",
        logs);
    Process following = new ProcessBuilder(follow).redirectErrorStream(true).start();
    try {
      JsonObject cancelled = awaitState("running", lifecycle.facts().indexOf(warning), WAIT);
      assertTrue(cancelled.getString("reason").contains("activity"), cancelled.encode());
      awaitReason("docker-stream", true);
      int followed = lifecycle.facts().size();
      Instant until = Instant.now().plus(STOP_BOUND);
      while (Instant.now().isBefore(until)) {
        assertNoCountdownSince(followed, "docker logs -f counts while it follows");
        Thread.sleep(200);
      }
      assertNoCountdownSince(followed, "docker logs -f counts while it follows");
      assertTrue(following.isAlive());
    } finally {
      following.destroy();
      following.waitFor(10, TimeUnit.SECONDS);
    }
    assertTrue(server.stops().isEmpty(), "no stop while anything was active: " + server.stops());
  }

  @Test
  void aTrickleOfBytesKeepsTheServerUpAfterTheOpenConnectionStopsCounting() throws Exception {
    // An open connection alone counts for 1 s: only the bytes keep the server up after that.
    start(false, new JsonObject().put("connectionTimeout", "1s"));
    StreamServerContainer streams = testbed.runStreamServer("idle-trickle", 1 << 20);
    docktunnel.awaitForward("active", streams.echoPort());
    int before = lifecycle.facts().size();
    try (Socket trickle = Traffic.connect(streams.echoPort(), WAIT)) {
      OutputStream out = trickle.getOutputStream();
      InputStream in = trickle.getInputStream();
      Instant until = Instant.now().plus(STOP_BOUND);
      int sent = 0;
      while (Instant.now().isBefore(until)) {
        out.write('x');
        out.flush();
        assertEquals('x', in.read(), "the echo of byte " + sent);
        sent++;
        assertNoCountdownSince(before, "a trickle of bytes is activity");
        Thread.sleep(400); // the trickle's rhythm: a byte every 400 ms
      }
      assertNoCountdownSince(before, "a trickle of bytes is activity");
    }
    assertTrue(server.stops().isEmpty(), "no stop during the transfer");
    awaitState("stopped", before, STOP_BOUND.plus(STOP_BOUND)); // and once it ends, the server stops
  }

  @Test
  void extendPushesTheDeadline() throws Exception {
    start(false, new JsonObject());
    JsonObject warning = awaitState("idle-warning", 0, STOP_BOUND);
    Instant extendedAt = Instant.now();
    JsonObject extended = docktunnel.vertx.eventBus().<JsonObject>request(Addresses.LIFECYCLE_EXTEND,
        new JsonObject().put("durationMs", 4_000)).await(10, TimeUnit.SECONDS).body();
    assertEquals("running", extended.getString("state"), extended.encode());
    assertTrue(extended.getString("reason").contains("extended"), extended.encode());
    JsonObject next = awaitState("idle-warning", lifecycle.facts().indexOf(warning) + 1, STOP_BOUND.plusSeconds(4));
    assertTrue(!Instant.parse(next.getString("at")).isBefore(extendedAt.plusSeconds(4)),
        "no countdown before the extension ends: " + next.encode());
    awaitState("stopped", lifecycle.facts().indexOf(next), STOP_BOUND);
  }

  @Test
  void dockerPsWakesAFullyStoppedServer() throws Exception {
    start(true, new JsonObject());
    awaitState("stopped", 0, STOP_BOUND);
    // The first byte of a raw ping through the socket: the wake's whole cost.
    long began = System.nanoTime();
    String answer;
    try (SocketChannel ping = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      ping.connect(UnixDomainSocketAddress.of(socket));
      ping.write(ByteBuffer.wrap("GET /_ping HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n"
          .getBytes(StandardCharsets.US_ASCII)));
      ByteBuffer first = ByteBuffer.allocate(64);
      ping.read(first);
      Duration toFirstByte = Duration.ofNanos(System.nanoTime() - began);
      answer = new String(first.array(), 0, first.position(), StandardCharsets.US_ASCII);
      Duration startTook = server.lastStartTook();
      Figures.report("lifecycle: wake to first byte %d ms (the provider's start took %d ms)",
          toFirstByte.toMillis(), startTook.toMillis());
      assertTrue(toFirstByte.minus(startTook).compareTo(Duration.ofSeconds(3)) <= 0,
          "first byte within the start time + 3 s: " + toFirstByte + " vs " + startTook);
    }
    assertTrue(answer.startsWith("HTTP/1.1 200"), answer);
    // Stopped again by a person; the docker CLI itself wakes it.
    int before = lifecycle.facts().size();
    docktunnel.vertx.eventBus().request(Addresses.LIFECYCLE_SERVER, new JsonObject().put("action", "stop"))
        .await(10, TimeUnit.SECONDS);
    awaitState("stopped", before, WAIT);
    ProcessResult ps = docker("ps", "--format", "{{.ID}}");
    assertTrue(ps.ok(), ps.describeFailure());
    assertEquals(2, server.starts().size(), "one start per wake: " + server.starts());
  }

  @Test
  void aConnectionToAForwardedPortWakesTheServerAndIsAnsweredByteExact() throws Exception {
    start(false, new JsonObject());
    int owe = 8 << 20; // far more than the socket buffers, owed after the client's FIN
    StreamServerContainer streams = testbed.runStreamServer("idle-wake", owe);
    JsonObject forward = docktunnel.awaitForward("active", streams.owePort());
    int before = lifecycle.facts().size();
    awaitState("stopped", before, STOP_BOUND);
    Traffic.Outcome outcome = Traffic.owe(forward.getInteger("localPort"), 42, 64 << 10, owe,
        Duration.ofMillis(300), WAIT);
    assertTrue(outcome.ok(), outcome.toString());
    assertEquals(1, server.starts().size());
  }

  @Test
  void aFailedStartGivesTheHeldClientsAClearErrorWithinTheWakeTimeout() throws Exception {
    start(false, new JsonObject().put("wakeTimeout", "20s"));
    StreamServerContainer streams = testbed.runStreamServer("idle-fail", 1 << 20);
    JsonObject forward = docktunnel.awaitForward("active", streams.echoPort());
    awaitState("stopped", 0, STOP_BOUND);
    server.failStarts("no capacity in the testbed");
    ProcessResult ps = docker("ps");
    assertFalse(ps.ok(), "docker ps cannot succeed: " + ps.stdout());
    assertTrue(ps.stderr().contains("docktunnel: starting server failed:")
        && ps.stderr().contains("no capacity in the testbed"), ps.describeFailure());
    assertTrue(ps.elapsed().compareTo(Duration.ofSeconds(20)) < 0, "within the wake timeout: " + ps.elapsed());
    Figures.report("lifecycle: a failed start answered docker ps in %d ms: %s", ps.elapsed().toMillis(),
        ps.stderr().strip());
    try (Socket tcp = Traffic.connect(forward.getInteger("localPort"), WAIT)) {
      tcp.getOutputStream().write("hello".getBytes(StandardCharsets.US_ASCII));
      assertThrows(SocketException.class, () -> tcp.getInputStream().read(), "a TCP client is reset");
    }
    JsonObject failed = lifecycle.await(f -> "failed".equals(f.getString("state")), WAIT);
    assertTrue(failed.getString("reason").contains("no capacity in the testbed"), failed.encode());
  }

  void awaitReason(String source, boolean open) throws Exception {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (true) {
      JsonObject state = activity();
      boolean found = state.getJsonArray("reasons").stream().map(JsonObject.class::cast)
          .anyMatch(r -> source.equals(r.getString("source")) && open == r.getBoolean("open"));
      if (found) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("no " + source + " reason (open " + open + ") within " + WAIT + ": " + state);
      }
      Thread.sleep(50);
    }
  }
}

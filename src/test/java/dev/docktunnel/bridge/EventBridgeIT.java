package dev.docktunnel.bridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docktunnel.bus.Addresses;
import dev.docktunnel.testbed.Figures;
import dev.docktunnel.testbed.StateFiles;
import dev.docktunnel.testbed.Testbed;
import dev.docktunnel.testbed.TestbedExtension;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The event bridge of the shipped jar ({@code java -jar target/docktunnel.jar run}) against the
 * testbed: permissions, the frame cap with the daemon's memory, a slow subscriber, the Node
 * example and {@code docktunnel events}. One daemon for the class; the last test stops it.
 */
@ExtendWith(TestbedExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class EventBridgeIT {
  static final Path JAR = Path.of("target", "docktunnel.jar").toAbsolutePath();
  static final Path NODE_EXAMPLE = Path.of("examples", "node-subscriber", "subscriber.js").toAbsolutePath();
  static final Duration WAIT = Duration.ofSeconds(30);

  final Testbed testbed;
  final List<Process> started = new ArrayList<>();
  Path tmp;
  Path stateDir;
  Path log;
  Process daemon;
  int bridgePort;

  EventBridgeIT(Testbed testbed) {
    this.testbed = testbed;
  }

  @BeforeAll
  void startDaemon() throws Exception {
    assertTrue(Files.isRegularFile(JAR), "the fat jar is built by `package` before integration tests: " + JAR);
    tmp = Files.createTempDirectory("event-bridge-it");
    stateDir = tmp.resolve("state");
    log = tmp.resolve("daemon.log");
    List<String> command = new ArrayList<>(List.of(java(), "-Xmx64m", "-XX:+UseSerialGC", "-jar", JAR.toString(),
        "run", "--host", testbed.sshUri(), "--identity", testbed.clientPrivateKey().toString(),
        "--known-hosts", testbed.knownHostsFile().toString(), "--ssh-config", "/dev/null",
        "--remote-docker-socket", testbed.dockerSocket().toString(), "--state-dir", stateDir.toString(),
        "--bridge-port", "0"));
    daemon = start(command, log);
    JsonObject state = awaitState(s -> s.getValue("bridgePort") != null
        && "connected".equals(s.getJsonObject("ssh").getString("state")));
    bridgePort = state.getInteger("bridgePort");
    awaitLog("ready");
  }

  @AfterAll
  void stopAll() throws Exception {
    for (Process p : started) {
      if (p.isAlive()) {
        p.destroyForcibly(); // only what this class started, by handle
        p.waitFor(10, TimeUnit.SECONDS);
      }
    }
    testbed.removeAllContainers();
  }

  static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  Process start(List<String> command, Path output) throws IOException {
    ProcessBuilder builder = new ProcessBuilder(command).directory(tmp.toFile()).redirectErrorStream(true)
        .redirectOutput(output.toFile());
    builder.environment().put("XDG_CONFIG_HOME", tmp.toString());
    Process p = builder.start();
    started.add(p);
    return p;
  }

  /** A process whose stdout lines are queued with the time each arrived. */
  record Lines(Process process, BlockingQueue<TimedLine> queue, Path stderr) {
  }

  record TimedLine(long nanos, String text) {
  }

  Lines startWithLines(List<String> command, String name) throws IOException {
    Path stderr = tmp.resolve(name + ".stderr");
    ProcessBuilder builder = new ProcessBuilder(command).directory(tmp.toFile())
        .redirectError(stderr.toFile());
    builder.environment().put("XDG_CONFIG_HOME", tmp.toString());
    Process p = builder.start();
    started.add(p);
    BlockingQueue<TimedLine> queue = new LinkedBlockingQueue<>();
    Thread reader = new Thread(() -> {
      try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line = in.readLine(); line != null; line = in.readLine()) {
          queue.add(new TimedLine(System.nanoTime(), line));
        }
      } catch (IOException e) {
        queue.add(new TimedLine(System.nanoTime(), "READ FAILED " + e));
      }
    }, name + "-stdout");
    reader.setDaemon(true);
    reader.start();
    return new Lines(p, queue, stderr);
  }

  static TimedLine awaitLine(Lines lines, Predicate<String> wanted, String what) throws Exception {
    long deadline = System.nanoTime() + WAIT.toNanos();
    List<String> seen = new ArrayList<>();
    while (System.nanoTime() < deadline) {
      TimedLine line = lines.queue().poll(200, TimeUnit.MILLISECONDS);
      if (line != null) {
        if (wanted.test(line.text())) {
          return line;
        }
        seen.add(line.text());
      } else if (!lines.process().isAlive()) {
        break;
      }
    }
    throw new AssertionError("no " + what + "; lines: " + seen + "; stderr: " + Files.readString(lines.stderr()));
  }

  JsonObject awaitState(Predicate<JsonObject> wanted) throws Exception {
    return StateFiles.await(stateDir, WAIT, wanted, daemon::isAlive, () -> Files.readString(log));
  }


  void awaitLog(String text) throws Exception {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!Files.readString(log).contains(text)) {
      assertTrue(daemon.isAlive(), "docktunnel exited: " + Files.readString(log));
      assertTrue(System.nanoTime() < deadline, "no '" + text + "' in: " + Files.readString(log));
      Thread.sleep(50); // polling the log file, bounded by the deadline
    }
  }

  /** The daemon's resident set, from /proc (no JMX). */
  long daemonRssKiB() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc", Long.toString(daemon.pid()), "status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    throw new IOException("no VmRSS for pid " + daemon.pid());
  }

  @Test
  @Order(1)
  void unpermittedAddressesAreRefusedAndNothingIsDelivered() throws Exception {
    try (BridgeSocket refused = BridgeSocket.connect(bridgePort);
        BridgeSocket allowed = BridgeSocket.connect(bridgePort)) {
      refused.register(Addresses.STATUS); // a query, not a fact
      refused.register("docktunnel.internal");
      refused.register("__vertx.reply.1");
      refused.send(new JsonObject().put("type", "publish").put("address", Addresses.FORWARD_STATUS)
          .put("body", new JsonObject().put("id", "forged")));
      refused.send(new JsonObject().put("type", "send").put("address", Addresses.FORWARDS_LIST)
          .put("body", new JsonObject()));
      List<JsonObject> errors = refused.untilPong(WAIT);
      assertEquals(5, errors.size(), errors.toString());
      errors.forEach(e -> assertEquals("access_denied", e.getString("message"), e.encode()));
      allowed.register(Addresses.FORWARD_STATUS);
      allowed.untilPong(WAIT);

      int port = Figures.freePort();
      testbed.runHttpd("bridge-refused", port);
      JsonObject fact = allowed.read(WAIT);
      assertEquals(Addresses.FORWARD_STATUS, fact.getString("address"));
      assertTrue(fact.getJsonObject("body").getString("containerName").contains("bridge-refused"), fact.encode());
      // the refused client got nothing of it: the forged publish was not a fact, its registrations none
      assertEquals(List.of(), refused.untilPong(WAIT), "0 deliveries to the refused client");
    }
    assertTrue(Files.readString(log).contains("refused a frame from tcp client"), "WARNed");
  }

  @Test
  @Order(2)
  void oversizedFramesCloseTheConnectionAndTheDaemonsMemoryStaysFlat() throws Exception {
    long before = daemonRssKiB();
    int attempts = 20;
    byte[] junk = new byte[1024 * 1024];
    long sentTotal = 0;
    for (int i = 0; i < attempts; i++) {
      try (BridgeSocket client = BridgeSocket.connect(bridgePort)) {
        client.writeRaw(ByteBuffer.allocate(4).putInt(i % 2 == 0 ? Integer.MAX_VALUE : 0xFFFFFFFF).array());
        // then up to 64 MiB of a frame that never ends; the bridge closes long before
        try {
          for (int mib = 0; mib < 64; mib++) {
            client.writeRaw(junk);
            sentTotal += junk.length;
          }
        } catch (IOException closedByTheBridge) {
          // expected: the connection was closed at the length prefix
        }
        assertTrue(client.closedWithin(WAIT), "the connection of an oversized frame is closed");
      }
    }
    long after = daemonRssKiB();
    System.out.printf("FIGURE event bridge oversized frames: %d connections announcing 2-4 GiB frames, %.1f MiB "
        + "accepted by the kernel before the close; daemon RSS %d KiB before, %d KiB after (%+d KiB)%n",
        attempts, sentTotal / 1048576.0, before, after, after - before);
    // A parser that buffered would hold the bytes written (and fail at -Xmx64m); the bound is loose
    // on purpose (RSS moves with GC and JIT), not a performance figure.
    assertTrue(after - before < 48 * 1024, "RSS grew by " + (after - before) + " KiB");
    try (BridgeSocket client = BridgeSocket.connect(bridgePort)) {
      assertEquals(List.of(), client.untilPong(WAIT), "the bridge still serves");
    }
    assertTrue(daemon.isAlive());
    assertTrue(Files.readString(log).contains("over the 1048576-byte cap"), "WARNed");
  }

  @Test
  @Order(3)
  void aSlowSubscriberIsDroppedAndAReaderKeepsReceiving() throws Exception {
    int port = Figures.freePort();
    testbed.runHttpd("bridge-slow", port);
    try (BridgeSocket slow = BridgeSocket.connect(bridgePort, 4096);
        BridgeSocket reader = BridgeSocket.connect(bridgePort)) {
      for (String fact : Addresses.FACTS) {
        slow.register(fact);
      }
      slow.untilPong(WAIT);
      String slowName = "tcp client 127.0.0.1:" + slow.socket.getLocalPort();
      reader.register(Addresses.ACTIVITY_CONNECTION);
      reader.untilPong(WAIT);
      awaitActiveForward(port);
      AtomicInteger openedFacts = new AtomicInteger();
      AtomicInteger closedFacts = new AtomicInteger();
      BlockingQueue<String> closedPeers = new LinkedBlockingQueue<>();
      CompletableFuture<Void> reading = CompletableFuture.runAsync(() -> {
        try {
          while (true) {
            JsonObject body = reader.read(Duration.ofSeconds(60)).getJsonObject("body");
            if (body.getInteger("localPort") == port) {
              if ("closed".equals(body.getString("event"))) {
                closedFacts.incrementAndGet();
                closedPeers.add(body.getString("peer"));
              } else {
                openedFacts.incrementAndGet();
              }
            }
          }
        } catch (IOException e) {
          throw new IllegalStateException("the reader lost the bridge after " + closedFacts.get() + " facts", e);
        }
      });
      // Connections through the forward, each an opened and a closed fact (~600 bytes), until the
      // slow subscriber's socket buffers and queue are full and the bridge drops it.
      int connections = 0;
      long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
      while (!Files.readString(log).contains("dropping " + slowName)) {
        assertTrue(System.nanoTime() < deadline, "the slow subscriber was never dropped after " + connections
            + " connections: " + Files.readString(log));
        assertTrue(!reading.isDone(), "the reader stopped: " + reading);
        for (int i = 0; i < 50; i++) {
          try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
          }
          connections++;
        }
      }
      // After the drop the reader still gets the facts of a new connection.
      String peer;
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
        peer = "127.0.0.1:" + s.getLocalPort();
      }
      long waitUntil = System.nanoTime() + WAIT.toNanos();
      while (closedPeers.stream().noneMatch(p -> p.endsWith(peer))) {
        assertTrue(!reading.isDone(), "the reader stopped: " + reading);
        assertTrue(System.nanoTime() < waitUntil, "the reader never saw the close of " + peer);
        Thread.sleep(20); // polling the reader's queue, bounded by the deadline
      }
      System.out.printf("FIGURE event bridge slow subscriber: dropped after %d connections through the forward; "
          + "the reader, still connected, received %d opened and %d closed facts for them (and the close of "
          + "one more after the drop)%n", connections, openedFacts.get(), closedFacts.get() - 1);
      assertTrue(slow.closedWithin(WAIT), "the slow subscriber's connection is closed");
    }
  }

  void awaitActiveForward(int port) throws Exception {
    awaitState(s -> s.getJsonArray("forwards").stream().map(JsonObject.class::cast)
        .anyMatch(f -> f.getInteger("localPort") == port && "active".equals(f.getString("status"))));
  }

  @Test
  @Order(4)
  void theNodeExampleSeesAContainerStartWithinOneSecond() throws Exception {
    String node = nodeExecutable();
    Lines lines = startWithLines(List.of(node, NODE_EXAMPLE.toString(), Integer.toString(bridgePort)), "node");
    awaitLine(lines, l -> l.startsWith("snapshot done seq="), "snapshot from the Node example");
    int port = Figures.freePort();
    String name = "bridge-node";
    testbed.docker("create", "--name", name, "-p", port + ":" + Testbed.HTTPD_CONTAINER_PORT, Testbed.IMAGE,
        "httpd", "-f", "-p", Integer.toString(Testbed.HTTPD_CONTAINER_PORT), "-h", "/www");
    long beforeStart = System.nanoTime();
    testbed.docker("start", name);
    long started = System.nanoTime();
    TimedLine event = awaitLine(lines, l -> l.startsWith("event") && l.contains(name), "forward.status event");
    long fromReturn = TimeUnit.NANOSECONDS.toMillis(event.nanos() - started);
    long fromCall = TimeUnit.NANOSECONDS.toMillis(event.nanos() - beforeStart);
    System.out.printf("FIGURE node subscriber: forward.status printed %d ms after `docker start` returned (%d ms "
        + "after it was called): %s%n", fromReturn, fromCall, event.text());
    assertTrue(fromReturn < 1000, "the Node example printed the forward " + fromReturn
        + " ms after docker start returned; the contract is 1 s");
    lines.process().destroy();
    assertTrue(lines.process().waitFor(10, TimeUnit.SECONDS));
  }

  /** Node from PATH (Debian's nodejs, installed by bin/test); a missing one fails, never skips. */
  static String nodeExecutable() {
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
      Path candidate = Path.of(dir, "node");
      if (Files.isExecutable(candidate)) {
        return candidate.toString();
      }
    }
    throw new AssertionError("node is not installed (no `node` on PATH): bin/test installs Debian's nodejs; "
        + "run `apt-get install nodejs`");
  }

  @Test
  @Order(5)
  void theHttpApiServesTheSockJsBridgeToItsOwnOriginOnly() throws Exception {
    int httpPort = awaitState(st -> st.getValue("httpPort") != null).getInteger("httpPort");
    io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
    try {
      io.vertx.core.http.WebSocketClient client = vertx.createWebSocketClient();
      io.vertx.core.http.WebSocketConnectOptions evil = new io.vertx.core.http.WebSocketConnectOptions()
          .setHost("127.0.0.1").setPort(httpPort).setURI("/eventbus/websocket")
          .addHeader("Origin", "http://evil.example");
      Exception refused = org.junit.jupiter.api.Assertions.assertThrows(Exception.class,
          () -> client.connect(evil).await(10, TimeUnit.SECONDS));
      assertTrue(String.valueOf(refused.getMessage()).contains("403")
          || String.valueOf(refused.getCause()).contains("403"), refused.toString());

      BlockingQueue<JsonObject> inbox = new LinkedBlockingQueue<>();
      io.vertx.core.http.WebSocket ws = client.connect(new io.vertx.core.http.WebSocketConnectOptions()
          .setHost("127.0.0.1").setPort(httpPort).setURI("/eventbus/websocket")
          .addHeader("Origin", "http://localhost:" + httpPort)).await(10, TimeUnit.SECONDS);
      ws.textMessageHandler(text -> inbox.add(new JsonObject(text)));
      ws.writeTextMessage(new JsonObject().put("type", "register").put("address", Addresses.FORWARD_STATUS).encode())
          .await(10, TimeUnit.SECONDS);
      ws.writeTextMessage(new JsonObject().put("type", "register").put("address", "docktunnel.status").encode())
          .await(10, TimeUnit.SECONDS);
      JsonObject denied = inbox.poll(10, TimeUnit.SECONDS);
      assertTrue(denied != null && "access_denied".equals(denied.getString("message")), String.valueOf(denied));
      // frames are handled in order: with the answer to this query, the registration is in effect
      ws.writeTextMessage(new JsonObject().put("type", "send").put("address", Addresses.FORWARDS_LIST)
          .put("replyAddress", "snap").put("body", new JsonObject()).encode()).await(10, TimeUnit.SECONDS);
      JsonObject snapshot = inbox.poll(10, TimeUnit.SECONDS);
      assertTrue(snapshot != null && "snap".equals(snapshot.getString("address")), String.valueOf(snapshot));
      long seq = snapshot.getJsonObject("body").getLong("seq");
      testbed.runHttpd("bridge-sockjs", Figures.freePort());
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (true) {
        JsonObject frame = inbox.poll(1, TimeUnit.SECONDS);
        assertTrue(System.nanoTime() < deadline, "no forward.status of bridge-sockjs over SockJS");
        if (frame != null && frame.getJsonObject("body").getString("containerName", "").contains("bridge-sockjs")) {
          assertTrue(frame.getJsonObject("body").getLong("seq") > seq, "after the snapshot's seq");
          break;
        }
      }
      ws.close().await(10, TimeUnit.SECONDS);
    } finally {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  @Test
  @Order(6)
  void eventsJsonPrintsTheForwardOfAStartedContainerAndEndsWhenTheDaemonGoes() throws Exception {
    List<String> events = List.of("env", "--default-signal=INT", java(), "-jar", JAR.toString(), "events",
        "--state-dir", stateDir.toString(), "--json");
    Lines lines = startWithLines(events, "events");
    awaitStderr(lines, "following");
    int port = Figures.freePort();
    testbed.runHttpd("bridge-events", port);
    TimedLine line = awaitLine(lines, l -> {
      JsonObject frame = new JsonObject(l);
      return Addresses.FORWARD_STATUS.equals(frame.getString("address"))
          && frame.getJsonObject("body").getString("containerName").contains("bridge-events");
    }, "forward.status line");
    JsonObject fact = new JsonObject(line.text()).getJsonObject("body");
    assertEquals(port, fact.getInteger("publishedPort"));
    assertTrue(fact.getLong("seq") > 0, "the fact carries its seq");

    // Ctrl-C ends it cleanly
    assertEquals(0, new ProcessBuilder("kill", "-INT", Long.toString(lines.process().pid())).start().waitFor());
    assertTrue(lines.process().waitFor(10, TimeUnit.SECONDS), "events did not end on SIGINT");
    assertEquals(0, lines.process().exitValue(), "SIGINT is a requested stop");

    // The daemon going away ends it with 1, naming the port and the state file
    Lines second = startWithLines(events, "events2");
    awaitStderr(second, "following");
    daemon.destroy(); // SIGTERM, by handle
    assertTrue(second.process().waitFor(30, TimeUnit.SECONDS), "events did not end with the daemon");
    assertEquals(1, second.process().exitValue());
    String said = Files.readString(second.stderr());
    assertTrue(said.contains("127.0.0.1:" + bridgePort) && said.contains(".state.json")
        && said.contains("went away"), said);

    // ... and when it is not running, says so
    assertTrue(daemon.waitFor(30, TimeUnit.SECONDS));
    Process third = start(events, tmp.resolve("events3.log"));
    assertTrue(third.waitFor(30, TimeUnit.SECONDS));
    assertEquals(1, third.exitValue());
    assertTrue(Files.readString(tmp.resolve("events3.log")).contains("not running"),
        Files.readString(tmp.resolve("events3.log")));
  }

  static void awaitStderr(Lines lines, String text) throws Exception {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!Files.readString(lines.stderr()).contains(text)) {
      assertTrue(lines.process().isAlive(), "exited: " + Files.readString(lines.stderr()));
      assertTrue(System.nanoTime() < deadline, "no '" + text + "' in: " + Files.readString(lines.stderr()));
      Thread.sleep(50); // polling the file, bounded by the deadline
    }
  }
}

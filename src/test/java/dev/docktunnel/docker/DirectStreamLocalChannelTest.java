package dev.docktunnel.docker;

import static dev.docktunnel.docker.ScriptedConnector.chunk;
import static dev.docktunnel.docker.ScriptedConnector.response;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docktunnel.ssh.SessionProvider;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.junit5.VertxExtension;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.PublicKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.channel.ChannelFactory;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.io.IoReadFuture;
import org.apache.sshd.common.util.buffer.ByteArrayBuffer;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.keyprovider.SimpleGeneratorHostKeyProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code direct-streamlocal@openssh.com} channel and the engine client over a real SSH
 * session: MINA's in-process sshd (with a test-only server side for the channel type, see
 * {@link StreamLocalServerChannel}) in front of a fake engine on a real Unix socket.
 */
@ExtendWith(VertxExtension.class)
class DirectStreamLocalChannelTest {
  OnContext calls() {
    return new OnContext(context, TIMEOUT);
  }

  static final Duration TIMEOUT = Duration.ofSeconds(10);
  static final String ID = "4f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c";

  @TempDir
  Path dir;
  Vertx vertx;
  Context context;
  UnixSocketEngine engine;
  SshServer sshd;
  SshClient client;
  ClientSession session;
  final StreamLocalServerChannel.Factory streamLocal = new StreamLocalServerChannel.Factory();

  @BeforeEach
  void setUp(Vertx vertx) throws Exception {
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    String inspect = ContainerInfoTest.resource("inspect-running.json");
    String list = new JsonArray(ContainerInfoTest.resource("list.json")).encode();
    engine = new UnixSocketEngine(dir.resolve("docker.sock"), (line, conn) -> {
      if (line.startsWith("GET /_ping ")) {
        conn.write(response(200, "OK", "Api-Version: 1.41"));
      } else if (line.startsWith("GET /version ")) {
        conn.write(response(200, DockerEngineClientTest.VERSION_141, DockerEngineClientTest.DATE));
      } else if (line.startsWith("GET /v1.41/containers/json ")) {
        conn.write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            + "Transfer-Encoding: chunked\r\n\r\n");
        conn.write(chunk(list.substring(0, 300)));
        conn.write(chunk(list.substring(300)) + "0\r\n\r\n");
      } else if (line.startsWith("GET /v1.41/containers/" + ID + "/json ")) {
        conn.write(response(200, inspect));
      } else if (line.startsWith("GET /v1.41/containers/")) {
        conn.write(response(404, "{\"message\":\"No such container: x\"}\n"));
      } else if (line.startsWith("GET /v1.41/events?")) {
        conn.write(DockerEngineClientTest.EVENTS_HEAD);
      } else if (line.equals("HELLO")) {
        conn.write("bye");
        sleep(200); // let the client's next read be pending when the EOF arrives
        conn.shutdownOutput();
      } else {
        conn.write(response(400, "{\"message\":\"unexpected " + line + "\"}"));
      }
    });

    SimpleGeneratorHostKeyProvider hostKeys =
        new SimpleGeneratorHostKeyProvider(dir.resolve("hostkey"));
    PublicKey hostKey = hostKeys.loadKeys(null).iterator().next().getPublic();
    sshd = SshServer.setUpDefaultServer();
    sshd.setHost("127.0.0.1");
    sshd.setPort(0);
    sshd.setKeyPairProvider(hostKeys);
    sshd.setPasswordAuthenticator((user, password, s) -> "secret".equals(password));
    List<ChannelFactory> factories = new ArrayList<>(sshd.getChannelFactories());
    factories.add(streamLocal);
    sshd.setChannelFactories(factories);
    sshd.start();

    client = SshClient.setUpDefaultClient();
    client.setServerKeyVerifier((s, address, key) -> KeyUtils.compareKeys(hostKey, key));
    client.start();
    session = client.connect("test", "127.0.0.1", sshd.getPort()).verify(TIMEOUT).getSession();
    session.addPasswordIdentity("secret");
    session.auth().verify(TIMEOUT);
  }

  @AfterEach
  void tearDown() throws IOException {
    client.stop();
    sshd.stop(true);
    engine.close();
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  SessionProvider sessions() {
    return () -> Optional.of(session);
  }

  String socket() {
    return engine.path.toString();
  }



  @Test
  void theEngineApiWorksOverARealSshSession() throws Exception {
    DockerEngineClient docker = new DockerEngineClient(vertx, sessions(), socket());

    calls().await(docker::ping);
    EngineVersion version = calls().await(docker::version);
    assertEquals(new ApiVersion(1, 41), version.negotiated());
    List<ContainerInfo> list = calls().await(docker::listContainers);
    assertEquals(List.of("web", "db", "echo"), list.stream().map(ContainerInfo::name).toList());
    ContainerInfo web = calls().await(() -> docker.inspect(ID));
    assertEquals(list.get(0), web);
    assertInstanceOf(NoSuchContainerException.class, calls().failure(() -> docker.inspect("gone")));

    assertEquals(5, streamLocal.requestedPaths.size(), "one channel per request");
    assertTrue(streamLocal.requestedPaths.stream().allMatch(socket()::equals));
    for (UnixSocketEngine.Conn conn : engine.connections) {
      assertTrue(conn.clientClosed.await(TIMEOUT.toSeconds(), TimeUnit.SECONDS),
          "the client closed the channel after " + conn.requestLine
              + " although the engine kept the connection open");
    }
    assertTrue(session.isOpen(), "requests never harm the session");
  }

  @Test
  void eventsStreamOverSshAndCancelClosesTheRemoteSocket() throws Exception {
    DockerEngineClient docker = new DockerEngineClient(vertx, sessions(), socket());
    List<DockerEvent> events = new CopyOnWriteArrayList<>();
    CompletableFuture<Throwable> ended = new CompletableFuture<>();
    EventStream stream = calls().await(() -> docker.events(Set.of("container"), events::add,
        ended::complete));
    UnixSocketEngine.Conn conn = engine.last();

    String start = EventStreamParserTest.START + "\n";
    conn.write(chunk(start.substring(0, 40)));
    conn.write(chunk(start.substring(40) + EventStreamParserTest.DIE + "\n"));
    DockerEngineClientTest.waitFor(() -> events.size() == 2);
    assertEquals(List.of("start", "die"), events.stream().map(DockerEvent::action).toList());

    context.runOnContext(v -> stream.cancel());
    assertTrue(conn.clientClosed.await(TIMEOUT.toSeconds(), TimeUnit.SECONDS),
        "cancel sends CHANNEL_CLOSE, so the remote end closes the engine socket");
    assertFalse(ended.isDone(), "no end callback after cancel");
  }

  @Test
  void theEnginesEndOfStreamReachesTheEndHandler() throws Exception {
    DockerEngineClient docker = new DockerEngineClient(vertx, sessions(), socket());
    CompletableFuture<Throwable> ended = new CompletableFuture<>();
    calls().await(() -> docker.events(Set.of("container"), e -> { }, ended::complete));
    UnixSocketEngine.Conn conn = engine.last();

    conn.write(chunk(EventStreamParserTest.START + "\n"));
    conn.channel.close(); // dockerd goes away mid-stream

    Throwable error = ended.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    assertInstanceOf(DockerEngineException.class, error);
    assertTrue(error.getMessage().contains("before the response was complete"), error.getMessage());
  }

  /** Opens a channel to the fake engine and sends the non-HTTP "HELLO" exchange. */
  DirectStreamLocalChannel openAndSayHello(DirectStreamLocalChannel channel) throws IOException {
    session.getService(org.apache.sshd.common.session.ConnectionService.class)
        .registerChannel(channel);
    channel.open().verify(TIMEOUT);
    channel.getAsyncIn().writeBuffer(new ByteArrayBuffer("HELLO\r\n\r\n".getBytes(
        StandardCharsets.US_ASCII))).verify(TIMEOUT);
    return channel;
  }

  static String readAll(DirectStreamLocalChannel channel, int bytes) throws IOException {
    StringBuilder got = new StringBuilder();
    while (got.length() < bytes) {
      IoReadFuture read = SshChannels.read(channel.getAsyncOut(), new ByteArrayBuffer(1024))
          .verify(TIMEOUT);
      got.append(new String(read.getBuffer().getCompactData(), StandardCharsets.US_ASCII));
    }
    return got.toString();
  }

  @Test
  void aRemoteEofCompletesAPendingReadWhileTheChannelStaysOpen() throws Exception {
    DirectStreamLocalChannel channel = openAndSayHello(new DirectStreamLocalChannel(socket()));
    assertEquals("bye", readAll(channel, 3));

    IoReadFuture pending = SshChannels.read(channel.getAsyncOut(), new ByteArrayBuffer(1024));
    assertFalse(pending.isDone(), "nothing to read yet: the engine half-closes 200 ms later");
    pending.await(TIMEOUT);
    assertTrue(pending.isDone(), "the remote EOF completed the pending read");
    assertInstanceOf(EOFException.class, pending.getException());
    assertTrue(channel.isEofSignalled());
    assertTrue(channel.isOpen(), "only the remote direction ended; the channel is still open");
    assertTrue(SshChannels.read(channel.getAsyncOut(), new ByteArrayBuffer(16)).isDone(),
        "later reads end at once");

    CompletableFuture<Void> closed = new CompletableFuture<>();
    context.runOnContext(v -> SshChannels.closeGracefully(channel, vertx, Duration.ofSeconds(5))
        .onComplete(ar -> closed.complete(null)));
    closed.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    assertTrue(channel.isClosed());
    assertTrue(engine.last().clientClosed.await(TIMEOUT.toSeconds(), TimeUnit.SECONDS));
  }

  @Test
  void withoutTheFixMinaLeavesThePendingReadHanging() throws Exception {
    // MINA's own handleEof (records the EOF, notifies listeners), without our completion.
    DirectStreamLocalChannel unfixed = new DirectStreamLocalChannel(socket()) {
      @Override
      public void handleEof() {
        eofReceived.set(true);
        notifyStateChanged("SSH_MSG_CHANNEL_EOF");
      }
    };
    openAndSayHello(unfixed);
    assertEquals("bye", readAll(unfixed, 3));
    IoReadFuture pending = SshChannels.read(unfixed.getAsyncOut(), new ByteArrayBuffer(1024));
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    while (!unfixed.isEofSignalled() && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    assertTrue(unfixed.isEofSignalled(), "the remote EOF arrived");
    assertFalse(pending.await(500), "...and the read still waits: the gap the fix closes");
    unfixed.close(true);
  }

  @Test
  void aMissingSocketIsAClearErrorAndTheSessionSurvives() throws Exception {
    DockerEngineClient docker = new DockerEngineClient(vertx, sessions(), "/nonexistent/docker.sock");
    Throwable error = calls().failure(docker::ping);
    assertInstanceOf(DockerEngineException.class, error);
    assertTrue(error.getMessage().contains("refused a channel to unix:/nonexistent/docker.sock")
        && error.getMessage().contains("AllowStreamLocalForwarding"), error.getMessage());
    assertTrue(session.isOpen());
    calls().await(new DockerEngineClient(vertx, sessions(), socket())::ping);
  }

  @Test
  void noSessionIsAClearError() throws Exception {
    DockerEngineClient docker = new DockerEngineClient(vertx, Optional::empty, socket());
    Throwable error = calls().failure(docker::ping);
    assertTrue(error.getMessage().contains("SSH session is not connected"), error.getMessage());
    assertTrue(engine.connections.isEmpty(), "nothing was opened");
  }
}

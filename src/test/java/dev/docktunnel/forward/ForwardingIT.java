package dev.docktunnel.forward;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static dev.docktunnel.testbed.Figures.awaitRefused;
import static dev.docktunnel.testbed.Figures.freePort;

import dev.docktunnel.testbed.RunningDocktunnel;
import dev.docktunnel.testbed.Testbed;
import dev.docktunnel.testbed.TestbedExtension;
import io.netty.channel.Channel;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * End to end on the testbed: a real OpenSSH sshd and dockerd in a namespace, real busybox
 * containers, docktunnel forwarding their published ports to this host's loopback.
 */
@ExtendWith(TestbedExtension.class)
class ForwardingIT {
  static final Duration TIMEOUT = Duration.ofSeconds(60);
  static final ExecutorService threads = Executors.newCachedThreadPool();
  static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  static Testbed testbed;
  static RunningDocktunnel docktunnel;

  @BeforeAll
  static void start(Testbed bed) throws Exception {
    testbed = bed;
    docktunnel = RunningDocktunnel.start(bed, new JsonObject());
  }

  @AfterAll
  static void stop() throws Exception {
    threads.shutdownNow();
    if (docktunnel != null) {
      docktunnel.close();
    }
  }

  @AfterEach
  void removeContainers() {
    testbed.removeAllContainers();
  }

  /** A port free on this host's loopback, used as the published port in the namespace. */

  static String get(String host, int port) throws Exception {
    HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create("http://" + host + ":" + port + "/"))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, response.statusCode());
    return response.body();
  }




  @Test
  void publishedPortServesHttpOnLoopback() throws Exception {
    int port = freePort();
    testbed.runHttpd("web", port);
    JsonObject active = docktunnel.awaitForward("active", port);
    assertEquals(port, active.getInteger("localPort"));
    assertEquals("web", active.getString("containerName"));
    assertEquals(Testbed.HTTPD_INDEX_BODY, get("127.0.0.1", port));
    if (active.getJsonArray("bindAddresses").contains("::1")) {
      assertEquals(Testbed.HTTPD_INDEX_BODY, get("[::1]", port));
    }
  }

  @Test
  void thirtyTwoMibEchoIntactAndSixteenConcurrentStreams() throws Exception {
    int port = freePort();
    testbed.runEchoServer("echo", port);
    docktunnel.awaitForward("active", port);
    byte[] data = Streams.random(32 << 20, 7);
    assertArrayEquals(Streams.sha256(data), Streams.sha256(Streams.roundTrip(port, data, TIMEOUT, threads)));

    List<CompletableFuture<Boolean>> streams = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      byte[] chunk = Streams.random(1 << 20, 100 + i);
      streams.add(CompletableFuture.supplyAsync(() -> {
        try {
          return MessageDigest.isEqual(Streams.sha256(chunk), Streams.sha256(Streams.roundTrip(port, chunk, TIMEOUT, threads)));
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }, threads));
    }
    for (CompletableFuture<Boolean> stream : streams) {
      assertTrue(stream.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS));
    }
  }

  @Test
  void clientHalfCloseStillGetsTheWholeReply() throws Exception {
    // wc answers only after it saw EOF: the client's FIN must cross, the reply must come back.
    int port = freePort();
    testbed.runContainer(List.of("--name", "counter", "-p", port + ":7000"), "nc", "-ll", "-p", "7000", "-e", "wc", "-c");
    docktunnel.awaitForward("active", port);
    byte[] request = Streams.random(1 << 20, 3);
    assertEquals(String.valueOf(request.length), new String(Streams.roundTrip(port, request, TIMEOUT, threads)).trim());
  }

  @Test
  void remoteHalfCloseReachesTheClientWhileItCanStillSend() throws Exception {
    // The "remote service" is a socket of this JVM on the host side of the veth, which the
    // namespace's sshd reaches: it says hello, half-closes, then reads what the client sends.
    CompletableFuture<String> serverGot = new CompletableFuture<>();
    try (ServerSocket server = new ServerSocket(0, 5, InetAddress.getByName(testbed.hostSideIp()))) {
      threads.submit(() -> {
        try (Socket s = server.accept()) {
          s.getOutputStream().write("hello".getBytes());
          s.shutdownOutput();
          serverGot.complete(new String(s.getInputStream().readAllBytes()));
        } catch (IOException e) {
          serverGot.completeExceptionally(e);
        }
        return null;
      });
      ForwardProxy proxy = new ForwardProxy(docktunnel.app.ssh().sessionProvider(), 1);
      try {
        Channel listener = proxy.listen(new InetSocketAddress("127.0.0.1", 0),
            new ForwardTarget(testbed.hostSideIp(), server.getLocalPort()), new ForwardCounters(),
            new DefaultChannelGroup(GlobalEventExecutor.INSTANCE), (e, p, i, o) -> { }).sync().channel();
        try (Socket s = new Socket("127.0.0.1", ((InetSocketAddress) listener.localAddress()).getPort())) {
          s.setSoTimeout((int) TIMEOUT.toMillis());
          ByteArrayOutputStream got = new ByteArrayOutputStream();
          s.getInputStream().transferTo(got); // returns only at EOF
          assertEquals("hello", got.toString());
          s.getOutputStream().write("still sending".getBytes());
          s.shutdownOutput();
          assertEquals("still sending", serverGot.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS));
        }
      } finally {
        proxy.close().await(10, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void serverHangingUpMidStreamEndsOnlyThatConnection() throws Exception {
    // The server reads a little and closes while the client keeps sending: our data must not
    // follow the channel's CLOSE (OpenSSH drops the whole session for that).
    int port = freePort();
    int other = freePort();
    testbed.runContainer(List.of("--name", "hangup", "-p", port + ":7000"), "nc", "-ll", "-p", "7000", "-e", "head", "-c", "1000");
    testbed.runEchoServer("survivor", other);
    docktunnel.awaitForward("active", port);
    docktunnel.awaitForward("active", other);
    int connectedStates = connectedCount();
    byte[] chunk = Streams.random(1 << 20, 11);
    for (int i = 0; i < 5; i++) {
      try (Socket s = new Socket("127.0.0.1", port)) {
        s.setSoTimeout((int) TIMEOUT.toMillis());
        OutputStream out = s.getOutputStream();
        for (int sent = 0; sent < 16; sent++) {
          out.write(chunk);
        }
      } catch (IOException expected) {
        // reset by the hang-up: what a client of such a server sees
      }
    }
    assertEquals("alive", new String(Streams.roundTrip(other, "alive".getBytes(), TIMEOUT, threads)));
    assertEquals(connectedStates, connectedCount(), "the SSH session must not have been lost");
    assertTrue(docktunnel.sshStates.find(s -> "reconnecting".equals(s.getString("state"))).isEmpty(),
        docktunnel.sshStates.facts().toString());
  }

  static int connectedCount() {
    return (int) docktunnel.sshStates.facts().stream().filter(s -> "connected".equals(s.getString("state"))).count();
  }

  @Test
  void removingTheContainerClosesTheLocalPort() throws Exception {
    int port = freePort();
    String id = testbed.runHttpd("gone", port);
    docktunnel.awaitForward("active", port);
    testbed.docker("rm", "-f", id);
    docktunnel.awaitForward("stopped", port);
    awaitRefused(port);
  }

  @Test
  void twoContainersEachGetTheirForward() throws Exception {
    int one = freePort();
    int two = freePort();
    testbed.runHttpd("one", one);
    testbed.runEchoServer("two", two);
    docktunnel.awaitForward("active", one);
    docktunnel.awaitForward("active", two);
    assertEquals(Testbed.HTTPD_INDEX_BODY, get("127.0.0.1", one));
    assertEquals("both", new String(Streams.roundTrip(two, "both".getBytes(), TIMEOUT, threads)));
  }

  @Test
  void labelsOptOutAndRemap() throws Exception {
    int optedOut = freePort();
    int remapped = freePort();
    int local = freePort();
    testbed.runContainer(List.of("--name", "private", "--label", "docktunnel.forward=false", "-p", optedOut + ":80"),
        "httpd", "-f", "-p", "80", "-h", "/www");
    testbed.runContainer(List.of("--name", "moved", "--label", "docktunnel.port." + remapped + "=" + local,
        "-p", remapped + ":80"), "httpd", "-f", "-p", "80", "-h", "/www");
    JsonObject active = docktunnel.awaitForward("active", remapped);
    assertEquals(local, active.getInteger("localPort"));
    assertEquals(Testbed.HTTPD_INDEX_BODY, get("127.0.0.1", local));
    // The watcher handles events in order: the opted-out container came first and made nothing.
    assertTrue(docktunnel.forwardStatus.find(s -> s.getInteger("publishedPort") == optedOut).isEmpty());
    assertThrows(ConnectException.class, () -> new Socket("127.0.0.1", optedOut).close());
  }

  @Test
  void takenLocalPortIsAConflictAndOthersAreUnaffected() throws Exception {
    int taken = freePort();
    int fine = freePort();
    try (ServerSocket holder = new ServerSocket(taken, 1, InetAddress.getLoopbackAddress())) {
      testbed.runHttpd("clash", taken);
      testbed.runHttpd("fine", fine);
      JsonObject conflict = docktunnel.awaitForward("conflict", taken);
      assertTrue(conflict.getString("reason").contains("local port " + taken + " is in use"), conflict.getString("reason"));
      docktunnel.awaitForward("active", fine);
      assertEquals(Testbed.HTTPD_INDEX_BODY, get("127.0.0.1", fine));
    }
  }
}

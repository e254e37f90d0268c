package dev.docktunnel.ssh;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docktunnel.config.DocktunnelConfig;
import io.vertx.core.Vertx;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.sshd.client.channel.ChannelDirectTcpip;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.util.net.SshdSocketAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * Measures what the PTY session buys against a real OpenSSH sshd (which sets TCP_NODELAY only on
 * connections with a PTY): round trips through a {@code direct-tcpip} channel to a local
 * responder that answers in two writes (like an HTTP server writing headers, then the body).
 * Without TCP_NODELAY the second write waits for the client's delayed ACK (~40 ms).
 *
 * <p>Off by default; run against an sshd that can reach this machine's loopback (e.g. one on
 * 127.0.0.1):
 * <pre>
 * ./mvnw test -Dtest=PtyNagleMeasurementTest -Ddocktunnel.measure.ssh=ssh://root@127.0.0.1:22022 \
 *   -Ddocktunnel.measure.identity=/path/key -Ddocktunnel.measure.knownHosts=/path/known_hosts
 * </pre>
 * Measured with OpenSSH 9.2p1 on loopback, aes128-gcm: p50 44-47 ms without the PTY session,
 * 1.5 ms with it.
 */
@EnabledIfSystemProperty(named = "docktunnel.measure.ssh", matches = ".+")
class PtyNagleMeasurementTest {

  @TempDir
  Path dir;

  @Test
  void ptySessionRemovesNagleDelays() throws Exception {
    try (ServerSocket responder = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      Thread acceptor = new Thread(() -> respond(responder), "two-write-responder");
      acceptor.setDaemon(true);
      acceptor.start();
      Vertx vertx = Vertx.vertx();
      try {
        double without = medianRoundTripMs(vertx, responder.getLocalPort(), false);
        double with = medianRoundTripMs(vertx, responder.getLocalPort(), true);
        System.out.printf("PTY session off: p50 %.2f ms; on: p50 %.2f ms%n", without, with);
        assertTrue(with <= without, "the PTY session should not make round trips slower");
      } finally {
        vertx.close().toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
      }
    }
  }

  private double medianRoundTripMs(Vertx vertx, int port, boolean pty) throws Exception {
    DocktunnelConfig config = new DocktunnelConfig(System.getProperty("docktunnel.measure.ssh"),
        List.of(Path.of(System.getProperty("docktunnel.measure.identity"))),
        Path.of(System.getProperty("docktunnel.measure.knownHosts")), dir.resolve("no_config"),
        DocktunnelConfig.HostKeyChecking.YES, "/var/run/docker.sock", dir,
        new DocktunnelConfig.Ssh(Duration.ofSeconds(10), Duration.ofSeconds(15), 3, Duration.ofSeconds(1),
            Duration.ofSeconds(30), Duration.ofMinutes(5), pty),
        new DocktunnelConfig.Forwarding(List.of("127.0.0.1"), List.of(), List.of(),
            DocktunnelConfig.ConflictStrategy.FAIL));
    SshSessionVerticle ssh = new SshSessionVerticle(config, new SshEnvironment(dir.resolve("home"), Optional::empty, null));
    String id = vertx.deployVerticle(ssh).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    try {
      ssh.firstConnection().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      ClientSession session = ssh.current().orElseThrow();
      ChannelDirectTcpip channel = session.createDirectTcpipChannel(new SshdSocketAddress("127.0.0.1", 0),
          new SshdSocketAddress("127.0.0.1", port));
      channel.open().verify(10, TimeUnit.SECONDS);
      OutputStream out = channel.getInvertedIn();
      InputStream in = channel.getInvertedOut();
      long[] rtt = new long[300];
      byte[] reply = new byte[100];
      for (int i = 0; i < rtt.length; i++) {
        long start = System.nanoTime();
        out.write('x');
        out.flush();
        for (int got = 0; got < reply.length;) {
          int n = in.read(reply, got, reply.length - got);
          if (n < 0) {
            throw new EOFException("responder closed");
          }
          got += n;
        }
        rtt[i] = System.nanoTime() - start;
      }
      channel.close(false);
      long[] steady = Arrays.copyOfRange(rtt, 20, rtt.length);
      Arrays.sort(steady);
      return steady[steady.length / 2] / 1e6;
    } finally {
      vertx.undeploy(id).toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    }
  }

  private static void respond(ServerSocket server) {
    while (!server.isClosed()) {
      try {
        Socket socket = server.accept();
        socket.setTcpNoDelay(true);
        Thread worker = new Thread(() -> {
          try (socket) {
            InputStream in = socket.getInputStream();
            OutputStream out = socket.getOutputStream();
            byte[] half = new byte[50];
            while (in.read() >= 0) {
              out.write(half);
              out.flush();
              TimeUnit.MILLISECONDS.sleep(1);
              out.write(half);
              out.flush();
            }
          } catch (IOException | InterruptedException e) {
            // connection over
          }
        }, "two-write-responder-conn");
        worker.setDaemon(true);
        worker.start();
      } catch (IOException e) {
        return;
      }
    }
  }
}

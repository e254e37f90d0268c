package dev.docktunnel.forward;

import dev.docktunnel.ssh.SessionProvider;
import dev.docktunnel.testbed.Figures;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.keyverifier.AcceptAllServerKeyVerifier;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.forward.AcceptAllForwardingFilter;
import org.apache.sshd.server.keyprovider.SimpleGeneratorHostKeyProvider;

/**
 * An in-process MINA sshd with TCP forwarding, a client session to it, and plain socket servers
 * on loopback to forward to: a fast stand-in for the remote host in unit tests.
 */
final class InProcessSsh implements AutoCloseable {
  static final Duration TIMEOUT = Duration.ofSeconds(30);

  final SshServer sshd;
  final SshClient client;
  final ClientSession session;
  final ExecutorService threads = Executors.newCachedThreadPool();
  private final List<ServerSocket> servers = new ArrayList<>();

  InProcessSsh(Path dir) throws IOException {
    sshd = SshServer.setUpDefaultServer();
    sshd.setHost("127.0.0.1");
    sshd.setPort(0);
    sshd.setKeyPairProvider(new SimpleGeneratorHostKeyProvider(dir.resolve("hostkey")));
    sshd.setPasswordAuthenticator((user, password, s) -> "secret".equals(password));
    sshd.setForwardingFilter(AcceptAllForwardingFilter.INSTANCE);
    sshd.start();
    client = SshClient.setUpDefaultClient();
    client.setServerKeyVerifier(AcceptAllServerKeyVerifier.INSTANCE); // in-process test server only
    client.start();
    session = client.connect("test", "127.0.0.1", sshd.getPort()).verify(TIMEOUT).getSession();
    session.addPasswordIdentity("secret");
    session.auth().verify(TIMEOUT);
  }

  SessionProvider sessions() {
    return () -> Optional.of(session);
  }

  /** A server on loopback that runs {@code handler} per connection in its own thread. */
  int serve(Consumer<Socket> handler) throws IOException {
    ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    servers.add(server);
    threads.submit(() -> {
      while (!server.isClosed()) {
        Socket s = server.accept();
        threads.submit(() -> {
          try (s) {
            handler.accept(s);
          } catch (IOException e) {
            // connection ended
          }
        });
      }
      return null;
    });
    return server.getLocalPort();
  }

  /** Echoes until EOF, then half-closes its side, like `nc -e /bin/cat`. */
  static void echo(Socket s) {
    try {
      s.getInputStream().transferTo(s.getOutputStream());
      s.shutdownOutput();
    } catch (IOException e) {
      // peer went away
    }
  }

  /** A loopback port nothing listens on. */
  static int deadPort() {
    return Figures.freePort();
  }

  @Override
  public void close() throws IOException {
    for (ServerSocket s : servers) {
      s.close();
    }
    threads.shutdownNow();
    client.stop();
    sshd.stop(true);
  }
}

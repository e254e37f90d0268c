package dev.docktunnel.docker;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.function.BiConsumer;

/**
 * A stand-in for dockerd's API socket: a JDK Unix-domain server socket that reads each request
 * head and lets the test answer it with raw bytes (so the test controls framing, chunking and
 * when the connection ends). Keeps connections open like Go's HTTP server (keep-alive), so the
 * client must end exchanges itself.
 */
final class UnixSocketEngine implements AutoCloseable {

  /** One accepted connection. */
  static final class Conn {
    final SocketChannel channel;
    volatile String requestLine;
    /** Counts down when the client side closed (read hit EOF). */
    final CountDownLatch clientClosed = new CountDownLatch(1);

    Conn(SocketChannel channel) {
      this.channel = channel;
    }

    synchronized void write(String text) {
      try {
        ByteBuffer buf = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
        while (buf.hasRemaining()) {
          channel.write(buf);
        }
      } catch (IOException e) {
        throw new IllegalStateException("fake engine write failed", e);
      }
    }

    void shutdownOutput() {
      try {
        channel.shutdownOutput();
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  final Path path;
  final List<Conn> connections = new CopyOnWriteArrayList<>();
  private final ServerSocketChannel server;
  private final BiConsumer<String, Conn> handler;

  /**
   * @param handler called with the request line and the connection once a request head arrived
   */
  UnixSocketEngine(Path path, BiConsumer<String, Conn> handler) throws IOException {
    this.path = path;
    this.handler = handler;
    this.server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    server.bind(UnixDomainSocketAddress.of(path));
    Thread acceptor = new Thread(this::acceptLoop, "fake-engine-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  Conn last() {
    return connections.get(connections.size() - 1);
  }

  private void acceptLoop() {
    try {
      while (true) {
        Conn conn = new Conn(server.accept());
        connections.add(conn);
        Thread t = new Thread(() -> serve(conn), "fake-engine-conn");
        t.setDaemon(true);
        t.start();
      }
    } catch (IOException e) {
      // closed
    }
  }

  private void serve(Conn conn) {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    ByteBuffer buf = ByteBuffer.allocate(4096);
    try {
      while (true) {
        buf.clear();
        int n = conn.channel.read(buf);
        if (n < 0) {
          break;
        }
        if (conn.requestLine == null) {
          head.write(buf.array(), 0, n);
          String text = head.toString(StandardCharsets.ISO_8859_1);
          if (text.contains("\r\n\r\n")) {
            conn.requestLine = text.substring(0, text.indexOf("\r\n"));
            handler.accept(conn.requestLine, conn);
          }
        }
      }
    } catch (IOException e) {
      // reset by peer: also "closed"
    } finally {
      conn.clientClosed.countDown();
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
    for (Conn c : connections) {
      c.channel.close();
    }
  }
}

package dev.docktunnel.ssh;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP relay on 127.0.0.1 in front of a test server that can freeze the connections it carries,
 * like a path that silently drops packets (half-open): frozen connections stay open and pass no
 * more bytes either way, while new connections pass as usual (the client can reconnect).
 */
final class FreezingRelay implements AutoCloseable {

  private final ServerSocket listener;
  private final int targetPort;
  private final List<Pipe> pipes = new CopyOnWriteArrayList<>();
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();

  FreezingRelay(int targetPort) throws IOException {
    this.targetPort = targetPort;
    this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread acceptor = new Thread(this::accept, "test-relay-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  int port() {
    return listener.getLocalPort();
  }

  /** Freezes every connection open now. */
  void freezeExisting() {
    pipes.forEach(pipe -> pipe.frozen = true);
  }

  private void accept() {
    try {
      while (true) {
        Socket client = listener.accept();
        Socket server = new Socket();
        server.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort), 5000);
        sockets.add(client);
        sockets.add(server);
        start(new Pipe(client, server));
        start(new Pipe(server, client));
      }
    } catch (IOException e) {
      // closed
    }
  }

  private void start(Pipe pipe) {
    pipes.add(pipe);
    Thread thread = new Thread(pipe, "test-relay-pipe");
    thread.setDaemon(true);
    thread.start();
  }

  @Override
  public void close() throws IOException {
    listener.close();
    for (Socket socket : sockets) {
      socket.close();
    }
  }

  private static final class Pipe implements Runnable {
    private final Socket from;
    private final Socket to;
    volatile boolean frozen;

    Pipe(Socket from, Socket to) {
      this.from = from;
      this.to = to;
    }

    @Override
    public void run() {
      byte[] buffer = new byte[16 * 1024];
      try {
        InputStream in = from.getInputStream();
        OutputStream out = to.getOutputStream();
        int n;
        while ((n = in.read(buffer)) >= 0) {
          if (frozen) {
            // Dropped, as by a dead path; the socket stays open. Keep reading so nothing
            // reaches the other side, not even a full window's worth later.
            continue;
          }
          out.write(buffer, 0, n);
        }
        to.shutdownOutput();
      } catch (IOException e) {
        // one side closed
      }
    }
  }
}

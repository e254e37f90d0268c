package dev.docktunnel.testbed;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.Random;

/**
 * A small TCP server the testbed runs inside a container's network namespace (started by
 * {@link ContainerServers} with this JVM's java and class path): a real listen backlog (128)
 * and a thread per connection, unlike busybox {@code nc -ll}, whose backlog of about 1 drops
 * connections under concurrency. No dependencies beyond the JDK.
 *
 * <p>Arguments: {@code <echoPort> <owePort> <oweBytes> <sourcePort> <hangupPort>}. On each port:
 * <ul>
 *   <li>echo: writes back everything read; at EOF shuts its output down (FIN) and closes;</li>
 *   <li>owe: reads the request to EOF, then writes {@code oweBytes} bytes of {@link #owed(long, int)}
 *       for the seed in the request's first 8 bytes, then closes: the client is owed more than a
 *       socket buffer after its FIN;</li>
 *   <li>source: writes a pseudo-random stream until the client goes away;</li>
 *   <li>hangup: reads {@value #HANGUP_AFTER} bytes, then closes while the client still sends.</li>
 * </ul>
 * Prints {@code ready} on stdout once all of them listen.
 */
public final class StreamServer {
  static final int BACKLOG = 128;
  static final int HANGUP_AFTER = 256 * 1024;
  private static final int CHUNK = 64 * 1024;

  private StreamServer() {
  }

  public static void main(String[] args) throws IOException {
    if (args.length != 5) {
      System.err.println("usage: StreamServer <echoPort> <owePort> <oweBytes> <sourcePort> <hangupPort>");
      System.exit(2);
    }
    int oweBytes = Integer.parseInt(args[2]);
    ServerSocket echo = listen(Integer.parseInt(args[0]));
    ServerSocket owe = listen(Integer.parseInt(args[1]));
    ServerSocket source = listen(Integer.parseInt(args[3]));
    ServerSocket hangup = listen(Integer.parseInt(args[4]));
    acceptLoop(echo, StreamServer::echo);
    acceptLoop(owe, s -> owe(s, oweBytes));
    acceptLoop(source, StreamServer::source);
    acceptLoop(hangup, StreamServer::hangup);
    System.out.println("ready");
    System.out.flush();
  }

  /** The bytes the owe port sends for {@code seed}: what a client compares its reply with. */
  public static byte[] owed(long seed, int size) {
    byte[] data = new byte[size];
    new Random(seed).nextBytes(data);
    return data;
  }

  private interface Handler {
    void handle(Socket socket) throws IOException;
  }

  private static ServerSocket listen(int port) throws IOException {
    ServerSocket server = new ServerSocket();
    server.setReuseAddress(true);
    server.bind(new InetSocketAddress(port), BACKLOG);
    return server;
  }

  private static void acceptLoop(ServerSocket server, Handler handler) {
    Thread acceptor = new Thread(() -> {
      while (true) {
        Socket socket;
        try {
          socket = server.accept();
        } catch (IOException e) {
          System.err.println("accept on " + server.getLocalPort() + " failed: " + e);
          return;
        }
        Thread worker = new Thread(() -> {
          try (socket) {
            handler.handle(socket);
          } catch (IOException e) {
            // the client's reset or close: expected in fault tests
          }
        }, "conn-" + server.getLocalPort());
        worker.setDaemon(true);
        worker.start();
      }
    }, "accept-" + server.getLocalPort());
    acceptor.start();
  }

  private static void echo(Socket socket) throws IOException {
    InputStream in = socket.getInputStream();
    OutputStream out = socket.getOutputStream();
    byte[] buffer = new byte[CHUNK];
    int n;
    while ((n = in.read(buffer)) >= 0) {
      out.write(buffer, 0, n);
    }
    socket.shutdownOutput();
  }

  private static void owe(Socket socket, int oweBytes) throws IOException {
    InputStream in = socket.getInputStream();
    byte[] head = in.readNBytes(8);
    long seed = head.length == 8 ? ByteBuffer.wrap(head).getLong() : 0;
    byte[] buffer = new byte[CHUNK];
    while (in.read(buffer) >= 0) {
      // read the request to its end (the client's FIN)
    }
    OutputStream out = socket.getOutputStream();
    byte[] reply = owed(seed, oweBytes);
    for (int off = 0; off < reply.length; off += CHUNK) {
      out.write(reply, off, Math.min(CHUNK, reply.length - off));
    }
    socket.shutdownOutput();
  }

  private static void hangup(Socket socket) throws IOException {
    socket.getInputStream().readNBytes(HANGUP_AFTER);
    socket.close();
  }

  private static void source(Socket socket) throws IOException {
    byte[] chunk = owed(42, CHUNK);
    OutputStream out = socket.getOutputStream();
    while (true) {
      out.write(chunk);
    }
  }
}

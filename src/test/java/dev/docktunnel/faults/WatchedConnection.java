package dev.docktunnel.faults;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A client connection through a forward, driven by one thread that records how and when the
 * connection ended: a clean EOF (read returned -1) or an error (reset, ...). For the fault tests,
 * where what matters is that a cut connection is RESET, never ended with a FIN.
 *
 * <p>One non-blocking loop does the reading and (for ECHO) the writing, so the first call that
 * meets the ending is the one that records it: Linux reports a reset to one call only, and with
 * a reader and a writer on two threads the reader could see the plain EOF that follows it.
 */
final class WatchedConnection implements AutoCloseable {
  enum Kind { IDLE, SOURCE, ECHO }

  /** How the stream ended; {@code error} null means a clean EOF. */
  record Ending(long atNanos, long bytesRead, Throwable error) {
    /**
     * A reset (ECONNRESET): the JDK reports it as a SocketException ("Connection reset") from a
     * read, but as a plain IOException ("Connection reset by peer") from a SocketChannel write.
     */
    boolean reset() {
      return error instanceof SocketException
          || (error instanceof IOException && String.valueOf(error.getMessage()).startsWith("Connection reset"));
    }

    @Override
    public String toString() {
      return (error == null ? "clean EOF" : error.toString()) + " after " + bytesRead + " bytes";
    }
  }

  final Kind kind;
  private final SocketChannel socket;
  private final AtomicLong read = new AtomicLong();
  private final AtomicLong written = new AtomicLong();
  final CompletableFuture<Ending> ending = new CompletableFuture<>();

  private WatchedConnection(Kind kind, SocketChannel socket) {
    this.kind = kind;
    this.socket = socket;
  }

  /**
   * Opens a connection to 127.0.0.1:{@code port} and starts it: IDLE does one small echo round
   * trip (so the SSH channel is proven open) and then waits; SOURCE reads an endless source;
   * ECHO writes an endless stream to an echo server and reads the echo.
   */
  static WatchedConnection open(Kind kind, int port, ExecutorService threads) throws IOException {
    SocketChannel socket = SocketChannel.open(new InetSocketAddress("127.0.0.1", port));
    WatchedConnection connection = new WatchedConnection(kind, socket);
    try {
      if (kind == Kind.IDLE) {
        byte[] hello = "hello\n".getBytes(StandardCharsets.US_ASCII);
        socket.write(ByteBuffer.wrap(hello));
        socket.socket().setSoTimeout(10_000);
        byte[] back = socket.socket().getInputStream().readNBytes(hello.length);
        if (back.length != hello.length) {
          throw new IOException("idle connection to " + port + ": echo of hello came back as " + back.length
              + " bytes");
        }
      }
      socket.configureBlocking(false);
    } catch (IOException e) {
      socket.close();
      throw e;
    }
    threads.submit(connection::runUntilTheEnd);
    return connection;
  }

  long bytesRead() {
    return read.get();
  }

  /** Waits up to {@code timeout} for the end; null when the connection is still open then. */
  Ending awaitEnding(Duration timeout) throws InterruptedException {
    try {
      return ending.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      return null;
    } catch (ExecutionException e) {
      throw new IllegalStateException(e);
    }
  }

  private void runUntilTheEnd() {
    ByteBuffer in = ByteBuffer.allocate(64 * 1024);
    ByteBuffer out = ByteBuffer.wrap(dev.docktunnel.testbed.Traffic.random(64 * 1024, 5));
    try (Selector selector = Selector.open()) {
      SelectionKey key = socket.register(selector,
          SelectionKey.OP_READ | (kind == Kind.ECHO ? SelectionKey.OP_WRITE : 0));
      while (!ending.isDone()) {
        selector.select(1_000);
        if (key.isValid() && key.isReadable()) {
          in.clear();
          int n = socket.read(in);
          if (n < 0) {
            ending.complete(new Ending(System.nanoTime(), read.get(), null));
            return;
          }
          read.addAndGet(n);
        }
        if (key.isValid() && key.isWritable()) {
          if (!out.hasRemaining()) {
            out.rewind();
          }
          written.addAndGet(socket.write(out));
        }
      }
    } catch (IOException e) {
      ending.complete(new Ending(System.nanoTime(), read.get(), e));
    }
  }

  @Override
  public String toString() {
    return kind + " connection " + socket.socket().getLocalPort() + "->" + socket.socket().getPort() + " (read "
        + read.get() + ", written " + written.get() + ")";
  }

  @Override
  public void close() throws IOException {
    ending.complete(new Ending(System.nanoTime(), read.get(), new IOException("closed by the test")));
    socket.close();
  }
}

package dev.docktunnel.faults;

import dev.docktunnel.testbed.Traffic;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A client connection through a forward whose reader runs on its own thread and records how and
 * when the connection ended: a clean EOF (read returned -1) or an error (reset, ...). For the
 * fault tests, where what matters is that a cut connection is RESET, never ended with a FIN.
 */
final class WatchedConnection implements AutoCloseable {
  enum Kind { IDLE, SOURCE, ECHO }

  /** How the reader's stream ended; {@code error} null means a clean EOF. */
  record Ending(long atNanos, long bytesRead, Throwable error) {
    boolean reset() {
      return error instanceof SocketException;
    }

    @Override
    public String toString() {
      return (error == null ? "clean EOF" : error.toString()) + " after " + bytesRead + " bytes";
    }
  }

  final Kind kind;
  private final Socket socket;
  private final AtomicLong read = new AtomicLong();
  private final AtomicLong written = new AtomicLong();
  final CompletableFuture<Ending> ending = new CompletableFuture<>();

  private WatchedConnection(Kind kind, Socket socket) {
    this.kind = kind;
    this.socket = socket;
  }

  /**
   * Opens a connection to 127.0.0.1:{@code port} and starts it: IDLE does one small echo round
   * trip (so the SSH channel is proven open) and then waits; SOURCE reads an endless source;
   * ECHO writes an endless stream to an echo server and reads the echo.
   */
  static WatchedConnection open(Kind kind, int port, ExecutorService threads) throws IOException {
    Socket socket = Traffic.connect(port, Duration.ofMinutes(5));
    WatchedConnection connection = new WatchedConnection(kind, socket);
    try {
      if (kind == Kind.IDLE) {
        byte[] hello = "hello\n".getBytes(StandardCharsets.US_ASCII);
        socket.getOutputStream().write(hello);
        socket.setSoTimeout(10_000);
        byte[] back = socket.getInputStream().readNBytes(hello.length);
        if (back.length != hello.length) {
          throw new IOException("idle connection to " + port + ": echo of hello came back as " + back.length
              + " bytes");
        }
        socket.setSoTimeout((int) Duration.ofMinutes(5).toMillis());
      }
    } catch (IOException e) {
      socket.close();
      throw e;
    }
    threads.submit(connection::readUntilTheEnd);
    if (kind == Kind.ECHO) {
      threads.submit(connection::writeForever);
    }
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

  private void readUntilTheEnd() {
    byte[] buffer = new byte[64 * 1024];
    try {
      InputStream in = socket.getInputStream();
      int n;
      while ((n = in.read(buffer)) >= 0) {
        read.addAndGet(n);
      }
      ending.complete(new Ending(System.nanoTime(), read.get(), null));
    } catch (IOException e) {
      ending.complete(new Ending(System.nanoTime(), read.get(), e));
    }
  }

  private void writeForever() {
    byte[] chunk = Traffic.random(64 * 1024, 5);
    try {
      OutputStream out = socket.getOutputStream();
      while (!ending.isDone()) {
        out.write(chunk);
        written.addAndGet(chunk.length);
      }
    } catch (IOException e) {
      // A write fails only after a reset (a FIN still lets us send). Linux reports the reset to
      // whichever call meets it first; the reader then sees a plain EOF, so record it here.
      ending.complete(new Ending(System.nanoTime(), read.get(), e));
    }
  }

  @Override
  public String toString() {
    return kind + " connection " + socket.getLocalPort() + "->" + socket.getPort() + " (read " + read.get()
        + ", written " + written.get() + ")";
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}

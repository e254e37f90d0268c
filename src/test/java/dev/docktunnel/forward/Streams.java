package dev.docktunnel.forward;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/** Client-side checks shared by the proxy tests: send, half-close, read to EOF, compare. */
final class Streams {
  private Streams() {
  }

  /** Sends {@code data}, half-closes, and returns everything read until EOF. */
  static byte[] roundTrip(int port, byte[] data, Duration timeout, Executor reader) throws Exception {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout((int) timeout.toMillis());
      CompletableFuture<byte[]> reply = CompletableFuture.supplyAsync(() -> {
        try {
          return s.getInputStream().readAllBytes();
        } catch (IOException e) {
          throw new IllegalStateException(e);
        }
      }, reader);
      OutputStream out = s.getOutputStream();
      for (int off = 0; off < data.length; off += 65536) {
        out.write(data, off, Math.min(65536, data.length - off));
      }
      s.shutdownOutput();
      return reply.get(timeout.toSeconds(), TimeUnit.SECONDS);
    }
  }

  /**
   * Sends {@code request}, half-closes, waits {@code pause} without reading (so the reply piles
   * up in the proxy and the socket buffers), then reads everything until EOF.
   */
  static byte[] requestThenPauseAndRead(int port, byte[] request, Duration pause, Duration timeout) throws Exception {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout((int) timeout.toMillis());
      s.getOutputStream().write(request);
      s.shutdownOutput();
      Thread.sleep(pause.toMillis()); // part of the scenario: the client is busy, not reading
      return s.getInputStream().readAllBytes();
    }
  }

  /**
   * Sends {@code data} over and over until the connection ends (the server hung up), then reads
   * to the end; returns once the proxy ended the connection, which is all it proves.
   */
  static void sendUntilRefused(int port, byte[] data, Duration timeout) {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout((int) timeout.toMillis());
      OutputStream out = s.getOutputStream();
      try {
        while (true) {
          out.write(data);
        }
      } catch (IOException expected) {
        // the server hung up and the proxy passed it on
      }
      try {
        s.getInputStream().readAllBytes();
      } catch (java.net.SocketException reset) {
        // a reset after the hang-up is an ending too
      }
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  static byte[] random(int size, long seed) {
    byte[] data = new byte[size];
    new Random(seed).nextBytes(data);
    return data;
  }

  static byte[] sha256(byte[] data) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(data);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}

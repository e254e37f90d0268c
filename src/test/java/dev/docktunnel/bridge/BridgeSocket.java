package dev.docktunnel.bridge;

import io.vertx.core.json.JsonObject;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** A blocking TCP bridge client for tests: length-prefixed JSON frames, as docs/events.md describes. */
public final class BridgeSocket implements AutoCloseable {
  public final Socket socket;
  private final DataInputStream in;
  private final OutputStream out;

  private BridgeSocket(Socket socket) throws IOException {
    this.socket = socket;
    this.in = new DataInputStream(socket.getInputStream());
    this.out = socket.getOutputStream();
  }

  public static BridgeSocket connect(int port) throws IOException {
    return connect(port, 0);
  }

  /** @param receiveBuffer SO_RCVBUF to ask for before connecting (small: a client that holds little), 0: default */
  public static BridgeSocket connect(int port, int receiveBuffer) throws IOException {
    Socket s = new Socket();
    if (receiveBuffer > 0) {
      s.setReceiveBufferSize(receiveBuffer);
    }
    s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
    s.setSoTimeout(10_000);
    return new BridgeSocket(s);
  }

  public void send(JsonObject frame) throws IOException {
    byte[] json = frame.encode().getBytes(StandardCharsets.UTF_8);
    out.write(ByteBuffer.allocate(4 + json.length).putInt(json.length).put(json).array());
    out.flush();
  }

  public void register(String address) throws IOException {
    send(new JsonObject().put("type", "register").put("address", address));
  }

  public void query(String address, String replyAddress) throws IOException {
    send(new JsonObject().put("type", "send").put("address", address).put("replyAddress", replyAddress)
        .put("body", new JsonObject()));
  }

  public void writeRaw(byte[] bytes) throws IOException {
    out.write(bytes);
    out.flush();
  }

  /** The next frame, waiting at most {@code timeout}. */
  public JsonObject read(Duration timeout) throws IOException {
    socket.setSoTimeout((int) timeout.toMillis());
    int length = in.readInt();
    if (length < 0 || length > 16 * 1024 * 1024) {
      throw new IOException("bad frame length " + length);
    }
    byte[] json = new byte[length];
    in.readFully(json);
    return new JsonObject(new String(json, StandardCharsets.UTF_8));
  }

  /** Sends a ping and returns every frame before the pong: what the bridge sent in between. */
  public java.util.List<JsonObject> untilPong(Duration timeout) throws IOException {
    send(new JsonObject().put("type", "ping"));
    java.util.List<JsonObject> before = new java.util.ArrayList<>();
    while (true) {
      JsonObject frame = read(timeout);
      if ("pong".equals(frame.getString("type"))) {
        return before;
      }
      before.add(frame);
    }
  }

  /**
   * Whether the bridge closed the connection within {@code timeout}, reading (and discarding) what
   * it sent before.
   */
  public boolean closedWithin(Duration timeout) throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    socket.setSoTimeout(200);
    byte[] sink = new byte[64 * 1024];
    while (System.nanoTime() < deadline) {
      try {
        if (socket.getInputStream().read(sink) < 0) {
          return true;
        }
      } catch (SocketTimeoutException e) {
        // nothing yet: poll again until the deadline
      } catch (EOFException e) {
        return true;
      } catch (IOException e) {
        return true; // reset: closed by the bridge at once
      }
    }
    return false;
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}

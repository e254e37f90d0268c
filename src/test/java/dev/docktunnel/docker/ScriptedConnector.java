package dev.docktunnel.docker;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.List;
import java.util.function.Function;

/**
 * An in-memory engine transport: for each request (its request line, e.g.
 * {@code GET /version HTTP/1.1}) a script says what bytes the "engine" sends, in which pieces,
 * and whether it then closes or keeps the stream open (for {@code /events}). Completes
 * everything asynchronously on the caller's context, like the SSH transport.
 */
final class ScriptedConnector implements EngineConnector {

  /** What the engine does for one request. */
  static final class Reply {
    final Deque<Buffer> pieces = new ArrayDeque<>();
    boolean closeAfter = true;
    /** Produces more pieces on demand (null: none): for bodies too big to hold. */
    java.util.function.Supplier<Buffer> generator;

    static Reply of(String... pieces) {
      Reply r = new Reply();
      for (String p : pieces) {
        r.pieces.add(Buffer.buffer(p));
      }
      return r;
    }

    /** The response split into pieces of the given sizes, cycling. */
    static Reply split(String response, int... sizes) {
      Reply r = new Reply();
      byte[] bytes = response.getBytes(StandardCharsets.UTF_8);
      for (int pos = 0, i = 0; pos < bytes.length; i++) {
        int n = Math.min(bytes.length - pos, sizes[i % sizes.length]);
        r.pieces.add(Buffer.buffer().appendBytes(bytes, pos, n));
        pos += n;
      }
      return r;
    }

    Reply keepOpen() {
      closeAfter = false;
      return this;
    }
  }

  /** One connection, as the test sees it. */
  final class Conn implements EngineConnection {
    final Context context;
    final StringBuilder written = new StringBuilder();
    Reply reply;
    Promise<Buffer> pendingRead;
    boolean closed;
    boolean readsAfterEof;

    Conn(Context context) {
      this.context = context;
    }

    String requestLine() {
      int end = written.indexOf("\r\n");
      return end < 0 ? written.toString() : written.substring(0, end);
    }

    @Override
    public Future<Void> write(Buffer data) {
      written.append(data.toString(StandardCharsets.UTF_8));
      if (reply == null && written.indexOf("\r\n\r\n") >= 0) {
        reply = script.apply(requestLine());
      }
      Promise<Void> p = Promise.promise();
      context.runOnContext(v -> p.complete());
      return p.future();
    }

    @Override
    public Future<Buffer> read() {
      Promise<Buffer> p = Promise.promise();
      context.runOnContext(v -> {
        pendingRead = p;
        serve();
      });
      return p.future();
    }

    /** The engine sends more (for kept-open streams). */
    void push(String text) {
      context.runOnContext(v -> {
        reply.pieces.add(Buffer.buffer(text));
        serve();
      });
    }

    /** The engine closes its side. */
    void end() {
      context.runOnContext(v -> {
        reply.closeAfter = true;
        serve();
      });
    }

    private void serve() {
      if (pendingRead == null || reply == null) {
        return;
      }
      Buffer next = reply.pieces.poll();
      if (next == null && reply.generator != null) {
        next = reply.generator.get();
      }
      if (next != null) {
        Promise<Buffer> p = pendingRead;
        pendingRead = null;
        p.complete(next);
      } else if (reply.closeAfter) {
        Promise<Buffer> p = pendingRead;
        pendingRead = null;
        readsAfterEof |= eofSent;
        eofSent = true;
        p.complete(null);
      }
    }

    private boolean eofSent;

    @Override
    public Future<Void> close() {
      closed = true;
      return Future.succeededFuture();
    }
  }

  private final Vertx vertx;
  private final Function<String, Reply> script;
  final List<Conn> connections = Collections.synchronizedList(new ArrayList<>());

  ScriptedConnector(Vertx vertx, Function<String, Reply> script) {
    this.vertx = vertx;
    this.script = script;
  }

  List<String> requestLines() {
    synchronized (connections) {
      return connections.stream().map(Conn::requestLine).toList();
    }
  }

  Conn last() {
    return connections.get(connections.size() - 1);
  }

  @Override
  public Future<EngineConnection> connect() {
    Context context = vertx.getOrCreateContext();
    Conn conn = new Conn(context);
    connections.add(conn);
    Promise<EngineConnection> p = Promise.promise();
    context.runOnContext(v -> p.complete(conn));
    return p.future();
  }

  @Override
  public String describe() {
    return "scripted engine";
  }

  /** A complete HTTP response with a content-length body. */
  static String response(int status, String body, String... headers) {
    StringBuilder sb = new StringBuilder("HTTP/1.1 ").append(status).append(' ')
        .append(status == 200 ? "OK" : "Error").append("\r\n");
    for (String h : headers) {
      sb.append(h).append("\r\n");
    }
    sb.append("Content-Type: application/json\r\nContent-Length: ")
        .append(body.getBytes(StandardCharsets.UTF_8).length).append("\r\n\r\n").append(body);
    return sb.toString();
  }

  /** One chunk of a chunked body. */
  static String chunk(String data) {
    return Integer.toHexString(data.getBytes(StandardCharsets.UTF_8).length) + "\r\n" + data
        + "\r\n";
  }
}

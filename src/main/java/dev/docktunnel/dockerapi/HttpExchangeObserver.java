package dev.docktunnel.dockerapi;

import dev.docktunnel.dockerapi.HttpHeadReader.Kind;
import io.netty.buffer.ByteBuf;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Watches one HTTP/1.1 connection between the docker CLI and the engine as its bytes pass, both
 * ways, and reports each exchange to a {@link Listener}: the request line, where each response
 * begins, its status, where it ends, and when the connection stops being HTTP. It never changes,
 * copies or holds the bytes: a message head is read one line at a time (a head is at most
 * {@link #MAX_HEAD_BYTES}), a body is only counted. Requests and responses pair up first in, first
 * out, so pipelined requests are followed too.
 *
 * <p>Framing is RFC 9112's. A request body is chunked or Content-Length long, else empty. A
 * response has no body for {@code HEAD}, 1xx, 204 and 304; else it is chunked, Content-Length long,
 * or runs until the engine closes. The connection becomes a raw byte stream ({@link
 * Listener#rawStream}) on {@code 101 Switching Protocols}, on a 2xx to {@code CONNECT}, and on
 * Docker's old-style hijack: a 200 with Content-Type {@code application/vnd.docker.raw-stream} or
 * {@code application/vnd.docker.multiplexed-stream} and neither Content-Length nor chunked coding.
 * Client bytes that follow a request carrying {@code Upgrade}, before its final answer, are left
 * undecided: a 101 makes them raw, any other answer makes them {@link Listener#unparseable}. So is
 * a client parse error while a response could still turn the connection raw: it is reported only
 * once that response's head says it does not.
 *
 * <p>When the bytes cannot be followed the observer reports why once and stops; after a raw
 * stream or an unparseable report, or after {@link #engineClosed}, it reports nothing more. The
 * bytes are the caller's to pass on regardless.
 *
 * <p>To hold a response back from its first byte, note {@link #engineOffset()} before handing a
 * piece to {@link #fromEngine}: a {@link Listener#responseBegins} at {@code offset} during that
 * call means the piece's bytes from {@code offset - thatOffset} on are the response's.
 *
 * <p>Single-threaded: call it from the one thread that moves the connection's bytes, in the order
 * they pass. Listener methods must not call back into the observer; an exception thrown by one
 * reaches the caller of {@code fromClient}, {@code fromEngine} or {@code engineClosed}, and leaves
 * the observer in no defined state (stop using it).
 */
public final class HttpExchangeObserver {
  /** The largest message head (start line and header fields) followed; a larger one is unparseable. */
  public static final int MAX_HEAD_BYTES = 64 * 1024;

  /** The side of the connection that sent the bytes. */
  public enum Direction {
    CLIENT("client"), ENGINE("engine");

    private final String label;

    Direction(String label) {
      this.label = label;
    }

    /** {@code client} or {@code engine}, for messages. */
    public String label() {
      return label;
    }
  }

  /**
   * Receives what the observer sees, on the caller's thread, during {@code fromClient}, {@code
   * fromEngine} and {@code engineClosed}. Every method does nothing unless overridden.
   */
  public interface Listener {
    /** A request head is complete (its body, if any, is still to come). */
    default void request(RequestHead head) {
    }

    /**
     * The first byte of the response to {@code request} is at {@code offset}, counted in bytes
     * from the engine since the start of the connection. Called as soon as that byte is seen,
     * before the rest of the head, once per request (an interim 1xx counts as that first byte).
     */
    default void responseBegins(RequestHead request, long offset) {
    }

    /**
     * A response head to {@code request} is complete; {@code offset} is its first byte. Called
     * for an interim 1xx too ({@code 100 Continue}: status &lt; 200, the request still awaits its
     * final response, which gets its own call), and for the 101 or hijack 200 just before {@link
     * #rawStream}.
     */
    default void responseHead(RequestHead request, int status, long offset) {
    }

    /**
     * Content of the final response's body, chunk framing removed, as it passes. The bytes are
     * {@code buf}'s from {@code index}, {@code length} long, valid only during the call: copy what
     * must be kept ({@link CreatedIdReader} does that for a bounded body).
     */
    default void responseBody(RequestHead request, ByteBuf buf, int index, int length) {
    }

    /** The final response to {@code request} is complete; the next response is the next request's. */
    default void responseComplete(RequestHead request) {
    }

    /**
     * The connection ended before the response to {@code request} was complete, or before it began:
     * fired by {@link #engineClosed} for each such request, oldest first.
     */
    default void responseCut(RequestHead request, String why) {
    }

    /**
     * The connection became a raw byte stream after the response head to {@code request}
     * ({@code why} says which rule); nothing more is reported, either way.
     */
    default void rawStream(RequestHead request, String why) {
    }

    /** The bytes from {@code direction} cannot be followed ({@code why}); nothing more is reported. */
    default void unparseable(Direction direction, String why) {
    }
  }

  private enum ClientState { HEAD, BODY, UNDECIDED, ENDED }

  private enum EngineState { BETWEEN, HEAD, BODY }

  /** One request and what has been seen of its response. */
  private static final class Exchange {
    final RequestHead head;
    boolean begun;
    long messageOffset;
    int finalStatus; // 0 until the final (non-1xx) response head

    Exchange(RequestHead head) {
      this.head = head;
    }
  }

  private final Listener listener;
  private final ArrayDeque<Exchange> exchanges = new ArrayDeque<>();
  private final HttpHeadReader requestHead = new HttpHeadReader(Kind.REQUEST, MAX_HEAD_BYTES);
  private final HttpHeadReader responseHead = new HttpHeadReader(Kind.RESPONSE, MAX_HEAD_BYTES);
  private final HttpBodyReader requestBody = new HttpBodyReader();
  private final HttpBodyReader responseBody = new HttpBodyReader();
  private final HttpBodyReader.Sink responseSink = this::responseContent;
  private long clientOffset;
  private long engineOffset;
  private long requestCount;
  private ClientState clientState = ClientState.HEAD;
  private EngineState engineState = EngineState.BETWEEN;
  /** The request being sent (its body), while the client is in BODY. */
  private Exchange sending;
  /** While the client is UNDECIDED: the exchange whose final answer decides. */
  private Exchange awaited;
  private long undecidedBytes;
  private String deferredError;
  private boolean stopped;

  /** An observer reporting to {@code listener}. */
  public HttpExchangeObserver(Listener listener) {
    this.listener = listener;
  }

  /**
   * Observes bytes going from the client to the engine: {@code bytes}' readable bytes, its indexes
   * untouched.
   */
  public void fromClient(ByteBuf bytes) {
    int from = bytes.readerIndex();
    int to = bytes.writerIndex();
    clientOffset += to - from;
    int i = from;
    while (i < to && !stopped) {
      switch (clientState) {
        case HEAD -> {
          i = requestHead.feed(bytes, i, to);
          if (requestHead.error() != null) {
            clientError(requestHead.error());
          } else if (requestHead.isComplete()) {
            requestHeadComplete();
          }
        }
        case BODY -> {
          i = requestBody.feed(bytes, i, to, null);
          if (requestBody.error() != null) {
            clientError("request body of " + sending.head.method() + " " + sending.head.path() + ": "
                + requestBody.error());
          } else if (requestBody.isComplete()) {
            requestSent();
          }
        }
        case UNDECIDED -> {
          undecidedBytes += to - i;
          i = to;
        }
        case ENDED -> stop(Direction.CLIENT, "bytes after the client's end of stream, at client offset "
            + (clientOffset - (to - i)));
        default -> throw new IllegalStateException("client state " + clientState);
      }
    }
  }

  /**
   * Observes bytes going from the engine to the client: {@code bytes}' readable bytes, its indexes
   * untouched.
   */
  public void fromEngine(ByteBuf bytes) {
    int from = bytes.readerIndex();
    int to = bytes.writerIndex();
    long base = engineOffset - from;
    engineOffset += to - from;
    int i = from;
    while (i < to && !stopped) {
      switch (engineState) {
        case BETWEEN -> {
          Exchange exchange = exchanges.peekFirst();
          if (exchange == null) {
            stop(Direction.ENGINE, "bytes from the engine with no request outstanding, at engine offset "
                + (base + i));
            return;
          }
          exchange.messageOffset = base + i;
          engineState = EngineState.HEAD;
          responseHead.reset();
          if (!exchange.begun) {
            exchange.begun = true;
            listener.responseBegins(exchange.head, exchange.messageOffset);
          }
        }
        case HEAD -> {
          i = responseHead.feed(bytes, i, to);
          if (responseHead.error() != null) {
            stop(Direction.ENGINE, responseTo(exchanges.peekFirst()) + responseHead.error());
          } else if (responseHead.isComplete()) {
            responseHeadComplete(exchanges.peekFirst());
          }
        }
        case BODY -> {
          i = responseBody.feed(bytes, i, to, responseSink);
          if (responseBody.error() != null) {
            stop(Direction.ENGINE, responseTo(exchanges.peekFirst()) + responseBody.error());
          } else if (responseBody.isComplete()) {
            responseComplete();
          }
        }
        default -> throw new IllegalStateException("engine state " + engineState);
      }
    }
  }

  /**
   * The engine ended its side of the connection. A response that runs until close is complete
   * ({@link Listener#responseComplete}); every other request still owed a response gets {@link
   * Listener#responseCut}, oldest first. Nothing is reported after this.
   */
  public void engineClosed() {
    if (stopped) {
      return;
    }
    stopped = true;
    if (engineState == EngineState.BODY && responseBody.isUntilClose()) {
      listener.responseComplete(exchanges.removeFirst().head);
    }
    for (Exchange exchange : exchanges) {
      listener.responseCut(exchange.head, !exchange.begun
          ? "the engine closed the connection before answering"
          : "the engine closed the connection in the middle of the response");
    }
    exchanges.clear();
  }

  /**
   * The client ended its side of the connection (it may still read). Reports nothing: responses
   * still owed are followed until the engine closes; bytes from the client after this are
   * unparseable.
   */
  public void clientClosed() {
    if (clientState != ClientState.UNDECIDED) {
      clientState = ClientState.ENDED;
    }
  }

  /** Bytes seen from the engine since the start of the connection. */
  public long engineOffset() {
    return engineOffset;
  }

  /** Bytes seen from the client since the start of the connection. */
  public long clientOffset() {
    return clientOffset;
  }

  /** False once the connection went raw or unparseable, or the engine closed. */
  public boolean isWatching() {
    return !stopped;
  }

  /** The requests still owed a complete response, oldest first. */
  public List<RequestHead> outstanding() {
    List<RequestHead> heads = new ArrayList<>(exchanges.size());
    for (Exchange exchange : exchanges) {
      heads.add(exchange.head);
    }
    return heads;
  }

  /** Bytes of line buffer held, both ways: at most one head line each, never a body. */
  int bufferedCapacity() {
    return requestHead.lineCapacity() + responseHead.lineCapacity();
  }

  private void requestHeadComplete() {
    String te = requestHead.transferEncoding();
    boolean chunked = false;
    if (te != null) {
      if (!lastCodingIsChunked(te)) {
        clientError("request Transfer-Encoding \"" + te + "\" does not end in chunked");
        return;
      }
      chunked = true;
    }
    String cl = requestHead.contentLength();
    long contentLength = cl == null ? -1 : Long.parseLong(cl);
    String target = requestHead.target();
    RequestHead head = new RequestHead(requestCount++, requestHead.method(), target, path(target),
        query(target), requestHead.version(), contentLength, chunked, requestHead.upgrade(),
        requestHead.expectContinue());
    requestHead.reset();
    Exchange exchange = new Exchange(head);
    exchanges.addLast(exchange);
    sending = exchange;
    listener.request(head);
    if (stopped) {
      return;
    }
    if (chunked) {
      requestBody.chunked();
      clientState = ClientState.BODY;
    } else if (contentLength > 0) {
      requestBody.length(contentLength);
      clientState = ClientState.BODY;
    } else {
      requestSent();
    }
  }

  /** The request in {@code sending} is fully sent. */
  private void requestSent() {
    Exchange exchange = sending;
    sending = null;
    boolean mayTurnRaw = exchange.head.upgrade() != null || exchange.head.method().equals("CONNECT");
    if (mayTurnRaw && exchange.finalStatus == 0) {
      // What follows is raw if the answer is 101 (or a 2xx to CONNECT), else a next request.
      clientState = ClientState.UNDECIDED;
      awaited = exchange;
      undecidedBytes = 0;
      deferredError = null;
    } else {
      clientState = ClientState.HEAD;
    }
  }

  /**
   * The client's bytes cannot be read as HTTP. If a response still on its way could turn the
   * connection raw, that answer decides; else they are unparseable now.
   */
  private void clientError(String why) {
    Exchange last = exchanges.peekLast();
    if (last != null && last.finalStatus == 0) {
      clientState = ClientState.UNDECIDED;
      awaited = last;
      undecidedBytes = 0;
      deferredError = why;
    } else {
      stop(Direction.CLIENT, why);
    }
  }

  private void responseHeadComplete(Exchange exchange) {
    int status = responseHead.status();
    listener.responseHead(exchange.head, status, exchange.messageOffset);
    if (stopped) {
      return;
    }
    if (status == 101) {
      raw(exchange, "101 Switching Protocols"
          + (exchange.head.upgrade() == null ? "" : " to " + exchange.head.upgrade()));
      return;
    }
    if (status < 200) {
      engineState = EngineState.BETWEEN; // interim: the final response follows
      return;
    }
    exchange.finalStatus = status;
    String te = responseHead.transferEncoding();
    boolean chunked = te != null && lastCodingIsChunked(te);
    String cl = responseHead.contentLength();
    if (exchange.head.method().equals("CONNECT") && status < 300) {
      raw(exchange, status + " to CONNECT");
      return;
    }
    String mediaType = responseHead.mediaType();
    if (status == 200 && te == null && cl == null
        && ("application/vnd.docker.raw-stream".equals(mediaType)
            || "application/vnd.docker.multiplexed-stream".equals(mediaType))) {
      raw(exchange, "Docker hijack: 200 " + mediaType + " without framing");
      return;
    }
    if (clientState == ClientState.UNDECIDED && awaited == exchange) {
      if (deferredError != null) {
        stop(Direction.CLIENT, deferredError);
        return;
      }
      if (undecidedBytes > 0) {
        stop(Direction.CLIENT, undecidedBytes + " bytes sent after " + exchange.head.method() + " "
            + exchange.head.path() + " asked to upgrade, before its answer, which was " + status
            + ", not 101");
        return;
      }
      clientState = ClientState.HEAD;
      awaited = null;
    }
    if (exchange.head.method().equals("HEAD") || status == 204 || status == 304) {
      responseComplete();
    } else if (chunked) {
      responseBody.chunked();
      engineState = EngineState.BODY;
    } else if (te == null && cl != null) {
      responseBody.length(Long.parseLong(cl));
      engineState = EngineState.BODY;
      if (responseBody.isComplete()) {
        responseComplete();
      }
    } else {
      responseBody.untilClose(); // RFC 9112 6.3: also when Transfer-Encoding does not end in chunked
      engineState = EngineState.BODY;
    }
  }

  private void responseContent(ByteBuf buf, int index, int length) {
    listener.responseBody(exchanges.peekFirst().head, buf, index, length);
  }

  private void responseComplete() {
    Exchange exchange = exchanges.removeFirst();
    engineState = EngineState.BETWEEN;
    listener.responseComplete(exchange.head);
  }

  private void raw(Exchange exchange, String why) {
    stopped = true;
    listener.rawStream(exchange.head, why);
  }

  private void stop(Direction direction, String why) {
    stopped = true;
    listener.unparseable(direction, why);
  }

  private static String responseTo(Exchange exchange) {
    return "response to " + exchange.head.method() + " " + exchange.head.path() + ": ";
  }

  private static boolean lastCodingIsChunked(String transferEncoding) {
    int comma = transferEncoding.lastIndexOf(',');
    return transferEncoding.substring(comma + 1).trim().equals("chunked");
  }

  /** The path of a request target: without the query, and for absolute-form without scheme and authority. */
  static String path(String target) {
    int q = target.indexOf('?');
    String path = q < 0 ? target : target.substring(0, q);
    int scheme = path.indexOf("://");
    if (!path.startsWith("/") && scheme > 0) {
      int slash = path.indexOf('/', scheme + 3);
      return slash < 0 ? "/" : path.substring(slash);
    }
    return path;
  }

  static String query(String target) {
    int q = target.indexOf('?');
    return q < 0 ? null : target.substring(q + 1);
  }

  /** Bytes for an error message: at most 80 of them, control characters escaped. */
  static String quote(byte[] bytes, int from, int to) {
    StringBuilder out = new StringBuilder("\"");
    int end = Math.min(to, from + 80);
    for (int k = from; k < end; k++) {
      appendEscaped(out, bytes[k]);
    }
    return out.append(to > end ? "...\"" : "\"").toString();
  }

  static String quote(byte b) {
    return quote(new byte[] {b}, 0, 1);
  }

  private static void appendEscaped(StringBuilder out, byte b) {
    int c = b & 0xff;
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out.append((char) c);
    } else if (c == '\r') {
      out.append("\\r");
    } else if (c == '\n') {
      out.append("\\n");
    } else {
      out.append(String.format("\\x%02x", c));
    }
  }
}

package dev.docktunnel.bridge;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.sockjs.SockJSHandler;
import io.vertx.ext.web.handler.sockjs.SockJSHandlerOptions;
import io.vertx.ext.web.handler.sockjs.SockJSSocket;
import io.vertx.ext.web.handler.sockjs.Transport;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The event bridge over SockJS for the HTTP API, to be mounted at {@code /eventbus/*}: the same
 * frames as the TCP bridge (one JSON object per SockJS message, as vertx-web's SockJS bridge and
 * {@code @vertx/eventbus-bridge-client.js} speak them), the same permissions and limits (one
 * {@link BridgeClient} per socket).
 *
 * <p>Only the WebSocket transports are served ({@code /eventbus/websocket} raw, and SockJS's framed
 * {@code /eventbus/<server>/<session>/websocket}): the polling and streaming transports buffer
 * request bodies and queue replies in ways a frame cap and a bounded queue cannot see. A request
 * whose {@code Origin} is not the API's own ({@code http://localhost:<port>}, {@code
 * http://127.0.0.1:<port>} or {@code http://[::1]:<port>}, the port the request came in on) gets
 * 403: a web page elsewhere cannot read the facts through a user's browser. A request without
 * {@code Origin} is not from a browser and passes (the Host-header allow-list of the HTTP API
 * still applies). The server must cap WebSocket messages ({@link #limitWebSockets}); a message
 * over the cap that gets through anyway closes the socket.
 */
public final class EventBusSockJs {
  private static final Logger LOG = LoggerFactory.getLogger(EventBusSockJs.class);

  private EventBusSockJs() {
  }

  /** The router for {@code /eventbus/*} with the default limits. */
  public static Router router(Vertx vertx) {
    return router(vertx, BridgeLimits.DEFAULT, new BridgeCounters());
  }

  /** The router for {@code /eventbus/*}. */
  public static Router router(Vertx vertx, BridgeLimits limits, BridgeCounters counters) {
    SockJSHandlerOptions options = new SockJSHandlerOptions().setRegisterWriteHandler(false);
    for (Transport t : Set.of(Transport.XHR, Transport.EVENT_SOURCE, Transport.HTML_FILE, Transport.JSON_P)) {
      options.addDisabledTransport(t.name());
    }
    BridgePolicy policy = BridgePolicy.docktunnel();
    // The HTTP verticle may run on several event loops; the cap counts across them.
    AtomicInteger clients = new AtomicInteger();
    Router router = SockJSHandler.create(vertx, options)
        .socketHandler(socket -> accept(vertx, socket, policy, limits, counters, clients));
    router.route().order(-1).handler(EventBusSockJs::checkOrigin);
    return router;
  }

  /**
   * Sets the WebSocket frame and message caps of {@code options} to the bridge's frame cap (Vert.x
   * closes a WebSocket whose message is over it, before buffering the rest), keeping a smaller cap
   * already set.
   */
  public static HttpServerOptions limitWebSockets(HttpServerOptions options, BridgeLimits limits) {
    return options
        .setMaxWebSocketFrameSize(Math.min(options.getMaxWebSocketFrameSize(), limits.maxFrameBytes()))
        .setMaxWebSocketMessageSize(Math.min(options.getMaxWebSocketMessageSize(), limits.maxFrameBytes()));
  }

  /** Whether {@code origin} is the API's own, on {@code port}. */
  static boolean allowedOrigin(String origin, int port) {
    return origin.equals("http://localhost:" + port) || origin.equals("http://127.0.0.1:" + port)
        || origin.equals("http://[::1]:" + port);
  }

  private static void checkOrigin(RoutingContext rc) {
    String origin = rc.request().getHeader("Origin");
    int port = rc.request().localAddress() == null ? -1 : rc.request().localAddress().port();
    if (origin == null || allowedOrigin(origin, port)) {
      rc.next();
      return;
    }
    LOG.warn("event bridge: refused a SockJS request from {} with Origin '{}': only this API's own origin "
        + "(http://localhost:{}) may use it", rc.request().remoteAddress(), abbreviate(origin), port);
    rc.response().setStatusCode(403).putHeader("Content-Type", "text/plain; charset=utf-8")
        .end("Origin not allowed: the event bridge serves only http://localhost:" + port + "\n");
  }

  private static void accept(Vertx vertx, SockJSSocket socket, BridgePolicy policy, BridgeLimits limits,
      BridgeCounters counters, AtomicInteger clients) {
    String name = "sockjs client " + socket.remoteAddress();
    counters.connections.incrementAndGet();
    if (clients.incrementAndGet() > limits.maxClients()) {
      clients.decrementAndGet();
      long refused = counters.refusedConnections.incrementAndGet();
      LOG.warn("event bridge: refusing {}: already {} SockJS clients (the limit); {} refused so far", name,
          limits.maxClients(), refused);
      socket.write(new JsonObject().put("type", "err").put("message", "too_many_clients").encode());
      socket.close();
      return;
    }
    counters.openClients.incrementAndGet();
    SockJsWire wire = new SockJsWire(vertx, socket, name);
    // SockJS clients expect no pong (vertx-web's bridge sends none): their pings only keep the socket open.
    BridgeClient client = new BridgeClient(vertx.eventBus(), wire, policy, limits, counters, false);
    socket.handler(message -> {
      if (message.length() > limits.maxFrameBytes()) {
        counters.oversizedFrames.incrementAndGet();
        LOG.warn("event bridge: closing {}: frame of {} bytes is over the {}-byte cap", name, message.length(),
            limits.maxFrameBytes());
        client.closed();
        socket.close();
        return;
      }
      client.onFrame(message);
    });
    socket.exceptionHandler(e -> {
      client.closed();
      if (String.valueOf(e.getMessage()).contains("max message size")) {
        // Vert.x refused a WebSocket message over the server's cap (set by limitWebSockets) but
        // leaves the socket open, waiting for a close handshake; the client gets no more of it.
        counters.oversizedFrames.incrementAndGet();
        LOG.warn("event bridge: closing {}: a message over the {}-byte cap", name, limits.maxFrameBytes());
      } else {
        LOG.warn("event bridge: closing {}: {}", name, e.toString());
      }
      wire.abort();
    });
    socket.closeHandler(v -> {
      clients.decrementAndGet();
      counters.openClients.decrementAndGet();
      client.closed();
      LOG.debug("event bridge: {} disconnected", name);
    });
  }

  private static String abbreviate(String text) {
    return text.length() > 80 ? text.substring(0, 80) + "..." : text;
  }

  private static final class SockJsWire implements BridgeClient.Wire {
    private final Vertx vertx;
    private final SockJSSocket socket;
    private final String name;

    SockJsWire(Vertx vertx, SockJSSocket socket, String name) {
      this.vertx = vertx;
      this.socket = socket;
      this.name = name;
    }

    @Override
    public Future<Void> write(Buffer json) {
      return socket.write(json.toString()); // a text message, as SockJS clients expect
    }

    @Override
    public void close() {
      socket.close();
      // a client that does not read would hold the close handshake (and its slot) for ever
      vertx.setTimer(EventBridgeVerticle.CLOSE_GRACE_MS, t -> abort());
    }

    @Override
    public void abort() {
      RoutingContext rc = socket.routingContext();
      Connections.abort(rc == null ? null : rc.request().connection(), socket::close, name);
    }

    @Override
    public String name() {
      return name;
    }
  }
}

package dev.docktunnel.bridge;

import dev.docktunnel.bus.Addresses;
import dev.docktunnel.bus.Endpoint;
import dev.docktunnel.bus.Facts;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import java.io.IOException;
import java.time.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The TCP event-bus bridge on 127.0.0.1:{@code bridge.port}: the wire protocol of Vert.x's TCP
 * event-bus bridge (4-byte big-endian length, then a UTF-8 JSON frame {@code {type, address,
 * replyAddress, headers, body}}), so that module's clients in every language work against it,
 * with docktunnel's permissions ({@link BridgePolicy}) and limits ({@link BridgeLimits}).
 *
 * <p>Why not {@code TcpEventBusBridge} itself: its frame parser buffers a frame of whatever length
 * the 4-byte prefix announces (2 GiB from one bad client), and it offers no option and no hook
 * before the parser to cap that; and it writes every delivered message without looking at the
 * socket's write queue, so a subscriber that does not read grows the daemon's memory without
 * bound. Both are the heart of a bridge that must keep memory flat, so this verticle owns the
 * socket: {@link FrameReader} checks the length before buffering, {@link BridgeClient} keeps one
 * bounded queue per client and drops a slow one. The protocol it speaks is small (register,
 * unregister, send with a reply, ping) and written down in docs/events.md.
 *
 * <p>Once listening it publishes the {@code docktunnel.endpoint} fact (kind {@code bridge}) with
 * the port, which the state writer records as {@code bridgePort}. All state is on this verticle's
 * context (the server's connections are handled there).
 */
public final class EventBridgeVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(EventBridgeVerticle.class);
  static final String HOST = "127.0.0.1";
  /**
   * The kernel's send buffer per client. A fixed size turns off Linux's send-buffer autotuning
   * (up to 4 MiB per socket), so what a client that does not read can hold in the kernel stays
   * small and the bounded queue above it is what decides when it is dropped.
   */
  static final int SOCKET_SEND_BUFFER = 64 * 1024;
  /**
   * A graceful close waits until the client has read what is queued; one that does not read is
   * cut off after this, so it cannot keep a client slot by never reading its error frame.
   */
  static final long CLOSE_GRACE_MS = 2_000;

  private final int port;
  private final BridgeLimits limits;
  private final BridgeCounters counters;
  private final Clock clock;
  private final BridgePolicy policy = BridgePolicy.docktunnel();
  private NetServer server;
  /** Connected clients; written on this verticle's context only, volatile for {@link #clientCount()}. */
  private volatile int clients;

  /** @param port 0 for any free port */
  public EventBridgeVerticle(int port, BridgeLimits limits, BridgeCounters counters, Clock clock) {
    this.port = port;
    this.limits = limits;
    this.counters = counters;
    this.clock = clock;
  }

  public EventBridgeVerticle(int port) {
    this(port, BridgeLimits.DEFAULT, new BridgeCounters(), Clock.systemUTC());
  }

  @Override
  public Future<?> start() {
    server = vertx.createNetServer(new NetServerOptions().setHost(HOST).setPort(port).setTcpNoDelay(true)
        .setSendBufferSize(SOCKET_SEND_BUFFER));
    server.connectHandler(this::accept);
    return server.listen()
        .recover(e -> Future.failedFuture(new IOException("bridge.port (--bridge-port): cannot listen on "
            + HOST + ":" + port + ": " + e.getMessage(), e)))
        .map(s -> {
          int actual = s.actualPort();
          LOG.info("event bridge listening on {}:{}", HOST, actual);
          Facts.publish(vertx.eventBus(), Addresses.ENDPOINT,
              new Endpoint(Endpoint.Kind.BRIDGE, HOST, actual, clock.instant()));
          return s;
        });
  }

  /** The port listened on; 0 before the start completed. */
  public int actualPort() {
    return server == null ? 0 : server.actualPort();
  }

  /** Clients connected now. */
  public int clientCount() {
    return clients;
  }

  public BridgeCounters counters() {
    return counters;
  }

  private void accept(NetSocket socket) {
    String name = "tcp client " + socket.remoteAddress();
    counters.connections.incrementAndGet();
    if (clients >= limits.maxClients()) {
      long refused = counters.refusedConnections.incrementAndGet();
      LOG.warn("event bridge: refusing {}: already {} clients (the limit); {} refused so far", name, clients,
          refused);
      socket.write(frame(new JsonObject().put("type", "err").put("message", "too_many_clients")
          .put("reason", "the bridge serves at most " + limits.maxClients() + " clients")));
      closeWithGrace(socket, name);
      return;
    }
    clients++;
    counters.openClients.incrementAndGet();
    BridgeClient client = new BridgeClient(vertx.eventBus(), new TcpWire(socket, name), policy, limits, counters,
        true);
    socket.handler(new FrameReader(limits.maxFrameBytes(), client::onFrame, problem -> {
      counters.oversizedFrames.incrementAndGet();
      LOG.warn("event bridge: closing {}: {}", name, problem);
      client.closed();
      socket.write(frame(new JsonObject().put("type", "err").put("message", "frame_too_large").put("reason",
          problem)));
      closeWithGrace(socket, name);
    }));
    socket.exceptionHandler(e -> {
      if (e instanceof IOException) {
        LOG.debug("event bridge: {} connection error: {}", name, e.toString()); // a reset by the client
      } else {
        LOG.warn("event bridge: {} failed: {}", name, e.toString());
      }
    });
    socket.closeHandler(v -> {
      clients--;
      counters.openClients.decrementAndGet();
      client.closed();
      LOG.debug("event bridge: {} disconnected", name);
    });
    LOG.debug("event bridge: {} connected", name);
  }

  /** Closes after the queued frames, or at once after {@link #CLOSE_GRACE_MS} (idempotent on a closed socket). */
  private void closeWithGrace(NetSocket socket, String name) {
    socket.close();
    vertx.setTimer(CLOSE_GRACE_MS, t -> Connections.abort(socket, () -> { }, name));
  }

  /** A frame as the TCP bridge sends it: the JSON's byte length (4 bytes, big-endian), then the JSON. */
  static Buffer frame(JsonObject json) {
    Buffer payload = json.toBuffer();
    return Buffer.buffer(payload.length() + 4).appendInt(payload.length()).appendBuffer(payload);
  }

  private final class TcpWire implements BridgeClient.Wire {
    private final NetSocket socket;
    private final String name;

    TcpWire(NetSocket socket, String name) {
      this.socket = socket;
      this.name = name;
    }

    @Override
    public Future<Void> write(Buffer json) {
      return socket.write(Buffer.buffer(json.length() + 4).appendInt(json.length()).appendBuffer(json));
    }

    @Override
    public int cost(Buffer json) {
      return json.length() + 4;
    }

    @Override
    public void close() {
      closeWithGrace(socket, name);
    }

    @Override
    public void abort() {
      Connections.abort(socket, socket::close, name);
    }

    @Override
    public String name() {
      return name;
    }
  }
}

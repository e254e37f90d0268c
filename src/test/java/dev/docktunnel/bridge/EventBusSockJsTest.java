package dev.docktunnel.bridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docktunnel.bus.Addresses;
import dev.docktunnel.bus.Facts;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The SockJS bridge mounted at /eventbus/* on a test HTTP server, driven by raw WebSockets. */
class EventBusSockJsTest {
  static final long WAIT_S = 10;
  static final BridgeLimits LIMITS = new BridgeLimits(64 * 1024, 256 * 1024, 4, 4, Duration.ofSeconds(5));
  Vertx vertx;
  HttpServer server;
  BridgeCounters counters = new BridgeCounters();
  int port;
  /** Kept: a client nobody references may be closed when collected, and its sockets with it. */
  WebSocketClient client;

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    Router router = Router.router(vertx);
    router.route("/eventbus/*").subRouter(EventBusSockJs.router(vertx, LIMITS, counters));
    server = vertx.createHttpServer(EventBusSockJs.limitWebSockets(new HttpServerOptions().setHost("127.0.0.1"),
        LIMITS)).requestHandler(router);
    port = server.listen(0).await(WAIT_S, TimeUnit.SECONDS).actualPort();
    client = vertx.createWebSocketClient();
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().await(WAIT_S, TimeUnit.SECONDS);
  }

  /** A raw WebSocket to /eventbus/websocket; its text messages go to {@code inbox}. */
  WebSocket connect(String origin, BlockingQueue<JsonObject> inbox) throws Exception {
    WebSocketConnectOptions options = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port)
        .setURI("/eventbus/websocket");
    if (origin != null) {
      options.addHeader("Origin", origin);
    }
    WebSocket ws = client.connect(options).await(WAIT_S, TimeUnit.SECONDS);
    ws.textMessageHandler(text -> inbox.add(new JsonObject(text)));
    return ws;
  }

  static void send(WebSocket ws, JsonObject frame) throws Exception {
    ws.writeTextMessage(frame.encode()).await(WAIT_S, TimeUnit.SECONDS);
  }

  static JsonObject next(BlockingQueue<JsonObject> inbox) throws InterruptedException {
    JsonObject frame = inbox.poll(WAIT_S, TimeUnit.SECONDS);
    assertTrue(frame != null, "no frame within " + WAIT_S + " s");
    return frame;
  }

  /** Registers {@code address} and waits until a fact published on it arrives: registered for sure. */
  void registerAndSync(WebSocket ws, BlockingQueue<JsonObject> inbox, String address) throws Exception {
    send(ws, new JsonObject().put("type", "register").put("address", address));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S);
    while (System.nanoTime() < deadline) {
      Facts.publish(vertx.eventBus(), address, new JsonObject().put("sync", true));
      JsonObject frame = inbox.poll(50, TimeUnit.MILLISECONDS);
      if (frame != null && frame.getJsonObject("body").getBoolean("sync", false)) {
        inbox.clear();
        return;
      }
    }
    throw new AssertionError("registration of " + address + " never took effect");
  }

  @Test
  void theOwnOriginSubscribesAndQueries() throws Exception {
    vertx.eventBus().<JsonObject>consumer(Addresses.STATUS, m -> m.reply(new JsonObject().put("schema", 1)))
        .completion().await();
    for (String origin : new String[] {"http://localhost:" + port, "http://127.0.0.1:" + port,
        "http://[::1]:" + port, null}) {
      BlockingQueue<JsonObject> inbox = new LinkedBlockingQueue<>();
      WebSocket ws = connect(origin, inbox);
      registerAndSync(ws, inbox, Addresses.FORWARD_STATUS);
      Facts.publish(vertx.eventBus(), Addresses.FORWARD_STATUS, new JsonObject().put("id", "f1"));
      JsonObject fact = next(inbox);
      assertEquals(Addresses.FORWARD_STATUS, fact.getString("address"), String.valueOf(origin));
      assertEquals("f1", fact.getJsonObject("body").getString("id"));
      send(ws, new JsonObject().put("type", "send").put("address", Addresses.STATUS).put("replyAddress", "r1"));
      JsonObject reply = next(inbox);
      assertEquals("r1", reply.getString("address"));
      assertEquals(1, reply.getJsonObject("body").getInteger("schema"));
      ws.close().await(WAIT_S, TimeUnit.SECONDS);
    }
  }

  @Test
  void anotherOriginIsRefusedWith403() {
    for (String origin : new String[] {"http://evil.example", "http://localhost:" + (port + 1), "null",
        "https://localhost:" + port, "http://localhost:" + port + ".evil.example"}) {
      Exception e = assertThrows(Exception.class, () -> connect(origin, new LinkedBlockingQueue<>()), origin);
      UpgradeRejectedException rejected = e instanceof UpgradeRejectedException u ? u
          : (UpgradeRejectedException) e.getCause();
      assertEquals(403, rejected.getStatus(), origin);
    }
  }

  @Test
  void unpermittedAddressesAreRefusedWithNoDelivery() throws Exception {
    AtomicInteger reached = new AtomicInteger();
    vertx.eventBus().consumer("other.address", m -> reached.incrementAndGet()).completion().await();
    BlockingQueue<JsonObject> inbox = new LinkedBlockingQueue<>();
    WebSocket ws = connect(null, inbox);
    send(ws, new JsonObject().put("type", "register").put("address", "other.address"));
    send(ws, new JsonObject().put("type", "publish").put("address", "other.address").put("body", new JsonObject()));
    send(ws, new JsonObject().put("type", "send").put("address", "other.address").put("replyAddress", "r"));
    for (int i = 0; i < 3; i++) {
      JsonObject err = next(inbox);
      assertEquals("err", err.getString("type"));
      assertEquals(BridgePolicy.ACCESS_DENIED, err.getString("message"));
    }
    registerAndSync(ws, inbox, Addresses.SSH_STATE); // frames are handled in order: the refused ones are done
    vertx.eventBus().publish("other.address", new JsonObject());
    Facts.publish(vertx.eventBus(), Addresses.SSH_STATE, new JsonObject().put("last", true));
    JsonObject frame = next(inbox);
    assertEquals(Addresses.SSH_STATE, frame.getString("address"), "nothing of the refused address came first");
    assertEquals(1, reached.get(), "only the test's own publish reached the consumer");
  }

  @Test
  void aMessageOverTheCapClosesTheSocket() throws Exception {
    WebSocket ws = connect(null, new LinkedBlockingQueue<>());
    CompletableFuture<Void> closed = new CompletableFuture<>();
    ws.closeHandler(v -> closed.complete(null));
    ws.writeTextMessage("{\"type\":\"ping\",\"x\":\"" + "x".repeat(LIMITS.maxFrameBytes()) + "\"}")
        .await(WAIT_S, TimeUnit.SECONDS);
    closed.get(WAIT_S, TimeUnit.SECONDS);
    assertEquals(1, counters.oversizedFrames.get());
  }

  @Test
  void aSubscriberThatDoesNotReadIsDroppedAndAReaderKeepsEverything() throws Exception {
    BlockingQueue<JsonObject> ignored = new LinkedBlockingQueue<>();
    WebSocket slow = connect(null, ignored);
    CompletableFuture<Void> slowClosed = new CompletableFuture<>();
    slow.closeHandler(v -> slowClosed.complete(null));
    registerAndSync(slow, ignored, Addresses.ACTIVITY_BYTES);
    BlockingQueue<JsonObject> inbox = new LinkedBlockingQueue<>();
    WebSocket reader = connect(null, inbox);
    registerAndSync(reader, inbox, Addresses.ACTIVITY_BYTES);
    slow.pause(); // reads nothing more: the kernel buffers fill, then the bridge's queue
    int facts = 2_000;
    String padding = "p".repeat(4_000);
    for (int n = 0; n < facts; n++) {
      Facts.publish(vertx.eventBus(), Addresses.ACTIVITY_BYTES, new JsonObject().put("n", n).put("padding", padding));
      if ((n + 1) % 20 == 0) {
        for (int i = n - 19; i <= n; i++) {
          JsonObject frame = next(inbox);
          assertEquals(i, frame.getJsonObject("body").getInteger("n"), "in order, none missing");
        }
      }
    }
    assertEquals(1, counters.slowClientsDropped.get());
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S);
    while (counters.openClients.get() != 1) { // closed by the bridge while it still reads nothing
      assertTrue(System.nanoTime() < deadline, counters.openClients.get() + " clients open, not 1");
      Thread.sleep(20); // polling the count, bounded by the deadline
    }
    slow.resume();
    slowClosed.get(WAIT_S, TimeUnit.SECONDS);
    assertFalse(reader.isClosed(), "the reader is still connected");
  }
}

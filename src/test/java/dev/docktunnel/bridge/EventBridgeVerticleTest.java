package dev.docktunnel.bridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docktunnel.bus.Addresses;
import dev.docktunnel.bus.Endpoint;
import dev.docktunnel.bus.Facts;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The TCP bridge in process, driven by real TCP clients. */
class EventBridgeVerticleTest {
  static final Duration WAIT = Duration.ofSeconds(10);
  Vertx vertx;
  EventBridgeVerticle bridge;
  CompletableFuture<JsonObject> endpoint = new CompletableFuture<>();

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    vertx.eventBus().<JsonObject>consumer(Addresses.ENDPOINT, m -> endpoint.complete(m.body()))
        .completion().await(10, TimeUnit.SECONDS);
    deploy(BridgeLimits.DEFAULT);
  }

  void deploy(BridgeLimits limits) throws Exception {
    bridge = new EventBridgeVerticle(0, limits, new BridgeCounters(), Clock.systemUTC());
    vertx.deployVerticle(bridge).await(10, TimeUnit.SECONDS);
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  void publish(String address, JsonObject fact) {
    Facts.publish(vertx.eventBus(), address, fact);
  }

  @Test
  void listensOnLoopbackAndPublishesItsEndpoint() throws Exception {
    Endpoint fact = Endpoint.fromJson(endpoint.get(10, TimeUnit.SECONDS));
    assertEquals(Endpoint.Kind.BRIDGE, fact.kind());
    assertEquals("127.0.0.1", fact.address());
    assertEquals(bridge.actualPort(), fact.port());
  }

  @Test
  void aRegisteredFactIsDeliveredWithItsSeq() throws Exception {
    try (BridgeSocket client = BridgeSocket.connect(bridge.actualPort())) {
      client.register(Addresses.FORWARD_STATUS);
      assertEquals(List.of(), client.untilPong(WAIT)); // registered once the pong is back
      publish(Addresses.FORWARD_STATUS, new JsonObject().put("id", "f1"));
      publish(Addresses.SSH_STATE, new JsonObject().put("state", "connected")); // not registered
      publish(Addresses.FORWARD_STATUS, new JsonObject().put("id", "f2"));
      JsonObject first = client.read(WAIT);
      JsonObject second = client.read(WAIT);
      assertEquals("message", first.getString("type"));
      assertEquals(Addresses.FORWARD_STATUS, first.getString("address"));
      assertEquals("f1", first.getJsonObject("body").getString("id"));
      assertEquals("f2", second.getJsonObject("body").getString("id"));
      assertTrue(Facts.seqOf(second.getJsonObject("body")) > Facts.seqOf(first.getJsonObject("body")));
      assertEquals(List.of(), client.untilPong(WAIT), "nothing of the unregistered address");
    }
  }

  @Test
  void unpermittedAddressesGetAnErrorFrameAndNoDelivery() throws Exception {
    AtomicInteger reachedOther = new AtomicInteger();
    AtomicInteger reachedFact = new AtomicInteger();
    vertx.eventBus().consumer("other.address", m -> reachedOther.incrementAndGet()).completion().await();
    vertx.eventBus().consumer(Addresses.FORWARD_STATUS, m -> reachedFact.incrementAndGet()).completion().await();
    try (BridgeSocket client = BridgeSocket.connect(bridge.actualPort())) {
      client.register("other.address");
      client.send(new JsonObject().put("type", "publish").put("address", Addresses.FORWARD_STATUS)
          .put("body", new JsonObject().put("id", "forged")));
      client.send(new JsonObject().put("type", "send").put("address", "other.address").put("replyAddress", "r1")
          .put("body", new JsonObject()));
      client.send(new JsonObject().put("type", "publish").put("address", "other.address")
          .put("body", new JsonObject()));
      client.send(new JsonObject().put("type", "send").put("address", Addresses.FORWARDS_LIST)
          .put("body", new JsonObject())); // no replyAddress
      List<JsonObject> answers = client.untilPong(WAIT);
      assertEquals(5, answers.size(), answers.toString());
      for (JsonObject err : answers) {
        assertEquals("err", err.getString("type"), err.encode());
        assertEquals(BridgePolicy.ACCESS_DENIED, err.getString("message"), err.encode());
      }
      assertEquals(0, reachedOther.get(), "no send or publish from the client reached the bus");
      assertEquals(0, reachedFact.get());
      vertx.eventBus().publish("other.address", new JsonObject());
      assertEquals(List.of(), client.untilPong(WAIT), "nothing delivered from the refused registration");
    }
    assertEquals(5, bridge.counters().refusedFrames.get());
  }

  @Test
  void aQueryIsAnsweredToItsReplyAddress() throws Exception {
    vertx.eventBus().<JsonObject>consumer(Addresses.FORWARDS_LIST,
        m -> m.reply(new JsonObject().put("forwards", new io.vertx.core.json.JsonArray()).put("seq", 7)))
        .completion().await();
    try (BridgeSocket client = BridgeSocket.connect(bridge.actualPort())) {
      client.query(Addresses.FORWARDS_LIST, "my-reply");
      JsonObject reply = client.read(WAIT);
      assertEquals("message", reply.getString("type"));
      assertEquals("my-reply", reply.getString("address"));
      assertEquals(7, reply.getJsonObject("body").getInteger("seq"));
      // a query nobody answers fails with an error frame, not silence
      client.query(Addresses.CONTAINERS_LIST, "r2");
      JsonObject err = client.read(WAIT);
      assertEquals("err", err.getString("type"));
      assertEquals("r2", err.getString("address"));
      assertEquals("NO_HANDLERS", err.getString("failureType"));
    }
  }

  @Test
  void anOversizedFrameClosesTheConnectionWithoutBufferingIt() throws Exception {
    try (BridgeSocket client = BridgeSocket.connect(bridge.actualPort());
        BridgeSocket other = BridgeSocket.connect(bridge.actualPort())) {
      client.writeRaw(ByteBuffer.allocate(4).putInt(Integer.MAX_VALUE).array());
      JsonObject err = client.read(WAIT);
      assertEquals("frame_too_large", err.getString("message"), err.encode());
      assertTrue(client.closedWithin(WAIT), "the connection is closed");
      assertEquals(1, bridge.counters().oversizedFrames.get());
      assertEquals(List.of(), other.untilPong(WAIT), "another client is unharmed");
    }
    // one byte over the cap, sent whole
    try (BridgeSocket client = BridgeSocket.connect(bridge.actualPort())) {
      int size = BridgeLimits.DEFAULT.maxFrameBytes() + 1;
      byte[] frame = new byte[4 + size];
      ByteBuffer.wrap(frame).putInt(size);
      try {
        client.writeRaw(frame);
      } catch (java.io.IOException closedWhileWriting) {
        // the bridge may close before the whole frame is written: that is the point
      }
      assertTrue(client.closedWithin(WAIT));
      assertEquals(2, bridge.counters().oversizedFrames.get());
    }
  }

  @Test
  void aClientThatDoesNotReadItsErrorFrameIsCutOffAfterTheGrace() throws Exception {
    try (BridgeSocket client = BridgeSocket.connect(bridge.actualPort(), 4096)) {
      client.register(Addresses.ACTIVITY_BYTES);
      client.untilPong(WAIT);
      // ~200 KB queued to a client that reads nothing: over the kernel buffers, under the queue
      String padding = "p".repeat(4_000);
      for (int n = 0; n < 50; n++) {
        publish(Addresses.ACTIVITY_BYTES, new JsonObject().put("n", n).put("padding", padding));
      }
      client.writeRaw(ByteBuffer.allocate(4).putInt(Integer.MAX_VALUE).array());
      awaitClients(0);
      assertEquals(0, bridge.counters().slowClientsDropped.get(), "closed for the frame, not as slow");
      assertEquals(1, bridge.counters().oversizedFrames.get());
    }
  }

  @Test
  void aFrameThatIsNotJsonClosesTheConnection() throws Exception {
    try (BridgeSocket client = BridgeSocket.connect(bridge.actualPort())) {
      client.writeRaw(ByteBuffer.allocate(7).putInt(3).put("{{{".getBytes()).array());
      assertEquals("invalid_json", client.read(WAIT).getString("message"));
      assertTrue(client.closedWithin(WAIT));
      assertEquals(1, bridge.counters().badFrames.get());
    }
  }

  @Test
  void aSubscriberThatDoesNotReadIsDroppedAndAReaderKeepsEverything() throws Exception {
    int facts = 2_000;
    int batch = 20; // ~80 KB at a time: a burst well inside the queue, as a busy daemon's facts come
    String padding = "p".repeat(4_000); // ~8 MB in all: far more than the queue and the socket buffers
    try (BridgeSocket slow = BridgeSocket.connect(bridge.actualPort(), 4096);
        BridgeSocket reader = BridgeSocket.connect(bridge.actualPort())) {
      slow.register(Addresses.ACTIVITY_BYTES);
      reader.register(Addresses.ACTIVITY_BYTES);
      slow.untilPong(WAIT);
      reader.untilPong(WAIT);
      AtomicInteger received = new AtomicInteger();
      CompletableFuture<Void> reading = CompletableFuture.runAsync(() -> {
        try {
          while (received.get() < facts) {
            JsonObject frame = reader.read(WAIT);
            assertEquals(received.get(), frame.getJsonObject("body").getInteger("n"), "in order, none missing");
            received.incrementAndGet();
          }
        } catch (java.io.IOException e) {
          throw new IllegalStateException("reader failed after " + received.get() + " facts", e);
        }
      });
      for (int n = 0; n < facts; n++) {
        publish(Addresses.ACTIVITY_BYTES, new JsonObject().put("n", n).put("padding", padding));
        if ((n + 1) % batch == 0) {
          awaitAtLeast(received, n + 1 - batch, reading);
        }
      }
      reading.get(60, TimeUnit.SECONDS);
      assertEquals(facts, received.get(), "the reading subscriber got every fact, in order");
      assertEquals(1, bridge.counters().slowClientsDropped.get());
      // closed by the bridge although it still has not read (reading now would let a graceful close finish)
      awaitClients(1);
      assertTrue(slow.closedWithin(WAIT), "the slow subscriber's connection is closed");
    }
  }

  /** Waits (bounded) until the bridge has {@code n} clients, none of them reading meanwhile. */
  void awaitClients(int n) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (bridge.clientCount() != n) {
      assertTrue(System.nanoTime() < deadline, "the bridge still has " + bridge.clientCount() + " clients, not "
          + n + ": a graceful close waits for a client that never reads");
      Thread.sleep(20); // polling the bridge's count, bounded by the deadline
    }
  }

  /** Waits (bounded) until {@code count} reaches {@code at least}, failing early if {@code reading} failed. */
  static void awaitAtLeast(AtomicInteger count, int atLeast, CompletableFuture<Void> reading) throws Exception {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (count.get() < atLeast) {
      if (reading.isDone()) {
        reading.get();
      }
      assertTrue(System.nanoTime() < deadline, "the reader is stuck at " + count.get());
      Thread.sleep(1); // polling a counter, bounded by the deadline
    }
  }

  @Test
  void clientsOverTheCapAreRefused() throws Exception {
    vertx.undeploy(vertx.deploymentIDs().iterator().next()).await(10, TimeUnit.SECONDS);
    deploy(new BridgeLimits(1024, 1024, 2, 2, Duration.ofSeconds(1)));
    try (BridgeSocket one = BridgeSocket.connect(bridge.actualPort());
        BridgeSocket two = BridgeSocket.connect(bridge.actualPort());
        BridgeSocket three = BridgeSocket.connect(bridge.actualPort())) {
      assertEquals("too_many_clients", three.read(WAIT).getString("message"));
      assertTrue(three.closedWithin(WAIT));
      assertEquals(List.of(), one.untilPong(WAIT));
      assertEquals(List.of(), two.untilPong(WAIT));
      assertEquals(1, bridge.counters().refusedConnections.get());
    }
  }

  @Test
  void tooManyQueriesInFlightAreRefused() throws Exception {
    vertx.undeploy(vertx.deploymentIDs().iterator().next()).await(10, TimeUnit.SECONDS);
    deploy(new BridgeLimits(1024, 64 * 1024, 2, 2, Duration.ofSeconds(30)));
    vertx.eventBus().consumer(Addresses.STATUS, m -> { /* never answers */ }).completion().await();
    try (BridgeSocket client = BridgeSocket.connect(bridge.actualPort())) {
      client.query(Addresses.STATUS, "a");
      client.query(Addresses.STATUS, "b");
      client.query(Addresses.STATUS, "c");
      JsonObject err = client.read(WAIT);
      assertEquals("too_many_queries", err.getString("message"), err.encode());
      assertFalse(client.closedWithin(Duration.ofMillis(300)), "the client stays connected");
    }
  }
}

package dev.docktunnel.bus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class FactsTest {
  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  /**
   * Four publishers on four threads, two addresses: every consumer sees strictly increasing
   * seqs, so "last applied seq" is an exact snapshot point for whatever it consumes.
   */
  @Test
  void everyConsumerSeesFactsInSeqOrderAcrossPublisherThreads() throws Exception {
    int perPublisher = 5_000;
    int publishers = 4;
    List<Long> seen = new ArrayList<>();
    CountDownLatch all = new CountDownLatch(publishers * perPublisher);
    List<String> outOfOrder = new ArrayList<>();
    vertx.deployVerticle(new VerticleBase() {
      @Override
      public Future<?> start() {
        for (String address : List.of("test.a", "test.b")) {
          vertx.eventBus().<JsonObject>consumer(address, m -> {
            long seq = Facts.seqOf(m.body());
            if (!seen.isEmpty() && seq <= seen.get(seen.size() - 1)) {
              outOfOrder.add(seen.get(seen.size() - 1) + " then " + seq);
            }
            seen.add(seq);
            all.countDown();
          });
        }
        return Future.succeededFuture();
      }
    }).await(10, TimeUnit.SECONDS);
    List<Thread> threads = new ArrayList<>();
    for (int p = 0; p < publishers; p++) {
      String address = p % 2 == 0 ? "test.a" : "test.b";
      Thread t = new Thread(() -> {
        for (int i = 0; i < perPublisher; i++) {
          Facts.publish(vertx.eventBus(), address, new JsonObject().put("i", i));
        }
      });
      threads.add(t);
      t.start();
    }
    for (Thread t : threads) {
      t.join();
    }
    assertTrue(all.await(30, TimeUnit.SECONDS), "all facts delivered");
    assertEquals(List.of(), outOfOrder.subList(0, Math.min(5, outOfOrder.size())));
    assertEquals(publishers * perPublisher, seen.size());
  }

  @Test
  void publishReturnsTheSeqItStamped() {
    JsonObject fact = new JsonObject();
    long seq = Facts.publish(vertx.eventBus(), "test.c", fact);
    assertEquals(seq, Facts.seqOf(fact));
    assertTrue(Facts.publish(vertx.eventBus(), "test.c", new JsonObject()) > seq);
    assertEquals(0, Facts.seqOf(new JsonObject()));
  }

  @Test
  void recordsRoundTripAndNameABadField() {
    Instant at = Instant.parse("2026-12-01T10:00:00Z");
    ForwardStatus status = new ForwardStatus("abc/tcp/80", "abcdef", "web", "tcp", 80, "127.0.0.1", 80, 8080, 8080,
        List.of("127.0.0.1", "::1"), ForwardStatus.Status.ACTIVE, null, "s1", at, at.plusSeconds(1), 2, 5, 1, 100, 50);
    assertEquals(status, ForwardStatus.fromJson(new JsonObject(status.toJson().encode())));
    ActivityBytes bytes = new ActivityBytes("abc/tcp/80", "abcdef", 8080, 1, 2, 3, 4, 5, at);
    assertEquals(bytes, ActivityBytes.fromJson(bytes.toJson()));
    ActivityConnection conn = new ActivityConnection(ActivityConnection.Event.CLOSED, "abc/tcp/80", "abcdef", 8080,
        "/127.0.0.1:5000", 10, 20, at);
    assertEquals(conn, ActivityConnection.fromJson(conn.toJson()));
    ContainersSynced synced = new ContainersSynced(List.of("a", "b"), "27.5.1", at);
    assertEquals(synced, ContainersSynced.fromJson(synced.toJson()));
    ContainersUnsynced unsynced = new ContainersUnsynced("stream broke", at);
    assertEquals(unsynced, ContainersUnsynced.fromJson(unsynced.toJson()));
    Endpoint endpoint = new Endpoint(Endpoint.Kind.BRIDGE, "127.0.0.1", 7000, at);
    assertEquals(endpoint, Endpoint.fromJson(endpoint.toJson()));

    IllegalArgumentException bad = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> ForwardStatus.fromJson(status.toJson().put("status", "asleep")));
    assertEquals("forward.status fact: status is 'asleep', expected one of [pending, active, conflict, rejected, "
        + "stopped]", bad.getMessage());
    bad = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> ActivityBytes.fromJson(bytes.toJson().put("bytesIn", -1)));
    assertEquals("activity.bytes fact: bytesIn is '-1', expected a whole number, 0 or more", bad.getMessage());
    bad = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> Endpoint.fromJson(endpoint.toJson().put("port", 70000)));
    assertEquals("endpoint fact: port is '70000', expected a port 1-65535", bad.getMessage());
  }
}

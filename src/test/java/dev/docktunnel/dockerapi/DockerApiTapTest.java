package dev.docktunnel.dockerapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docktunnel.bus.Addresses;
import dev.docktunnel.bus.FactRecorder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The tap on one Docker socket connection, with the watcher and the forward verticle played by
 * bus consumers of the test: a start's answer is held from its first byte until the forwards
 * settle, a failed start is not held, a create makes the watcher inspect the new id, and the
 * requests and streams are published.
 */
class DockerApiTapTest {
  static final String ID = "4fa6e0f0c6786287e131c3852c58a2e01cc697a68231826813597e4994f1d6e2";
  static final Duration WAIT = Duration.ofSeconds(10);

  Vertx vertx;
  EmbeddedChannel local;
  DockerCounters counters;
  AtomicInteger raised;
  DockerApiTap tap;
  FactRecorder activity;
  CompletableFuture<Message<JsonObject>> settledQuery;
  CompletableFuture<String> inspected;

  @BeforeEach
  void setUp() throws Exception {
    vertx = Vertx.vertx();
    settledQuery = new CompletableFuture<>();
    inspected = new CompletableFuture<>();
    vertx.eventBus().<JsonObject>consumer(Addresses.CONTAINERS_INSPECT, m -> {
      inspected.complete(m.body().getString("container"));
      m.reply(new JsonObject().put("container", new JsonObject().put("id", ID).put("state", "running")));
    }).completion().await(5, TimeUnit.SECONDS);
    vertx.eventBus().<JsonObject>consumer(Addresses.FORWARDS_SETTLED, settledQuery::complete)
        .completion().await(5, TimeUnit.SECONDS);
    activity = FactRecorder.on(vertx, Addresses.ACTIVITY_DOCKER);
    local = new EmbeddedChannel();
    counters = new DockerCounters();
    raised = new AtomicInteger();
    tap = new DockerApiTap(local, raised::incrementAndGet,
        new DockerApiTap.Settings(vertx, Duration.ofSeconds(5), counters, Clock.systemUTC()));
  }

  @AfterEach
  void tearDown() throws Exception {
    local.finishAndReleaseAll();
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  static ByteBuf bytes(String text) {
    return Unpooled.copiedBuffer(text, StandardCharsets.ISO_8859_1);
  }

  /** Runs the connection loop's tasks (bus answers hop onto it) until {@code done}, bounded. */
  void runLoopUntil(BooleanSupplier done) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!done.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within " + WAIT);
      }
      local.runPendingTasks();
      Thread.sleep(2);
    }
  }

  @Test
  void aStartsAnswerIsHeldFromItsFirstByteUntilTheForwardsSettle() throws Exception {
    String ping = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK";
    tap.fromClient(bytes("GET /_ping HTTP/1.1\r\nHost: docker\r\n\r\n"));
    tap.fromRemote(bytes(ping));
    assertEquals(Long.MAX_VALUE, tap.clientLimit(), "nothing held for a ping");
    tap.fromClient(bytes("POST /v1.41/containers/web/start HTTP/1.1\r\nHost: docker\r\nContent-Length: 0\r\n\r\n"));
    tap.fromRemote(bytes("HTTP/1.1 204 No Content\r\n"));
    assertEquals(ping.length(), tap.clientLimit(), "held at the answer's first byte");
    tap.fromRemote(bytes("Api-Version: 1.41\r\n\r\n"));
    assertEquals("web", inspected.get(WAIT.toSeconds(), TimeUnit.SECONDS));
    Message<JsonObject> query = settledQuery.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    assertEquals(ID, query.body().getString("containerId"), "asked with the id the watcher answered");
    assertTrue(query.body().getLong("timeoutMs") <= 5_000);
    local.runPendingTasks();
    assertEquals(ping.length(), tap.clientLimit(), "still held while the forwards are pending");
    assertEquals(0, raised.get());
    query.reply(new JsonObject().put("settled", true).put("forwards", new JsonArray()));
    runLoopUntil(() -> raised.get() == 1);
    assertEquals(Long.MAX_VALUE, tap.clientLimit());
    assertEquals(0, counters.startHoldTimeouts());
    activity.await(f -> "/containers/{id}/start".equals(f.getString("path")) && "web".equals(f.getString("containerId")),
        WAIT);
  }

  @Test
  void forwardsNotUpInTimePassTheAnswerAndCountIt() throws Exception {
    tap.fromClient(bytes("POST /containers/web/restart HTTP/1.1\r\nHost: docker\r\n\r\n"));
    tap.fromRemote(bytes("HTTP/1.1 204 No Content\r\n\r\n"));
    assertEquals(0, tap.clientLimit());
    settledQuery.get(WAIT.toSeconds(), TimeUnit.SECONDS).reply(new JsonObject().put("settled", false)
        .put("forwards", new JsonArray().add(new JsonObject().put("publishedPort", 8080).put("status", "pending")
            .put("reason", "remote 127.0.0.1:8080 did not answer"))));
    runLoopUntil(() -> raised.get() == 1);
    assertEquals(Long.MAX_VALUE, tap.clientLimit());
    assertEquals(1, counters.startHoldTimeouts());
  }

  @Test
  void aFailedStartIsNotHeld() throws Exception {
    tap.fromClient(bytes("POST /containers/nope/start HTTP/1.1\r\nHost: docker\r\n\r\n"));
    tap.fromRemote(bytes("HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\n{}"));
    assertEquals(Long.MAX_VALUE, tap.clientLimit());
    assertEquals(1, raised.get(), "the provisional hold was lifted at the status");
    assertTrue(!settledQuery.isDone());
  }

  @Test
  void aCreateMakesTheWatcherInspectTheNewIdWithoutAHold() throws Exception {
    tap.fromClient(bytes("POST /v1.41/containers/create?name=web HTTP/1.1\r\nHost: docker\r\n"
        + "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"));
    String body = "{\"Id\":\"" + ID + "\",\"Warnings\":[]}";
    tap.fromRemote(bytes("HTTP/1.1 201 Created\r\nContent-Length: " + body.length() + "\r\n\r\n" + body));
    assertEquals(Long.MAX_VALUE, tap.clientLimit());
    assertEquals(ID, inspected.get(WAIT.toSeconds(), TimeUnit.SECONDS));
  }

  @Test
  void aLogsFollowStreamIsOpenUntilItsAnswerEnds() throws Exception {
    tap.fromClient(bytes("GET /v1.41/containers/web/logs?follow=1&stdout=1 HTTP/1.1\r\nHost: docker\r\n\r\n"));
    assertEquals(1, counters.openStreams());
    tap.fromRemote(bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"));
    assertEquals(1, counters.openStreams());
    tap.fromRemote(bytes("0\r\n\r\n"));
    assertEquals(0, counters.openStreams());
    activity.await(f -> "stream-closed".equals(f.getString("event"))
        && "/containers/{id}/logs".equals(f.getString("path")), WAIT);
    tap.fromClient(bytes("POST /exec/abc/start HTTP/1.1\r\nHost: docker\r\nUpgrade: tcp\r\nConnection: Upgrade\r\n\r\n"));
    tap.fromRemote(bytes("HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
        + "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\nraw bytes"));
    assertEquals(1, counters.openStreams(), "a hijacked stream lasts while its connection does");
    tap.closed();
    assertEquals(0, counters.openStreams());
    assertEquals(2, counters.requests());
  }

  @Test
  void aNewConnectionIsAFactAtOnceBeforeAnyRequest() throws Exception {
    JsonObject opened = activity.await(f -> "connection-opened".equals(f.getString("event")), WAIT);
    assertEquals(local.id().asShortText(), opened.getString("connection"));
    assertEquals(null, opened.getString("method"));
  }

  @Test
  void aRefusalIsADockerErrorTheCliPrintsAndAHeadGetsNoBody() throws Exception {
    tap.fromClient(bytes("GET /v1.47/containers/json HTTP/1.1\r\nHost: docker\r\n\r\n"));
    ByteBuf answer = tap.refusal(local.alloc(), "starting server failed: start exited 3: \"no capacity\"");
    String text = answer.toString(StandardCharsets.UTF_8);
    answer.release();
    String body = "{\"message\":\"docktunnel: starting server failed: start exited 3: \\\"no capacity\\\"\"}\n";
    assertEquals("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: "
        + body.getBytes(StandardCharsets.UTF_8).length + "\r\nConnection: close\r\n\r\n" + body, text);

    EmbeddedChannel other = new EmbeddedChannel();
    DockerApiTap ping = new DockerApiTap(other, () -> { },
        new DockerApiTap.Settings(vertx, Duration.ofSeconds(5), counters, Clock.systemUTC()));
    ping.fromClient(bytes("HEAD /_ping HTTP/1.1\r\nHost: docker\r\n\r\n"));
    ByteBuf head = ping.refusal(other.alloc(), "starting server, the server is not up");
    String headText = head.toString(StandardCharsets.UTF_8);
    head.release();
    other.finishAndReleaseAll();
    assertTrue(headText.endsWith("Connection: close\r\n\r\n"), "no body after a HEAD: " + headText);
  }
}

package dev.docktunnel.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docktunnel.bus.ActivityBytes;
import dev.docktunnel.bus.Addresses;
import dev.docktunnel.bus.DockerSocketStatus;
import dev.docktunnel.bus.Endpoint;
import dev.docktunnel.bus.LifecycleState;
import dev.docktunnel.bus.LifecycleStatus;
import dev.docktunnel.bus.Facts;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The state writer driven through the bus: facts in, the state file's record out. */
class StateWriterVerticleTest {
  @TempDir
  Path dir;
  Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  StateFile file() {
    return new StateFile(dir.resolve("h.state.json"), Clock.systemUTC());
  }

  /** Reads the file until {@code wanted} holds (bounded). */
  HostState await(Predicate<HostState> wanted) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    Optional<HostState> last = Optional.empty();
    while (System.nanoTime() < deadline) {
      last = file().read();
      if (last.isPresent() && wanted.test(last.get())) {
        return last.get();
      }
      Thread.sleep(20); // polling the file, bounded by the deadline
    }
    throw new AssertionError("state file never matched; last: " + last);
  }

  static JsonObject forward(String id, String status) {
    return new JsonObject().put("id", id).put("containerId", "c1").put("containerName", "web")
        .put("protocol", "tcp").put("publishedPort", 80).put("remoteHost", "127.0.0.1")
        .put("localPort", 8080).put("requestedLocalPort", 8080).put("remotePort", 80).put("bindAddresses", new JsonArray().add("127.0.0.1"))
        .put("status", status).put("reason", null).put("sessionId", "s1")
        .put("createdAt", "2026-12-01T10:00:00Z").put("updatedAt", "2026-12-01T10:00:01Z")
        .put("openConnections", 0).put("connectionsTotal", 0).put("connectionsFailed", 0)
        .put("bytesIn", 0).put("bytesOut", 0);
  }

  @Test
  void everyChangeIsWrittenAndAGracefulStopKeepsTheForwards() throws Exception {
    String id = vertx.deployVerticle(new StateWriterVerticle(file(), "ssh://u@h", Clock.systemUTC()))
        .await(10, TimeUnit.SECONDS);
    HostState first = await(s -> s.running());
    assertEquals(ProcessHandle.current().pid(), first.pid());
    assertEquals("ssh://u@h", first.host());

    vertx.eventBus().publish(Addresses.SSH_STATE, new JsonObject().put("state", "connected").put("host", "ssh://u@h")
        .put("reason", "authenticated").put("at", "2026-12-01T10:00:02Z").put("attempt", 1));
    vertx.eventBus().publish(Addresses.FORWARD_STATUS, forward("c1/tcp/80", "active"));
    HostState active = await(s -> "connected".equals(s.ssh().state()) && s.forwards().size() == 1);
    HostState.Forward f = active.forwards().get(0);
    assertEquals(8080, f.localPort());
    assertEquals("127.0.0.1", f.localAddress());
    assertEquals("active", f.status());

    vertx.eventBus().publish(Addresses.ACTIVITY_BYTES,
        new ActivityBytes("c1/tcp/80", "c1", 8080, 1234, 99, 1, 2, 0, Instant.now()).toJson());
    await(s -> !s.forwards().isEmpty() && s.forwards().get(0).bytesIn() == 1234); // with the periodic write

    vertx.undeploy(id).await(10, TimeUnit.SECONDS);
    HostState stopped = file().read().orElseThrow();
    assertFalse(stopped.running());
    assertNotNull(stopped.stoppedAt());
    assertEquals(1, stopped.forwards().size(), "the stop keeps the forwards for the next start");
  }

  @Test
  void aStoppedForwardLeavesTheRecord() throws Exception {
    vertx.deployVerticle(new StateWriterVerticle(file(), "ssh://u@h", Clock.systemUTC())).await(10, TimeUnit.SECONDS);
    vertx.eventBus().publish(Addresses.FORWARD_STATUS, forward("c1/tcp/80", "active"));
    await(s -> s.forwards().size() == 1);
    vertx.eventBus().publish(Addresses.FORWARD_STATUS, forward("c1/tcp/80", "stopped"));
    assertTrue(await(s -> s.forwards().isEmpty()).running());
  }

  /**
   * The status query answers the same record as a schema-1 document, current to the seq of the
   * last fact applied; the HTTP endpoint's fact gives the record its port.
   */
  @Test
  void theStatusQueryIsTheRecordCurrentToTheLastSeq() throws Exception {
    vertx.deployVerticle(new StateWriterVerticle(file(), "ssh://u@h", Clock.systemUTC())).await(10, TimeUnit.SECONDS);
    Facts.publish(vertx.eventBus(), Addresses.ENDPOINT,
        new Endpoint(Endpoint.Kind.HTTP, "127.0.0.1", 41234, Instant.now()));
    Facts.publish(vertx.eventBus(), Addresses.FORWARD_STATUS, forward("c1/tcp/80", "active"));
    long last = Facts.publish(vertx.eventBus(), Addresses.ACTIVITY_BYTES,
        new ActivityBytes("c1/tcp/80", "c1", 8080, 10, 20, 1, 3, 1, Instant.now()));
    JsonObject doc = vertx.eventBus().<JsonObject>request(Addresses.STATUS, new JsonObject())
        .await(10, TimeUnit.SECONDS).body();
    assertEquals(StatusDocument.SCHEMA, doc.getInteger("schema"));
    assertEquals(last, doc.getLong("seq"), "the query queues behind the facts published before it");
    assertEquals("daemon", doc.getString("source"));
    assertEquals(41234, doc.getInteger("httpPort"));
    JsonObject forward = doc.getJsonArray("forwards").getJsonObject(0);
    assertEquals(8080, forward.getInteger("localPort"));
    assertEquals("active", forward.getString("status"));
    assertEquals(10, forward.getLong("bytesIn"));
    assertEquals(1, forward.getInteger("openConnections"));
    assertEquals(1, forward.getLong("connectionsFailed"));
    HostState back = HostState.fromJson(doc);
    assertEquals(41234, back.httpPort());
    assertEquals(41234, await(s -> Integer.valueOf(41234).equals(s.httpPort())).httpPort(), "recorded in the file");
  }

  /** The Docker socket's fact is kept as dockerSocket; the stop's record says it no longer listens. */
  @Test
  void theDockerSocketIsRecordedAndMarkedNotListeningAtTheStop() throws Exception {
    String id = vertx.deployVerticle(new StateWriterVerticle(file(), "ssh://u@h", Clock.systemUTC()))
        .await(10, TimeUnit.SECONDS);
    Facts.publish(vertx.eventBus(), Addresses.DOCKER_SOCKET, new DockerSocketStatus("/s/h/docker.sock", true, null,
        2, 5, 0, 14, 1, 0, 100, 200, Instant.now()));
    HostState.DockerSocket live = await(s -> s.dockerSocket() != null).dockerSocket();
    assertEquals(new HostState.DockerSocket("/s/h/docker.sock", true, 2, 14, 1), live);
    vertx.undeploy(id).await(10, TimeUnit.SECONDS);
    HostState stopped = await(s -> !s.running());
    assertEquals(new HostState.DockerSocket("/s/h/docker.sock", false, 0, 14, 0), stopped.dockerSocket());
  }

  /** The lifecycle fact is kept as server, with its countdown. */
  @Test
  void theLifecycleIsRecordedAsTheServer() throws Exception {
    vertx.deployVerticle(new StateWriterVerticle(file(), "ssh://u@h", Clock.systemUTC())).await(10, TimeUnit.SECONDS);
    Instant since = Instant.parse("2026-12-01T10:00:00Z");
    Facts.publish(vertx.eventBus(), Addresses.LIFECYCLE, new LifecycleStatus(LifecycleState.IDLE_WARNING, "static",
        "idle for 30m", since, since.plusSeconds(60), null, 1_800_000, 60_000,
        Instant.now()));
    HostState.Server server = await(s -> s.server() != null).server();
    assertEquals(new HostState.Server("idle-warning", "static", "idle for 30m", since, since.plusSeconds(60), null), server);
  }

  @Test
  void aMalformedFactIsSkippedAndTheRestApplied() throws Exception {
    vertx.deployVerticle(new StateWriterVerticle(file(), "ssh://u@h", Clock.systemUTC())).await(10, TimeUnit.SECONDS);
    vertx.eventBus().publish(Addresses.FORWARD_STATUS, forward("c1/tcp/80", "active").put("localPort", "8080"));
    vertx.eventBus().publish(Addresses.FORWARD_STATUS, forward("c2/tcp/80", "active"));
    HostState state = await(s -> s.forwards().size() == 1);
    assertEquals("c1", state.forwards().get(0).containerId());
    assertEquals(8080, state.forwards().get(0).localPort());
  }
}

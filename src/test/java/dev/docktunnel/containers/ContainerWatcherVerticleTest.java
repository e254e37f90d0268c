package dev.docktunnel.containers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docktunnel.bus.Addresses;
import dev.docktunnel.docker.ContainerInfo;
import dev.docktunnel.docker.DockerEngineException;
import dev.docktunnel.docker.PublishedPort;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Drives the watcher only through the bus, against an in-process fake engine. */
@ExtendWith(VertxExtension.class)
class ContainerWatcherVerticleTest {
  static final String WEB = "aaaa000000000000000000000000000000000000000000000000000000000001";
  static final String DB = "bbbb000000000000000000000000000000000000000000000000000000000002";
  static final String API = "cccc000000000000000000000000000000000000000000000000000000000003";

  record Fact(String address, JsonObject body) {
  }

  Vertx vertx;
  FakeDockerEngine engine;
  final BlockingQueue<Fact> facts = new LinkedBlockingQueue<>();

  static ContainerInfo container(String id, String name, String state, int... hostPorts) {
    List<PublishedPort> ports = java.util.Arrays.stream(hostPorts)
        .mapToObj(p -> new PublishedPort("0.0.0.0", p, 80, "tcp")).toList();
    return new ContainerInfo(id, name, "busybox-local", state, Map.of("team", "x"), ports);
  }

  static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @BeforeEach
  void setUp(Vertx vertx) throws Exception {
    this.vertx = vertx;
    this.engine = new FakeDockerEngine();
    engine.put(container(WEB, "web", ContainerInfo.RUNNING, 8080));
    engine.put(container(DB, "db", ContainerInfo.PAUSED));
    await(vertx.eventBus().<JsonObject>consumer(Addresses.CONTAINER,
        m -> facts.add(new Fact(Addresses.CONTAINER, m.body()))).completion());
    await(vertx.eventBus().<JsonObject>consumer(Addresses.CONTAINERS_SYNCED,
        m -> facts.add(new Fact(Addresses.CONTAINERS_SYNCED, m.body()))).completion());
  }

  void deploy() throws Exception {
    await(vertx.deployVerticle(new ContainerWatcherVerticle(engine, Duration.ofMillis(20),
        Duration.ofMillis(200), Clock.systemUTC())));
  }

  Fact next() throws InterruptedException {
    Fact fact = facts.poll(10, TimeUnit.SECONDS);
    assertNotNull(fact, "no fact within 10 s");
    return fact;
  }

  JsonObject nextContainer() throws InterruptedException {
    Fact fact = next();
    assertEquals(Addresses.CONTAINER, fact.address(), fact.toString());
    return fact.body();
  }

  JsonObject nextSynced() throws InterruptedException {
    Fact fact = next();
    assertEquals(Addresses.CONTAINERS_SYNCED, fact.address(), fact.toString());
    return fact.body();
  }

  /** Deploys with the session up and consumes the initial sync's facts. */
  void deployAndSync() throws Exception {
    deploy();
    assertEquals("db", nextContainer().getString("name"));
    assertEquals("web", nextContainer().getString("name"));
    nextSynced();
  }

  void ssh(String state) {
    vertx.eventBus().publish(Addresses.SSH_STATE,
        new JsonObject().put("state", state).put("host", "test").put("at", Instant.now().toString()));
  }

  JsonObject listQuery() throws Exception {
    Message<JsonObject> reply = await(vertx.eventBus().request(Addresses.CONTAINERS_LIST,
        new JsonObject()));
    return reply.body();
  }

  List<String> listedStates() throws Exception {
    return listQuery().getJsonArray("containers").stream()
        .map(o -> ((JsonObject) o).getString("name") + ":" + ((JsonObject) o).getString("state"))
        .toList();
  }

  @Test
  void initialListPublishesEachContainerThenSynced() throws Exception {
    deploy();

    JsonObject db = nextContainer();
    JsonObject web = nextContainer();
    JsonObject synced = nextSynced();
    assertEquals(DB, db.getString("id"));
    assertEquals("paused", db.getString("state"));
    assertEquals("running", web.getString("state"));
    assertEquals("busybox-local", web.getString("image"));
    assertEquals(new JsonObject().put("team", "x"), web.getJsonObject("labels"));
    assertEquals(new JsonArray().add(new JsonObject().put("hostIp", "0.0.0.0").put("hostPort", 8080)
        .put("containerPort", 80).put("protocol", "tcp")), web.getJsonArray("ports"));
    Instant.parse(web.getString("at"));
    assertEquals(new JsonArray().add(DB).add(WEB), synced.getJsonArray("ids"));
    // The stream is opened before the list, asking for a replay from the engine's clock.
    assertEquals(List.of("ping", "version", "events", "list"), engine.calls);
    assertEquals(Instant.parse("2024-05-02T10:15:31Z"), engine.stream().since);
    assertEquals(List.of("db:paused", "web:running"), listedStates());
  }

  @Test
  void waitsForTheSessionThenSyncsOnConnected() throws Exception {
    engine.reachable = false;
    deploy();
    ssh("connecting");
    engine.reachable = true;
    ssh("connected");

    assertEquals("db", nextContainer().getString("name"));
    assertEquals("web", nextContainer().getString("name"));
    assertEquals(2, nextSynced().getJsonArray("ids").size());
  }

  @Test
  void startEventPublishesTheInspectedContainer() throws Exception {
    deployAndSync();
    engine.put(container(API, "api", ContainerInfo.RUNNING, 9000, 9001));
    engine.stream().emit("start", API);

    JsonObject api = nextContainer();
    assertEquals(API, api.getString("id"));
    assertEquals("api", api.getString("name"));
    assertEquals("running", api.getString("state"));
    assertEquals(2, api.getJsonArray("ports").size());
    assertTrue(engine.calls.contains("inspect:" + API));
    assertEquals(List.of("api:running", "db:paused", "web:running"), listedStates());
  }

  JsonObject inspectQuery(String container) throws Exception {
    return await(vertx.eventBus().<JsonObject>request(Addresses.CONTAINERS_INSPECT,
        new JsonObject().put("container", container))).body();
  }

  /**
   * The Docker socket's "this container just started": inspected at once, without its event,
   * the fact published and the picture answered; an unknown container answers null.
   */
  @Test
  void inspectQueryPublishesAContainerBeforeItsEvent() throws Exception {
    deployAndSync();
    engine.put(container(API, "api", ContainerInfo.RUNNING, 9000));
    JsonObject answer = inspectQuery(API);
    assertEquals(API, answer.getJsonObject("container").getString("id"));
    assertEquals("running", answer.getJsonObject("container").getString("state"));
    JsonObject api = nextContainer();
    assertEquals(API, api.getString("id"));
    assertEquals(List.of("api:running", "db:paused", "web:running"), listedStates());
    // The event that follows finds nothing new: no second fact.
    engine.stream().emit("start", API);
    engine.stream().emit("pause", WEB);
    assertEquals("web", nextContainer().getString("name"));

    assertTrue(inspectQuery("no-such-container").getValue("container") == null);
    assertTrue(assertThrows(Exception.class, () -> await(vertx.eventBus().request(Addresses.CONTAINERS_INSPECT,
        new JsonObject()))).getMessage().contains("container"));
  }

  /**
   * An event for the container arrives while the query's inspect is out: the event's inspect is
   * newer, so the answer waits for it and says what it found.
   */
  @Test
  void inspectQueryWaitsForANewerEventsInspect() throws Exception {
    deployAndSync();
    engine.holdInspects = true;
    engine.put(container(API, "api", ContainerInfo.RUNNING, 9000));
    Future<Message<JsonObject>> answer = vertx.eventBus().request(Addresses.CONTAINERS_INSPECT,
        new JsonObject().put("container", API));
    FakeDockerEngine.HeldInspect queried = engine.nextHeldInspect();
    engine.stream().emit("start", API);
    FakeDockerEngine.HeldInspect evented = engine.nextHeldInspect();
    ContainerInfo later = container(API, "api-renamed", ContainerInfo.RUNNING, 9000);
    queried.answer(engine); // the older picture ("api")
    engine.put(later);
    evented.answer(engine);
    JsonObject body = await(answer).body();
    assertEquals("api-renamed", body.getJsonObject("container").getString("name"));
    assertEquals("api-renamed", nextContainer().getString("name"));
  }

  @Test
  void dieStopAndDestroyPublishExitedThenRemoved() throws Exception {
    deployAndSync();
    engine.stream().emit("die", WEB);
    JsonObject exited = nextContainer();
    assertEquals(WEB, exited.getString("id"));
    assertEquals("exited", exited.getString("state"));
    assertEquals(1, exited.getJsonArray("ports").size(), "the picture keeps its ports");

    engine.stream().emit("stop", WEB); // no change: no fact
    engine.stream().emit("destroy", WEB);
    JsonObject removed = nextContainer();
    assertEquals("removed", removed.getString("state"));
    assertEquals(List.of("db:paused"), listedStates());
  }

  @Test
  void pauseAndUnpause() throws Exception {
    deployAndSync();
    engine.stream().emit("pause", WEB);
    assertEquals("paused", nextContainer().getString("state"));
    engine.put(container(DB, "db", ContainerInfo.RUNNING)); // the engine's state when inspected
    engine.stream().emit("unpause", DB);
    JsonObject db = nextContainer();
    assertEquals("db", db.getString("name"));
    assertEquals("running", db.getString("state"));
  }

  @Test
  void killPublishesTheRealStateOnlyWhenItChanged() throws Exception {
    deployAndSync();
    engine.stream().emit("kill", WEB); // SIGHUP: still running, nothing to publish
    engine.put(container(DB, "db", ContainerInfo.EXITED));
    engine.stream().emit("kill", DB); // SIGKILL: it stopped
    JsonObject db = nextContainer();
    assertEquals("db", db.getString("name"), "no fact for web, whose kill changed nothing");
    assertEquals("exited", db.getString("state"));
  }

  @Test
  void aLateInspectOfAnOlderEventNeverOverridesANewerOne() throws Exception {
    deployAndSync();
    engine.holdInspects = true;

    // kill → inspect (held, and it will answer "running": the engine's view before it died)
    engine.stream().emit("kill", WEB);
    FakeDockerEngine.HeldInspect staleKill = engine.nextHeldInspect();
    engine.stream().emit("die", WEB);
    assertEquals("exited", nextContainer().getString("state"));
    staleKill.answer(container(WEB, "web", ContainerInfo.RUNNING, 8080));

    // Two inspects for one container answered in reverse order: only the newer one counts.
    engine.stream().emit("start", WEB);
    FakeDockerEngine.HeldInspect first = engine.nextHeldInspect();
    engine.stream().emit("rename", WEB);
    FakeDockerEngine.HeldInspect second = engine.nextHeldInspect();
    second.answer(container(WEB, "web-renamed", ContainerInfo.RUNNING, 8080));
    JsonObject renamed = nextContainer();
    assertEquals("web-renamed", renamed.getString("name"),
        "the stale 'running' answer to kill was dropped: the next fact is the rename");
    assertEquals("running", renamed.getString("state"));
    first.answer(container(WEB, "web", ContainerInfo.RUNNING, 8080));

    // A marker proves nothing was published for the stale first answer (name "web").
    engine.stream().emit("die", DB);
    JsonObject marker = nextContainer();
    assertEquals(DB, marker.getString("id"));
    assertEquals("exited", marker.getString("state"));
    assertEquals(List.of("db:exited", "web-renamed:running"), listedStates());
  }

  @Test
  void eventsDuringTheSyncAreAppliedAfterTheList() throws Exception {
    // The engine takes its list snapshot, then (before the answer reaches us) a container
    // starts: its event arrives before the list does.
    engine.afterListSnapshot = () -> {
      engine.put(container(API, "api", ContainerInfo.RUNNING, 7000));
      engine.stream().emit("start", API);
    };
    deploy();

    assertEquals("db", nextContainer().getString("name"));
    assertEquals("web", nextContainer().getString("name"));
    assertEquals(List.of(DB, WEB), nextSynced().getJsonArray("ids").getList());
    JsonObject api = nextContainer();
    assertEquals("api", api.getString("name"), "the queued start is applied after the list");
    assertEquals("running", api.getString("state"));
  }

  @Test
  void aContainerThatDiedWhileListingIsCorrectedAfterTheList() throws Exception {
    engine.afterListSnapshot = () -> {
      engine.put(container(WEB, "web", ContainerInfo.EXITED, 8080));
      engine.stream().emit("die", WEB);
    };
    deploy();
    assertEquals("db", nextContainer().getString("name"));
    assertEquals("running", nextContainer().getString("state"), "web as listed");
    assertEquals(List.of(DB, WEB), nextSynced().getJsonArray("ids").getList());
    JsonObject web = nextContainer();
    assertEquals("web", web.getString("name"));
    assertEquals("exited", web.getString("state"), "inspected after the list: it died");
  }

  @Test
  void aContainerRemovedWhileListingIsReportedRemoved() throws Exception {
    engine.afterListSnapshot = () -> {
      engine.containers.remove(WEB);
      engine.stream().emit("destroy", WEB);
    };
    deploy();
    nextContainer();
    nextContainer();
    nextSynced();
    JsonObject web = nextContainer();
    assertEquals(WEB, web.getString("id"));
    assertEquals("removed", web.getString("state"), "inspect answered 404");
    assertEquals(List.of("db:paused"), listedStates());
  }

  @Test
  void aStreamBreakResyncsFromTheFullList() throws Exception {
    deployAndSync();
    FakeDockerEngine.FakeStream firstStream = engine.stream();
    // While nobody watched: web vanished, api appeared (no events for either).
    engine.containers.remove(WEB);
    engine.put(container(API, "api", ContainerInfo.RUNNING, 9000));
    firstStream.breakWith(new DockerEngineException("the SSH channel closed"));

    FakeDockerEngine.FakeStream secondStream = engine.awaitStream(2);
    assertEquals("api", nextContainer().getString("name"));
    assertEquals("db", nextContainer().getString("name"));
    assertEquals(List.of(API, DB), nextSynced().getJsonArray("ids").getList());
    assertEquals(List.of("api:running", "db:paused"), listedStates());

    // The new stream is live; the old one is ignored.
    firstStream.cancelled = false;
    firstStream.emit("die", API);
    secondStream.emit("pause", API);
    JsonObject paused = nextContainer();
    assertEquals("paused", paused.getString("state"), "the old stream's die was ignored");
  }

  @Test
  void sshReconnectStopsTheStreamAndResyncsOnConnected() throws Exception {
    deployAndSync();
    FakeDockerEngine.FakeStream before = engine.stream();
    ssh("reconnecting");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!before.cancelled && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    assertTrue(before.cancelled, "the stream is closed when the session is lost");

    engine.put(container(DB, "db", ContainerInfo.RUNNING, 5432));
    ssh("connected");
    engine.awaitStream(2);
    JsonObject db = nextContainer();
    assertEquals("running", db.getString("state"));
    nextContainer();
    nextSynced();
    assertFalse(engine.stream().cancelled);
  }
}

package dev.docktunnel.activity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docktunnel.activity.ActivityLedgerTest.TestClock;
import dev.docktunnel.bus.ActivityBytes;
import dev.docktunnel.bus.ActivityConnection;
import dev.docktunnel.bus.ActivityReason;
import dev.docktunnel.bus.ActivityReason.Source;
import dev.docktunnel.bus.ActivityState;
import dev.docktunnel.bus.Addresses;
import dev.docktunnel.bus.DockerActivity;
import dev.docktunnel.bus.DockerSocketStatus;
import dev.docktunnel.bus.FactRecorder;
import dev.docktunnel.bus.Facts;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The activity verticle driven only through the bus: facts in, the query and the state fact out. */
@ExtendWith(VertxExtension.class)
class ActivityVerticleTest {
  static final Duration IDLE = Duration.ofMinutes(30);
  static final Duration TIMEOUT = Duration.ofHours(2);
  static final Duration WAIT = Duration.ofSeconds(10);
  static final String FWD = "4f1c2d3e4f5a/tcp/8080";
  static final String CONTAINER = "4f1c2d3e4f5a6b7c";

  final TestClock clock = new TestClock();
  Vertx vertx;
  FactRecorder states;

  @BeforeEach
  void deploy(Vertx vertx) throws Exception {
    this.vertx = vertx;
    states = FactRecorder.on(vertx, Addresses.ACTIVITY_STATE);
    vertx.deployVerticle(new ActivityVerticle(clock, TIMEOUT, IDLE)).await(10, TimeUnit.SECONDS);
  }

  long publish(String address, Facts.Fact fact) {
    return Facts.publish(vertx.eventBus(), address, fact);
  }

  ActivityState query(JsonObject body) throws Exception {
    return ActivityState.fromJson(vertx.eventBus().<JsonObject>request(Addresses.ACTIVITY_QUERY, body)
        .await(10, TimeUnit.SECONDS).body());
  }

  ReplyException queryFails(Object body) {
    try {
      vertx.eventBus().request(Addresses.ACTIVITY_QUERY, body).await(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
      if (cause instanceof ReplyException reply) {
        return reply;
      }
      throw new AssertionError("expected a failed reply, got " + e, e);
    }
    throw new AssertionError("expected a failed reply to " + body);
  }

  ActivityConnection connection(ActivityConnection.Event event, String peer) {
    return new ActivityConnection(event, FWD, CONTAINER, 8080, peer, 0, 0, Instant.now());
  }

  /** The first state fact at or after index {@code from} (in publish order) that matches. */
  JsonObject stateFrom(int from, Predicate<JsonObject> wanted) throws InterruptedException {
    return states.await(s -> states.facts().indexOf(s) >= from && wanted.test(s), WAIT);
  }

  static boolean hasReason(JsonObject state, Source source, boolean open) {
    return ActivityState.fromJson(state).reasons().stream().anyMatch(r -> r.source() == source && r.open() == open);
  }

  @Test
  void theQueryAnswersThePictureCurrentToTheLastFact() throws Exception {
    ActivityState fresh = query(new JsonObject());
    assertFalse(fresh.idle(), "idleness counts from the deploy");
    assertEquals(ActivityLedgerTest.T0, fresh.lastActivityAt());
    assertEquals(IDLE.toMillis(), fresh.idleTimeoutMs());
    assertEquals(0, fresh.activityCount());
    assertTrue(fresh.reasons().isEmpty());

    publish(Addresses.ACTIVITY_CONNECTION, connection(ActivityConnection.Event.OPENED, "/127.0.0.1:53412"));
    publish(Addresses.ACTIVITY_DOCKER, new DockerActivity(DockerActivity.Event.STREAM_OPENED, "5e1f2a3b", "GET",
        "/containers/{id}/logs", "web", Instant.now()));
    long last = publish(Addresses.DOCKER_SOCKET, new DockerSocketStatus("/s/docker.sock", true, null, 1, 1, 0, 1, 1,
        0, 200, 100, Instant.now()));
    ActivityState busy = query(new JsonObject());
    assertTrue(busy.seq() >= last, "the query queues behind the facts published before it");
    assertFalse(busy.idle());
    assertEquals(0, busy.idleForMs());
    assertEquals(3, busy.activityCount());
    Map<Source, ActivityReason> open = busy.reasons().stream().filter(ActivityReason::open)
        .collect(Collectors.toMap(ActivityReason::source, r -> r));
    assertEquals(Set.of(Source.FORWARD_CONNECTION, Source.DOCKER_STREAM, Source.DOCKER_CONNECTION), open.keySet());
    ActivityReason forward = open.get(Source.FORWARD_CONNECTION);
    assertEquals(FWD, forward.forwardId());
    assertEquals(CONTAINER, forward.containerId());
    assertEquals(8080, forward.localPort());
    assertEquals("web", open.get(Source.DOCKER_STREAM).containerId());
  }

  @Test
  void aQueryMayJudgeByAnotherIdleTimeoutAndBadOnesAreNamed() throws Exception {
    assertTrue(query(new JsonObject().put("idleTimeoutMs", 0)).idle(), "nothing open, judged by 0 ms");
    assertEquals(0, query(new JsonObject().put("idleTimeoutMs", 0)).idleTimeoutMs());
    assertFalse(query(null).idle(), "no body reads as {}");
    ReplyException negative = queryFails(new JsonObject().put("idleTimeoutMs", -5));
    assertEquals(400, negative.failureCode());
    assertEquals("activity.query: idleTimeoutMs is '-5', expected a whole number of ms, 0 or more",
        negative.getMessage());
    assertEquals(400, queryFails(new JsonObject().put("idleTimeoutMs", "30m")).failureCode());
    assertTrue(queryFails("hello").getMessage().contains("must be a JSON object"));
  }

  @Test
  void theStateIsPublishedWhenThePictureChangesNotOnEveryByte() throws Exception {
    JsonObject first = states.await(s -> true, WAIT);
    assertFalse(first.getBoolean("idle"));
    assertTrue(first.getJsonArray("reasons").isEmpty());

    publish(Addresses.ACTIVITY_CONNECTION, connection(ActivityConnection.Event.OPENED, "/127.0.0.1:1"));
    states.await(s -> hasReason(s, Source.FORWARD_CONNECTION, true), WAIT);
    publish(Addresses.ACTIVITY_BYTES, new ActivityBytes(FWD, CONTAINER, 8080, 10, 1, 1, 1, 0, Instant.now()));
    states.await(s -> hasReason(s, Source.FORWARD_BYTES, false), WAIT);
    int before = states.facts().size();
    for (int i = 2; i <= 50; i++) {
      publish(Addresses.ACTIVITY_BYTES, new ActivityBytes(FWD, CONTAINER, 8080, 10L * i, i, 1, 1, 0, Instant.now()));
    }
    publish(Addresses.ACTIVITY_DOCKER, new DockerActivity(DockerActivity.Event.REQUEST, "c1", "GET",
        "/containers/{id}/json", "marker", Instant.now()));
    JsonObject marked = states.await(s -> ActivityState.fromJson(s).reasons().stream()
        .anyMatch(r -> "marker".equals(r.containerId())), WAIT);
    List<JsonObject> all = states.facts();
    assertEquals(before + 1, all.indexOf(marked) + 1, "49 more byte counts published no state: " + all);
    assertEquals(52, ActivityState.fromJson(marked).activityCount(), "but each was counted");
    assertTrue(Facts.seqOf(marked) > 0, "a fact with its own seq");
  }

  @Test
  void timeAloneTurnsThePictureIdleAndAnOpenConnectionStopsCountingAfterItsTimeout() throws Exception {
    publish(Addresses.ACTIVITY_CONNECTION, connection(ActivityConnection.Event.OPENED, "/127.0.0.1:1"));
    JsonObject open = states.await(s -> hasReason(s, Source.FORWARD_CONNECTION, true), WAIT);
    clock.advance(TIMEOUT.minusSeconds(1));
    assertFalse(query(new JsonObject()).idle());
    clock.advance(Duration.ofSeconds(1)); // the next tick sees the timeout pass
    JsonObject quiet = stateFrom(states.facts().indexOf(open), s -> !hasReason(s, Source.FORWARD_CONNECTION, true));
    assertFalse(quiet.getBoolean("idle"), "activity up to its timeout: idle only idleTimeout later");
    assertEquals(ActivityLedgerTest.T0.plus(TIMEOUT).toString(), quiet.getString("lastActivityAt"));
    clock.advance(IDLE);
    JsonObject idle = states.await(s -> s.getBoolean("idle"), WAIT);
    assertEquals(IDLE.toMillis(), idle.getLong("idleForMs"));
    assertEquals(IDLE.toMillis(), idle.getLong("idleTimeoutMs"));

    long count = query(new JsonObject()).activityCount();
    publish(Addresses.ACTIVITY_CONNECTION, connection(ActivityConnection.Event.CLOSED, "/127.0.0.1:1"));
    ActivityState after = query(new JsonObject());
    assertTrue(after.idle(), "closing a connection that no longer counted is no activity");
    assertEquals(count, after.activityCount());

    publish(Addresses.ACTIVITY_DOCKER, new DockerActivity(DockerActivity.Event.REQUEST, "c1", "GET",
        "/containers/json", null, Instant.now()));
    JsonObject awake = states.await(s -> !s.getBoolean("idle") && hasReason(s, Source.DOCKER_REQUEST, false), WAIT);
    assertEquals(count + 1, awake.getLong("activityCount"));
  }

  @Test
  void aNegativeIdleTimeoutIsNamed() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new ActivityVerticle(clock, TIMEOUT, Duration.ofSeconds(-1)));
    assertEquals("idleTimeout must be 0 or more, not PT-1S", e.getMessage());
  }

  @Test
  void unreadableFactsAndUnmatchedClosesAreCountedAndChangeNothing() throws Exception {
    vertx.eventBus().publish(Addresses.ACTIVITY_DOCKER, new JsonObject().put("event", "teleport"));
    vertx.eventBus().publish(Addresses.ACTIVITY_BYTES, new JsonObject().put("forwardId", FWD));
    vertx.eventBus().publish(Addresses.ACTIVITY_CONNECTION, "not json");
    vertx.eventBus().publish(Addresses.DOCKER_SOCKET, new JsonObject().put("path", 3));
    publish(Addresses.ACTIVITY_CONNECTION, connection(ActivityConnection.Event.CLOSED, "/127.0.0.1:9"));
    publish(Addresses.ACTIVITY_DOCKER, new DockerActivity(DockerActivity.Event.STREAM_CLOSED, "c9", "GET", "/events",
        null, Instant.now()));
    ActivityState state = query(new JsonObject());
    assertEquals(4, state.unreadableFacts());
    assertEquals(2, state.unmatchedEnds());
    assertEquals(0, state.activityCount());
    assertTrue(state.reasons().isEmpty());
  }
}

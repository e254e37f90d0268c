package dev.docktunnel.activity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docktunnel.bus.ActivityReason;
import dev.docktunnel.bus.ActivityReason.Source;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The ledger against a hand-moved clock: every rule, in milliseconds. */
class ActivityLedgerTest {
  static final Instant T0 = Instant.parse("2026-12-01T10:00:00Z");
  static final Duration TIMEOUT = Duration.ofHours(2);
  static final Duration IDLE = Duration.ofMinutes(30);
  static final String FWD = "4f1c2d3e4f5a/tcp/8080";
  static final String CONTAINER = "4f1c2d3e4f5a6b7c";

  /** A clock the test moves (read from Vert.x threads in the verticle test). */
  static final class TestClock extends Clock {
    volatile Instant now = T0;

    void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }
  }

  final TestClock clock = new TestClock();
  final ActivityLedger ledger = new ActivityLedger(clock, TIMEOUT);

  void advance(Duration d) {
    clock.advance(d);
  }

  static List<Source> sources(List<ActivityReason> reasons) {
    return reasons.stream().map(ActivityReason::source).toList();
  }

  // ---- the start

  @Test
  void nothingHappenedYetCountsFromTheLedgersStart() {
    assertEquals(T0, ledger.lastActivity());
    assertEquals(0, ledger.activityCount());
    assertTrue(ledger.busy().isEmpty());
    assertTrue(ledger.reasons(IDLE).isEmpty());
    assertFalse(ledger.snapshot(IDLE).busy());
    assertFalse(ledger.isIdleFor(IDLE), "a fresh start is not idle for the idle timeout yet");
    assertTrue(ledger.isIdleFor(Duration.ZERO));
    advance(IDLE.minusMillis(1));
    assertFalse(ledger.isIdleFor(IDLE));
    advance(Duration.ofMillis(1));
    assertTrue(ledger.isIdleFor(IDLE), "idle at exactly the timeout");
    assertEquals(IDLE, ledger.idleFor());
  }

  @Test
  void aClockSetBackMakesNothingYoungerThanZero() {
    advance(Duration.ofMinutes(10));
    ledger.dockerRequest("GET", "/info", null);
    advance(Duration.ofMinutes(-15));
    assertEquals(Duration.ZERO, ledger.idleFor());
    ActivityLedger.Snapshot s = ledger.snapshot(IDLE);
    assertEquals(Duration.ZERO, s.idleFor());
    assertEquals(0, s.reasons().get(0).ageMs());
    assertFalse(s.idle());
  }

  @Test
  void badTimeoutsAreNamed() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new ActivityLedger(clock, Duration.ofSeconds(-1)));
    assertTrue(e.getMessage().contains("connectionTimeout"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> ledger.snapshot(Duration.ofMillis(-1)));
    assertTrue(e.getMessage().contains("idle timeout"), e.getMessage());
  }

  // ---- Docker requests

  @Test
  void aDockerConnectionOpeningIsAMomentAtOnceBeforeItsRequests() {
    advance(Duration.ofMinutes(10));
    ledger.dockerConnectionOpened("3f2a1b0c");
    assertEquals(1, ledger.activityCount(), "what an idle stop racing this connection checks");
    assertEquals(clock.now, ledger.lastActivity());
    assertTrue(ledger.busy().isEmpty(), "a moment: an idle keep-alive connection does not hold the server up");
    ActivityReason r = ledger.reasons(IDLE).get(0);
    assertEquals(Source.DOCKER_CONNECTION, r.source());
    assertEquals("Docker API connection 3f2a1b0c opened", r.detail());
  }

  @Test
  void aDockerRequestIsAMomentOfActivity() {
    advance(Duration.ofMinutes(10));
    ledger.dockerRequest("GET", "/containers/json", null);
    Instant at = clock.now;
    assertEquals(1, ledger.activityCount());
    assertEquals(at, ledger.lastActivity());
    assertTrue(ledger.busy().isEmpty(), "a request is a moment, not something open");
    advance(Duration.ofMinutes(5));
    List<ActivityReason> reasons = ledger.reasons(IDLE);
    assertEquals(1, reasons.size());
    ActivityReason r = reasons.get(0);
    assertEquals(new ActivityReason(Source.DOCKER_REQUEST, false, null, null, null, "GET /containers/json", at,
        Duration.ofMinutes(5).toMillis()), r);
    assertEquals(Duration.ofMinutes(5), ledger.idleFor());
    advance(Duration.ofMinutes(25).minusMillis(1));
    assertFalse(ledger.isIdleFor(IDLE));
    assertEquals(1, ledger.reasons(IDLE).size());
    advance(Duration.ofMillis(1));
    assertTrue(ledger.isIdleFor(IDLE));
    assertTrue(ledger.reasons(IDLE).isEmpty(), "a moment leaves the reasons when it is idleTimeout old");
  }

  @Test
  void requestsKeepTheLatestPerContainerNewestFirst() {
    ledger.dockerRequest("POST", "/containers/{id}/start", "web");
    advance(Duration.ofSeconds(1));
    ledger.dockerRequest("GET", "/containers/json", null);
    advance(Duration.ofSeconds(1));
    ledger.dockerRequest("POST", "/containers/{id}/stop", "web");
    List<ActivityReason> reasons = ledger.reasons(IDLE);
    assertEquals(List.of("POST /containers/{id}/stop", "GET /containers/json"),
        reasons.stream().map(ActivityReason::detail).toList());
    assertEquals("web", reasons.get(0).containerId());
    assertEquals(3, ledger.activityCount());
  }

  @Test
  void momentsBeyondTheCapDropTheOldestButNotTheLastActivity() {
    for (int i = 0; i < ActivityLedger.MAX_MOMENTS + 5; i++) {
      ledger.dockerRequest("GET", "/containers/{id}/json", "c" + i);
      advance(Duration.ofMillis(1));
    }
    List<ActivityReason> reasons = ledger.reasons(IDLE);
    assertEquals(ActivityLedger.MAX_MOMENTS, reasons.size());
    assertEquals("c" + (ActivityLedger.MAX_MOMENTS + 4), reasons.get(0).containerId());
    assertEquals("c5", reasons.get(reasons.size() - 1).containerId(), "the five oldest went");
    assertEquals(clock.now.minusMillis(1), ledger.lastActivity());
  }

  // ---- Docker streams

  @Test
  void anOpenDockerStreamCountsWhileOpenThenItsCloseIsActivity() {
    ledger.dockerStreamOpened("c1", "GET", "/containers/{id}/logs", "web");
    advance(Duration.ofHours(1));
    assertEquals(clock.now, ledger.lastActivity(), "open and counting: active now");
    assertEquals(Duration.ZERO, ledger.idleFor());
    List<ActivityReason> busy = ledger.busy();
    assertEquals(1, busy.size());
    assertEquals(new ActivityReason(Source.DOCKER_STREAM, true, null, "web", null,
        "GET /containers/{id}/logs open (Docker connection c1)", T0, Duration.ofHours(1).toMillis()), busy.get(0));
    assertFalse(ledger.isIdleFor(Duration.ZERO));
    assertEquals(List.of(busy.get(0)), ledger.reasons(IDLE), "the opening moment is not listed while it is open");
    long count = ledger.activityCount();
    assertTrue(ledger.dockerStreamClosed("c1", "GET", "/containers/{id}/logs", "web"));
    assertEquals(count + 1, ledger.activityCount());
    assertEquals(clock.now, ledger.lastActivity());
    assertTrue(ledger.busy().isEmpty());
    ActivityReason closed = ledger.reasons(IDLE).get(0);
    assertEquals("GET /containers/{id}/logs closed", closed.detail());
    assertFalse(closed.open());
  }

  @Test
  void aSilentDockerStreamStopsCountingAfterTheConnectionTimeoutAndItsCloseIsNoActivity() {
    ledger.dockerStreamOpened("c1", "GET", "/containers/{id}/logs", "web");
    advance(TIMEOUT.minusMillis(1));
    assertEquals(1, ledger.busy().size());
    advance(Duration.ofMillis(1));
    assertTrue(ledger.busy().isEmpty(), "no bytes for connectionTimeout: no longer counts");
    assertEquals(T0.plus(TIMEOUT), ledger.lastActivity(), "it was activity up to its timeout");
    advance(IDLE);
    assertTrue(ledger.isIdleFor(IDLE));
    long count = ledger.activityCount();
    assertTrue(ledger.dockerStreamClosed("c1", "GET", "/containers/{id}/logs", "web"));
    assertEquals(count, ledger.activityCount(), "closing a stream that no longer counted is not activity");
    assertEquals(T0.plus(TIMEOUT), ledger.lastActivity());
    assertTrue(ledger.isIdleFor(IDLE));
    assertTrue(ledger.reasons(IDLE.plusMillis(1)).get(0).detail().endsWith("had no bytes for 2h 0m and stopped counting"));
  }

  @Test
  void dockerSocketBytesKeepAStreamCounting() {
    ledger.dockerSocket(true, 1, 1, 0, 0);
    ledger.dockerStreamOpened("c1", "GET", "/events", null);
    advance(Duration.ofMinutes(90));
    ledger.dockerSocket(true, 1, 1, 500, 100); // events arrived on the stream
    advance(Duration.ofMinutes(90));
    assertEquals(List.of(Source.DOCKER_STREAM, Source.DOCKER_CONNECTION), sources(ledger.busy()));
    advance(Duration.ofMinutes(30));
    assertTrue(ledger.busy().isEmpty(), "2 h after the last socket bytes");
  }

  @Test
  void aRequestOnTheSocketKeepsAStreamCounting() {
    ledger.dockerStreamOpened("c1", "GET", "/events", null);
    advance(Duration.ofMinutes(90));
    ledger.dockerRequest("GET", "/containers/json", null);
    advance(Duration.ofMinutes(90));
    assertEquals(List.of(Source.DOCKER_STREAM), sources(ledger.busy()));
  }

  @Test
  void streamsWithTheSameKeyCloseOldestFirst() {
    ledger.dockerStreamOpened("c1", "POST", "/exec/{id}/start", null);
    advance(Duration.ofMinutes(1));
    ledger.dockerStreamOpened("c1", "POST", "/exec/{id}/start", null);
    assertEquals(2, ledger.busy().size());
    assertTrue(ledger.dockerStreamClosed("c1", "POST", "/exec/{id}/start", null));
    List<ActivityReason> busy = ledger.busy();
    assertEquals(1, busy.size());
    assertEquals(T0.plus(Duration.ofMinutes(1)), busy.get(0).at());
    assertTrue(ledger.dockerStreamClosed("c1", "POST", "/exec/{id}/start", null));
    assertTrue(ledger.busy().isEmpty());
  }

  @Test
  void aStreamClosedThatNeverOpenedIsUnmatched() {
    assertFalse(ledger.dockerStreamClosed("c9", "GET", "/containers/{id}/logs", "web"));
    assertEquals(1, ledger.unmatchedEnds());
    assertEquals(0, ledger.activityCount());
    assertEquals(T0, ledger.lastActivity());
  }

  // ---- the Docker socket's connections

  @Test
  void theSocketsFirstZeroCountsAreNoActivity() {
    ledger.dockerSocket(true, 0, 0, 0, 0);
    assertEquals(0, ledger.activityCount());
    ledger.dockerSocket(false, 0, 0, 0, 0);
    assertEquals(0, ledger.activityCount());
  }

  @Test
  void anOpenDockerConnectionCountsWhileOpenAndItsCloseIsActivity() {
    ledger.dockerSocket(true, 1, 1, 0, 0);
    assertEquals(1, ledger.activityCount(), "a new connection");
    advance(Duration.ofMinutes(40));
    List<ActivityReason> busy = ledger.busy();
    assertEquals(new ActivityReason(Source.DOCKER_CONNECTION, true, null, null, null,
        "1 Docker API connection open", T0, Duration.ofMinutes(40).toMillis()), busy.get(0));
    ledger.dockerSocket(true, 2, 2, 0, 0);
    assertEquals("2 Docker API connections open", ledger.busy().get(0).detail());
    assertEquals(T0, ledger.busy().get(0).at(), "open since the first");
    ledger.dockerSocket(true, 1, 2, 0, 0);
    assertEquals(3, ledger.activityCount(), "one closed while counting");
    ledger.dockerSocket(true, 0, 2, 0, 0);
    assertEquals(4, ledger.activityCount());
    assertTrue(ledger.busy().isEmpty());
    assertEquals(clock.now, ledger.lastActivity());
    assertEquals("Docker API connections closed", ledger.reasons(IDLE).get(0).detail());
  }

  @Test
  void socketBytesAreActivityAndTheSameCountsAgainAreNot() {
    ledger.dockerSocket(true, 0, 0, 0, 0);
    ledger.dockerSocket(true, 0, 1, 300, 40);
    assertEquals(1, ledger.activityCount());
    assertEquals("Docker API traffic: 300 bytes in, 40 out so far", ledger.reasons(IDLE).get(0).detail());
    advance(Duration.ofSeconds(5));
    ledger.dockerSocket(true, 0, 1, 300, 40);
    assertEquals(1, ledger.activityCount(), "unchanged counters");
    assertEquals(T0, ledger.lastActivity());
    ledger.dockerSocket(true, 0, 2, 300, 40);
    assertEquals(2, ledger.activityCount(), "a connection came and went within the second, without bytes");
    assertEquals("Docker API connection opened (2 so far)", ledger.reasons(IDLE).get(0).detail());
  }

  @Test
  void aSocketThatStartedAgainCountsOnlyNewTraffic() {
    ledger.dockerSocket(true, 0, 5, 1000, 100);
    assertEquals(1, ledger.activityCount());
    ledger.dockerSocket(true, 0, 0, 0, 0);
    assertEquals(1, ledger.activityCount(), "down to zero: a new socket with nothing yet");
    ledger.dockerSocket(true, 0, 1, 10, 10);
    assertEquals(2, ledger.activityCount());
  }

  @Test
  void aSilentDockerConnectionTimesOutAndItsCloseIsNoActivity() {
    ledger.dockerSocket(true, 1, 1, 10, 10);
    advance(TIMEOUT);
    assertTrue(ledger.busy().isEmpty());
    assertEquals(T0.plus(TIMEOUT), ledger.lastActivity());
    long count = ledger.activityCount();
    advance(Duration.ofMinutes(1));
    ledger.dockerSocket(true, 0, 1, 10, 10);
    assertEquals(count, ledger.activityCount());
    assertEquals(T0.plus(TIMEOUT), ledger.lastActivity());
  }

  @Test
  void aSocketThatStopsListeningHasNothingOpen() {
    ledger.dockerSocket(true, 2, 2, 0, 0);
    ledger.dockerSocket(false, 2, 2, 0, 0);
    assertTrue(ledger.busy().isEmpty());
    advance(Duration.ofSeconds(1));
    ledger.dockerSocket(true, 1, 3, 0, 0);
    assertEquals(clock.now, ledger.busy().get(0).at(), "open since this connection, not the old ones");
  }

  // ---- forwards: bytes

  @Test
  void forwardBytesAreActivityWhenTheyMove() {
    ledger.forwardBytes(FWD, CONTAINER, 8080, 1024, 10);
    assertEquals(1, ledger.activityCount());
    advance(Duration.ofSeconds(1));
    ledger.forwardBytes(FWD, CONTAINER, 8080, 1024, 10);
    assertEquals(1, ledger.activityCount(), "the same totals");
    ledger.forwardBytes(FWD, CONTAINER, 8080, 1024, 11);
    assertEquals(2, ledger.activityCount());
    assertEquals(clock.now, ledger.lastActivity());
    assertEquals(List.of(new ActivityReason(Source.FORWARD_BYTES, false, FWD, CONTAINER, 8080,
        "1024 bytes in, 11 out so far", clock.now, 0)), ledger.reasons(IDLE));
    assertTrue(ledger.busy().isEmpty(), "bytes are a moment");
  }

  @Test
  void aForwardMadeAgainCountsOnlyNewBytes() {
    ledger.forwardBytes(FWD, CONTAINER, 8080, 5000, 50);
    ledger.forwardBytes(FWD, CONTAINER, 8080, 0, 0);
    assertEquals(1, ledger.activityCount());
    ledger.forwardBytes(FWD, CONTAINER, 8080, 20, 0);
    assertEquals(2, ledger.activityCount());
  }

  @Test
  void forwardsBeyondTheCapDropTheOldestButKeepThoseWithOpenConnections() {
    ledger.connectionOpened("kept", "c", 1, "/127.0.0.1:1");
    ledger.forwardBytes("kept", "c", 1, 10, 0);
    for (int i = 0; i < ActivityLedger.MAX_FORWARDS + 10; i++) {
      ledger.forwardBytes("f" + i, "c", 2, 10, 0);
    }
    long count = ledger.activityCount();
    ledger.forwardBytes("kept", "c", 1, 10, 0);
    assertEquals(count, ledger.activityCount(), "its counters were kept: the same totals are no news");
    ledger.forwardBytes("f0", "c", 2, 10, 0);
    assertEquals(count + 1, ledger.activityCount(), "f0 was dropped, so its totals read as new");
  }

  // ---- forwards: connections

  @Test
  void anOpenForwardConnectionCountsWhileOpenBytesOrNot() {
    ledger.connectionOpened(FWD, CONTAINER, 8080, "/127.0.0.1:53412");
    assertEquals(1, ledger.activityCount());
    advance(Duration.ofMinutes(100));
    assertEquals(List.of(new ActivityReason(Source.FORWARD_CONNECTION, true, FWD, CONTAINER, 8080,
        "1 connection open, from /127.0.0.1:53412", T0, Duration.ofMinutes(100).toMillis())), ledger.busy());
    assertFalse(ledger.isIdleFor(IDLE));
    assertEquals(clock.now, ledger.lastActivity());
    assertTrue(ledger.connectionClosed(FWD, "/127.0.0.1:53412"));
    assertEquals(2, ledger.activityCount());
    assertEquals(clock.now, ledger.lastActivity());
    ActivityReason closed = ledger.reasons(IDLE).get(0);
    assertEquals(Source.FORWARD_CONNECTION, closed.source());
    assertFalse(closed.open());
    assertEquals("connection from /127.0.0.1:53412 closed", closed.detail());
  }

  @Test
  void connectionsOfOneForwardAreOneReasonAndForwardsAreOldestFirst() {
    ledger.connectionOpened("b/tcp/2", "b", 2, "/127.0.0.1:3");
    advance(Duration.ofSeconds(1));
    ledger.connectionOpened(FWD, CONTAINER, 8080, "/127.0.0.1:1");
    advance(Duration.ofSeconds(1));
    ledger.connectionOpened(FWD, CONTAINER, 8080, "[::1]:2");
    List<ActivityReason> busy = ledger.busy();
    assertEquals(List.of("b/tcp/2", FWD), busy.stream().map(ActivityReason::forwardId).toList());
    assertEquals("2 connections open, oldest from /127.0.0.1:1", busy.get(1).detail());
    assertEquals(T0.plusSeconds(1), busy.get(1).at());
    ledger.connectionClosed(FWD, "/127.0.0.1:1");
    assertEquals("1 connection open, from [::1]:2", ledger.busy().get(1).detail());
  }

  @Test
  void aForwardsBytesKeepItsConnectionsCountingPastTheTimeout() {
    ledger.connectionOpened(FWD, CONTAINER, 8080, "/127.0.0.1:1");
    advance(Duration.ofMinutes(100));
    ledger.forwardBytes(FWD, CONTAINER, 8080, 1, 0);
    advance(Duration.ofMinutes(100));
    assertEquals(1, ledger.busy().size(), "100 min after the last bytes");
    advance(Duration.ofMinutes(20));
    assertTrue(ledger.busy().isEmpty(), "2 h after the last bytes");
    assertEquals(T0.plus(Duration.ofMinutes(100)).plus(TIMEOUT), ledger.lastActivity());
  }

  @Test
  void aSilentConnectionsCloseIsNoActivitySoAServerStopDoesNotWakeIt() {
    ledger.connectionOpened(FWD, CONTAINER, 8080, "/127.0.0.1:1");
    advance(TIMEOUT.plus(IDLE));
    assertTrue(ledger.isIdleFor(IDLE));
    long count = ledger.activityCount();
    assertTrue(ledger.connectionClosed(FWD, "/127.0.0.1:1")); // e.g. the stop dropped the session
    assertEquals(count, ledger.activityCount());
    assertTrue(ledger.isIdleFor(IDLE));
    assertEquals(T0.plus(TIMEOUT), ledger.lastActivity());
  }

  @Test
  void aCloseNeverOpenedAndAnOpeningSeenTwiceAreUnmatched() {
    assertFalse(ledger.connectionClosed(FWD, "/127.0.0.1:1"));
    assertEquals(1, ledger.unmatchedEnds());
    assertEquals(0, ledger.activityCount());
    ledger.connectionOpened(FWD, CONTAINER, 8080, "/127.0.0.1:2");
    advance(Duration.ofSeconds(1));
    ledger.connectionOpened(FWD, CONTAINER, 8080, "/127.0.0.1:2");
    assertEquals(2, ledger.unmatchedEnds());
    assertEquals(T0.plusSeconds(1), ledger.busy().get(0).at(), "the later opening replaces the earlier");
  }

  @Test
  void withAZeroConnectionTimeoutOpenSourcesNeverCountByThemselves() {
    ActivityLedger strict = new ActivityLedger(clock, Duration.ZERO);
    strict.connectionOpened(FWD, CONTAINER, 8080, "/127.0.0.1:1");
    strict.dockerStreamOpened("c1", "GET", "/events", null);
    strict.dockerSocket(true, 1, 1, 0, 0);
    assertTrue(strict.busy().isEmpty());
    assertEquals(3, strict.activityCount(), "their openings are still moments");
    assertTrue(strict.isIdleFor(Duration.ZERO));
  }

  // ---- the picture

  @Test
  void reasonsAreOpenSourcesOldestFirstThenMomentsNewestFirst() {
    ledger.forwardBytes(FWD, CONTAINER, 8080, 10, 0);
    advance(Duration.ofSeconds(1));
    ledger.dockerStreamOpened("c1", "GET", "/events", null);
    advance(Duration.ofSeconds(1));
    ledger.connectionOpened(FWD, CONTAINER, 8080, "/127.0.0.1:1");
    advance(Duration.ofSeconds(1));
    ledger.dockerRequest("GET", "/version", null);
    ActivityLedger.Snapshot s = ledger.snapshot(IDLE);
    assertEquals(List.of(Source.DOCKER_STREAM, Source.FORWARD_CONNECTION, Source.DOCKER_REQUEST,
        Source.FORWARD_BYTES), sources(s.reasons()));
    assertEquals(List.of(true, true, false, false), s.reasons().stream().map(ActivityReason::open).toList());
    assertTrue(s.busy());
    assertFalse(s.idle());
    assertEquals(clock.now, s.at());
    assertEquals(clock.now, s.lastActivity());
    assertEquals(Duration.ZERO, s.idleFor());
    assertEquals(4, s.activityCount());
    assertEquals(IDLE, s.idleTimeout());
  }

  @Test
  void aSnapshotWithOnlyMomentsIsNotBusy() {
    ledger.dockerRequest("GET", "/version", null);
    ActivityLedger.Snapshot s = ledger.snapshot(IDLE);
    assertFalse(s.busy());
    assertFalse(s.idle());
    assertEquals(1, s.reasons().size());
  }

  @Test
  void theCountIsUnchangedByReadingAndByTime() {
    ledger.dockerRequest("GET", "/info", null);
    long count = ledger.activityCount();
    ledger.snapshot(IDLE);
    ledger.busy();
    ledger.newlyTimedOut();
    advance(Duration.ofHours(5));
    ledger.lastActivity();
    assertEquals(count, ledger.activityCount());
  }

  // ---- timeouts for the log

  @Test
  void openSourcesThatTimeOutAreReportedOnceAndAgainAfterCountingAgain() {
    ledger.connectionOpened(FWD, CONTAINER, 8080, "/127.0.0.1:1");
    ledger.dockerStreamOpened("c1", "GET", "/containers/{id}/logs", "web");
    ledger.dockerSocket(true, 1, 1, 0, 0);
    assertTrue(ledger.newlyTimedOut().isEmpty());
    advance(TIMEOUT);
    List<ActivityReason> out = ledger.newlyTimedOut();
    assertEquals(List.of(Source.FORWARD_CONNECTION, Source.DOCKER_STREAM, Source.DOCKER_CONNECTION), sources(out));
    assertEquals("connection from /127.0.0.1:1 open, no bytes for 2h 0m, no longer counts as activity",
        out.get(0).detail());
    assertEquals(TIMEOUT.toMillis(), out.get(0).ageMs());
    assertTrue(ledger.newlyTimedOut().isEmpty(), "each once");
    ledger.forwardBytes(FWD, CONTAINER, 8080, 1, 1);
    ledger.dockerSocket(true, 1, 1, 1, 1);
    assertTrue(ledger.newlyTimedOut().isEmpty(), "counting again");
    assertEquals(List.of(Source.DOCKER_STREAM, Source.DOCKER_CONNECTION, Source.FORWARD_CONNECTION),
        sources(ledger.busy()));
    advance(TIMEOUT);
    assertEquals(3, ledger.newlyTimedOut().size(), "reported again at the next timeout");
  }

  @Test
  void aDockerConnectionOpenedAfterATimedOutOneIsReportedAgain() {
    ledger.dockerSocket(true, 1, 1, 0, 0);
    advance(TIMEOUT);
    assertEquals(1, ledger.newlyTimedOut().size());
    ledger.dockerSocket(true, 0, 1, 0, 0);
    ledger.dockerSocket(true, 1, 2, 0, 0);
    advance(TIMEOUT);
    assertEquals(1, ledger.newlyTimedOut().size());
  }

  @Test
  void durationsReadLikeAPersonWouldWriteThem() {
    assertEquals("2h 0m", ActivityLedger.human(Duration.ofHours(2)));
    assertEquals("1h 30m", ActivityLedger.human(Duration.ofMinutes(90)));
    assertEquals("5m 3s", ActivityLedger.human(Duration.ofSeconds(303)));
    assertEquals("42s", ActivityLedger.human(Duration.ofSeconds(42)));
    assertEquals("1500ms", ActivityLedger.human(Duration.ofMillis(1500)));
    assertEquals("250ms", ActivityLedger.human(Duration.ofMillis(250)));
  }
}

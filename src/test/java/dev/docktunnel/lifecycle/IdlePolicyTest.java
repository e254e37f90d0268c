package dev.docktunnel.lifecycle;

import static dev.docktunnel.bus.LifecycleState.FAILED;
import static dev.docktunnel.bus.LifecycleState.IDLE_WARNING;
import static dev.docktunnel.bus.LifecycleState.RUNNING;
import static dev.docktunnel.bus.LifecycleState.STARTING;
import static dev.docktunnel.bus.LifecycleState.STOPPED;
import static dev.docktunnel.bus.LifecycleState.STOPPING;
import static dev.docktunnel.bus.LifecycleState.UNKNOWN;
import static dev.docktunnel.lifecycle.Decision.Action.CANCEL_WARNING;
import static dev.docktunnel.lifecycle.Decision.Action.FAIL_HELD;
import static dev.docktunnel.lifecycle.Decision.Action.NONE;
import static dev.docktunnel.lifecycle.Decision.Action.START;
import static dev.docktunnel.lifecycle.Decision.Action.STOP;
import static dev.docktunnel.lifecycle.Decision.Action.WARN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docktunnel.bus.LifecycleState;
import dev.docktunnel.bus.LifecycleStatus;
import dev.docktunnel.config.DocktunnelConfig;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** Every branch of {@link IdlePolicy}, with made-up instants (milliseconds after {@link #T0}). */
class IdlePolicyTest {
  static final Instant T0 = Instant.parse("2026-12-01T16:00:00Z");
  static final long IDLE = Duration.ofMinutes(30).toMillis();
  static final long GRACE = Duration.ofSeconds(60).toMillis();

  static Instant t(long ms) {
    return T0.plusMillis(ms);
  }

  static ActivitySnapshot quietSince(long ms, long count) {
    return new ActivitySnapshot(t(ms), false, count, "docker-request GET /containers/json");
  }

  static ActivitySnapshot open(long ms, long count) {
    return new ActivitySnapshot(t(ms), true, count, "forward-connection 4f1c2d3e4f5a/tcp/8080");
  }

  static IdlePolicy policy(String provider) {
    return new IdlePolicy(provider, Duration.ofMillis(IDLE), Duration.ofMillis(GRACE), T0);
  }

  /** A command-provider policy that was told at t(0) that the server runs. */
  static IdlePolicy running() {
    IdlePolicy p = policy("command");
    Decision d = p.providerRunning(t(0), "Running");
    assertEquals(RUNNING, d.status().state());
    return p;
  }

  /** A running policy whose countdown began at t(IDLE) (no activity at all since t(0)). */
  static IdlePolicy warning() {
    IdlePolicy p = running();
    Decision d = p.evaluate(t(IDLE), ActivitySnapshot.NONE);
    assertEquals(WARN, d.action());
    return p;
  }

  /** A policy whose idle stop (based on activity count 0) is under way since t(IDLE + GRACE). */
  static IdlePolicy idleStopping() {
    IdlePolicy p = warning();
    Decision d = p.evaluate(t(IDLE + GRACE), ActivitySnapshot.NONE);
    assertEquals(STOP, d.action());
    return p;
  }

  static IdlePolicy stopped() {
    IdlePolicy p = idleStopping();
    assertEquals(STOPPED, p.stopped(t(IDLE + GRACE + 2_000)).status().state());
    return p;
  }

  static IdlePolicy starting() {
    IdlePolicy p = stopped();
    assertEquals(START, p.wake(t(5_000_000), "a connection to 4f1c2d3e4f5a/tcp/8080").action());
    return p;
  }

  static IdlePolicy failedStart() {
    IdlePolicy p = starting();
    assertEquals(FAIL_HELD, p.startFailed(t(5_010_000), "exit 1").action());
    return p;
  }

  static void assertState(LifecycleState state, Decision d) {
    assertEquals(state, d.status().state(), d.status().reason());
  }

  // --- settings and the first status -----------------------------------------------------------

  @Test
  void settingsAreChecked() {
    IllegalArgumentException zero = assertThrows(IllegalArgumentException.class,
        () -> new IdlePolicy("command", Duration.ZERO, Duration.ofSeconds(1), T0));
    assertEquals("lifecycle.idleTimeout must be positive, got PT0S", zero.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> new IdlePolicy("command", Duration.ofMillis(-1), Duration.ofSeconds(1), T0));
    IllegalArgumentException grace = assertThrows(IllegalArgumentException.class,
        () -> new IdlePolicy("command", Duration.ofMinutes(1), Duration.ofMillis(-5), T0));
    assertEquals("lifecycle.gracePeriod must not be negative, got PT-0.005S", grace.getMessage());
  }

  @Test
  void forConfigTakesProviderIdleTimeoutAndGracePeriod() {
    DocktunnelConfig.Lifecycle lifecycle = new DocktunnelConfig.Lifecycle("hetzner", Duration.ofMinutes(10),
        Duration.ofSeconds(30), Duration.ofHours(2), Duration.ofMinutes(2), null, null);
    LifecycleStatus s = IdlePolicy.forConfig(lifecycle, T0).status(t(5));
    assertEquals(new LifecycleStatus(UNKNOWN, "hetzner", "waiting for the provider's first status", T0, null,
        null, 600_000, 30_000, t(5)), s);
  }

  @Test
  void unknownUntilTheFirstStatusAndNothingIsDecidedMeanwhile() {
    IdlePolicy p = policy("command");
    assertEquals(UNKNOWN, p.state());
    Decision d = p.evaluate(t(IDLE * 3), quietSince(0, 0));
    assertEquals(NONE, d.action());
    assertState(UNKNOWN, d);
    assertFalse(d.changed());
    assertNull(d.nextCheck());
    assertEquals(T0, d.status().since());
  }

  @Test
  void firstStatusRunningStartsTheIdleClockThen() {
    IdlePolicy p = policy("command");
    Decision d = p.providerRunning(t(700), "Running");
    assertState(RUNNING, d);
    assertEquals(NONE, d.action());
    assertTrue(d.changed());
    assertEquals(t(700), d.status().since());
    assertEquals("the provider reports the server running: Running", d.status().reason());
    assertEquals(t(700 + IDLE), d.nextCheck(), "old activity does not count before the server was seen");
  }

  @Test
  void firstStatusStoppedOrNotFoundIsStopped() {
    IdlePolicy p = policy("command");
    Decision d = p.providerStopped(t(10), "Stopped");
    assertState(STOPPED, d);
    assertEquals(NONE, d.action());
    assertEquals("the provider reports the server stopped: Stopped", d.status().reason());
    assertNull(d.nextCheck());
    IdlePolicy gone = policy("hetzner");
    assertEquals("the provider reports the server stopped: NotFound (no server named dev)",
        gone.providerStopped(t(10), "NotFound (no server named dev)").status().reason());
    assertEquals("the provider reports the server stopped",
        policy("command").providerStopped(t(10), null).status().reason());
  }

  @Test
  void firstStatusFailedIsFailedWithTheError() {
    IdlePolicy p = policy("command");
    Decision d = p.providerStatusFailed(t(10), "status command exited 2: permission denied");
    assertState(FAILED, d);
    assertEquals(NONE, d.action(), "nobody is held");
    assertEquals("the provider's status failed: status command exited 2: permission denied", d.status().reason());
    // the verticle asks again later
    assertState(RUNNING, p.providerRunning(t(20_000), "Running"));
    assertEquals("the provider reports the server running: Running", p.status(t(20_000)).reason());
  }

  @Test
  void aWakeBeforeTheFirstStatusIsQueued() {
    IdlePolicy p = policy("command");
    Decision queued = p.wake(t(5), "a Docker request GET /containers/json");
    assertEquals(NONE, queued.action());
    assertState(UNKNOWN, queued);
    assertTrue(queued.changed());
    assertEquals("waiting for the provider's first status; then starting for a Docker request GET /containers/json",
        queued.status().reason());
    assertEquals(NONE, p.wake(t(6), "another").action());
    Decision start = p.providerStopped(t(50), "Stopped");
    assertEquals(START, start.action());
    assertState(STARTING, start);
    assertEquals("starting for a Docker request GET /containers/json", start.status().reason(), "the first cause");
    assertEquals("started for a Docker request GET /containers/json", p.started(t(9_000)).status().reason());
  }

  @Test
  void aQueuedWakeIsServedWhenTheFirstStatusIsRunning() {
    IdlePolicy p = policy("command");
    p.wake(t(5), "a connection to 4f1c2d3e4f5a/tcp/8080");
    Decision d = p.providerRunning(t(50), "Running");
    assertEquals(NONE, d.action());
    assertState(RUNNING, d);
    // nothing queued any more: a later stop does not start again
    IdlePolicy stopping = p;
    assertEquals(STOP, stopping.requestStop(t(100)).action());
    assertState(STOPPED, stopping.stopped(t(200)));
  }

  @Test
  void aQueuedWakeGetsTheErrorWhenTheFirstStatusFails() {
    IdlePolicy p = policy("command");
    p.wake(t(5), "a connection to 4f1c2d3e4f5a/tcp/8080");
    Decision d = p.providerStatusFailed(t(50), "timed out after 30 s");
    assertEquals(FAIL_HELD, d.action());
    assertState(FAILED, d);
    assertEquals("the provider's status failed: timed out after 30 s", d.status().reason());
  }

  // --- the idle countdown ------------------------------------------------------------------------

  @Test
  void warnsExactlyAfterTheIdleTimeoutThenStopsExactlyAfterTheGracePeriod() {
    IdlePolicy p = running();
    Decision busy = p.evaluate(t(60_000), quietSince(60_000, 7));
    assertEquals(NONE, busy.action());
    assertFalse(busy.changed());
    assertEquals(t(60_000 + IDLE), busy.nextCheck(), "asked again the instant the idle timeout is over");

    Decision early = p.evaluate(t(60_000 + IDLE - 1), quietSince(60_000, 7));
    assertEquals(NONE, early.action());
    assertState(RUNNING, early);
    assertEquals(t(60_000 + IDLE), early.nextCheck());

    Decision warn = p.evaluate(t(60_000 + IDLE), quietSince(60_000, 7));
    assertEquals(WARN, warn.action());
    assertState(IDLE_WARNING, warn);
    assertTrue(warn.changed());
    assertEquals(t(60_000 + IDLE + GRACE), warn.status().stopAt());
    assertEquals(t(60_000 + IDLE + GRACE), warn.nextCheck());
    assertEquals(t(60_000 + IDLE), warn.status().since());
    assertEquals("no activity since 2026-12-01T16:01:00Z; the server stops at 2026-12-01T16:32:00Z unless there"
        + " is activity or an extend first", warn.status().reason());
    assertNull(warn.stopIfActivityCount());

    Decision notYet = p.evaluate(t(60_000 + IDLE + GRACE - 1), quietSince(60_000, 7));
    assertEquals(NONE, notYet.action());
    assertFalse(notYet.changed());
    assertEquals(t(60_000 + IDLE + GRACE), notYet.nextCheck());

    Decision stop = p.evaluate(t(60_000 + IDLE + GRACE), quietSince(60_000, 7));
    assertEquals(STOP, stop.action());
    assertState(STOPPING, stop);
    assertEquals(7L, stop.stopIfActivityCount(), "based on the count it saw");
    assertNull(stop.status().stopAt());
    assertNull(stop.nextCheck(), "the provider's result comes next");
    assertEquals("idle since 2026-12-01T16:01:00Z (idle timeout and grace period over)", stop.status().reason());

    Decision done = p.stopped(t(60_000 + IDLE + GRACE + 4_000));
    assertState(STOPPED, done);
    assertEquals(NONE, done.action());
    assertEquals("stopped after being idle since 2026-12-01T16:01:00Z", done.status().reason());
    assertNull(done.nextCheck());
  }

  @Test
  void noActivityAtAllCountsFromWhenTheServerWasSeenRunning() {
    IdlePolicy p = running();
    assertEquals(t(IDLE), p.evaluate(t(1), ActivitySnapshot.NONE).nextCheck());
    assertEquals(WARN, p.evaluate(t(IDLE), ActivitySnapshot.NONE).action());
  }

  @Test
  void activityBeforeTheServerWasSeenDoesNotShortenTheCountdown() {
    IdlePolicy p = policy("command");
    p.providerRunning(t(100_000), "Running");
    Decision d = p.evaluate(t(100_000), quietSince(0, 3));
    assertEquals(t(100_000 + IDLE), d.nextCheck());
  }

  @Test
  void aLateCheckStillGivesTheWholeGracePeriod() {
    IdlePolicy p = running();
    // the laptop slept through the deadline: the check comes an hour late
    Decision warn = p.evaluate(t(IDLE + 3_600_000), ActivitySnapshot.NONE);
    assertEquals(WARN, warn.action());
    assertEquals(t(IDLE + 3_600_000 + GRACE), warn.status().stopAt());
  }

  @Test
  void aLateCheckInTheCountdownStops() {
    IdlePolicy p = warning();
    assertEquals(STOP, p.evaluate(t(IDLE + GRACE + 3_600_000), ActivitySnapshot.NONE).action());
  }

  @Test
  void neverAnyCountdownWhileSomethingIsOpen() {
    IdlePolicy p = running();
    // a connection opened at 10 s and has been silent for hours: still activity (the ledger
    // decides when an open connection stops counting)
    for (long at : new long[] {IDLE, IDLE + GRACE, 5 * IDLE, 3_600_000 * 5}) {
      Decision d = p.evaluate(t(at), open(10_000, 4));
      assertEquals(NONE, d.action());
      assertState(RUNNING, d);
      assertEquals(t(at + IDLE), d.nextCheck(), "a safety re-check one idle timeout later");
    }
    // it closes (an activity of its own): the countdown counts from the close
    Decision closed = p.evaluate(t(7_200_000), quietSince(7_200_000, 5));
    assertEquals(t(7_200_000 + IDLE), closed.nextCheck());
  }

  @Test
  void anOpenConnectionThatStopsCountingLetsTheCountdownBeginAtOnce() {
    IdlePolicy p = running();
    p.evaluate(t(10_000), open(10_000, 1));
    // the ledger gave up on the silent connection (lifecycle.connectionTimeout): its last bytes at 10 s
    Decision d = p.evaluate(t(7_210_000), quietSince(10_000, 1));
    assertEquals(WARN, d.action());
    assertEquals(t(7_210_000 + GRACE), d.status().stopAt());
  }

  @Test
  void repeatedChecksWithNothingNewChangeNothing() {
    IdlePolicy p = running();
    Decision a = p.evaluate(t(5), quietSince(5, 1));
    Decision b = p.evaluate(t(6), quietSince(5, 1));
    assertFalse(a.changed());
    assertFalse(b.changed());
    assertEquals(a.nextCheck(), b.nextCheck());
    IdlePolicy w = warning();
    assertFalse(w.evaluate(t(IDLE + 10), ActivitySnapshot.NONE).changed());
  }

  @Test
  void zeroGracePeriodStillWarnsFirstThenStopsOnTheNextCheck() {
    IdlePolicy p = new IdlePolicy("command", Duration.ofMillis(IDLE), Duration.ZERO, T0);
    p.providerRunning(t(0), "Running");
    Decision warn = p.evaluate(t(IDLE), ActivitySnapshot.NONE);
    assertEquals(WARN, warn.action());
    assertEquals(t(IDLE), warn.nextCheck());
    assertEquals(STOP, p.evaluate(t(IDLE), ActivitySnapshot.NONE).action());
  }

  // --- activity during the countdown ------------------------------------------------------------

  @Test
  void activityDuringTheCountdownCancelsIt() {
    IdlePolicy p = warning();
    Decision d = p.evaluate(t(IDLE + 20_000), quietSince(IDLE + 19_000, 1));
    assertEquals(CANCEL_WARNING, d.action());
    assertState(RUNNING, d);
    assertTrue(d.changed());
    assertNull(d.status().stopAt());
    assertEquals("activity during the grace period (docker-request GET /containers/json); stop cancelled",
        d.status().reason());
    assertEquals(t(IDLE + 19_000 + IDLE), d.nextCheck(), "a new idle timeout from that activity");
    assertEquals(t(IDLE + 20_000), d.status().since());
  }

  @Test
  void aNewerLastActivityAloneCancelsTheCountdown() {
    IdlePolicy p = warning();
    // same count as at the warning, but a newer time: still activity
    Decision d = p.evaluate(t(IDLE + 1_000), new ActivitySnapshot(t(IDLE + 900), false, 0, null));
    assertEquals(CANCEL_WARNING, d.action());
    assertEquals(t(IDLE + 900 + IDLE), d.nextCheck());
  }

  @Test
  void aConnectionOpenedDuringTheCountdownCancelsIt() {
    IdlePolicy p = warning();
    Decision d = p.evaluate(t(IDLE + 100), open(IDLE + 100, 1));
    assertEquals(CANCEL_WARNING, d.action());
    assertEquals(t(IDLE + 100 + IDLE), d.nextCheck());
  }

  @Test
  void aCountChangeAloneCancelsAndTheNextCountdownStartsFromNow() {
    IdlePolicy p = warning();
    // the count moved but the snapshot's lastActivity is not newer (an activity the ledger counts
    // without a time of its own): cancel, and count idleness from now, not from the old time
    ActivitySnapshot odd = new ActivitySnapshot(null, false, 1, null);
    Decision d = p.evaluate(t(IDLE + 30_000), odd);
    assertEquals(CANCEL_WARNING, d.action());
    assertEquals("activity during the grace period; stop cancelled", d.status().reason());
    assertEquals(t(IDLE + 30_000 + IDLE), d.nextCheck());
  }

  @Test
  void activityLongAgoDuringALateCountdownCheckCancelsAndWarnsAgain() {
    IdlePolicy p = warning();
    // the laptop slept in the countdown; one request came right after the warning, then nothing
    Decision d = p.evaluate(t(IDLE + 5 * IDLE), quietSince(IDLE + 1_000, 1));
    assertEquals(WARN, d.action(), "a new countdown: idle for longer than the timeout since that request");
    assertEquals(t(IDLE + 5 * IDLE + GRACE), d.status().stopAt());
    assertEquals(STOP, p.evaluate(t(IDLE + 5 * IDLE + GRACE), quietSince(IDLE + 1_000, 1)).action());
  }

  // --- extend ------------------------------------------------------------------------------------

  @Test
  void extendPushesTheCountdown() {
    IdlePolicy p = running();
    Decision d = p.extend(t(1_000_000), Duration.ofHours(1));
    assertEquals(NONE, d.action());
    assertState(RUNNING, d);
    assertTrue(d.changed());
    assertEquals("extended: no countdown before 2026-12-01T17:16:40Z", d.status().reason());
    assertEquals(t(1_000_000 + 3_600_000), d.nextCheck());
    assertEquals(NONE, p.evaluate(t(IDLE), ActivitySnapshot.NONE).action(), "the idle timeout alone is not enough");
    assertEquals(WARN, p.evaluate(t(1_000_000 + 3_600_000), ActivitySnapshot.NONE).action());
  }

  @Test
  void aShorterExtendNeverPullsTheDeadlineIn() {
    IdlePolicy p = running();
    p.extend(t(0), Duration.ofHours(2));
    Decision shorter = p.extend(t(1_000), Duration.ofMinutes(1));
    assertEquals(t(7_200_000), shorter.nextCheck());
    // nor before the idle timeout of the last activity
    IdlePolicy q = running();
    q.evaluate(t(100_000), quietSince(100_000, 1));
    assertEquals(t(100_000 + IDLE), q.extend(t(100_000), Duration.ofMinutes(1)).nextCheck());
  }

  @Test
  void extendDuringTheCountdownCancelsItUntilTheExtensionEnds() {
    IdlePolicy p = warning();
    Decision d = p.extend(t(IDLE + 10_000), Duration.ofMinutes(5));
    assertEquals(CANCEL_WARNING, d.action());
    assertState(RUNNING, d);
    assertEquals("extended: no countdown before 2026-12-01T16:35:10Z; stop cancelled", d.status().reason());
    assertEquals(t(IDLE + 10_000 + 300_000), d.nextCheck(), "5 minutes, then a countdown again");
    Decision warn = p.evaluate(t(IDLE + 10_000 + 300_000), ActivitySnapshot.NONE);
    assertEquals(WARN, warn.action());
    assertEquals(t(IDLE + 10_000 + 300_000 + GRACE), warn.status().stopAt());
  }

  @Test
  void extendBeforeTheServerRunsIsKeptForAfterTheStart() {
    IdlePolicy p = policy("command");
    Decision d = p.extend(t(0), Duration.ofHours(3));
    assertEquals(NONE, d.action());
    assertFalse(d.refused());
    assertFalse(d.changed());
    assertEquals(t(3 * 3_600_000), p.providerRunning(t(10), "Running").nextCheck());
    IdlePolicy s = starting();
    s.extend(t(5_001_000), Duration.ofHours(3));
    assertEquals(t(5_001_000 + 3 * 3_600_000), s.started(t(5_050_000)).nextCheck());
  }

  @Test
  void extendIsRefusedWhenTheServerIsNotRunning() {
    for (IdlePolicy p : new IdlePolicy[] {idleStopping(), stopped(), failedStart()}) {
      LifecycleState before = p.state();
      Decision d = p.extend(t(6_000_000), Duration.ofMinutes(10));
      assertTrue(d.refused());
      assertEquals(NONE, d.action());
      assertFalse(d.changed());
      assertEquals(before, d.status().state());
      assertEquals("the server is " + before.text() + ", there is nothing to extend; a connection, a Docker request"
          + " or `docktunnel server start` starts it", d.refusal());
    }
  }

  @Test
  void extendNeedsAPositiveDuration() {
    IdlePolicy p = running();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> p.extend(t(1), Duration.ZERO));
    assertEquals("extend duration must be positive, got PT0S", e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> p.extend(t(1), Duration.ofSeconds(-1)));
  }

  // --- the race rule -------------------------------------------------------------------------------

  @Test
  void anIdleStopIsCarriedOutOnlyWhileTheActivityCountIsUnchanged() {
    IdlePolicy p = running();
    p.evaluate(t(IDLE), quietSince(0, 41));
    Decision stop = p.evaluate(t(IDLE + GRACE), quietSince(0, 41));
    assertEquals(STOP, stop.action());
    assertTrue(stop.stopStillValid(41));
    assertFalse(stop.stopStillValid(42), "a Docker request came between the decision and the provider call");
  }

  @Test
  void anAbortedStopGoesBackToRunningWithTheNewActivity() {
    IdlePolicy p = idleStopping();
    // the verticle found the count moved: a connection opened at the last moment
    Decision d = p.stopAborted(t(IDLE + GRACE + 3), open(IDLE + GRACE + 2, 1));
    assertEquals(CANCEL_WARNING, d.action());
    assertState(RUNNING, d);
    assertEquals("stop aborted: activity arrived as it began (forward-connection 4f1c2d3e4f5a/tcp/8080)",
        d.status().reason());
    assertEquals(t(IDLE + GRACE + 3 + IDLE), d.nextCheck(), "open: the safety re-check");
    // when it closes, a full new countdown
    Decision closed = p.evaluate(t(IDLE + GRACE + 10_000), quietSince(IDLE + GRACE + 10_000, 2));
    assertEquals(t(IDLE + GRACE + 10_000 + IDLE), closed.nextCheck());
  }

  @Test
  void anAbortedStopWhoseSnapshotHasNoNewerTimeCountsFromNow() {
    IdlePolicy p = idleStopping();
    Decision d = p.stopAborted(t(IDLE + GRACE + 3), new ActivitySnapshot(null, false, 1, null));
    assertEquals(t(IDLE + GRACE + 3 + IDLE), d.nextCheck());
    assertEquals("stop aborted: activity arrived as it began", d.status().reason());
  }

  @Test
  void anAbortedStopDropsAWakeQueuedMeanwhile() {
    IdlePolicy p = idleStopping();
    p.wake(t(IDLE + GRACE + 1), "a connection to 4f1c2d3e4f5a/tcp/8080");
    assertState(RUNNING, p.stopAborted(t(IDLE + GRACE + 2), quietSince(IDLE + GRACE + 1, 1)));
    assertEquals(STOP, p.requestStop(t(IDLE + GRACE + 5)).action());
    assertState(STOPPED, p.stopped(t(IDLE + GRACE + 9)));
  }

  @Test
  void aPersonsStopIsNeverAbortedByActivity() {
    IdlePolicy p = running();
    Decision stop = p.requestStop(t(10));
    assertNull(stop.stopIfActivityCount());
    assertTrue(stop.stopStillValid(0));
    assertTrue(stop.stopStillValid(12345));
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> p.stopAborted(t(11), quietSince(11, 1)));
    assertEquals("an aborted stop, but the stop under way is a person's, which is not aborted", e.getMessage());
  }

  @Test
  void stopStillValidIsOnlyForStops() {
    Decision none = running().evaluate(t(1), ActivitySnapshot.NONE);
    assertThrows(IllegalStateException.class, () -> none.stopStillValid(0));
  }

  @Test
  void onlyAStopCarriesAnActivityCount() {
    LifecycleStatus s = policy("command").status(T0);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new Decision(WARN, s, true, null, 3L, null));
    assertEquals("only a STOP is based on an activity count, not WARN", e.getMessage());
  }

  // --- stopping, stopped, wake -------------------------------------------------------------------

  @Test
  void aWakeWhileStoppingIsQueuedAndTheStartFollowsTheStop() {
    IdlePolicy p = idleStopping();
    Decision queued = p.wake(t(IDLE + GRACE + 500), "a Docker request GET /containers/json");
    assertEquals(NONE, queued.action());
    assertState(STOPPING, queued);
    assertTrue(queued.changed());
    assertEquals("stopping; then starting for a Docker request GET /containers/json", queued.status().reason());
    assertEquals(NONE, p.requestStart(t(IDLE + GRACE + 600)).action(), "a person's start joins the queue");
    assertEquals("stopping; then starting for a Docker request GET /containers/json",
        p.status(t(IDLE + GRACE + 600)).reason(), "the first cause is kept");
    Decision start = p.stopped(t(IDLE + GRACE + 3_000));
    assertEquals(START, start.action());
    assertState(STARTING, start);
    assertEquals(t(IDLE + GRACE + 3_000), start.status().since());
    assertEquals("starting for a Docker request GET /containers/json", start.status().reason());
    Decision up = p.started(t(IDLE + GRACE + 40_000));
    assertState(RUNNING, up);
    assertEquals(t(IDLE + GRACE + 40_000 + IDLE), up.nextCheck(), "the idle clock restarts at the start");
  }

  @Test
  void aPersonsStartWhileStoppingIsQueuedToo() {
    IdlePolicy p = idleStopping();
    p.requestStart(t(IDLE + GRACE + 1));
    Decision start = p.stopped(t(IDLE + GRACE + 2));
    assertEquals(START, start.action());
    assertEquals("starting for a start requested by a person", start.status().reason());
  }

  @Test
  void aFailedStopIsFailed() {
    IdlePolicy p = idleStopping();
    Decision d = p.stopFailed(t(IDLE + GRACE + 30_000), "stop command exited 1: InvalidInstanceID");
    assertState(FAILED, d);
    assertEquals(NONE, d.action());
    assertEquals("stop failed: stop command exited 1: InvalidInstanceID", d.status().reason());
    assertNull(d.nextCheck());
  }

  @Test
  void aFailedStopWithAWakeQueuedStarts() {
    IdlePolicy p = idleStopping();
    p.wake(t(IDLE + GRACE + 5), "a connection to 4f1c2d3e4f5a/tcp/8080");
    Decision d = p.stopFailed(t(IDLE + GRACE + 30_000), "timed out after 60 s");
    assertEquals(START, d.action());
    assertState(STARTING, d);
    assertEquals("starting for a connection to 4f1c2d3e4f5a/tcp/8080 (after the stop failed: timed out after 60 s)",
        d.status().reason());
  }

  @Test
  void whileStoppingOtherInputsChangeNothing() {
    IdlePolicy p = idleStopping();
    LifecycleStatus before = p.status(t(IDLE + GRACE + 1));
    for (Decision d : new Decision[] {p.evaluate(t(IDLE + GRACE + 1), quietSince(IDLE + GRACE + 1, 9)),
        p.requestStop(t(IDLE + GRACE + 1)), p.providerRunning(t(IDLE + GRACE + 1), "Running"),
        p.providerStopped(t(IDLE + GRACE + 1), "Stopped"), p.providerStatusFailed(t(IDLE + GRACE + 1), "x")}) {
      assertEquals(NONE, d.action());
      assertFalse(d.changed());
      assertFalse(d.refused());
      assertNull(d.nextCheck());
      assertEquals(before, d.status());
    }
  }

  @Test
  void aWakeWhileStoppedStarts() {
    IdlePolicy p = stopped();
    Decision d = p.wake(t(5_000_000), "a connection to 4f1c2d3e4f5a/tcp/8080");
    assertEquals(START, d.action());
    assertState(STARTING, d);
    assertEquals("starting for a connection to 4f1c2d3e4f5a/tcp/8080", d.status().reason());
    assertNull(d.nextCheck());
  }

  @Test
  void aPersonsStartWhileStoppedStarts() {
    IdlePolicy p = stopped();
    Decision d = p.requestStart(t(5_000_000));
    assertEquals(START, d.action());
    assertEquals("starting for a start requested by a person", d.status().reason());
  }

  @Test
  void whileStoppedActivityAndStopsChangeNothing() {
    IdlePolicy p = stopped();
    assertEquals(NONE, p.evaluate(t(6_000_000), quietSince(6_000_000, 50)).action());
    Decision stop = p.requestStop(t(6_000_000));
    assertEquals(NONE, stop.action());
    assertFalse(stop.refused(), "already what was asked");
    assertEquals(NONE, p.providerStopped(t(6_000_000), "Stopped").action());
    assertState(STOPPED, p.providerStatusFailed(t(6_000_000), "x"));
  }

  @Test
  void startedOutsideDocktunnelIsRunningAgain() {
    IdlePolicy p = stopped();
    Decision d = p.providerRunning(t(6_000_000), "Running");
    assertState(RUNNING, d);
    assertEquals("the provider reports the server running (started outside docktunnel): Running",
        d.status().reason());
    assertEquals(t(6_000_000 + IDLE), d.nextCheck());
  }

  @Test
  void stoppedOutsideDocktunnelIsStopped() {
    IdlePolicy running = running();
    Decision d = running.providerStopped(t(100), "Stopped");
    assertState(STOPPED, d);
    assertNull(d.nextCheck());
    assertEquals("the provider reports the server stopped (outside docktunnel): Stopped", d.status().reason());
    assertState(STOPPED, warning().providerStopped(t(IDLE + 1), "NotFound"));
    assertState(STOPPED, failedStart().providerStopped(t(6_000_000), "Stopped"));
  }

  // --- starting and failed -----------------------------------------------------------------------

  @Test
  void whileStartingWakesWaitForTheStartUnderWay() {
    IdlePolicy p = starting();
    for (Decision d : new Decision[] {p.wake(t(5_000_100), "another connection"), p.requestStart(t(5_000_100)),
        p.evaluate(t(5_000_100), quietSince(5_000_100, 3)), p.providerRunning(t(5_000_100), "Running"),
        p.providerStopped(t(5_000_100), "Stopped"), p.providerStatusFailed(t(5_000_100), "x")}) {
      assertEquals(NONE, d.action());
      assertState(STARTING, d);
      assertFalse(d.changed());
    }
    Decision stop = p.requestStop(t(5_000_100));
    assertTrue(stop.refused());
    assertEquals("the server is starting; stop it once it is running", stop.refusal());
  }

  @Test
  void aStartedServerRunsAndItsIdleClockStartsThen() {
    IdlePolicy p = starting();
    Decision d = p.started(t(5_030_000));
    assertEquals(NONE, d.action());
    assertState(RUNNING, d);
    assertEquals("started for a connection to 4f1c2d3e4f5a/tcp/8080", d.status().reason());
    assertEquals(t(5_030_000 + IDLE), d.nextCheck());
  }

  @Test
  void aFailedStartFailsTheHeldClientsWithTheReason() {
    IdlePolicy p = starting();
    Decision d = p.startFailed(t(5_010_000), "start command exited 255: ssh: connect to host: No route");
    assertEquals(FAIL_HELD, d.action());
    assertState(FAILED, d);
    assertEquals("start failed: start command exited 255: ssh: connect to host: No route", d.status().reason());
    assertNull(d.nextCheck());
  }

  @Test
  void aWakeAfterAFailedStartTriesAgain() {
    IdlePolicy p = failedStart();
    Decision d = p.wake(t(5_100_000), "a Docker request GET /_ping");
    assertEquals(START, d.action());
    assertEquals("starting for a Docker request GET /_ping", d.status().reason());
    assertState(RUNNING, p.started(t(5_130_000)));
  }

  @Test
  void rightAfterAFailedStartAWakeGetsItsErrorAtOnceAndAPersonsStartStillStarts() {
    IdlePolicy p = failedStart();
    Decision soon = p.wake(t(5_010_000).plus(IdlePolicy.START_RETRY_PAUSE).minusMillis(1), "the CLI's second ping");
    assertEquals(FAIL_HELD, soon.action(), "a client's retry gets the error, not a start each");
    assertState(FAILED, soon);
    assertFalse(soon.changed());
    assertEquals("exit 1", p.startError());
    Decision person = p.requestStart(t(5_010_001));
    assertEquals(START, person.action(), "a person's start always tries again");
    assertEquals("starting for a start requested by a person", person.status().reason());
    assertState(RUNNING, p.started(t(5_020_000), "198.51.100.4"));
    assertNull(p.startError(), "a start that succeeded leaves no error");
    assertEquals("198.51.100.4", p.status(t(5_020_000)).address());
    assertEquals("started for a start requested by a person at 198.51.100.4", p.status(t(5_020_000)).reason());
  }

  @Test
  void aRunningStatusWithAnAddressIsWhereTheSessionGoes() {
    IdlePolicy p = new IdlePolicy("hetzner", Duration.ofMillis(IDLE), Duration.ofMillis(GRACE), T0);
    Decision d = p.providerRunning(t(5), "docktunnel-box running at 203.0.113.8", "203.0.113.8");
    assertState(RUNNING, d);
    assertEquals("203.0.113.8", d.status().address());
    assertEquals("203.0.113.8", p.providerRunning(t(10), "running", null).status().address(), "kept");
  }

  @Test
  void theLastRunsAddressHoldsUntilAStartOrAStatusSaysOtherwise() {
    IdlePolicy p = new IdlePolicy("command", Duration.ofMillis(IDLE), Duration.ofMillis(GRACE), T0);
    p.restoreAddress("203.0.113.9");
    assertEquals("203.0.113.9", p.status(T0).address(), "the first status already says where to go");
    assertEquals("203.0.113.9", p.providerRunning(t(5), "Running", null).status().address(),
        "a status without an address keeps it");
    assertEquals("203.0.113.10", p.providerRunning(t(10), "Running", "203.0.113.10").status().address());

    IdlePolicy stopped = new IdlePolicy("command", Duration.ofMillis(IDLE), Duration.ofMillis(GRACE), T0);
    stopped.restoreAddress("203.0.113.9");
    stopped.providerStopped(t(5), "Stopped");
    stopped.wake(t(10), "a connection");
    assertEquals("203.0.113.11", stopped.started(t(20), "203.0.113.11").status().address(), "a start's wins");
  }

  @Test
  void anAddressIsRestoredOnlyAtTheStartAndOnlyWhereServersMove() {
    IdlePolicy still = new IdlePolicy("static", Duration.ofMillis(IDLE), Duration.ofMillis(GRACE), T0);
    assertThrows(IllegalStateException.class, () -> still.restoreAddress("203.0.113.9"));
    IdlePolicy running = new IdlePolicy("command", Duration.ofMillis(IDLE), Duration.ofMillis(GRACE), T0);
    running.providerRunning(t(5), "Running", null);
    assertThrows(IllegalStateException.class, () -> running.restoreAddress("203.0.113.9"));
  }

  @Test
  void aStartWithoutAnAddressKeepsTheLastOne() {
    IdlePolicy p = starting();
    p.started(t(5_030_000), "203.0.113.5:2222");
    p.requestStop(t(5_040_000));
    p.stopped(t(5_050_000));
    p.wake(t(5_060_000), "a connection");
    Decision d = p.started(t(5_070_000));
    assertEquals("203.0.113.5:2222", d.status().address());
  }

  @Test
  void aPersonMayStopAFailedServer() {
    IdlePolicy p = failedStart();
    Decision d = p.requestStop(t(5_100_000));
    assertEquals(STOP, d.action());
    assertNull(d.stopIfActivityCount());
    assertEquals("stopped on a person's request", p.stopped(t(5_110_000)).status().reason());
  }

  @Test
  void whileFailedActivityChangesNothing() {
    IdlePolicy p = failedStart();
    Decision d = p.evaluate(t(9_000_000), quietSince(0, 0));
    assertEquals(NONE, d.action());
    assertState(FAILED, d);
    assertFalse(d.changed());
  }

  @Test
  void resultsThatWereNotAskedForAreCallerBugs() {
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> running().started(t(1)));
    assertEquals("a start result while running: only expected while starting", e.getMessage());
    assertThrows(IllegalStateException.class, () -> running().startFailed(t(1), "x"));
    IllegalStateException stop = assertThrows(IllegalStateException.class, () -> stopped().stopped(t(1)));
    assertEquals("a stop result while stopped: only expected while stopping", stop.getMessage());
    assertThrows(IllegalStateException.class, () -> warning().stopFailed(t(1), "x"));
    assertThrows(IllegalStateException.class, () -> running().stopAborted(t(1), ActivitySnapshot.NONE));
  }

  // --- a person's commands while running ---------------------------------------------------------

  @Test
  void aPersonsStopWhileRunningOrWarningIsImmediate() {
    IdlePolicy p = running();
    Decision d = p.requestStop(t(1_000));
    assertEquals(STOP, d.action());
    assertState(STOPPING, d);
    assertEquals("stop requested by a person", d.status().reason());
    assertNull(d.nextCheck());
    IdlePolicy w = warning();
    Decision fromWarning = w.requestStop(t(IDLE + 1));
    assertEquals(STOP, fromWarning.action());
    assertNull(fromWarning.status().stopAt());
    assertEquals("stopped on a person's request", w.stopped(t(IDLE + 2)).status().reason());
  }

  @Test
  void aStopBeforeTheFirstStatusIsRefused() {
    Decision d = policy("command").requestStop(t(1));
    assertTrue(d.refused());
    assertEquals("the server's status is not known yet; try again in a moment", d.refusal());
    assertState(UNKNOWN, d);
  }

  @Test
  void aStartOrWakeWhileRunningCountsAsActivity() {
    IdlePolicy p = running();
    Decision d = p.requestStart(t(600_000));
    assertEquals(NONE, d.action());
    assertFalse(d.refused());
    assertFalse(d.changed());
    assertEquals(t(600_000 + IDLE), d.nextCheck());
    assertEquals(t(700_000 + IDLE), p.wake(t(700_000), "a connection").nextCheck());
  }

  @Test
  void aStartOrWakeDuringTheCountdownCancelsIt() {
    IdlePolicy p = warning();
    Decision d = p.requestStart(t(IDLE + 5_000));
    assertEquals(CANCEL_WARNING, d.action());
    assertState(RUNNING, d);
    assertEquals("a start requested by a person during the grace period; stop cancelled", d.status().reason());
    assertEquals(t(IDLE + 5_000 + IDLE), d.nextCheck());
    IdlePolicy q = warning();
    assertEquals(CANCEL_WARNING, q.wake(t(IDLE + 5_000), "a Docker request GET /info").action());
  }

  @Test
  void aStatusPollWhileRunningChangesNothing() {
    IdlePolicy p = running();
    p.evaluate(t(50_000), quietSince(50_000, 1));
    Decision d = p.providerRunning(t(60_000), "Running");
    assertEquals(NONE, d.action());
    assertFalse(d.changed());
    assertEquals(t(50_000 + IDLE), d.nextCheck(), "from the last snapshot the policy saw");
  }

  @Test
  void aNegativeActivityCountIsRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new ActivitySnapshot(null, false, -1, null));
    assertEquals("activityCount must be 0 or more, got -1", e.getMessage());
  }

  @Test
  void aStatusPollWhileRunningKeepsTheCountdown() {
    IdlePolicy p = warning();
    Decision d = p.providerRunning(t(IDLE + 10), "Running");
    assertEquals(NONE, d.action());
    assertState(IDLE_WARNING, d);
    assertEquals(t(IDLE + GRACE), d.nextCheck());
    assertEquals(STOP, p.providerRunning(t(IDLE + GRACE), "Running").action(), "a poll at the deadline is a check");
    IdlePolicy r = running();
    Decision failedPoll = r.providerStatusFailed(t(10), "timed out");
    assertEquals(NONE, failedPoll.action());
    assertState(RUNNING, failedPoll);
    assertEquals(t(IDLE), failedPoll.nextCheck(), "the timer stands");
  }

  // --- the static provider -----------------------------------------------------------------------

  @Test
  void theStaticProviderCountsDownButNeverStops() {
    IdlePolicy p = policy("static");
    p.providerRunning(t(0), "always running");
    Decision warn = p.evaluate(t(IDLE), quietSince(0, 2));
    assertEquals(WARN, warn.action());
    assertState(IDLE_WARNING, warn);
    assertEquals(t(IDLE + GRACE), warn.status().stopAt());
    assertEquals("no activity since 2026-12-01T16:00:00Z; countdown to 2026-12-01T16:31:00Z (static provider: the"
        + " server is not stopped)", warn.status().reason());
    Decision end = p.evaluate(t(IDLE + GRACE), quietSince(0, 2));
    assertEquals(NONE, end.action(), "never a STOP");
    assertState(RUNNING, end);
    assertTrue(end.changed());
    assertNull(end.status().stopAt());
    assertEquals("idle since 2026-12-01T16:00:00Z; static provider: the server is left running", end.status().reason());
    assertNull(end.nextCheck(), "no new countdown for the same idle spell");
    Decision later = p.evaluate(t(10 * IDLE), quietSince(0, 2));
    assertEquals(NONE, later.action());
    assertFalse(later.changed());
    assertNull(later.nextCheck());
  }

  @Test
  void theStaticProviderCountsDownAgainAfterNewActivityOrAnExtend() {
    IdlePolicy p = policy("static");
    p.providerRunning(t(0), "always running");
    p.evaluate(t(IDLE), quietSince(0, 2));
    p.evaluate(t(IDLE + GRACE), quietSince(0, 2));
    Decision active = p.evaluate(t(2 * IDLE), quietSince(2 * IDLE, 3));
    assertEquals(t(3 * IDLE), active.nextCheck());
    assertEquals(WARN, p.evaluate(t(3 * IDLE), quietSince(2 * IDLE, 3)).action());
    p.evaluate(t(3 * IDLE + GRACE), quietSince(2 * IDLE, 3));
    Decision extended = p.extend(t(4 * IDLE), Duration.ofMinutes(10));
    assertEquals(t(4 * IDLE + 600_000), extended.nextCheck());
    assertEquals(WARN, p.evaluate(t(4 * IDLE + 600_000), quietSince(2 * IDLE, 3)).action());
  }

  @Test
  void theStaticProviderCancelsItsCountdownOnActivity() {
    IdlePolicy p = policy("static");
    p.providerRunning(t(0), "always running");
    p.evaluate(t(IDLE), quietSince(0, 2));
    Decision d = p.evaluate(t(IDLE + 1), quietSince(IDLE + 1, 3));
    assertEquals(CANCEL_WARNING, d.action());
    assertEquals("activity during the countdown (docker-request GET /containers/json); stop cancelled",
        d.status().reason());
    IdlePolicy q = policy("static");
    q.providerRunning(t(0), "always running");
    q.evaluate(t(IDLE), quietSince(0, 2));
    assertEquals("a connection during the countdown; stop cancelled",
        q.wake(t(IDLE + 1), "a connection").status().reason());
  }

  @Test
  void theStaticProviderRefusesAPersonsStopInEveryState() {
    IdlePolicy p = policy("static");
    assertEquals("the static provider does not stop the server (lifecycle.provider is static)",
        p.requestStop(t(0)).refusal());
    p.providerRunning(t(0), "always running");
    Decision d = p.requestStop(t(5));
    assertTrue(d.refused());
    assertState(RUNNING, d);
    assertEquals(t(IDLE), d.nextCheck(), "a refusal keeps the timer");
    p.evaluate(t(IDLE), ActivitySnapshot.NONE);
    Decision inWarning = p.requestStop(t(IDLE + 1));
    assertTrue(inWarning.refused());
    assertEquals(t(IDLE + GRACE), inWarning.nextCheck());
  }
}

package dev.docktunnel.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docktunnel.bus.LifecycleState;
import dev.docktunnel.lifecycle.Decision.Action;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link IdlePolicy} driven the way the lifecycle verticle drives it, over simulated weeks of
 * random activity (milliseconds of real time): one timer set to each decision's {@code nextCheck}
 * and firing up to 3 ms late, a ledger that counts every request, connection open and close, a
 * provider whose stop takes 3 s and start 20 s, and the race rule's check 5 ms after an idle STOP
 * decision. Every stop the provider is asked for is checked against the rules.
 */
class IdlePolicySimulationTest {
  static final Instant T0 = Instant.parse("2026-12-01T00:00:00Z");
  static final long IDLE = Duration.ofMinutes(30).toMillis();
  static final long GRACE = Duration.ofSeconds(60).toMillis();
  static final long CHECK_DELAY = 5;
  static final long STOP_TAKES = 3_000;
  static final long START_TAKES = 20_000;
  static final long SIMULATED = Duration.ofDays(28).toMillis();

  @Test
  void everyStopFollowsTheRulesOverFourSimulatedWeeks() {
    for (long seed = 1; seed <= 5; seed++) {
      Sim sim = new Sim(new Random(seed));
      sim.run();
      String figures = "seed " + seed + ": " + sim.warnings + " warnings, " + sim.cancelled + " cancelled, "
          + sim.stops + " stops, " + sim.aborted + " aborted at the last moment, " + sim.wakesWhileStopping
          + " wakes while stopping, " + sim.starts + " starts; latest stop "
          + (sim.latestStopAfterIdle - IDLE - GRACE) + " ms after idle timeout + grace; longest hold "
          + sim.longestHold + " ms";
      System.out.println("[figures] " + figures);
      // the run exercised every path, or the checks below prove little
      assertTrue(sim.stops > 20, figures);
      assertTrue(sim.cancelled > 20, figures);
      assertTrue(sim.aborted > 3, figures);
      assertTrue(sim.wakesWhileStopping > 3, figures);
      assertEquals(sim.stops, sim.starts + (sim.policy.state() == LifecycleState.STOPPED ? 1 : 0),
          "every stop but a last one was followed by a start");
      assertTrue(sim.latestStopAfterIdle <= IDLE + GRACE + 5_000, figures);
      assertTrue(sim.longestHold <= STOP_TAKES + START_TAKES + CHECK_DELAY, figures);
    }
  }

  enum Kind { REQUEST, OPEN, CLOSE, TIMER, STOP_CHECK, STOP_DONE, START_DONE, FIRST_STATUS }

  record Event(long at, long order, Kind kind, long value, Decision decision) {
  }

  static final class Sim {
    final Random random;
    final IdlePolicy policy = new IdlePolicy("command", Duration.ofMillis(IDLE), Duration.ofMillis(GRACE), T0);
    final PriorityQueue<Event> queue = new PriorityQueue<>(
        (a, b) -> a.at != b.at ? Long.compare(a.at, b.at) : Long.compare(a.order, b.order));
    long order;
    long now;
    // the ledger
    long count;
    long lastEvent = -1;
    int open;
    // the verticle
    long timerGeneration;
    long runningSince = -1;
    long warnedAt = -1;
    LifecycleState lastState = LifecycleState.UNKNOWN;
    final List<Long> held = new ArrayList<>();
    // figures
    int warnings;
    int cancelled;
    int stops;
    int aborted;
    int wakesWhileStopping;
    int starts;
    long latestStopAfterIdle;
    long longestHold;

    Sim(Random random) {
      this.random = random;
    }

    void run() {
      at(500, Kind.FIRST_STATUS, 0, null);
      for (long t = nextGap(0); t < SIMULATED; t = nextGap(t)) {
        if (random.nextInt(3) == 0) {
          at(t, Kind.OPEN, 1 + (long) (random.nextDouble() * 3 * IDLE), null);
        } else {
          at(t, Kind.REQUEST, 0, null);
        }
      }
      while (!queue.isEmpty()) {
        Event e = queue.poll();
        now = e.at;
        handle(e);
      }
    }

    /** Quiet spells from a second to about two idle timeouts, so there are stops and near misses. */
    long nextGap(long t) {
      double u = random.nextDouble();
      return t + (long) (u < 0.7 ? random.nextDouble() * 600_000 : IDLE * 0.9 + random.nextDouble() * IDLE * 1.2);
    }

    void at(long t, Kind kind, long value, Decision decision) {
      queue.add(new Event(t, order++, kind, value, decision));
    }

    Instant instant() {
      return T0.plusMillis(now);
    }

    ActivitySnapshot snapshot() {
      return new ActivitySnapshot(lastEvent < 0 ? null : T0.plusMillis(lastEvent), open > 0, count, null);
    }

    void handle(Event e) {
      switch (e.kind) {
        case FIRST_STATUS -> {
          runningSince = now;
          apply(policy.providerRunning(instant(), "Running"));
        }
        case REQUEST, OPEN -> {
          count++;
          lastEvent = now;
          if (e.kind == Kind.OPEN) {
            open++;
            at(now + e.value, Kind.CLOSE, 0, null);
          }
          activity(true);
        }
        case CLOSE -> {
          count++;
          lastEvent = now;
          open--;
          activity(false);
        }
        case TIMER -> {
          if (e.value == timerGeneration) {
            apply(policy.evaluate(instant(), snapshot()));
          }
        }
        case STOP_CHECK -> {
          if (e.decision.stopStillValid(count)) {
            providerStops();
            at(now + STOP_TAKES, Kind.STOP_DONE, 0, null);
          } else {
            aborted++;
            apply(policy.stopAborted(instant(), snapshot()));
          }
        }
        case STOP_DONE -> apply(policy.stopped(instant()));
        case START_DONE -> {
          starts++;
          runningSince = now;
          apply(policy.started(instant()));
        }
      }
    }

    /** Activity reaches the verticle: a wake while the server is not running, else a re-evaluation. */
    void activity(boolean arrival) {
      LifecycleState state = policy.state();
      if (state == LifecycleState.RUNNING || state == LifecycleState.IDLE_WARNING) {
        apply(policy.evaluate(instant(), snapshot()));
      } else if (arrival) {
        if (state == LifecycleState.STOPPING) {
          wakesWhileStopping++;
        }
        held.add(now);
        apply(policy.wake(instant(), "a connection"));
      }
    }

    /** The verticle calls the provider's stop: the moment the rules are about. */
    void providerStops() {
      stops++;
      assertEquals(0, open, "a stop with a connection open at " + now);
      long idleStart = Math.max(lastEvent, runningSince);
      long idleFor = now - idleStart;
      assertTrue(idleFor >= IDLE + GRACE, "stopped after only " + idleFor + " ms idle at " + now);
      assertTrue(idleFor <= IDLE + GRACE + 5_000, "stopped " + idleFor + " ms after the last activity at " + now);
      assertTrue(warnedAt >= 0 && now - warnedAt >= GRACE, "no full warning before the stop at " + now);
      assertTrue(lastEvent <= warnedAt, "activity during the warning, yet a stop at " + now);
      latestStopAfterIdle = Math.max(latestStopAfterIdle, idleFor);
      // now and then a client arrives while the server stops: its start must follow the stop
      if (random.nextInt(4) == 0) {
        at(now + 1 + random.nextInt((int) STOP_TAKES - 2), Kind.REQUEST, 0, null);
      }
    }

    void apply(Decision d) {
      timerGeneration++;
      if (d.nextCheck() != null) {
        long due = Math.max(now, d.nextCheck().toEpochMilli() - T0.toEpochMilli());
        at(due + random.nextInt(4), Kind.TIMER, timerGeneration, null);
      }
      switch (d.action()) {
        case WARN -> {
          warnings++;
          warnedAt = now;
          // now and then a request lands between the stop decision and the verticle's check
          if (random.nextInt(5) == 0) {
            at(d.status().stopAt().toEpochMilli() - T0.toEpochMilli() + 4, Kind.REQUEST, 0, null);
          }
        }
        case CANCEL_WARNING -> {
          cancelled++;
          warnedAt = -1;
        }
        case STOP -> at(now + CHECK_DELAY, Kind.STOP_CHECK, 0, d);
        case START -> at(now + START_TAKES, Kind.START_DONE, 0, null);
        case NONE -> {
        }
        case FAIL_HELD -> throw new AssertionError("no start fails in this simulation: " + d.status().reason());
      }
      LifecycleState state = d.status().state();
      if (state == LifecycleState.RUNNING) {
        // the held clients are served (after a start, or a stop aborted for them)
        for (long since : held) {
          longestHold = Math.max(longestHold, now - since);
        }
        held.clear();
      }
      if (state == LifecycleState.STOPPING && lastState != LifecycleState.STOPPING && d.action() != Action.STOP) {
        throw new AssertionError("stopping without a stop: " + d);
      }
      if (state == LifecycleState.STARTING && lastState != LifecycleState.STARTING && d.action() != Action.START) {
        throw new AssertionError("starting without a start: " + d);
      }
      lastState = state;
    }
  }
}

package dev.docktunnel.lifecycle;

import dev.docktunnel.bus.LifecycleState;
import dev.docktunnel.bus.LifecycleStatus;
import dev.docktunnel.config.DocktunnelConfig;
import dev.docktunnel.lifecycle.Decision.Action;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * The remote server's lifecycle as a pure state machine: when to warn, stop and start. The
 * lifecycle verticle feeds it inputs (the activity snapshot, provider results, a person's
 * commands, wake requests), each with the time; it answers with a {@link Decision} that the
 * verticle carries out, and the instant to be asked again. No timers, threads or I/O here, so every
 * branch is tested in milliseconds with made-up instants. Not thread-safe: one owner calls it.
 *
 * <p>The idle rule. The server is truly idle from {@code idleSince}: the latest of its last
 * activity, the moment it was seen running (started, or reported running), and the last wake;
 * never while something is open ({@link ActivitySnapshot#ongoing}). At {@code idleSince +
 * idleTimeout} (or at the end of an extension, if later) it goes {@code idle-warning} with
 * {@code stopAt = now + gracePeriod}: the warning always lasts the whole grace period, even when
 * the check comes late (a laptop waking from sleep). At {@code stopAt}, with no activity since the
 * warning, it is {@code stopping}: the decision is a STOP based on the activity count it saw, so
 * a stop decided just before a new connection or Docker request is dropped ({@link
 * #stopAborted}). {@link Decision#nextCheck()} is always the exact next instant something can
 * change, so a timer that fires on it stops the server at {@code idleSince + idleTimeout +
 * gracePeriod} plus the timer's own lateness.
 *
 * <p>The {@code static} provider never stops the server: it goes through the same warning and
 * countdown, and at {@code stopAt} returns to {@code running} with the reason {@code "idle since
 * ...; static provider: the server is left running"}, without a new countdown until there has been
 * activity (or an extend) and a new idle timeout.
 */
public final class IdlePolicy {
  /** The provider that only reports idleness and never stops the server. */
  public static final String STATIC = "static";

  private static final String WAITING_FOR_STATUS = "waiting for the provider's first status";
  /**
   * After a failed start, wakes this soon fail at once with its error instead of starting again:
   * a client's retry (the docker CLI pings twice, a browser opens six connections) gets the
   * error, not a start each. A person's {@code server start} always starts.
   */
  static final Duration START_RETRY_PAUSE = Duration.ofSeconds(5);

  private final String provider;
  private final boolean stopsServer;
  private final Duration idleTimeout;
  private final Duration gracePeriod;

  private LifecycleState state = LifecycleState.UNKNOWN;
  private String reason = WAITING_FOR_STATUS;
  private Instant since;
  private ActivitySnapshot activity = ActivitySnapshot.NONE;
  /** Idleness cannot begin before this: the server was seen running, or a client arrived. */
  private Instant idleFloor;
  /** No countdown before this (a person's extend); null when never extended. */
  private Instant extendedUntil;
  /** While {@code idle-warning}: when the server stops, the idleSince and activity count the warning began with. */
  private Instant stopAt;
  private Instant warnedIdleSince;
  private long warnedActivityCount;
  /** Static provider: the idle period whose countdown has run out (no new countdown for it). */
  private Instant reportedIdleSince;
  /** Why a start follows once the provider's status is known or the stop is done; null for none. */
  private String queuedStart;
  /** Why the start under way was asked for. */
  private String startCause;
  /** Whether the stop under way is an idle stop (abortable), not a person's. */
  private boolean idleStop;
  /** Why the last start failed, and when; null once a start succeeded. */
  private String startError;
  private Instant startFailedAt;
  /** Where the last start put the server, when its provider said; null: the configured address. */
  private String address;

  /**
   * @param provider the provider's name; {@value #STATIC} never stops the server
   * @param idleTimeout {@code lifecycle.idleTimeout}: how long the server must be truly idle
   *     before the countdown
   * @param gracePeriod {@code lifecycle.gracePeriod}: how long the countdown lasts
   * @param now when docktunnel started (the {@code unknown} state's {@code since})
   */
  public IdlePolicy(String provider, Duration idleTimeout, Duration gracePeriod, Instant now) {
    this.provider = Objects.requireNonNull(provider, "provider");
    Objects.requireNonNull(idleTimeout, "idleTimeout");
    Objects.requireNonNull(gracePeriod, "gracePeriod");
    if (idleTimeout.isNegative() || idleTimeout.isZero()) {
      throw new IllegalArgumentException("lifecycle.idleTimeout must be positive, got " + idleTimeout);
    }
    if (gracePeriod.isNegative()) {
      throw new IllegalArgumentException("lifecycle.gracePeriod must not be negative, got " + gracePeriod);
    }
    this.stopsServer = !STATIC.equals(provider);
    this.idleTimeout = idleTimeout;
    this.gracePeriod = gracePeriod;
    this.since = Objects.requireNonNull(now, "now");
    this.idleFloor = now;
  }

  /** A policy for {@code lifecycle} (provider, idle timeout, grace period). */
  public static IdlePolicy forConfig(DocktunnelConfig.Lifecycle lifecycle, Instant now) {
    return new IdlePolicy(lifecycle.provider(), lifecycle.idleTimeout(), lifecycle.gracePeriod(), now);
  }

  /**
   * Where the last run's last start put the server ({@code host[:port]}, from the state file), so
   * that a restart's session goes there until a start or a status says otherwise. Only before
   * the first decision, and only for a provider that starts servers.
   */
  public void restoreAddress(String lastAddress) {
    Objects.requireNonNull(lastAddress, "lastAddress");
    if (!stopsServer) {
      throw new IllegalStateException("the " + provider + " provider never moves the server: nothing to restore");
    }
    if (state != LifecycleState.UNKNOWN || address != null) {
      throw new IllegalStateException("an address is restored before the first decision, not in " + state.text());
    }
    address = lastAddress;
  }

  /** The state now. */
  public LifecycleState state() {
    return state;
  }

  /** The picture now, as the {@code docktunnel.lifecycle} fact and the server query show it. */
  public LifecycleStatus status(Instant now) {
    return new LifecycleStatus(state, provider, reason, since, state == LifecycleState.IDLE_WARNING ? stopAt : null,
        address, idleTimeout.toMillis(), gracePeriod.toMillis(), now);
  }

  // ---------------------------------------------------------------------------------------------
  // Activity and time

  /**
   * Re-evaluates with the activity as it is now. Call it at every {@link Decision#nextCheck()} and
   * whenever the activity picture changes (something opened or closed, new activity after a quiet
   * spell); calling it more often is harmless. Outside {@code running} and {@code idle-warning} it
   * only records the snapshot.
   */
  public Decision evaluate(Instant now, ActivitySnapshot snapshot) {
    Objects.requireNonNull(now, "now");
    activity = Objects.requireNonNull(snapshot, "snapshot");
    Snapshot before = snapshot();
    return switch (state) {
      case RUNNING -> runningCheck(before, now, Action.NONE);
      case IDLE_WARNING -> warningCheck(before, now);
      default -> decide(before, now, Action.NONE, null);
    };
  }

  private Decision warningCheck(Snapshot before, Instant now) {
    if (activitySinceWarning()) {
      return cancelForActivity(before, now, "activity during the " + (stopsServer ? "grace period" : "countdown")
          + detail() + "; stop cancelled");
    }
    if (now.isBefore(stopAt)) {
      return decide(before, now, Action.NONE, null);
    }
    if (!stopsServer) {
      reportedIdleSince = warnedIdleSince;
      enter(LifecycleState.RUNNING, now,
          "idle since " + warnedIdleSince + "; static provider: the server is left running");
      return runningCheck(before, now, Action.NONE);
    }
    idleStop = true;
    enter(LifecycleState.STOPPING, now, "idle since " + warnedIdleSince + " (idle timeout and grace period over)");
    return decide(before, now, Action.STOP, activity.activityCount());
  }

  /** In {@code running}: warn if idle for the idle timeout, else say when that can be. */
  private Decision runningCheck(Snapshot before, Instant now, Action action) {
    Instant warnAt = warnAt();
    if (warnAt == null || now.isBefore(warnAt)) {
      return decide(before, now, action, null);
    }
    Instant idleSince = idleSince();
    stopAt = now.plus(gracePeriod);
    warnedIdleSince = idleSince;
    warnedActivityCount = activity.activityCount();
    enter(LifecycleState.IDLE_WARNING, now, stopsServer
        ? "no activity since " + idleSince + "; the server stops at " + stopAt
            + " unless there is activity or an extend first"
        : "no activity since " + idleSince + "; countdown to " + stopAt
            + " (static provider: the server is not stopped)");
    return decide(before, now, Action.WARN, null);
  }

  private boolean activitySinceWarning() {
    return activity.ongoing() || activity.activityCount() != warnedActivityCount
        || (activity.lastActivity() != null && activity.lastActivity().isAfter(warnedIdleSince));
  }

  /** Back to {@code running}: activity called the countdown or the idle stop off. */
  private Decision cancelForActivity(Snapshot before, Instant now, String why) {
    // When the snapshot says "something happened" only through its count, its lastActivity would
    // start the next countdown in the past: count the idle time from now instead.
    if (!activity.ongoing()
        && (activity.lastActivity() == null || !activity.lastActivity().isAfter(warnedIdleSince))) {
      idleFloor = later(idleFloor, now);
    }
    return cancelWarning(before, now, why);
  }

  /** Back to {@code running} after the countdown was called off. */
  private Decision cancelWarning(Snapshot before, Instant now, String why) {
    enter(LifecycleState.RUNNING, now, why);
    return runningCheck(before, now, Action.CANCEL_WARNING);
  }

  /**
   * When the countdown begins if nothing happens: idle timeout after idleSince, or the end of an
   * extension if later; null while something is open or (static) this idle period's countdown ran.
   */
  private Instant warnAt() {
    Instant idleSince = idleSince();
    if (idleSince == null || (!stopsServer && idleSince.equals(reportedIdleSince))) {
      return null;
    }
    return later(idleSince.plus(idleTimeout), extendedUntil);
  }

  private Instant idleSince() {
    if (activity.ongoing()) {
      return null;
    }
    return later(idleFloor, activity.lastActivity());
  }

  // ---------------------------------------------------------------------------------------------
  // Wake requests and a person's commands

  /**
   * A connection to a known forward or a Docker request arrived (the proxies ask this while the
   * server is not running). Stopped or failed: START. Stopping, or the status not known yet: the
   * start is queued and follows. Starting: nothing (the client waits for the start under way).
   * Running: counts as activity; during the countdown it calls the stop off.
   *
   * @param why what arrived, for the reason ("a connection to 4f1c2d3e4f5a/tcp/8080")
   */
  public Decision wake(Instant now, String why) {
    Objects.requireNonNull(now, "now");
    Objects.requireNonNull(why, "why");
    Snapshot before = snapshot();
    return switch (state) {
      case UNKNOWN -> {
        queue(why);
        reason = WAITING_FOR_STATUS + "; then starting for " + queuedStart;
        yield decide(before, now, Action.NONE, null);
      }
      case STOPPING -> {
        queue(why);
        reason = "stopping; then starting for " + queuedStart;
        yield decide(before, now, Action.NONE, null);
      }
      case STOPPED -> start(before, now, why);
      case FAILED -> startFailedAt != null && now.isBefore(startFailedAt.plus(START_RETRY_PAUSE))
          ? decide(before, now, Action.FAIL_HELD, null) // this client gets the start's error at once
          : start(before, now, why);
      case STARTING -> decide(before, now, Action.NONE, null);
      case RUNNING -> {
        idleFloor = later(idleFloor, now);
        yield runningCheck(before, now, Action.NONE);
      }
      case IDLE_WARNING -> {
        idleFloor = later(idleFloor, now);
        yield cancelWarning(before, now, why + " during the " + (stopsServer ? "grace period" : "countdown")
            + "; stop cancelled");
      }
    };
  }

  /**
   * A person's {@code docktunnel server start}: as a {@link #wake} by "a start requested by a
   * person", but a failed state always starts again.
   */
  public Decision requestStart(Instant now) {
    Objects.requireNonNull(now, "now");
    if (state == LifecycleState.FAILED) {
      return start(snapshot(), now, "a start requested by a person");
    }
    return wake(now, "a start requested by a person");
  }

  /**
   * Why the clients held for a start get no server ({@link Action#FAIL_HELD}): the last start's
   * (or status') error; null when no start failed since the last success.
   */
  public String startError() {
    return startError;
  }

  /**
   * A person's {@code docktunnel server stop}: STOP at once, without a countdown and whatever the
   * activity (it is not an idle stop). Refused with the {@code static} provider, while the status is
   * not known yet, and while starting.
   */
  public Decision requestStop(Instant now) {
    Objects.requireNonNull(now, "now");
    Snapshot before = snapshot();
    if (!stopsServer) {
      return refuse(before, now, "the static provider does not stop the server (lifecycle.provider is static)");
    }
    return switch (state) {
      case UNKNOWN -> refuse(before, now, "the server's status is not known yet; try again in a moment");
      case STARTING -> refuse(before, now, "the server is starting; stop it once it is running");
      case STOPPING, STOPPED -> decide(before, now, Action.NONE, null);
      case RUNNING, IDLE_WARNING, FAILED -> {
        idleStop = false;
        enter(LifecycleState.STOPPING, now, "stop requested by a person");
        yield decide(before, now, Action.STOP, null);
      }
    };
  }

  /**
   * {@code docktunnel extend [DURATION]}: no countdown before {@code now + by} (a later extension
   * is kept; an earlier one changes nothing). During the countdown it calls the stop off. Refused
   * when the server is not running (stopping, stopped, failed); kept for after the start while
   * the status is unknown or the server is starting.
   *
   * @throws IllegalArgumentException when {@code by} is not positive
   */
  public Decision extend(Instant now, Duration by) {
    Objects.requireNonNull(now, "now");
    Objects.requireNonNull(by, "by");
    if (by.isNegative() || by.isZero()) {
      throw new IllegalArgumentException("extend duration must be positive, got " + by);
    }
    Snapshot before = snapshot();
    if (state == LifecycleState.STOPPING || state == LifecycleState.STOPPED || state == LifecycleState.FAILED) {
      return refuse(before, now, "the server is " + state.text()
          + ", there is nothing to extend; a connection, a Docker request or `docktunnel server start` starts it");
    }
    extendedUntil = later(extendedUntil, now.plus(by));
    reportedIdleSince = null;
    String why = "extended: no countdown before " + extendedUntil;
    return switch (state) {
      case RUNNING -> {
        reason = why;
        yield runningCheck(before, now, Action.NONE);
      }
      case IDLE_WARNING -> cancelWarning(before, now, why + "; stop cancelled");
      default -> decide(before, now, Action.NONE, null);
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Provider results

  /** The provider's status says the server runs (at start-up, or when the verticle asks again). */
  public Decision providerRunning(Instant now, String detail) {
    return providerRunning(now, detail, null);
  }

  /**
   * The provider's status says the server runs, at {@code at} ({@code host[:port]}) when it knows
   * (null: where it was): the session goes there.
   */
  public Decision providerRunning(Instant now, String detail, String at) {
    Objects.requireNonNull(now, "now");
    if (at != null && state != LifecycleState.STARTING && state != LifecycleState.STOPPING) {
      address = at; // an operation under way reports its own result
    }
    Snapshot before = snapshot();
    return switch (state) {
      case UNKNOWN, STOPPED, FAILED -> {
        String outside = state == LifecycleState.STOPPED ? " (started outside docktunnel)" : "";
        queuedStart = null;
        seenRunning(now, "the provider reports the server running" + outside + suffix(detail));
        yield runningCheck(before, now, Action.NONE);
      }
      case RUNNING, IDLE_WARNING -> evaluate(now, activity);
      // An operation is under way: its own result says how it ended.
      case STARTING, STOPPING -> decide(before, now, Action.NONE, null);
    };
  }

  /**
   * The provider's status says the server is stopped or does not exist ({@code Stopped},
   * {@code NotFound}). With a start queued (a wake while the status was unknown) it starts.
   */
  public Decision providerStopped(Instant now, String detail) {
    Objects.requireNonNull(now, "now");
    Snapshot before = snapshot();
    return switch (state) {
      case UNKNOWN -> {
        if (queuedStart != null) {
          yield start(before, now, takeQueued());
        }
        enter(LifecycleState.STOPPED, now, "the provider reports the server stopped" + suffix(detail));
        yield decide(before, now, Action.NONE, null);
      }
      case RUNNING, IDLE_WARNING, FAILED -> {
        enter(LifecycleState.STOPPED, now,
            "the provider reports the server stopped (outside docktunnel)" + suffix(detail));
        yield decide(before, now, Action.NONE, null);
      }
      case STOPPED, STARTING, STOPPING -> decide(before, now, Action.NONE, null);
    };
  }

  /**
   * The provider's status could not be read. Before the first status that is {@code failed} (and
   * clients held for a queued start get the reason); later it changes nothing: the state stays
   * what the last status or operation said, and the verticle WARNs.
   */
  public Decision providerStatusFailed(Instant now, String error) {
    Objects.requireNonNull(now, "now");
    Snapshot before = snapshot();
    if (state != LifecycleState.UNKNOWN) {
      return decide(before, now, Action.NONE, null);
    }
    boolean held = queuedStart != null;
    queuedStart = null;
    startError = "the provider's status failed: " + error;
    startFailedAt = now;
    enter(LifecycleState.FAILED, now, "the provider's status failed: " + error);
    return decide(before, now, held ? Action.FAIL_HELD : Action.NONE, null);
  }

  /** The START decision's provider call succeeded; the server is where it was. */
  public Decision started(Instant now) {
    return started(now, null);
  }

  /**
   * The START decision's provider call succeeded.
   *
   * @param newAddress where the provider says the server is now ({@code host[:port]}), or null
   *     for "where it was"
   */
  public Decision started(Instant now, String newAddress) {
    Objects.requireNonNull(now, "now");
    expect(LifecycleState.STARTING, "a start result");
    Snapshot before = snapshot();
    if (newAddress != null) {
      address = newAddress;
    }
    seenRunning(now, "started for " + startCause + (newAddress == null ? "" : " at " + newAddress));
    return runningCheck(before, now, Action.NONE);
  }

  /** The START decision's provider call failed (or timed out): {@code failed}, and the held clients get why. */
  public Decision startFailed(Instant now, String error) {
    Objects.requireNonNull(now, "now");
    expect(LifecycleState.STARTING, "a start result");
    Snapshot before = snapshot();
    startError = error;
    startFailedAt = now;
    enter(LifecycleState.FAILED, now, "start failed: " + error);
    return decide(before, now, Action.FAIL_HELD, null);
  }

  /** The STOP decision's provider call succeeded. With a start queued (a wake while stopping), it starts. */
  public Decision stopped(Instant now) {
    Objects.requireNonNull(now, "now");
    expect(LifecycleState.STOPPING, "a stop result");
    Snapshot before = snapshot();
    if (queuedStart != null) {
      return start(before, now, takeQueued());
    }
    enter(LifecycleState.STOPPED, now,
        idleStop ? "stopped after being idle since " + warnedIdleSince : "stopped on a person's request");
    return decide(before, now, Action.NONE, null);
  }

  /**
   * The STOP decision's provider call failed (or timed out): {@code failed} with why. With a start
   * queued, it starts instead (the server may well still be up; a start of a running server is
   * the provider's no-op).
   */
  public Decision stopFailed(Instant now, String error) {
    Objects.requireNonNull(now, "now");
    expect(LifecycleState.STOPPING, "a stop result");
    Snapshot before = snapshot();
    if (queuedStart != null) {
      return start(before, now, takeQueued() + " (after the stop failed: " + error + ")");
    }
    enter(LifecycleState.FAILED, now, "stop failed: " + error);
    return decide(before, now, Action.NONE, null);
  }

  /**
   * The verticle did not carry out an idle STOP because the activity count had changed
   * ({@link Decision#stopStillValid} was false): back to {@code running}, with the activity as it
   * is now.
   *
   * @throws IllegalStateException when no idle stop is under way
   */
  public Decision stopAborted(Instant now, ActivitySnapshot snapshot) {
    Objects.requireNonNull(now, "now");
    expect(LifecycleState.STOPPING, "an aborted stop");
    if (!idleStop) {
      throw new IllegalStateException("an aborted stop, but the stop under way is a person's, which is not aborted");
    }
    activity = Objects.requireNonNull(snapshot, "snapshot");
    Snapshot before = snapshot();
    queuedStart = null;
    return cancelForActivity(before, now, "stop aborted: activity arrived as it began" + detail());
  }

  // ---------------------------------------------------------------------------------------------

  private Decision start(Snapshot before, Instant now, String why) {
    startCause = why;
    enter(LifecycleState.STARTING, now, "starting for " + why);
    return decide(before, now, Action.START, null);
  }

  private void seenRunning(Instant now, String why) {
    startError = null;
    startFailedAt = null;
    idleFloor = later(idleFloor, now);
    reportedIdleSince = null;
    enter(LifecycleState.RUNNING, now, why);
  }

  private void queue(String why) {
    if (queuedStart == null) {
      queuedStart = why;
    }
  }

  private String takeQueued() {
    String why = queuedStart;
    queuedStart = null;
    return why;
  }

  private void expect(LifecycleState expected, String input) {
    if (state != expected) {
      throw new IllegalStateException(input + " while " + state.text() + ": only expected while " + expected.text());
    }
  }

  private void enter(LifecycleState next, Instant now, String why) {
    if (next != state) {
      since = now;
      state = next;
    }
    reason = why;
  }

  private String detail() {
    return activity.detail() == null ? "" : " (" + activity.detail() + ")";
  }

  private static String suffix(String detail) {
    return detail == null || detail.isBlank() ? "" : ": " + detail;
  }

  private static Instant later(Instant a, Instant b) {
    if (a == null) {
      return b;
    }
    return b == null || !b.isAfter(a) ? a : b;
  }

  private Decision refuse(Snapshot before, Instant now, String refusal) {
    return new Decision(Action.NONE, status(now), before.differs(this), nextCheck(now), null, refusal);
  }

  /**
   * The next instant something can change without an input: the countdown's start while running
   * (while something is open, one idle timeout from now: the ledger reports when it closes or stops
   * counting, and this re-check is only a safety net in case that report is lost), the stop while
   * warning, none otherwise.
   */
  private Instant nextCheck(Instant now) {
    return switch (state) {
      case RUNNING -> activity.ongoing() ? now.plus(idleTimeout) : warnAt();
      case IDLE_WARNING -> stopAt;
      default -> null;
    };
  }

  private Decision decide(Snapshot before, Instant now, Action action, Long stopIfActivityCount) {
    return new Decision(action, status(now), before.differs(this), nextCheck(now), stopIfActivityCount, null);
  }

  private Snapshot snapshot() {
    return new Snapshot(state, reason, state == LifecycleState.IDLE_WARNING ? stopAt : null, address);
  }

  /** What a published status shows; a change of any of it is a new fact. */
  private record Snapshot(LifecycleState state, String reason, Instant stopAt, String address) {
    boolean differs(IdlePolicy policy) {
      return !equals(policy.snapshot());
    }
  }
}

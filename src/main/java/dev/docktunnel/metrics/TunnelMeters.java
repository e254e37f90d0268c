package dev.docktunnel.metrics;

import dev.docktunnel.bus.ActivityBytes;
import dev.docktunnel.bus.ActivityConnection;
import dev.docktunnel.bus.ActivityReason;
import dev.docktunnel.bus.ActivityState;
import dev.docktunnel.bus.ContainersSynced;
import dev.docktunnel.bus.ContainersUnsynced;
import dev.docktunnel.bus.DockerSocketStatus;
import dev.docktunnel.bus.ForwardStatus;
import dev.docktunnel.bus.LifecycleState;
import dev.docktunnel.bus.LifecycleStatus;
import dev.docktunnel.bus.SessionState;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToDoubleFunction;

/**
 * docktunnel's own meters, kept from the typed facts. Per forward (tags {@code forward},
 * {@code container}, {@code local_port}): bytes by direction, open connections, connections
 * total and failed; they are removed with the forward ({@code stopped}), so container churn
 * leaves nothing behind. Process-wide: forwards by state, the SSH session's state, reconnects,
 * the engine's sync state, resyncs and event-stream breaks, the activity age, the local Docker
 * socket's counters, the server's lifecycle (state, transitions, the stop countdown) and the
 * activity ledger's picture (idle, idle time, reasons by source, its own fault counts).
 *
 * <p>Threads: the {@code on*} methods run on one context (the {@link MetricsVerticle}'s); a
 * scrape reads from another, so what it reads is in concurrent maps and volatile fields.
 */
public final class TunnelMeters {
  static final String FORWARD_BYTES = "docktunnel.forward.bytes";
  static final String FORWARD_OPEN = "docktunnel.forward.connections.open";
  static final String FORWARD_CONNECTIONS = "docktunnel.forward.connections";
  static final String FORWARD_FAILED = "docktunnel.forward.connections.failed";

  private final MeterRegistry registry;
  private final Clock clock;
  private final Map<String, ForwardMeters> forwards = new ConcurrentHashMap<>();
  private final Counter reconnects;
  private final Counter resyncs;
  private final Counter streamBreaks;
  private volatile SessionState.State sessionState;
  private volatile boolean everConnected;
  private volatile boolean synced;
  private volatile boolean everSynced;
  /** The last byte or connection event through any forward; the start until there is one. */
  private volatile Instant lastActivity;
  /** The local Docker socket's last status fact; null before it listens. */
  private volatile DockerSocketStatus dockerSocket;
  /** The lifecycle's last fact; null before the first (its state reads as {@code unknown} then). */
  private volatile LifecycleStatus lifecycle;
  private final Map<LifecycleState, Counter> transitions = new EnumMap<>(LifecycleState.class);
  /** {@code docktunnel.lifecycle.info{provider}}, registered by the first lifecycle fact; owner context only. */
  private Gauge lifecycleInfo;
  /** The activity ledger's last picture; null before the first. */
  private volatile ActivityState activity;

  public TunnelMeters(MeterRegistry registry, Clock clock) {
    this.registry = registry;
    this.clock = clock;
    this.lastActivity = clock.instant();
    for (ForwardStatus.Status status : ForwardStatus.Status.values()) {
      if (status != ForwardStatus.Status.STOPPED) { // stopped forwards are gone, never counted
        Gauge.builder("docktunnel.forwards", this, m -> m.countIn(status))
            .description("Forwards by state").tag("state", status.text()).register(registry);
      }
    }
    for (SessionState.State state : SessionState.State.values()) {
      Gauge.builder("docktunnel.ssh.state", this, m -> m.sessionState == state ? 1 : 0)
          .description("1 for the SSH session's current state, 0 for the others").tag("state", state.text())
          .register(registry);
    }
    reconnects = Counter.builder("docktunnel.ssh.reconnects")
        .description("SSH sessions established again after a lost one").register(registry);
    Gauge.builder("docktunnel.engine.synced", this, m -> m.synced ? 1 : 0)
        .description("1 while the container picture is synced with the engine's event stream").register(registry);
    resyncs = Counter.builder("docktunnel.engine.resyncs")
        .description("Full container resyncs after the first sync (after a reconnect or a stream break)")
        .register(registry);
    streamBreaks = Counter.builder("docktunnel.engine.stream.breaks")
        .description("Times the engine's event stream broke or a sync failed").register(registry);
    Gauge.builder("docktunnel.activity.age", this, TunnelMeters::activityAgeSeconds).baseUnit("seconds")
        .description("Seconds since the last byte or connection through any forward (0 while a connection is open;"
            + " counted from the start until the first)").register(registry);
    registerDockerSocketMeters();
    registerLifecycleMeters();
    registerActivityStateMeters();
  }

  /**
   * The lifecycle's meters, read from its last fact. Every state's series exists from the start
   * ({@code unknown} is 1 until the first fact), so a dashboard never sees one appear.
   */
  private void registerLifecycleMeters() {
    for (LifecycleState state : LifecycleState.values()) {
      Gauge.builder("docktunnel.lifecycle.state", this, m -> m.lifecycleState() == state ? 1 : 0)
          .description("1 for the server's current lifecycle state, 0 for the others").tag("state", state.text())
          .register(registry);
      transitions.put(state, Counter.builder("docktunnel.lifecycle.transitions")
          .description("Lifecycle state changes, by the state entered").tag("state", state.text()).register(registry));
    }
    Gauge.builder("docktunnel.lifecycle.stop.countdown", this, TunnelMeters::stopCountdownSeconds)
        .baseUnit("seconds").description("Seconds until the idle stop while idle-warning, 0 otherwise")
        .register(registry);
  }

  /** The activity ledger's meters, read from its last picture (0 until the first). */
  private void registerActivityStateMeters() {
    Gauge.builder("docktunnel.activity.idle", this, m -> m.activity(a -> a.idle() ? 1 : 0))
        .description("1 while the activity ledger finds nothing open and no activity for lifecycle.idleTimeout")
        .register(registry);
    Gauge.builder("docktunnel.activity.idle.seconds", this, m -> m.activity(m::idleSeconds)).baseUnit("seconds")
        .description("Seconds since the activity ledger's last activity (Docker and forwards; 0 while something"
            + " open counts)").register(registry);
    for (ActivityReason.Source source : ActivityReason.Source.values()) {
      Gauge.builder("docktunnel.activity.reasons", this,
              m -> m.activity(a -> a.reasons().stream().filter(r -> r.source() == source).count()))
          .description("Why the server is not idle: the ledger's current reasons, by source")
          .tag("source", source.text()).register(registry);
    }
    FunctionCounter.builder("docktunnel.activity.unreadable.facts", this,
            m -> m.activity(ActivityState::unreadableFacts))
        .description("Activity facts the ledger could not read (each also a WARN)").register(registry);
    FunctionCounter.builder("docktunnel.activity.unmatched.ends", this, m -> m.activity(ActivityState::unmatchedEnds))
        .description("Closes of connections or streams the ledger never saw open (each also a WARN)")
        .register(registry);
  }

  /** The local Docker socket's meters, read from its last status fact (0 until it listens). */
  private void registerDockerSocketMeters() {
    Gauge.builder("docktunnel.docker.socket.listening", this, m -> docker(d -> d.listening() ? 1 : 0))
        .description("1 while the local Docker socket accepts connections").register(registry);
    Gauge.builder("docktunnel.docker.connections.open", this, m -> docker(DockerSocketStatus::openConnections))
        .description("Docker API connections open through the local socket").register(registry);
    FunctionCounter.builder("docktunnel.docker.connections", this, m -> docker(DockerSocketStatus::connectionsTotal))
        .description("Docker API connections accepted by the local socket").register(registry);
    FunctionCounter.builder("docktunnel.docker.connections.failed", this,
            m -> docker(DockerSocketStatus::connectionsFailed))
        .description("Docker API connections ended by a fault (each also a WARN)").register(registry);
    FunctionCounter.builder("docktunnel.docker.requests", this, m -> docker(DockerSocketStatus::requestsTotal))
        .description("Docker API requests through the local socket").register(registry);
    Gauge.builder("docktunnel.docker.streams.open", this, m -> docker(DockerSocketStatus::openStreams))
        .description("Long-lived Docker responses open now (logs -f, exec, attach, events, wait)").register(registry);
    FunctionCounter.builder("docktunnel.docker.start.hold.timeouts", this,
            m -> docker(DockerSocketStatus::startHoldTimeouts))
        .description("Container starts answered before their forwards were up (docker.holdStart ran out)")
        .register(registry);
    FunctionCounter.builder("docktunnel.docker.bytes", this, m -> docker(DockerSocketStatus::bytesIn))
        .description("Bytes through the local Docker socket").tag("direction", "in").register(registry);
    FunctionCounter.builder("docktunnel.docker.bytes", this, m -> docker(DockerSocketStatus::bytesOut))
        .description("Bytes through the local Docker socket").tag("direction", "out").register(registry);
  }

  private double docker(ToDoubleFunction<DockerSocketStatus> value) {
    DockerSocketStatus now = dockerSocket;
    return now == null ? 0 : value.applyAsDouble(now);
  }

  public void onDockerSocket(DockerSocketStatus fact) {
    dockerSocket = fact;
  }

  /** A fact whose state differs from the last one's (from {@code unknown} for the first) is a transition. */
  public void onLifecycle(LifecycleStatus fact) {
    if (fact.state() != lifecycleState()) {
      transitions.get(fact.state()).increment();
    }
    if (lifecycleInfo == null || !fact.provider().equals(lifecycleInfo.getId().getTag("provider"))) {
      if (lifecycleInfo != null) {
        registry.remove(lifecycleInfo); // another provider (not within one run today): its series goes
      }
      lifecycleInfo = Gauge.builder("docktunnel.lifecycle.info", () -> 1)
          .description("1, labelled with the lifecycle's provider (lifecycle.provider)")
          .tag("provider", fact.provider()).register(registry);
    }
    lifecycle = fact;
  }

  public void onActivityState(ActivityState fact) {
    activity = fact;
  }

  private LifecycleState lifecycleState() {
    LifecycleStatus now = lifecycle;
    return now == null ? LifecycleState.UNKNOWN : now.state();
  }

  /** Read at scrape time, so it counts down between facts (a fact comes when the countdown starts, moves or ends). */
  private double stopCountdownSeconds() {
    LifecycleStatus now = lifecycle;
    if (now == null || now.state() != LifecycleState.IDLE_WARNING || now.stopAt() == null) {
      return 0;
    }
    return Math.max(0, Duration.between(clock.instant(), now.stopAt()).toMillis() / 1000.0);
  }

  private double activity(ToDoubleFunction<ActivityState> value) {
    ActivityState now = activity;
    return now == null ? 0 : value.applyAsDouble(now);
  }

  /**
   * Read at scrape time from {@code lastActivityAt}: the ledger publishes a picture only when it
   * changes, not as the idle time grows. 0 while something open counts (the ledger's
   * {@code lastActivityAt} is "now" then, frozen in the fact).
   */
  private double idleSeconds(ActivityState state) {
    if (state.idleForMs() == 0 && state.reasons().stream().anyMatch(ActivityReason::open)) {
      return 0;
    }
    return Math.max(0, Duration.between(state.lastActivityAt(), clock.instant()).toMillis() / 1000.0);
  }

  public void onForwardStatus(ForwardStatus fact) {
    if (fact.status() == ForwardStatus.Status.STOPPED) {
      ForwardMeters gone = forwards.remove(fact.id());
      if (gone != null) {
        gone.remove(registry);
      }
      return;
    }
    ForwardMeters meters = forwards.get(fact.id());
    if (meters == null || !meters.sameTags(fact)) {
      if (meters != null) {
        meters.remove(registry); // a next-free port or a renamed container: the series' labels change
      }
      meters = new ForwardMeters(fact, registry);
      forwards.put(fact.id(), meters);
    }
    meters.status = fact.status();
    meters.update(fact.bytesIn(), fact.bytesOut(), fact.openConnections(), fact.connectionsTotal(),
        fact.connectionsFailed());
  }

  /** Counters of a forward we know; late counts of a removed forward are dropped, not re-registered. */
  public void onBytes(ActivityBytes fact) {
    ForwardMeters meters = forwards.get(fact.forwardId());
    if (meters != null) {
      meters.update(fact.bytesIn(), fact.bytesOut(), fact.openConnections(), fact.connectionsTotal(),
          fact.connectionsFailed());
    }
    touch(fact.at());
  }

  public void onConnection(ActivityConnection fact) {
    touch(fact.at());
  }

  public void onSession(SessionState fact) {
    if (fact.state() == SessionState.State.CONNECTED) {
      if (everConnected && sessionState != SessionState.State.CONNECTED) {
        reconnects.increment();
      }
      everConnected = true;
    }
    sessionState = fact.state();
  }

  public void onSynced(ContainersSynced fact) {
    if (everSynced) {
      resyncs.increment();
    }
    everSynced = true;
    synced = true;
  }

  public void onUnsynced(ContainersUnsynced fact) {
    synced = false;
    streamBreaks.increment();
  }

  /** The forwards that have meters now, by id (for tests and diagnostics). */
  public List<String> forwardIds() {
    return List.copyOf(forwards.keySet());
  }

  private void touch(Instant at) {
    if (at.isAfter(lastActivity)) {
      lastActivity = at;
    }
  }

  private double countIn(ForwardStatus.Status status) {
    return forwards.values().stream().filter(f -> f.status == status).count();
  }

  private double activityAgeSeconds() {
    if (forwards.values().stream().anyMatch(f -> f.open > 0)) {
      return 0;
    }
    return Math.max(0, Duration.between(lastActivity, clock.instant()).toMillis() / 1000.0);
  }

  /** One forward's meters and the counts they read, as the forward verticle last reported them. */
  private static final class ForwardMeters {
    private final String containerName;
    private final int localPort;
    private final List<Meter> meters;
    private volatile ForwardStatus.Status status;
    private volatile long bytesIn;
    private volatile long bytesOut;
    private volatile int open;
    private volatile long total;
    private volatile long failed;

    ForwardMeters(ForwardStatus fact, MeterRegistry registry) {
      this.containerName = fact.containerName();
      this.localPort = fact.localPort();
      Tags tags = Tags.of("forward", fact.id(), "container", String.valueOf(fact.containerName()),
          "local_port", Integer.toString(fact.localPort()));
      meters = List.of(
          FunctionCounter.builder(FORWARD_BYTES, this, m -> m.bytesIn).tags(tags).tag("direction", "in")
              .baseUnit("bytes").description("Bytes through a forward; in: remote to local, out: local to remote")
              .register(registry),
          FunctionCounter.builder(FORWARD_BYTES, this, m -> m.bytesOut).tags(tags).tag("direction", "out")
              .baseUnit("bytes").description("Bytes through a forward; in: remote to local, out: local to remote")
              .register(registry),
          Gauge.builder(FORWARD_OPEN, this, m -> m.open).tags(tags)
              .description("Connections open through a forward").register(registry),
          FunctionCounter.builder(FORWARD_CONNECTIONS, this, m -> m.total).tags(tags)
              .description("Connections accepted by a forward").register(registry),
          FunctionCounter.builder(FORWARD_FAILED, this, m -> m.failed).tags(tags)
              .description("Connections of a forward that ended by a fault (each also a WARN)").register(registry));
    }

    boolean sameTags(ForwardStatus fact) {
      return localPort == fact.localPort() && String.valueOf(containerName).equals(String.valueOf(fact.containerName()));
    }

    void update(long bytesIn, long bytesOut, int open, long total, long failed) {
      this.bytesIn = bytesIn;
      this.bytesOut = bytesOut;
      this.open = open;
      this.total = total;
      this.failed = failed;
    }

    void remove(MeterRegistry registry) {
      meters.forEach(registry::remove);
    }
  }
}

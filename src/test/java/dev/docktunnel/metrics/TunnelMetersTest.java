package dev.docktunnel.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docktunnel.bus.ActivityBytes;
import dev.docktunnel.bus.ActivityReason;
import dev.docktunnel.bus.ActivityState;
import dev.docktunnel.bus.DockerSocketStatus;
import dev.docktunnel.bus.ActivityConnection;
import dev.docktunnel.bus.ContainersSynced;
import dev.docktunnel.bus.ContainersUnsynced;
import dev.docktunnel.bus.ForwardStatus;
import dev.docktunnel.bus.LifecycleState;
import dev.docktunnel.bus.LifecycleStatus;
import dev.docktunnel.bus.SessionState;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The meters from typed facts, with a hand-moved clock; no Vert.x except where its own meters are checked. */
class TunnelMetersTest {
  static final Instant T0 = Instant.parse("2026-12-01T10:00:00Z");

  final DocktunnelMetrics metrics = DocktunnelMetrics.create();
  final MeterRegistry registry = metrics.registry();
  Instant now = T0;
  final Clock clock = new Clock() {
    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  };
  final TunnelMeters meters = new TunnelMeters(registry, clock);

  @AfterEach
  void close() {
    metrics.close();
  }

  static ForwardStatus forward(String id, int localPort, ForwardStatus.Status status, int open, long in, long out) {
    return new ForwardStatus(id, "c1", "web", "tcp", 80, "127.0.0.1", 80, localPort, 80, List.of("127.0.0.1"),
        status, null, "s1", T0, T0, open, 1, 0, in, out);
  }

  double gauge(String name, String... tags) {
    return registry.get(name).tags(tags).gauge().value();
  }

  double counter(String name, String... tags) {
    var search = registry.find(name).tags(tags);
    return search.functionCounter() != null ? search.functionCounter().count() : search.counter().count();
  }

  @Test
  void forwardMetersFollowTheFactsAndGoWithTheForward() {
    meters.onForwardStatus(forward("a/tcp/80", 8080, ForwardStatus.Status.PENDING, 0, 0, 0));
    meters.onForwardStatus(forward("b/tcp/81", 8081, ForwardStatus.Status.CONFLICT, 0, 0, 0));
    assertEquals(1, gauge("docktunnel.forwards", "state", "pending"));
    assertEquals(1, gauge("docktunnel.forwards", "state", "conflict"));
    meters.onForwardStatus(forward("a/tcp/80", 8080, ForwardStatus.Status.ACTIVE, 0, 0, 0));
    meters.onBytes(new ActivityBytes("a/tcp/80", "c1", 8080, 1000, 20, 1, 4, 2, T0));
    assertEquals(1000, counter(TunnelMeters.FORWARD_BYTES, "forward", "a/tcp/80", "direction", "in"));
    assertEquals(20, counter(TunnelMeters.FORWARD_BYTES, "forward", "a/tcp/80", "direction", "out"));
    assertEquals(4, counter(TunnelMeters.FORWARD_CONNECTIONS, "forward", "a/tcp/80"));
    assertEquals(2, counter(TunnelMeters.FORWARD_FAILED, "forward", "a/tcp/80"));
    assertEquals(1, gauge(TunnelMeters.FORWARD_OPEN, "forward", "a/tcp/80"));
    assertEquals(1, gauge("docktunnel.forwards", "state", "active"));
    assertEquals(0, gauge("docktunnel.forwards", "state", "pending"));

    // A next-free move changes the local_port label: the old series goes.
    meters.onForwardStatus(forward("b/tcp/81", 8082, ForwardStatus.Status.ACTIVE, 0, 0, 0));
    assertNull(registry.find(TunnelMeters.FORWARD_OPEN).tags("local_port", "8081").gauge());
    assertEquals(0, gauge(TunnelMeters.FORWARD_OPEN, "forward", "b/tcp/81", "local_port", "8082"));

    meters.onForwardStatus(forward("a/tcp/80", 8080, ForwardStatus.Status.STOPPED, 0, 1000, 20));
    meters.onBytes(new ActivityBytes("a/tcp/80", "c1", 8080, 2000, 20, 0, 4, 2, T0)); // late: not resurrected
    assertTrue(registry.find(TunnelMeters.FORWARD_BYTES).tags("forward", "a/tcp/80").meters().isEmpty());
    assertEquals(List.of("b/tcp/81"), meters.forwardIds());
  }

  @Test
  void dockerSocketMetersReadItsLastStatusAndAreZeroBeforeIt() {
    assertEquals(0, gauge("docktunnel.docker.socket.listening"));
    assertEquals(0, counter("docktunnel.docker.requests"));
    meters.onDockerSocket(new DockerSocketStatus("/s/docker.sock", true, null, 2, 9, 1, 31, 1, 3, 4000, 500, T0));
    assertEquals(1, gauge("docktunnel.docker.socket.listening"));
    assertEquals(2, gauge("docktunnel.docker.connections.open"));
    assertEquals(9, counter("docktunnel.docker.connections"));
    assertEquals(1, counter("docktunnel.docker.connections.failed"));
    assertEquals(31, counter("docktunnel.docker.requests"));
    assertEquals(1, gauge("docktunnel.docker.streams.open"));
    assertEquals(3, counter("docktunnel.docker.start.hold.timeouts"));
    assertEquals(4000, counter("docktunnel.docker.bytes", "direction", "in"));
    assertEquals(500, counter("docktunnel.docker.bytes", "direction", "out"));
  }

  @Test
  void churnLeavesNoMetersBehind() {
    // Only the per-forward meters: the JVM's GC meters appear whenever a collection first runs.
    java.util.function.IntSupplier forwardMeters = () -> (int) registry.getMeters().stream()
        .filter(m -> m.getId().getName().startsWith("docktunnel.forward.")).count();
    int before = forwardMeters.getAsInt();
    for (int i = 0; i < 500; i++) {
      String id = "c" + i + "/tcp/80";
      meters.onForwardStatus(forward(id, 10_000 + i, ForwardStatus.Status.ACTIVE, 0, 0, 0));
      meters.onForwardStatus(forward(id, 10_000 + i, ForwardStatus.Status.STOPPED, 0, 0, 0));
    }
    assertEquals(before, forwardMeters.getAsInt());
  }

  @Test
  void reconnectsCountOnlySessionsEstablishedAgain() {
    SessionState.State[] sequence = {SessionState.State.CONNECTING, SessionState.State.CONNECTED,
        SessionState.State.CONNECTED, SessionState.State.RECONNECTING, SessionState.State.RECONNECTING,
        SessionState.State.CONNECTED, SessionState.State.RECONNECTING, SessionState.State.FAILED,
        SessionState.State.CONNECTED};
    for (SessionState.State state : sequence) {
      meters.onSession(new SessionState(state, "ssh://u@h", "", now, 1, null));
    }
    assertEquals(2, counter("docktunnel.ssh.reconnects"));
    assertEquals(1, gauge("docktunnel.ssh.state", "state", "connected"));
    assertEquals(0, gauge("docktunnel.ssh.state", "state", "reconnecting"));
  }

  @Test
  void resyncsAreTheSyncsAfterTheFirst() {
    meters.onSynced(new ContainersSynced(List.of(), "27", now));
    assertEquals(1, gauge("docktunnel.engine.synced"));
    meters.onUnsynced(new ContainersUnsynced("event stream broke", now));
    assertEquals(0, gauge("docktunnel.engine.synced"));
    meters.onSynced(new ContainersSynced(List.of(), "27", now));
    assertEquals(1, counter("docktunnel.engine.resyncs"));
    assertEquals(1, counter("docktunnel.engine.stream.breaks"));
  }

  @Test
  void activityAgeCountsFromTheLastByteOrConnectionAndIsZeroWhileOneIsOpen() {
    now = T0.plusSeconds(30);
    assertEquals(30, gauge("docktunnel.activity.age"), "from the start until the first activity");
    meters.onForwardStatus(forward("a/tcp/80", 8080, ForwardStatus.Status.ACTIVE, 0, 0, 0));
    meters.onConnection(new ActivityConnection(ActivityConnection.Event.OPENED, "a/tcp/80", "c1", 8080, "/127.0.0.1:1",
        0, 0, now));
    meters.onBytes(new ActivityBytes("a/tcp/80", "c1", 8080, 5, 5, 1, 1, 0, now));
    now = now.plusSeconds(100);
    assertEquals(0, gauge("docktunnel.activity.age"), "an open connection is activity");
    meters.onBytes(new ActivityBytes("a/tcp/80", "c1", 8080, 5, 5, 0, 1, 0, T0.plusSeconds(31)));
    assertEquals(99, gauge("docktunnel.activity.age"));
    meters.onConnection(new ActivityConnection(ActivityConnection.Event.CLOSED, "a/tcp/80", "c1", 8080, "/127.0.0.1:1",
        5, 5, now.minus(Duration.ofMillis(1500))));
    assertEquals(1.5, gauge("docktunnel.activity.age"));
  }

  static LifecycleStatus lifecycle(LifecycleState state, String provider, Instant stopAt) {
    return new LifecycleStatus(state, provider, "because", T0, stopAt, null, 1_800_000, 60_000, T0);
  }

  static ActivityReason reason(ActivityReason.Source source, boolean open, Instant at) {
    return new ActivityReason(source, open, null, null, null, "detail", at, 0);
  }

  static ActivityState activity(boolean idle, Instant lastActivityAt, long idleForMs, List<ActivityReason> reasons,
      long unreadable, long unmatched) {
    return new ActivityState(idle, lastActivityAt, idleForMs, 1_800_000, 7, reasons, unreadable, unmatched,
        lastActivityAt.plusMillis(idleForMs), 1);
  }

  double lifecycleState(LifecycleState state) {
    return gauge("docktunnel.lifecycle.state", "state", state.text());
  }

  @Test
  void lifecycleStateIsUnknownUntilTheFirstFactThenOneStateAtATime() {
    for (LifecycleState state : LifecycleState.values()) {
      assertEquals(state == LifecycleState.UNKNOWN ? 1 : 0, lifecycleState(state), state.text());
    }
    assertNull(registry.find("docktunnel.lifecycle.info").gauge(), "no provider named before the first fact");
    meters.onLifecycle(lifecycle(LifecycleState.RUNNING, "command", null));
    for (LifecycleState state : LifecycleState.values()) {
      assertEquals(state == LifecycleState.RUNNING ? 1 : 0, lifecycleState(state), state.text());
    }
    assertEquals(1, gauge("docktunnel.lifecycle.info", "provider", "command"));
    meters.onLifecycle(lifecycle(LifecycleState.STOPPING, "hetzner", null));
    assertEquals(1, lifecycleState(LifecycleState.STOPPING));
    assertEquals(0, lifecycleState(LifecycleState.RUNNING));
    assertEquals(1, gauge("docktunnel.lifecycle.info", "provider", "hetzner"));
    assertEquals(1, registry.find("docktunnel.lifecycle.info").gauges().size(), "one provider series at a time");
  }

  @Test
  void transitionsCountEachStateEnteredNotEachFact() {
    LifecycleState[] sequence = {LifecycleState.UNKNOWN, LifecycleState.RUNNING, LifecycleState.RUNNING,
        LifecycleState.IDLE_WARNING, LifecycleState.IDLE_WARNING, LifecycleState.RUNNING, LifecycleState.IDLE_WARNING,
        LifecycleState.STOPPING, LifecycleState.STOPPED, LifecycleState.STARTING, LifecycleState.FAILED,
        LifecycleState.STARTING, LifecycleState.RUNNING};
    for (LifecycleState state : sequence) {
      meters.onLifecycle(lifecycle(state, "command", state == LifecycleState.IDLE_WARNING ? T0.plusSeconds(60) : null));
    }
    assertEquals(0, counter("docktunnel.lifecycle.transitions", "state", "unknown"), "unknown was the start");
    assertEquals(3, counter("docktunnel.lifecycle.transitions", "state", "running"));
    assertEquals(2, counter("docktunnel.lifecycle.transitions", "state", "idle-warning"), "a moved stopAt is none");
    assertEquals(1, counter("docktunnel.lifecycle.transitions", "state", "stopping"));
    assertEquals(1, counter("docktunnel.lifecycle.transitions", "state", "stopped"));
    assertEquals(2, counter("docktunnel.lifecycle.transitions", "state", "starting"));
    assertEquals(1, counter("docktunnel.lifecycle.transitions", "state", "failed"));
  }

  @Test
  void stopCountdownIsReadAtScrapeTimeAndZeroOutsideTheWarning() {
    assertEquals(0, gauge("docktunnel.lifecycle.stop.countdown"), "before any fact");
    meters.onLifecycle(lifecycle(LifecycleState.RUNNING, "static", null));
    assertEquals(0, gauge("docktunnel.lifecycle.stop.countdown"));
    meters.onLifecycle(lifecycle(LifecycleState.IDLE_WARNING, "static", T0.plusSeconds(60)));
    assertEquals(60, gauge("docktunnel.lifecycle.stop.countdown"));
    now = T0.plusMillis(15_500);
    assertEquals(44.5, gauge("docktunnel.lifecycle.stop.countdown"), "no new fact: the scrape counts down");
    meters.onLifecycle(lifecycle(LifecycleState.IDLE_WARNING, "static", T0.plusSeconds(600))); // extended
    assertEquals(584.5, gauge("docktunnel.lifecycle.stop.countdown"));
    now = T0.plusSeconds(700);
    assertEquals(0, gauge("docktunnel.lifecycle.stop.countdown"), "past stopAt: 0, never negative");
    meters.onLifecycle(lifecycle(LifecycleState.STOPPING, "static", null));
    assertEquals(0, gauge("docktunnel.lifecycle.stop.countdown"));
  }

  @Test
  void activityMetersReadTheLedgersLastPictureAndAreZeroBeforeIt() {
    now = T0.plusSeconds(30);
    assertEquals(0, gauge("docktunnel.activity.idle"));
    assertEquals(0, gauge("docktunnel.activity.idle.seconds"));
    for (ActivityReason.Source source : ActivityReason.Source.values()) {
      assertEquals(0, gauge("docktunnel.activity.reasons", "source", source.text()), source.text());
    }
    assertEquals(0, counter("docktunnel.activity.unreadable.facts"));
    assertEquals(0, counter("docktunnel.activity.unmatched.ends"));

    // Something open counts: 0 however long the picture stays the same.
    meters.onActivityState(activity(false, now, 0, List.of(
        reason(ActivityReason.Source.FORWARD_CONNECTION, true, T0),
        reason(ActivityReason.Source.DOCKER_STREAM, true, T0),
        reason(ActivityReason.Source.DOCKER_REQUEST, false, T0),
        reason(ActivityReason.Source.DOCKER_REQUEST, false, T0.plusSeconds(1))), 2, 1));
    now = now.plusSeconds(500);
    assertEquals(0, gauge("docktunnel.activity.idle"));
    assertEquals(0, gauge("docktunnel.activity.idle.seconds"), "an open connection is activity");
    assertEquals(1, gauge("docktunnel.activity.reasons", "source", "forward-connection"));
    assertEquals(1, gauge("docktunnel.activity.reasons", "source", "docker-stream"));
    assertEquals(2, gauge("docktunnel.activity.reasons", "source", "docker-request"));
    assertEquals(0, gauge("docktunnel.activity.reasons", "source", "forward-bytes"));
    assertEquals(2, counter("docktunnel.activity.unreadable.facts"));
    assertEquals(1, counter("docktunnel.activity.unmatched.ends"));

    // Closed: the idle time grows at scrape time from lastActivityAt, between facts.
    Instant closed = now;
    meters.onActivityState(activity(false, closed, 0, List.of(reason(ActivityReason.Source.FORWARD_CONNECTION, false,
        closed)), 2, 1));
    now = closed.plusMillis(2500);
    assertEquals(2.5, gauge("docktunnel.activity.idle.seconds"), "a moment, nothing open");
    assertEquals(1, gauge("docktunnel.activity.reasons", "source", "forward-connection"));
    assertEquals(0, gauge("docktunnel.activity.reasons", "source", "docker-stream"));
    meters.onActivityState(activity(true, closed, 1_800_000, List.of(), 3, 1));
    now = closed.plusSeconds(1900);
    assertEquals(1, gauge("docktunnel.activity.idle"));
    assertEquals(1900, gauge("docktunnel.activity.idle.seconds"));
    assertEquals(0, gauge("docktunnel.activity.reasons", "source", "forward-connection"));
    assertEquals(3, counter("docktunnel.activity.unreadable.facts"));
  }

  /** The names as Prometheus shows them, and every lifecycle state's series from the start. */
  @Test
  void lifecycleAndActivityNamesAsScraped() {
    String before = metrics.registry().scrape();
    for (LifecycleState state : LifecycleState.values()) {
      String series = "{state=\"" + state.text() + "\"}";
      int value = state == LifecycleState.UNKNOWN ? 1 : 0;
      assertTrue(before.contains("docktunnel_lifecycle_state" + series + " " + value), state.text() + ":\n" + before);
      assertTrue(before.contains("docktunnel_lifecycle_transitions_total" + series + " 0"), state.text());
    }
    meters.onLifecycle(lifecycle(LifecycleState.IDLE_WARNING, "command", T0.plusSeconds(90)));
    meters.onActivityState(activity(true, T0, 1_800_000, List.of(), 4, 5));
    now = T0.plusSeconds(30);
    String text = metrics.registry().scrape();
    for (String line : List.of("docktunnel_lifecycle_state{state=\"idle-warning\"} 1",
        "docktunnel_lifecycle_transitions_total{state=\"idle-warning\"} 1",
        "docktunnel_lifecycle_info{provider=\"command\"} 1", "docktunnel_lifecycle_stop_countdown_seconds 60",
        "docktunnel_activity_idle 1", "docktunnel_activity_idle_seconds 30",
        "docktunnel_activity_reasons{source=\"docker-request\"} 0",
        "docktunnel_activity_unreadable_facts_total 4", "docktunnel_activity_unmatched_ends_total 5")) {
      assertTrue(text.contains(line), line + " missing in:\n" + text);
    }
    assertFalse(text.contains("NaN"), text);
  }

  /** JVM and Vert.x meters are renamed into our namespace; the Vert.x HTTP server's show once it serves. */
  @Test
  void everyNameIsOurs() throws Exception {
    Vertx vertx = Vertx.builder().with(metrics.enableIn(new VertxOptions())).withMetrics(metrics.vertxMetricsFactory())
        .build();
    try {
      var server = vertx.createHttpServer().requestHandler(r -> r.response().end("x")).listen(0, "127.0.0.1")
          .await(10, TimeUnit.SECONDS);
      var client = vertx.createHttpClient();
      client.request(io.vertx.core.http.HttpMethod.GET, server.actualPort(), "127.0.0.1", "/")
          .compose(req -> req.send().compose(resp -> resp.body())).await(10, TimeUnit.SECONDS);
      String text = metrics.registry().scrape();
      for (String family : List.of("docktunnel_jvm_memory_used_bytes", "docktunnel_jvm_gc_", "docktunnel_jvm_threads_live",
          "docktunnel_process_cpu_usage", "docktunnel_process_uptime_seconds", "docktunnel_vertx_http_server_",
          "docktunnel_forwards{", "docktunnel_ssh_state{", "docktunnel_activity_age_seconds")) {
        assertTrue(text.contains(family), family + " missing in:\n" + text);
      }
      for (String line : text.split("\n")) {
        String name = line.startsWith("# ") ? line.split(" ")[2] : line;
        assertTrue(line.isBlank() || name.startsWith("docktunnel_"), "not in our namespace: " + line);
      }
      assertFalse(text.contains("vertx_http_client"), "the unused client domain is off");
    } finally {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }
}

package dev.docktunnel.state;

import dev.docktunnel.bus.ActivityBytes;
import dev.docktunnel.bus.Addresses;
import dev.docktunnel.bus.DockerSocketStatus;
import dev.docktunnel.bus.Endpoint;
import dev.docktunnel.bus.LifecycleStatus;
import dev.docktunnel.bus.Facts;
import dev.docktunnel.bus.ForwardStatus;
import dev.docktunnel.bus.SessionState;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the state file true: listens to the session's and the forwards' facts and writes the
 * record at once on every change of a forward's status or of the session, every
 * {@link #PERIOD_MS} while bytes moved, and at least every {@link #HEARTBEAT_MS} otherwise, so a
 * live daemon's file never reads as stale ({@link HostState#STALE_AFTER}). A graceful stop writes
 * {@code running: false} with {@code stoppedAt}. Owns the record on its context; the file I/O
 * runs on a worker, one write at a time, in order. Answers {@link Addresses#STATUS} with the
 * same record as a {@link StatusDocument}, current to the {@code seq} of the last fact applied
 * (facts reach us in seq order, see {@link Facts}).
 */
public final class StateWriterVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(StateWriterVerticle.class);
  static final long PERIOD_MS = 2_000;
  static final long HEARTBEAT_MS = 5_000;

  private final StateFile file;
  private final String host;
  private final Clock clock;
  private final String sessionId = UUID.randomUUID().toString();
  private final Instant startedAt;
  /** By forward id, in the order they appeared. */
  private final Map<String, HostState.Forward> forwards = new LinkedHashMap<>();
  private HostState.Ssh ssh;
  private Integer httpPort;
  private Integer bridgePort;
  private HostState.DockerSocket dockerSocket;
  private HostState.Server server;
  private long lastSeq;
  private long malformedFacts;
  private boolean changed;
  private boolean writing;
  private boolean writeAgain;
  private boolean stopping;
  private long lastWriteMs;
  private long failedWrites;

  /**
   * @param file where the record goes
   * @param host the host as the user gave it ({@code --host})
   */
  public StateWriterVerticle(StateFile file, String host, Clock clock) {
    this.file = file;
    this.host = host;
    this.clock = clock;
    this.startedAt = clock.instant();
    this.ssh = new HostState.Ssh("connecting", "starting", startedAt);
  }

  @Override
  public Future<?> start() {
    var bus = vertx.eventBus();
    vertx.setPeriodic(PERIOD_MS, id -> {
      if (changed || clock.millis() - lastWriteMs >= HEARTBEAT_MS) {
        write();
      }
    });
    return Future.all(
        bus.<JsonObject>consumer(Addresses.SSH_STATE, m -> apply(m.body(), this::onSsh)).completion(),
        bus.<JsonObject>consumer(Addresses.FORWARD_STATUS, m -> apply(m.body(), this::onForward)).completion(),
        bus.<JsonObject>consumer(Addresses.ACTIVITY_BYTES, m -> apply(m.body(), this::onBytes)).completion(),
        bus.<JsonObject>consumer(Addresses.ENDPOINT, m -> apply(m.body(), this::onEndpoint)).completion(),
        bus.<JsonObject>consumer(Addresses.DOCKER_SOCKET, m -> apply(m.body(), this::onDockerSocket)).completion(),
        bus.<JsonObject>consumer(Addresses.LIFECYCLE, m -> apply(m.body(), this::onLifecycle)).completion(),
        bus.<JsonObject>consumer(Addresses.STATUS, m -> m.reply(StatusDocument.live(record(true), lastSeq)))
            .completion())
        .compose(v -> writeNow(record(true)));
  }

  /** The last record, marked stopped; awaited so the file is final before the process ends. */
  @Override
  public Future<?> stop() {
    stopping = true;
    return writeNow(record(false));
  }

  /** Applies one fact; a malformed one is a WARN naming it, and counted. */
  private void apply(JsonObject fact, Consumer<JsonObject> handler) {
    try {
      handler.accept(fact);
    } catch (IllegalArgumentException e) {
      malformedFacts++;
      LOG.warn("state file: ignoring a malformed fact ({} so far): {}", malformedFacts, e.getMessage());
    }
    lastSeq = Math.max(lastSeq, Facts.seqOf(fact));
  }

  private void onSsh(JsonObject json) {
    SessionState fact = SessionState.fromJson(json);
    ssh = new HostState.Ssh(fact.state().text(), fact.reason(), fact.at());
    write();
  }

  private void onForward(JsonObject json) {
    ForwardStatus fact = ForwardStatus.fromJson(json);
    if (fact.status() == ForwardStatus.Status.STOPPED || fact.status() == ForwardStatus.Status.REJECTED) {
      forwards.remove(fact.id()); // a rejected forward has no local port: nothing to restore
    } else {
      forwards.put(fact.id(), new HostState.Forward(fact.containerId(), fact.containerName(),
          fact.bindAddresses().isEmpty() ? "127.0.0.1" : fact.bindAddresses().get(0), fact.localPort(),
          fact.remotePort(), fact.status().text(), fact.reason(), fact.sessionId(), fact.createdAt(),
          fact.updatedAt(), fact.bytesIn(), fact.bytesOut(), fact.protocol(), fact.publishedPort(),
          fact.remoteHost(), fact.requestedLocalPort(), fact.openConnections(), fact.connectionsTotal(),
          fact.connectionsFailed()));
    }
    write();
  }

  /** Counters move often: written with the next periodic write, not at once. */
  private void onBytes(JsonObject json) {
    ActivityBytes fact = ActivityBytes.fromJson(json);
    HostState.Forward f = forwards.get(fact.forwardId());
    if (f != null) {
      forwards.put(fact.forwardId(), f.withCounters(fact.bytesIn(), fact.bytesOut(), fact.openConnections(),
          fact.connectionsTotal(), fact.connectionsFailed()));
      changed = true;
    }
  }

  private void onEndpoint(JsonObject json) {
    Endpoint fact = Endpoint.fromJson(json);
    switch (fact.kind()) {
      case HTTP -> httpPort = fact.port();
      case BRIDGE -> bridgePort = fact.port();
    }
    write();
  }

  /** Written at once when it starts or stops listening; its counters with the next periodic write. */
  private void onDockerSocket(JsonObject json) {
    DockerSocketStatus fact = DockerSocketStatus.fromJson(json);
    boolean listeningChanged = dockerSocket == null || dockerSocket.listening() != fact.listening();
    dockerSocket = new HostState.DockerSocket(fact.path(), fact.listening(), fact.openConnections(),
        fact.requestsTotal(), fact.openStreams());
    if (listeningChanged) {
      write();
    } else {
      changed = true;
    }
  }

  /** The server's lifecycle changes rarely and matters (a countdown): written at once. */
  private void onLifecycle(JsonObject json) {
    LifecycleStatus fact = LifecycleStatus.fromJson(json);
    server = new HostState.Server(fact.state().text(), fact.provider(), fact.reason(), fact.since(), fact.stopAt(),
        fact.address());
    write();
  }

  private HostState record(boolean running) {
    Instant now = clock.instant();
    return new HostState(HostState.VERSION, host, ProcessHandle.current().pid(), running, running ? null : now,
        startedAt, now, sessionId, ssh, List.copyOf(forwards.values()), httpPort, bridgePort,
        running || dockerSocket == null ? dockerSocket
            : new HostState.DockerSocket(dockerSocket.path(), false, 0, dockerSocket.requestsTotal(), 0),
        server);
  }

  /** Writes the current record now, or right after the write in flight. */
  private void write() {
    changed = true;
    if (stopping) {
      return; // the stop writes the last record
    }
    if (writing) {
      writeAgain = true;
      return;
    }
    writeNow(record(true));
  }

  private Future<Void> writeNow(HostState state) {
    changed = false;
    writing = true;
    lastWriteMs = clock.millis();
    return vertx.<Void>executeBlocking(() -> {
      file.write(state);
      return null;
    }).onComplete(done -> {
      writing = false;
      if (done.failed()) {
        failedWrites++;
        LOG.warn("state file {} not written ({} failed so far): {}", file.path(), failedWrites,
            done.cause().toString());
        changed = true; // the next period tries again
      }
      if (writeAgain && !stopping) {
        writeAgain = false;
        write();
      }
    });
  }
}

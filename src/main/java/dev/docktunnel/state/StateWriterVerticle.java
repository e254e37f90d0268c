package dev.docktunnel.state;

import dev.docktunnel.bus.Addresses;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the state file true: listens to the session's and the forwards' facts and writes the
 * record at once on every change of a forward's status or of the session, every
 * {@link #PERIOD_MS} while bytes moved, and at least every {@link #HEARTBEAT_MS} otherwise, so a
 * live daemon's file never reads as stale ({@link HostState#STALE_AFTER}). A graceful stop writes
 * {@code running: false} with {@code stoppedAt}. Owns the record on its context; the file I/O
 * runs on a worker, one write at a time, in order.
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
        bus.<JsonObject>consumer(Addresses.SSH_STATE, m -> onSsh(m.body())).completion(),
        bus.<JsonObject>consumer(Addresses.FORWARD_STATUS, m -> onForward(m.body())).completion(),
        bus.<JsonObject>consumer(Addresses.ACTIVITY_BYTES, m -> onBytes(m.body())).completion())
        .compose(v -> writeNow(record(true)));
  }

  /** The last record, marked stopped; awaited so the file is final before the process ends. */
  @Override
  public Future<?> stop() {
    stopping = true;
    return writeNow(record(false));
  }

  private void onSsh(JsonObject fact) {
    String state = fact.getString("state");
    if (state == null) {
      return; // not a session fact; SessionState's own consumers report such
    }
    ssh = new HostState.Ssh(state, fact.getString("reason"), parseTime(fact.getString("at")));
    write();
  }

  private void onForward(JsonObject fact) {
    String id = fact.getString("id");
    if (id == null) {
      return;
    }
    String status = fact.getString("status");
    if ("stopped".equals(status) || "rejected".equals(status)) {
      forwards.remove(id); // a rejected forward has no local port: nothing to restore
    } else {
      JsonArray addresses = fact.getJsonArray("bindAddresses", new JsonArray());
      HostState.Forward old = forwards.get(id);
      forwards.put(id, new HostState.Forward(fact.getString("containerId", ""), fact.getString("containerName", ""),
          addresses.isEmpty() ? "127.0.0.1" : addresses.getString(0), fact.getInteger("localPort", 0),
          fact.getInteger("remotePort", 0), fact.getString("status", ""), fact.getString("reason"),
          fact.getString("sessionId"), parseTime(fact.getString("createdAt")), parseTime(fact.getString("updatedAt")),
          fact.getLong("bytesIn", old == null ? 0 : old.bytesIn()),
          fact.getLong("bytesOut", old == null ? 0 : old.bytesOut()),
          fact.getString("protocol", "tcp"), fact.getInteger("publishedPort", fact.getInteger("remotePort", 0)),
          fact.getString("remoteHost", "127.0.0.1"),
          fact.getInteger("requestedLocalPort", fact.getInteger("localPort", 0))));
    }
    write();
  }

  /** Byte counts move often: written with the next periodic write, not at once. */
  private void onBytes(JsonObject fact) {
    HostState.Forward f = forwards.get(fact.getString("forwardId", ""));
    if (f != null) {
      forwards.put(fact.getString("forwardId"),
          f.withBytes(fact.getLong("bytesIn", f.bytesIn()), fact.getLong("bytesOut", f.bytesOut())));
      changed = true;
    }
  }

  private HostState record(boolean running) {
    Instant now = clock.instant();
    return new HostState(HostState.VERSION, host, ProcessHandle.current().pid(), running, running ? null : now,
        startedAt, now, sessionId, ssh, List.copyOf(forwards.values()));
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

  private Instant parseTime(String text) {
    try {
      return text == null ? clock.instant() : Instant.parse(text);
    } catch (RuntimeException e) {
      LOG.warn("fact with a bad time '{}'; using now", text);
      return clock.instant();
    }
  }
}

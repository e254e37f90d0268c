package dev.docktunnel.containers;

import dev.docktunnel.bus.Addresses;
import dev.docktunnel.bus.ContainersSynced;
import dev.docktunnel.bus.ContainersUnsynced;
import dev.docktunnel.bus.Facts;
import dev.docktunnel.docker.ContainerInfo;
import dev.docktunnel.docker.DockerEngine;
import dev.docktunnel.docker.DockerEvent;
import dev.docktunnel.docker.EventStream;
import dev.docktunnel.docker.NoSuchContainerException;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps an up-to-date picture of the remote engine's running containers and publishes it.
 *
 * <p>Sync (on start, on every SSH {@code connected} fact, after a stream break): ping, version,
 * open the {@code /events} stream (asking the engine to replay from its clock at the version
 * call, so nothing falls between the calls), then list the containers. The list is published
 * ({@link Addresses#CONTAINER} per container, then {@link Addresses#CONTAINERS_SYNCED} with all
 * ids, so consumers drop what vanished while we were not watching); events that arrived
 * meanwhile are applied after the list, each by inspecting the container's current state.
 *
 * <p>Live events: {@code start}, {@code unpause}, {@code rename}, {@code restart} and
 * {@code kill} (a signal need not stop it) inspect the container and publish what the engine
 * says; {@code die}/{@code stop} publish {@code exited}, {@code pause} {@code paused},
 * {@code destroy} {@code removed}. Inspect answers can arrive out of order: each event stamps its
 * container with a new sequence number, and an inspect answer is applied only if no later event
 * for that container came in meanwhile — a slow inspect of an old start never overrides a newer
 * die. A fact is published only when the container's picture changed (and for every container
 * on a sync).
 *
 * <p>The stream ends when the engine or the SSH session goes away; the watcher then resyncs from
 * the full list: at once on the next {@code connected} fact, or after a backoff while the session
 * is (or may be) up. It answers {@link Addresses#CONTAINERS_LIST} with
 * {@code {"containers":[...]}}, and {@link Addresses#CONTAINERS_INSPECT} (the local Docker
 * socket's "this container just started") by inspecting at once. Schemas: {@code docs/events.md}.
 */
public final class ContainerWatcherVerticle extends VerticleBase {
  /** The seq of the last fact we published, for the list reply. */
  private long lastSeq;
  private static final Logger LOG = LoggerFactory.getLogger(ContainerWatcherVerticle.class);
  private static final Set<String> EVENT_TYPES = Set.of("container");
  /** The actions that can change what we publish about a container. */
  private static final Set<String> STATE_ACTIONS = Set.of("start", "unpause", "rename", "restart",
      "kill", "die", "stop", "pause", "destroy");
  /** A stream that lived this long before breaking resets the retry backoff. */
  private static final Duration STABLE_STREAM = Duration.ofSeconds(60);

  private final DockerEngine engine;
  private final Duration minBackoff;
  private final Duration maxBackoff;
  private final Clock clock;

  // All state below belongs to this verticle's context.
  private final Map<String, ContainerInfo> containers = new HashMap<>();
  /** Per container, the stamp of its latest event; inspect answers with an older stamp are stale. */
  private final Map<String, Long> latestEvent = new HashMap<>();
  /** Per container, the event-driven inspect in flight, applied (or dropped as stale) when it completes. */
  private final Map<String, Future<Void>> inspecting = new HashMap<>();
  private long stamps;
  /** Bumped by every sync start and every stop; callbacks of an older epoch are ignored. */
  private long epoch;
  /** Last SSH state told; null until the first fact (the session may already be up). */
  private Boolean sshConnected;
  private EventStream stream;
  /** False while a sync runs: events are queued (as container ids) until the list is applied. */
  private boolean live;
  /** The engine's version as its last sync read it, for the synced fact. */
  private String engineVersion;
  /** Why the picture may be stale, for the list reply; null once a sync succeeded. */
  private String unsyncedReason = "not synced yet";
  private Set<String> queuedIds = new LinkedHashSet<>();
  private long liveSince;
  private Duration backoff;
  private long retryTimer = -1;

  /** A watcher with retry backoff from 250 ms up to 30 s. */
  public ContainerWatcherVerticle(DockerEngine engine) {
    this(engine, Duration.ofMillis(250), Duration.ofSeconds(30), Clock.systemUTC());
  }

  /**
   * A watcher with its own retry backoff (doubling from {@code minBackoff} up to
   * {@code maxBackoff}) and clock for the facts' {@code at}.
   */
  public ContainerWatcherVerticle(DockerEngine engine, Duration minBackoff, Duration maxBackoff,
                                  Clock clock) {
    this.engine = Objects.requireNonNull(engine, "engine");
    this.minBackoff = Objects.requireNonNull(minBackoff, "minBackoff");
    this.maxBackoff = Objects.requireNonNull(maxBackoff, "maxBackoff");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.backoff = minBackoff;
  }

  @Override
  public Future<?> start() {
    EventBus bus = vertx.eventBus();
    MessageConsumer<Object> sshStates = bus.consumer(Addresses.SSH_STATE, this::onSshState);
    MessageConsumer<Object> listQueries = bus.consumer(Addresses.CONTAINERS_LIST,
        query -> query.reply(listReply()));
    MessageConsumer<JsonObject> inspects = bus.consumer(Addresses.CONTAINERS_INSPECT, this::onInspect);
    // The session may have connected before we were deployed: try once right away.
    return Future.all(sshStates.completion(), listQueries.completion(), inspects.completion())
        .onSuccess(v -> sync("watcher started"));
  }

  @Override
  public Future<?> stop() {
    stopWatching();
    return Future.succeededFuture();
  }

  private void onSshState(Message<Object> message) {
    String state = message.body() instanceof JsonObject json
        && json.getValue("state") instanceof String s ? s : null;
    if (state == null) {
      LOG.warn("ignoring an SSH state fact without a state: {}", message.body());
    } else if ("connected".equals(state)) {
      sshConnected = true;
      backoff = minBackoff; // a new session starts afresh
      sync("SSH session connected");
    } else {
      boolean wasConnected = !Boolean.FALSE.equals(sshConnected);
      sshConnected = false;
      stopWatching();
      if (wasConnected) {
        LOG.info("SSH session {}: container watching paused until it is connected again", state);
      }
    }
  }

  /** Starts a full sync, abandoning whatever sync or stream ran before. */
  private void sync(String why) {
    stopWatching();
    long myEpoch = epoch;
    LOG.info("syncing containers ({})", why);
    engine.ping()
        .compose(v -> engine.version())
        .compose(version -> {
          engineVersion = version.version();
          return engine.events(EVENT_TYPES, version.serverTime(),
              event -> onEvent(myEpoch, event), error -> onStreamEnd(myEpoch, error));
        })
        .compose(opened -> {
          if (myEpoch != epoch) {
            opened.cancel(); // superseded while opening
            return Future.failedFuture("superseded");
          }
          stream = opened;
          return engine.listContainers();
        })
        .onSuccess(list -> {
          if (myEpoch == epoch) {
            applyList(list);
          }
        })
        .onFailure(error -> {
          if (myEpoch != epoch) {
            return;
          }
          closeStream();
          if (!Boolean.TRUE.equals(sshConnected)) {
            // No session yet (or any more): the next "connected" fact syncs; nothing failed.
            LOG.debug("container sync waits for the SSH session: {}", error.getMessage());
            return;
          }
          LOG.warn("container sync failed: {}", error.getMessage());
          publishUnsynced("sync failed: " + error.getMessage());
          scheduleRetry();
        });
  }

  private void applyList(List<ContainerInfo> list) {
    Set<String> ids = new LinkedHashSet<>();
    list.forEach(info -> ids.add(info.id()));
    containers.values().removeIf(old -> {
      if (!ids.contains(old.id())) {
        LOG.info("container {} ({}) {} -> dropped: not in the engine's list", old.name(),
            shortId(old.id()), old.state());
        return true;
      }
      return false;
    });
    latestEvent.clear();
    for (ContainerInfo info : list) {
      ContainerInfo old = containers.put(info.id(), info);
      logChange(old, info);
      publish(info);
    }
    lastSeq = Facts.publish(vertx.eventBus(), Addresses.CONTAINERS_SYNCED,
        new ContainersSynced(List.copyOf(ids), engineVersion, clock.instant()));
    live = true;
    unsyncedReason = null;
    liveSince = clock.millis();
    Set<String> queued = queuedIds;
    queuedIds = new LinkedHashSet<>();
    LOG.info("containers synced: {} listed, {} changed while listing", list.size(), queued.size());
    // Events seen while listing may predate the list: ask for the current state instead.
    queued.forEach(id -> inspectAndApply(id, stamp(id)));
  }

  private void onEvent(long myEpoch, DockerEvent event) {
    if (myEpoch != epoch || !"container".equals(event.type())) {
      return;
    }
    String action = event.baseAction();
    if (!live) {
      if (STATE_ACTIONS.contains(action)) {
        queuedIds.add(event.id()); // bounded by the number of containers
      }
      return;
    }
    String id = event.id();
    switch (action) {
      case "start", "unpause", "rename", "restart", "kill" -> inspectAndApply(id, stamp(id));
      case "die", "stop" -> applyState(id, stamp(id), ContainerInfo.EXITED);
      case "pause" -> applyState(id, stamp(id), ContainerInfo.PAUSED);
      case "destroy" -> applyState(id, stamp(id), ContainerInfo.REMOVED);
      default -> {
        // create, exec_*, attach, health_status, ...: nothing a forward depends on
      }
    }
  }

  private void onStreamEnd(long myEpoch, Throwable error) {
    if (myEpoch != epoch) {
      return;
    }
    boolean wasStable = live && clock.millis() - liveSince >= STABLE_STREAM.toMillis();
    stream = null;
    stopWatching();
    if (wasStable) {
      backoff = minBackoff;
    }
    String why = error == null ? "ended by the engine" : "broke: " + error.getMessage();
    LOG.warn("container event stream {}; resyncing", why);
    publishUnsynced("event stream " + why);
    scheduleRetry();
  }

  private long stamp(String id) {
    long stamp = ++stamps;
    latestEvent.put(id, stamp);
    return stamp;
  }

  private void inspectAndApply(String id, long stamp) {
    long myEpoch = epoch;
    Future<Void> applied = engine.inspect(id).transform(answer -> {
      if (myEpoch != epoch || !Objects.equals(latestEvent.get(id), stamp)) {
        LOG.debug("dropping a stale inspect answer for container {}", shortId(id));
      } else if (answer.succeeded()) {
        update(answer.result());
      } else if (answer.cause() instanceof NoSuchContainerException) {
        applyState(id, stamp, ContainerInfo.REMOVED);
      } else {
        LOG.warn("inspecting container {} failed: {}", shortId(id), answer.cause().getMessage());
      }
      return Future.succeededFuture();
    });
    inspecting.put(id, applied);
    applied.onComplete(done -> inspecting.remove(id, applied));
  }

  /**
   * Inspects a container at once (a client of the local Docker socket just started, created,
   * restarted or unpaused it) and answers once our fact for it is published, so a consumer
   * asked next has seen it. An event for it that came in meanwhile is newer: its own inspect
   * decides, and the answer waits for that.
   */
  private void onInspect(Message<JsonObject> query) {
    String ref = query.body() == null ? null : query.body().getString("container");
    if (ref == null || ref.isBlank()) {
      query.fail(400, "containers.inspect needs {\"container\": id or name}");
      return;
    }
    long myEpoch = epoch;
    long stampBefore = stamps;
    engine.inspect(ref).onComplete(answer -> {
      if (answer.failed()) {
        if (answer.cause() instanceof NoSuchContainerException) {
          query.reply(new JsonObject().putNull("container"));
        } else {
          query.fail(502, "inspecting container " + ref + " failed: " + answer.cause().getMessage());
        }
        return;
      }
      ContainerInfo info = answer.result();
      Long latest = latestEvent.get(info.id());
      if (myEpoch == epoch && live && (latest == null || latest <= stampBefore)) {
        stamp(info.id());
        update(info);
        query.reply(new JsonObject().put("container", info.toJson()));
        return;
      }
      // Syncing (the list will publish it) or a newer event's inspect is in flight: answer after it.
      inspecting.getOrDefault(info.id(), Future.succeededFuture()).onComplete(done -> {
        ContainerInfo known = containers.get(info.id());
        query.reply(new JsonObject().put("container", known == null ? info.toJson() : known.toJson()));
      });
    });
  }

  /** A state known from the event alone; only for containers we have reported. */
  private void applyState(String id, long stamp, String state) {
    ContainerInfo known = containers.get(id);
    if (known != null) {
      update(known.withState(state));
    }
    if (ContainerInfo.REMOVED.equals(state) && Objects.equals(latestEvent.get(id), stamp)) {
      latestEvent.remove(id);
    }
  }

  private void update(ContainerInfo info) {
    ContainerInfo old = containers.get(info.id());
    if (info.equals(old)) {
      return;
    }
    boolean inactive = !info.isRunning() && !ContainerInfo.PAUSED.equals(info.state());
    if (old == null && inactive) {
      return; // never reported: nothing to retract
    }
    if (ContainerInfo.REMOVED.equals(info.state())) {
      containers.remove(info.id());
    } else {
      containers.put(info.id(), info);
    }
    logChange(old, info);
    publish(info);
  }

  private void publishUnsynced(String reason) {
    unsyncedReason = reason;
    lastSeq = Facts.publish(vertx.eventBus(), Addresses.CONTAINERS_UNSYNCED,
        new ContainersUnsynced(reason, clock.instant()));
  }

  private void publish(ContainerInfo info) {
    lastSeq = Facts.publish(vertx.eventBus(), Addresses.CONTAINER,
        info.toJson().put("at", clock.instant().toString()));
  }

  private static void logChange(ContainerInfo old, ContainerInfo now) {
    if (old == null || !old.state().equals(now.state())) {
      LOG.info("container {} ({}) {} -> {}", now.name(), shortId(now.id()),
          old == null ? "new" : old.state(), now.state());
    } else if (!old.equals(now)) {
      LOG.info("container {} ({}) changed while {}", now.name(), shortId(now.id()), now.state());
    }
  }

  private JsonObject listReply() {
    JsonArray list = new JsonArray();
    containers.values().stream()
        .sorted(Comparator.comparing(ContainerInfo::name).thenComparing(ContainerInfo::id))
        .forEach(info -> list.add(info.toJson()));
    // The seq of our last fact: a subscriber drops the events at or below it (docs/events.md).
    return new JsonObject().put("containers", list).put("seq", lastSeq)
        .put("synced", live).put("engineVersion", engineVersion).put("unsyncedReason", live ? null : unsyncedReason);
  }

  private void scheduleRetry() {
    if (Boolean.FALSE.equals(sshConnected)) {
      return; // the next "connected" fact resyncs
    }
    cancelRetry();
    long delay = backoff.toMillis();
    backoff = backoff.multipliedBy(2).compareTo(maxBackoff) > 0 ? maxBackoff
        : backoff.multipliedBy(2);
    LOG.info("container resync in {} ms", delay);
    retryTimer = vertx.setTimer(Math.max(1, delay), id -> {
      retryTimer = -1;
      sync("retry after a break");
    });
  }

  /** Invalidates every callback in flight, closes the stream and cancels a pending retry. */
  private void stopWatching() {
    epoch++;
    live = false;
    queuedIds = new LinkedHashSet<>();
    closeStream();
    cancelRetry();
  }

  private void closeStream() {
    if (stream != null) {
      stream.cancel();
      stream = null;
    }
  }

  private void cancelRetry() {
    if (retryTimer >= 0) {
      vertx.cancelTimer(retryTimer);
      retryTimer = -1;
    }
  }

  private static String shortId(String id) {
    return id.length() > 12 ? id.substring(0, 12) : id;
  }
}

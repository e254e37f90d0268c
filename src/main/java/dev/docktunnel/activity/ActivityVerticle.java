package dev.docktunnel.activity;

import dev.docktunnel.bus.ActivityBytes;
import dev.docktunnel.bus.ActivityConnection;
import dev.docktunnel.bus.ActivityReason;
import dev.docktunnel.bus.ActivityState;
import dev.docktunnel.bus.Addresses;
import dev.docktunnel.bus.DockerActivity;
import dev.docktunnel.bus.DockerSocketStatus;
import dev.docktunnel.bus.Facts;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns the {@link ActivityLedger}: feeds it the activity facts ({@code activity.docker},
 * {@code activity.bytes}, {@code activity.connection}, {@code docker.socket}), read through their
 * records, answers {@link Addresses#ACTIVITY_QUERY} with the picture ({@link ActivityState}) and
 * publishes {@link Addresses#ACTIVITY_STATE} when the picture changes: idle or not, or the set of
 * reasons (which source, forward, container; not their ages or byte counts). A fact that does not
 * read is a WARN naming the field, counted in {@code unreadableFacts}; a close whose opening was
 * never seen is a WARN, counted in {@code unmatchedEnds}. Deploy it before the forward verticle
 * and the Docker socket, so it sees every opening.
 *
 * <p>The lifecycle asks {@link Addresses#ACTIVITY_QUERY} (one answer, read at one instant on this
 * verticle's context) and compares {@code activityCount} before it acts.
 */
public final class ActivityVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(ActivityVerticle.class);
  /** How often time alone is looked at: timeouts passing, moments leaving the idle window. */
  static final long TICK_MS = 1_000;

  private final Duration idleTimeout;
  /** Idleness counts from its creation (this verticle's, just before its deploy). */
  private final ActivityLedger ledger;
  private long lastSeq;
  private long unreadableFacts;
  private Picture published;

  /**
   * @param connectionTimeout how long an open connection or stream counts without bytes
   *     ({@code lifecycle.connectionTimeout})
   * @param idleTimeout what {@code idle} and the reasons are judged by unless a query names
   *     another ({@code lifecycle.idleTimeout})
   */
  public ActivityVerticle(Clock clock, Duration connectionTimeout, Duration idleTimeout) {
    if (idleTimeout.isNegative()) {
      throw new IllegalArgumentException("idleTimeout must be 0 or more, not " + idleTimeout);
    }
    this.idleTimeout = idleTimeout;
    this.ledger = new ActivityLedger(clock, connectionTimeout);
  }

  @Override
  public Future<?> start() {
    EventBus bus = vertx.eventBus();
    vertx.setPeriodic(TICK_MS, id -> tick());
    return Future.all(
        on(bus, Addresses.ACTIVITY_DOCKER, DockerActivity::fromJson, this::onDocker),
        on(bus, Addresses.ACTIVITY_BYTES, ActivityBytes::fromJson, this::onBytes),
        on(bus, Addresses.ACTIVITY_CONNECTION, ActivityConnection::fromJson, this::onConnection),
        on(bus, Addresses.DOCKER_SOCKET, DockerSocketStatus::fromJson, this::onDockerSocket),
        bus.<Object>consumer(Addresses.ACTIVITY_QUERY, this::answer).completion())
        .onSuccess(v -> publishIfChanged());
  }

  private <T> Future<Void> on(EventBus bus, String address, Function<JsonObject, T> read, Consumer<T> apply) {
    return bus.<Object>consumer(address, message -> {
      T fact;
      try {
        if (!(message.body() instanceof JsonObject json)) {
          throw new IllegalArgumentException("not a JSON object");
        }
        lastSeq = Math.max(lastSeq, Facts.seqOf(json));
        fact = read.apply(json);
      } catch (IllegalArgumentException e) {
        unreadableFacts++;
        LOG.warn("activity: ignoring an unreadable fact on {} ({} so far): {}", address, unreadableFacts,
            e.getMessage());
        return;
      }
      long unmatched = ledger.unmatchedEnds();
      apply.accept(fact);
      if (ledger.unmatchedEnds() > unmatched) {
        LOG.warn("activity: a fact on {} does not match what was seen open ({} so far; was the activity verticle "
            + "deployed after its publishers?): {}", address, ledger.unmatchedEnds(), message.body());
      }
      publishIfChanged();
    }).completion();
  }

  private void onDocker(DockerActivity fact) {
    switch (fact.event()) {
      case CONNECTION_OPENED -> ledger.dockerConnectionOpened(fact.connection());
      case REQUEST -> ledger.dockerRequest(fact.method(), fact.path(), fact.containerId());
      case STREAM_OPENED -> ledger.dockerStreamOpened(fact.connection(), fact.method(), fact.path(),
          fact.containerId());
      case STREAM_CLOSED -> ledger.dockerStreamClosed(fact.connection(), fact.method(), fact.path(),
          fact.containerId());
    }
  }

  private void onBytes(ActivityBytes fact) {
    ledger.forwardBytes(fact.forwardId(), fact.containerId(), fact.localPort(), fact.bytesIn(), fact.bytesOut());
  }

  private void onConnection(ActivityConnection fact) {
    switch (fact.event()) {
      case OPENED -> ledger.connectionOpened(fact.forwardId(), fact.containerId(), fact.localPort(), fact.peer());
      case CLOSED -> ledger.connectionClosed(fact.forwardId(), fact.peer());
    }
  }

  private void onDockerSocket(DockerSocketStatus fact) {
    ledger.dockerSocket(fact.listening(), fact.openConnections(), fact.connectionsTotal(), fact.bytesIn(),
        fact.bytesOut());
  }

  /** {@code {}} or {@code {"idleTimeoutMs": n}}: the picture now, current to {@code seq}. */
  private void answer(Message<Object> message) {
    Duration timeout = idleTimeout;
    Object body = message.body();
    if (body != null && !(body instanceof JsonObject)) {
      message.fail(400, "activity.query: the body must be a JSON object ({} or {\"idleTimeoutMs\": n})");
      return;
    }
    Object ms = body == null ? null : ((JsonObject) body).getValue("idleTimeoutMs");
    if (ms != null) {
      if (!(ms instanceof Integer || ms instanceof Long) || ((Number) ms).longValue() < 0) {
        message.fail(400, "activity.query: idleTimeoutMs is '" + ms + "', expected a whole number of ms, 0 or more");
        return;
      }
      timeout = Duration.ofMillis(((Number) ms).longValue());
    }
    message.reply(state(ledger.snapshot(timeout), lastSeq).toJson());
  }

  private void tick() {
    for (ActivityReason r : ledger.newlyTimedOut()) {
      LOG.info("activity: {}{}{}", r.source().text(), where(r), ": " + r.detail());
    }
    publishIfChanged();
  }

  private void publishIfChanged() {
    ActivityLedger.Snapshot now = ledger.snapshot(idleTimeout);
    Picture picture = Picture.of(now);
    if (picture.equals(published)) {
      return;
    }
    if (published != null && picture.idle() != published.idle()) {
      if (picture.idle()) {
        LOG.info("activity: idle for {} (idle timeout {}), last activity at {}",
            ActivityLedger.human(now.idleFor()), ActivityLedger.human(idleTimeout), now.lastActivity());
      } else {
        ActivityReason why = now.reasons().get(0);
        LOG.info("activity: no longer idle: {}{}: {}", why.source().text(), where(why), why.detail());
      }
    }
    published = picture;
    lastSeq = Facts.publish(vertx.eventBus(), Addresses.ACTIVITY_STATE, state(now, lastSeq));
  }

  private ActivityState state(ActivityLedger.Snapshot s, long seq) {
    return new ActivityState(s.idle(), s.lastActivity(), s.idleFor().toMillis(), s.idleTimeout().toMillis(),
        s.activityCount(), s.reasons(), unreadableFacts, ledger.unmatchedEnds(), s.at(), seq);
  }

  private static String where(ActivityReason r) {
    StringBuilder text = new StringBuilder();
    if (r.forwardId() != null) {
      text.append(" forward ").append(r.forwardId());
    }
    if (r.localPort() != null) {
      text.append(" (local port ").append(r.localPort()).append(')');
    }
    if (r.containerId() != null && r.forwardId() == null) {
      text.append(" container ").append(r.containerId());
    }
    return text.toString();
  }

  /** What a published state says, apart from ages and counts: a new one is published when it differs. */
  private record Picture(boolean idle, List<Key> reasons) {
    record Key(ActivityReason.Source source, boolean open, String forwardId, String containerId,
        Integer localPort) {
    }

    static Picture of(ActivityLedger.Snapshot s) {
      return new Picture(s.idle(), s.reasons().stream()
          .map(r -> new Key(r.source(), r.open(), r.forwardId(), r.containerId(), r.localPort()))
          .sorted(Comparator.comparing(Key::toString))
          .toList());
    }
  }
}

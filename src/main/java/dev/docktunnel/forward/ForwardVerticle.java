package dev.docktunnel.forward;

import dev.docktunnel.bus.Addresses;
import dev.docktunnel.config.DocktunnelConfig.ConflictStrategy;
import dev.docktunnel.config.DocktunnelConfig.Forwarding;
import dev.docktunnel.docker.ContainerInfo;
import dev.docktunnel.bus.ActivityBytes;
import dev.docktunnel.bus.ActivityConnection;
import dev.docktunnel.bus.ContainersSynced;
import dev.docktunnel.bus.ContainersUnsynced;
import dev.docktunnel.bus.Facts;
import dev.docktunnel.bus.SessionState;
import dev.docktunnel.bus.ForwardStatus.Status;
import dev.docktunnel.forward.ForwardRules.ForwardSpec;
import dev.docktunnel.forward.ForwardRules.Plan;
import dev.docktunnel.forward.ForwardRules.Rejection;
import dev.docktunnel.ssh.SessionProvider;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.apache.sshd.client.session.ClientSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns the forwards: turns container facts into local listeners (through {@link ForwardRules}
 * and {@link ForwardProxy}), probes each remote port, and publishes every status change and the
 * forwards' activity. All state lives in {@link #forwards}, touched only on this verticle's
 * context.
 */
public final class ForwardVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(ForwardVerticle.class);
  private static final long PROBE_MIN_DELAY_MS = 100;
  private static final long PROBE_MAX_DELAY_MS = 5_000;
  private static final long ACTIVITY_PERIOD_MS = 1_000;
  /** A taken local port is tried again, backing off from the first to the last delay. */
  private static final long REBIND_MIN_DELAY_MS = 250;
  private static final long REBIND_MAX_DELAY_MS = 2_000;
  /** How far {@code next-free} looks above the requested port. */
  private static final int NEXT_FREE_ATTEMPTS = 100;

  private final Forwarding config;
  private final SessionProvider sessions;
  private final List<RestoredForward> restored;
  private final Map<ForwardKey, Forward> forwards = new HashMap<>();
  private final WakeOnDemand wake;
  private ForwardProxy proxy;
  /** Why the engine's picture is not trusted now (its event stream broke), or null while it is. */
  private String engineOutOfSync;
  /** The seq of the last fact we published, for the list reply. */
  private long lastSeq;
  /** {@link Addresses#FORWARDS_SETTLED} queries waiting for their container's forwards. */
  private final List<SettledQuery> settledQueries = new ArrayList<>();

  /** A query waiting until {@code containerId}'s forwards settle, or its timer fires. */
  private record SettledQuery(String containerId, Message<JsonObject> message, long timer) {
  }

  /** Forwards to a server that is always there. */
  public ForwardVerticle(Forwarding config, SessionProvider sessions, List<RestoredForward> restored) {
    this(config, sessions, WakeOnDemand.ALWAYS_RUNNING, restored);
  }

  /**
   * @param wake where a connection that finds the server stopped asks for it
   * @param restored the last run's forwards: bound again at start, before the SSH session is up,
   *     and kept once the container list confirms their container runs (dropped otherwise)
   */
  public ForwardVerticle(Forwarding config, SessionProvider sessions, WakeOnDemand wake,
      List<RestoredForward> restored) {
    this.config = config;
    this.sessions = sessions;
    this.wake = wake;
    this.restored = List.copyOf(restored);
  }

  @Override
  public Future<?> start() {
    proxy = new ForwardProxy(sessions, wake, Math.max(1, Runtime.getRuntime().availableProcessors()),
        config.holdTimeout(), ForwardProxy.HOLD_LIMIT);
    var bus = vertx.eventBus();
    vertx.setPeriodic(ACTIVITY_PERIOD_MS, id -> publishActivity());
    restored.forEach(this::restore);
    return Future.all(
        bus.<JsonObject>consumer(Addresses.CONTAINER, m -> onContainer(m.body())).completion(),
        bus.<JsonObject>consumer(Addresses.CONTAINERS_SYNCED, m -> onSynced(m.body())).completion(),
        bus.<JsonObject>consumer(Addresses.CONTAINERS_UNSYNCED, m -> onUnsynced(m.body())).completion(),
        bus.<JsonObject>consumer(Addresses.SSH_STATE, m -> onSshState(m.body())).completion(),
        bus.<JsonObject>consumer(Addresses.FORWARDS_LIST, this::onList).completion(),
        bus.<JsonObject>consumer(Addresses.FORWARDS_SETTLED, this::onSettledQuery).completion());
  }

  @Override
  public Future<?> stop() {
    proxy.stopping();
    settledQueries.forEach(q -> q.message().fail(503, "docktunnel is stopping"));
    settledQueries.clear();
    for (Forward forward : List.copyOf(forwards.values())) {
      remove(forward, "docktunnel is stopping");
    }
    // Awaited, so no MINA callback reaches a stopped loop after the verticle is gone.
    return proxy.close();
  }

  private void onContainer(JsonObject fact) {
    ContainerInfo container;
    try {
      container = ContainerInfo.fromJson(fact);
    } catch (RuntimeException e) {
      LOG.warn("ignoring a malformed container fact: {}", e.getMessage());
      return;
    }
    Plan plan = ForwardRules.plan(container, config);
    Map<ForwardKey, ForwardSpec> wanted = new HashMap<>();
    plan.forwards().forEach(spec -> wanted.put(spec.key(), spec));
    Map<ForwardKey, Rejection> rejected = new HashMap<>();
    plan.rejections().forEach(r -> rejected.put(r.key(), r));

    for (Forward forward : List.copyOf(forwards.values())) {
      if (!forward.key.containerId().equals(container.id())) {
        continue;
      }
      ForwardSpec spec = wanted.get(forward.key);
      Rejection rejection = rejected.get(forward.key);
      if (spec == null && rejection == null) {
        remove(forward, "container " + container.name() + " is " + container.state());
      } else if (spec != null && !forward.matches(spec)) {
        remove(forward, "port mapping changed");
      } else if (spec != null && !forward.confirmed) {
        forward.confirmed = true; // the restored forward is what the container asks for: keep it
        if (forward.status == Status.PENDING && !forward.listeners.isEmpty()) {
          forward.probeDelayMs = 0;
          scheduleProbe(forward);
        }
      } else if (rejection != null && forward.status != Status.REJECTED) {
        remove(forward, rejection.reason());
      }
    }
    for (ForwardSpec spec : plan.forwards()) {
      if (!forwards.containsKey(spec.key())) {
        create(spec);
      }
    }
    for (Rejection rejection : plan.rejections()) {
      if (!forwards.containsKey(rejection.key())) {
        Forward forward = new Forward(rejection.key(), rejection.containerName(),
            new ForwardTarget("", rejection.key().publishedPort()), 0, Instant.now());
        forwards.put(forward.key, forward);
        setStatus(forward, Status.REJECTED, rejection.reason());
      }
    }
  }

  private void onSynced(JsonObject fact) {
    Set<String> running;
    try {
      running = new HashSet<>(ContainersSynced.fromJson(fact).ids());
    } catch (IllegalArgumentException e) {
      LOG.warn("ignoring a malformed sync fact: {}", e.getMessage());
      return;
    }
    for (Forward forward : List.copyOf(forwards.values())) {
      if (!running.contains(forward.key.containerId())) {
        remove(forward, "container is no longer running");
      }
    }
    if (engineOutOfSync != null) {
      engineOutOfSync = null;
      reprobePending();
    }
  }

  /**
   * The engine's event stream broke: until the next sync, what we know of the containers may be
   * stale, so no forward is reported {@code active}.
   */
  private void onUnsynced(JsonObject fact) {
    String reason;
    try {
      reason = ContainersUnsynced.fromJson(fact).reason();
    } catch (IllegalArgumentException e) {
      LOG.warn("malformed unsynced fact, taken as unsynced all the same: {}", e.getMessage());
      reason = "no reason given";
    }
    engineOutOfSync = "engine event stream broken (" + reason + "); waiting for the container resync";
    for (Forward forward : forwards.values()) {
      if (forward.status == Status.ACTIVE) {
        setStatus(forward, Status.PENDING, engineOutOfSync);
      }
    }
  }

  private void reprobePending() {
    for (Forward forward : forwards.values()) {
      if (forward.status == Status.PENDING && !forward.listeners.isEmpty()) {
        forward.probeDelayMs = 0;
        scheduleProbe(forward);
      }
    }
  }

  private void onSshState(JsonObject fact) {
    SessionState.State state;
    try {
      state = SessionState.fromJson(fact).state();
    } catch (IllegalArgumentException e) {
      LOG.warn("ignoring a malformed SSH state fact: {}", e.getMessage());
      return;
    }
    if (state == SessionState.State.CONNECTED) {
      reprobePending();
      return;
    }
    for (Forward forward : forwards.values()) {
      if (forward.status == Status.ACTIVE) {
        setStatus(forward, Status.PENDING, "SSH session is " + state.text());
      }
    }
  }

  private void onList(Message<JsonObject> request) {
    JsonArray list = new JsonArray();
    forwards.values().forEach(f -> list.add(f.status().toJson()));
    // The seq of our last fact: a subscriber drops the events at or below it (docs/events.md).
    request.reply(new JsonObject().put("forwards", list).put("seq", lastSeq));
  }

  /**
   * Answers once every forward of the container is active, in conflict or rejected (the local
   * Docker socket holds a container start's answer until then), or when the timeout ends.
   */
  private void onSettledQuery(Message<JsonObject> query) {
    JsonObject body = query.body();
    String containerId = body == null ? null : body.getString("containerId");
    Object timeout = body == null ? null : body.getValue("timeoutMs");
    if (containerId == null || !(timeout instanceof Number ms) || ms.longValue() <= 0) {
      query.fail(400, "forwards.settled needs {\"containerId\": id, \"timeoutMs\": above 0}");
      return;
    }
    if (settled(containerId)) {
      query.reply(settledReply(containerId, true));
      return;
    }
    long timer = vertx.setTimer(ms.longValue(), id -> {
      settledQueries.removeIf(q -> q.message() == query);
      query.reply(settledReply(containerId, false));
    });
    settledQueries.add(new SettledQuery(containerId, query, timer));
  }

  private boolean settled(String containerId) {
    return forwards.values().stream().filter(f -> f.key.containerId().equals(containerId))
        .allMatch(f -> f.status == Status.ACTIVE || f.status == Status.CONFLICT || f.status == Status.REJECTED);
  }

  private JsonObject settledReply(String containerId, boolean settled) {
    JsonArray list = new JsonArray();
    forwards.values().stream().filter(f -> f.key.containerId().equals(containerId))
        .forEach(f -> list.add(f.status().toJson()));
    return new JsonObject().put("settled", settled).put("forwards", list);
  }

  /** Answers the waiting queries whose container's forwards have settled now. */
  private void answerSettledQueries(String containerId) {
    if (settledQueries.isEmpty() || !settled(containerId)) {
      return;
    }
    settledQueries.removeIf(q -> {
      if (!q.containerId().equals(containerId)) {
        return false;
      }
      vertx.cancelTimer(q.timer());
      q.message().reply(settledReply(containerId, true));
      return true;
    });
  }

  /**
   * Binds a forward of the last run on the port it had, at once, so clients (bookmarks) find it
   * while the session comes up; its connections are held until then. It is not {@code active}
   * before a container fact confirms it; a sync that no longer lists its container drops it.
   */
  private void restore(RestoredForward last) {
    Forward forward = new Forward(last.key(), last.containerName(), new ForwardTarget(last.remoteHost(),
        last.remotePort()), last.requestedLocalPort(), Instant.now());
    forward.confirmed = false;
    forwards.put(forward.key, forward);
    bind(forward, last.localPort(), 1);
  }

  private void create(ForwardSpec spec) {
    Forward forward = Forward.of(spec, Instant.now());
    forwards.put(forward.key, forward);
    bind(forward, spec.localPort(), bindAttempts());
  }

  private void bind(Forward forward, int port, int attemptsLeft) {
    bindAll(forward, port).onComplete(result -> {
      if (forwards.get(forward.key) != forward) {
        // Removed while binding: let go of what was bound.
        if (result.succeeded()) {
          result.result().forEach(ForwardProxy::unlisten);
        }
        return;
      }
      if (result.succeeded()) {
        forward.rebindDelayMs = 0;
        forward.localPort = port;
        forward.listeners.addAll(result.result());
        result.result().forEach(ch -> forward.boundAddresses.add(
            ((InetSocketAddress) ch.localAddress()).getAddress().getHostAddress()));
        String mapping = port == forward.requestedLocalPort ? ""
            : " (local port " + forward.requestedLocalPort + " was taken; using " + port + ")";
        setStatus(forward, Status.PENDING, "probing remote " + forward.target + mapping);
        forward.probeDelayMs = 0;
        probe(forward);
      } else if (isInUse(result.cause()) && attemptsLeft > 1 && port < 65535) {
        bind(forward, port + 1, attemptsLeft - 1);
      } else {
        reportBindFailure(forward, port, result.cause());
        scheduleRebind(forward);
      }
    });
  }

  /** A forward in {@code conflict} tries its port again until it frees (then probes as usual). */
  private void scheduleRebind(Forward forward) {
    forward.rebindDelayMs = Math.min(REBIND_MAX_DELAY_MS, Math.max(REBIND_MIN_DELAY_MS, forward.rebindDelayMs * 2));
    forward.rebindTimer = vertx.setTimer(forward.rebindDelayMs, id -> {
      forward.rebindTimer = -1;
      if (forwards.get(forward.key) == forward) {
        bind(forward, forward.requestedLocalPort, bindAttempts());
      }
    });
  }

  private int bindAttempts() {
    return config.conflictStrategy() == ConflictStrategy.NEXT_FREE ? NEXT_FREE_ATTEMPTS : 1;
  }

  /** Binds {@code port} on every configured address, or none of them. */
  private Future<List<Channel>> bindAll(Forward forward, int port) {
    Future<List<Channel>> bound = Future.succeededFuture(new ArrayList<>());
    for (String address : config.bindAddresses()) {
      bound = bound.compose(channels -> listen(new InetSocketAddress(address, port), forward)
          .map(ch -> {
            channels.add(ch);
            return channels;
          })
          .recover(error -> {
            if (isIpv6(address) && isAddressUnavailable(error)) {
              return Future.succeededFuture(channels); // no IPv6 loopback on this machine
            }
            channels.forEach(ForwardProxy::unlisten);
            return Future.failedFuture(error);
          }));
    }
    return bound;
  }

  private Future<Channel> listen(InetSocketAddress address, Forward forward) {
    Promise<Channel> promise = Promise.promise();
    // The port this listener binds, not forward.localPort: this runs on Netty threads.
    int localPort = address.getPort();
    ChannelFuture bound = proxy.listen(address, forward.target, forward.counters, forward.connections,
        (event, peer, bytesIn, bytesOut) -> Facts.publish(vertx.eventBus(), Addresses.ACTIVITY_CONNECTION,
            new ActivityConnection(event, forward.key.id(), forward.key.containerId(), localPort, peer, bytesIn,
                bytesOut, Instant.now())));
    bound.addListener(f -> context.runOnContext(v -> {
      if (f.isSuccess()) {
        promise.complete(bound.channel());
      } else {
        promise.fail(f.cause());
      }
    }));
    return promise.future();
  }

  private void reportBindFailure(Forward forward, int port, Throwable cause) {
    if (!isInUse(cause)) {
      setStatus(forward, Status.CONFLICT, "cannot listen on local port " + port + ": " + cause.getMessage()
          + "; retrying");
      return;
    }
    if (forward.status == Status.CONFLICT) {
      return; // a retry that found the port still taken: nothing new to say
    }
    vertx.executeBlocking(() -> PortOwner.describe(port)).onComplete(owner -> {
      if (forwards.get(forward.key) != forward || forward.status == Status.ACTIVE) {
        return;
      }
      String by = owner.succeeded() && owner.result().isPresent() ? " by " + owner.result().get() : "";
      String tried = forward.requestedLocalPort == port ? ""
          : " (tried " + forward.requestedLocalPort + "-" + port + ")";
      setStatus(forward, Status.CONFLICT, "local port " + port + " is in use" + by + tried
          + "; waiting for the port to free");
    });
  }

  private void scheduleProbe(Forward forward) {
    if (forward.probeTimer >= 0) {
      vertx.cancelTimer(forward.probeTimer);
      forward.probeTimer = -1;
    }
    if (forward.probeDelayMs == 0) {
      probe(forward);
    } else {
      forward.probeTimer = vertx.setTimer(forward.probeDelayMs, id -> {
        forward.probeTimer = -1;
        probe(forward);
      });
    }
  }

  /** Proves the remote port answers by opening (and closing) one SSH channel to it. */
  private void probe(Forward forward) {
    if (forwards.get(forward.key) != forward || forward.status != Status.PENDING) {
      return;
    }
    ClientSession session = sessions.current().orElse(null);
    if (session == null) {
      setStatus(forward, Status.PENDING, "waiting for the SSH session");
      return; // the next "connected" fact probes again
    }
    ForwardChannel channel = null;
    try {
      channel = ForwardChannel.create(session, new InetSocketAddress("127.0.0.1", 0), forward.target,
          ForwardChannel.DISCARD);
      ForwardChannel probe = channel;
      channel.open().addListener(opened -> context.runOnContext(v -> {
        probe.close(false);
        onProbed(forward, opened.isOpened(), opened.getException());
      }));
    } catch (Exception e) {
      if (channel != null) {
        channel.close(true); // registered on the session: it must not stay there
      }
      onProbed(forward, false, e);
    }
  }

  private void onProbed(Forward forward, boolean answered, Throwable error) {
    if (forwards.get(forward.key) != forward || forward.status != Status.PENDING) {
      return;
    }
    if (answered && engineOutOfSync != null) {
      setStatus(forward, Status.PENDING, engineOutOfSync); // the resync probes again
      return;
    }
    if (answered && !forward.confirmed) {
      setStatus(forward, Status.PENDING, "restored from the last run; waiting for the container list");
      return; // its container's fact probes again
    }
    if (answered) {
      String mapping = forward.localPort == forward.requestedLocalPort ? null
          : "local port " + forward.requestedLocalPort + " was taken; using " + forward.localPort;
      setStatus(forward, Status.ACTIVE, mapping);
      return;
    }
    setStatus(forward, Status.PENDING, "remote " + forward.target + " did not answer"
        + (error == null ? "" : ": " + error.getMessage()));
    forward.probeDelayMs = Math.min(PROBE_MAX_DELAY_MS, Math.max(PROBE_MIN_DELAY_MS, forward.probeDelayMs * 2));
    scheduleProbe(forward);
  }

  private void remove(Forward forward, String reason) {
    if (forward.probeTimer >= 0) {
      vertx.cancelTimer(forward.probeTimer);
    }
    if (forward.rebindTimer >= 0) {
      vertx.cancelTimer(forward.rebindTimer);
    }
    forward.listeners.forEach(ForwardProxy::unlisten);
    forward.listeners.clear();
    // Nothing outlives its forward: a connection left open would reach a container that is gone.
    if (!forward.connections.isEmpty()) {
      LOG.info("forward {} ({}): resetting {} open connection(s): {}", forward.key.id(), forward.containerName,
          forward.connections.size(), reason);
      forward.connections.forEach(ForwardProxy::reset);
    }
    forwards.remove(forward.key);
    setStatus(forward, Status.STOPPED, reason);
  }

  private void setStatus(Forward forward, Status status, String reason) {
    if (forward.status == status && Objects.equals(forward.reason, reason) && status != Status.STOPPED) {
      return;
    }
    boolean statusChanged = forward.status != status;
    forward.status = status;
    forward.reason = reason;
    forward.updatedAt = Instant.now();
    if (statusChanged || status == Status.CONFLICT) {
      LOG.info("forward {} ({}) 127.0.0.1:{} -> remote {}: {}{}", forward.key.id(), forward.containerName,
          forward.localPort, forward.target, status.text(), reason == null ? "" : " (" + reason + ")");
    }
    lastSeq = Facts.publish(vertx.eventBus(), Addresses.FORWARD_STATUS, forward.status());
    answerSettledQueries(forward.key.containerId());
  }

  private void publishActivity() {
    for (Forward forward : forwards.values()) {
      ForwardCounters c = forward.counters;
      long in = c.bytesIn();
      long out = c.bytesOut();
      int open = c.openConnections();
      if (in == forward.reportedIn && out == forward.reportedOut && open == forward.reportedOpen) {
        continue;
      }
      forward.reportedIn = in;
      forward.reportedOut = out;
      forward.reportedOpen = open;
      lastSeq = Facts.publish(vertx.eventBus(), Addresses.ACTIVITY_BYTES, new ActivityBytes(forward.key.id(),
          forward.key.containerId(), forward.localPort, in, out, open, c.connectionsTotal(), c.connectionsFailed(),
          Instant.now()));
    }
  }

  private static boolean isInUse(Throwable error) {
    // JDK and Netty (native epoll) word it alike: "... Address already in use".
    return String.valueOf(error.getMessage()).contains("Address already in use");
  }

  private static boolean isAddressUnavailable(Throwable error) {
    String message = String.valueOf(error.getMessage());
    return message.contains("Cannot assign requested address") || message.contains("not supported");
  }

  private static boolean isIpv6(String address) {
    return address.indexOf(':') >= 0;
  }
}

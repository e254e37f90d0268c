package dev.docktunnel.activity;

import dev.docktunnel.bus.ActivityReason;
import dev.docktunnel.bus.ActivityReason.Source;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * What the user did and what is open now, from the activity facts only (docktunnel's own probes,
 * inspects and health checks never reach them), and the answer to "is the server idle, and if
 * not, why?". Pure: the clock is injected; not thread-safe, one owner ({@link ActivityVerticle}).
 *
 * <p>Two kinds of activity. <b>Moments</b>: a Docker request, a Docker stream or forward
 * connection opened or closed, bytes through a forward or the Docker socket. <b>Open
 * sources</b>: a forward connection, a Docker stream, a Docker API connection; each counts as
 * activity for as long as it is open, bytes or not, but only up to {@code connectionTimeout}
 * without bytes (so a forgotten connection cannot keep a server up for ever). A forward
 * connection's bytes are its forward's (the facts give per-connection bytes only at the close);
 * a Docker stream's or connection's bytes are the Docker socket's. An open source that passed its
 * timeout counts again once bytes move; closing it then is not activity (a server stop closes
 * such connections, which must not count as use).
 *
 * <p>{@link #activityCount()} rises with every activity input: a caller that decided "idle" at
 * count N and sees N again just before it acts knows that nothing happened in between (the race
 * rule: an idle stop racing a new connection or Docker request loses).
 */
public final class ActivityLedger {
  /** Moments kept for {@link #reasons}; the oldest go first (the last activity's time is kept apart). */
  static final int MAX_MOMENTS = 64;
  /** Forwards whose byte counters are kept; the oldest without open connections go first. */
  static final int MAX_FORWARDS = 1024;

  private final Clock clock;
  private final Duration connectionTimeout;
  private final Instant startedAt;
  private Instant lastEvent;
  private long activityCount;
  private long unmatchedEnds;

  /** The latest moment per key, in the order they were recorded. */
  private final LinkedHashMap<MomentKey, Moment> moments = new LinkedHashMap<>();
  /** Open Docker streams by what their facts say, oldest first per key. */
  private final Map<StreamKey, ArrayDeque<OpenStream>> streams = new LinkedHashMap<>();
  /** Open forward connections, in opening order. */
  private final LinkedHashMap<ConnectionKey, OpenConnection> connections = new LinkedHashMap<>();
  /** Byte counters per forward, least recently reported first. */
  private final LinkedHashMap<String, ForwardCounters> forwards = new LinkedHashMap<>();
  private final DockerSocket socket = new DockerSocket();

  /**
   * @param connectionTimeout how long an open connection or stream counts without bytes
   *     ({@code lifecycle.connectionTimeout}); 0: open sources never count by themselves
   */
  public ActivityLedger(Clock clock, Duration connectionTimeout) {
    if (connectionTimeout.isNegative()) {
      throw new IllegalArgumentException("connectionTimeout must be 0 or more, not " + connectionTimeout);
    }
    this.clock = clock;
    this.connectionTimeout = connectionTimeout;
    this.startedAt = clock.instant();
  }

  // ---- inputs: Docker

  /**
   * A connection to the local Docker socket opened: activity at once (its requests follow; the
   * socket's status, with the open count, comes up to a second later).
   */
  public void dockerConnectionOpened(String connection) {
    Instant now = clock.instant();
    activity(new MomentKey(Source.DOCKER_CONNECTION, null, null), null,
        "Docker API connection " + Objects.requireNonNull(connection, "connection") + " opened", now);
  }

  /** A Docker API request passed the local socket ({@code path}: the template, e.g. {@code /containers/{id}/start}). */
  public void dockerRequest(String method, String path, String containerId) {
    Instant now = clock.instant();
    socket.lastBytesAt = now;
    activity(new MomentKey(Source.DOCKER_REQUEST, null, containerId), null, method + " " + path, now);
  }

  /** A long-lived Docker response opened ({@code logs -f}, {@code exec}, {@code attach}, {@code events}, {@code wait}). */
  public void dockerStreamOpened(String connection, String method, String path, String containerId) {
    Instant now = clock.instant();
    StreamKey key = new StreamKey(Objects.requireNonNull(connection, "connection"), method, path, containerId);
    streams.computeIfAbsent(key, k -> new ArrayDeque<>()).addLast(new OpenStream(key, now));
    socket.lastBytesAt = now;
    activity(new MomentKey(Source.DOCKER_STREAM, null, containerId), null, key.describe() + " opened", now);
  }

  /**
   * A Docker stream ended: the oldest open one with the same connection, method, path and
   * container. False when none is open (a close whose opening this ledger never saw).
   */
  public boolean dockerStreamClosed(String connection, String method, String path, String containerId) {
    Instant now = clock.instant();
    StreamKey key = new StreamKey(connection, method, path, containerId);
    ArrayDeque<OpenStream> open = streams.get(key);
    if (open == null) {
      unmatchedEnds++;
      return false;
    }
    OpenStream stream = open.pollFirst();
    if (open.isEmpty()) {
      streams.remove(key);
    }
    ended(new MomentKey(Source.DOCKER_STREAM, null, containerId), null, key.describe(), streamEnd(stream), now);
    return true;
  }

  /**
   * The Docker socket's counters (totals since it started listening). Bytes or new connections
   * are activity; open connections count while open. Not listening: nothing is open.
   */
  public void dockerSocket(boolean listening, int openConnections, long connectionsTotal, long bytesIn,
      long bytesOut) {
    Instant now = clock.instant();
    MomentKey key = new MomentKey(Source.DOCKER_CONNECTION, null, null);
    int open = listening ? openConnections : 0;
    boolean bytesMoved = changed(bytesIn, socket.bytesIn) || changed(bytesOut, socket.bytesOut);
    boolean newConnections = changed(connectionsTotal, socket.connectionsTotal);
    if (open < socket.open && socket.open > 0) {
      // Fewer open: those that went counted until now, unless the open ones had timed out.
      Instant end = socketEnd();
      if (open == 0) {
        socket.openSince = null;
      }
      ended(key, null, "Docker API connections", end, now);
    }
    if (open > 0 && socket.openSince == null) {
      socket.openSince = now;
      socket.timeoutReported = false;
    }
    socket.open = open;
    socket.bytesIn = bytesIn;
    socket.bytesOut = bytesOut;
    socket.connectionsTotal = connectionsTotal;
    if (bytesMoved) {
      socket.lastBytesAt = now;
      activity(key, null, "Docker API traffic: " + bytesIn + " bytes in, " + bytesOut + " out so far", now);
    } else if (newConnections) {
      activity(key, null, "Docker API connection opened (" + connectionsTotal + " so far)", now);
    }
  }

  // ---- inputs: forwards

  /** A forward's byte counters (totals since the forward was made; lower ones mean it was made again). */
  public void forwardBytes(String forwardId, String containerId, int localPort, long bytesIn, long bytesOut) {
    Instant now = clock.instant();
    ForwardCounters counters = forwards.remove(Objects.requireNonNull(forwardId, "forwardId"));
    if (counters == null) {
      counters = new ForwardCounters();
    }
    forwards.put(forwardId, counters);
    boolean moved = changed(bytesIn, counters.bytesIn) || changed(bytesOut, counters.bytesOut);
    counters.bytesIn = bytesIn;
    counters.bytesOut = bytesOut;
    if (moved) {
      counters.lastBytesAt = now;
      activity(new MomentKey(Source.FORWARD_BYTES, forwardId, containerId), localPort,
          bytesIn + " bytes in, " + bytesOut + " out so far", now);
    }
    evictForwards();
  }

  /** A connection through a forward opened; {@code peer} tells it apart from the forward's others. */
  public void connectionOpened(String forwardId, String containerId, int localPort, String peer) {
    Instant now = clock.instant();
    ConnectionKey key = new ConnectionKey(Objects.requireNonNull(forwardId, "forwardId"),
        Objects.requireNonNull(peer, "peer"));
    OpenConnection previous = connections.remove(key);
    if (previous != null) {
      unmatchedEnds++; // its close never came: the peer is reused only after one
    }
    connections.put(key, new OpenConnection(key, containerId, localPort, now));
    activity(new MomentKey(Source.FORWARD_CONNECTION, forwardId, containerId), localPort,
        "connection from " + peer + " opened", now);
  }

  /** A connection through a forward closed. False when this ledger never saw it open. */
  public boolean connectionClosed(String forwardId, String peer) {
    Instant now = clock.instant();
    OpenConnection connection = connections.remove(new ConnectionKey(forwardId, peer));
    if (connection == null) {
      unmatchedEnds++;
      return false;
    }
    ended(new MomentKey(Source.FORWARD_CONNECTION, forwardId, connection.containerId), connection.localPort,
        "connection from " + peer, connectionEnd(connection), now);
    return true;
  }

  // ---- reading

  /** Rises by one with every activity input; equal values mean nothing happened in between. */
  public long activityCount() {
    return activityCount;
  }

  /** Closes of connections or streams this ledger never saw open (or an opening seen twice). */
  public long unmatchedEnds() {
    return unmatchedEnds;
  }

  /**
   * The last activity: now while an open source counts, else the latest moment or the time an
   * open source stopped counting; the ledger's start when nothing happened since.
   */
  public Instant lastActivity() {
    return lastActivity(clock.instant());
  }

  /** How long nothing happened (zero while an open source counts). */
  public Duration idleFor() {
    Instant now = clock.instant();
    return since(lastActivity(now), now);
  }

  /** The open sources that count now: why the server is busy at this moment (empty: nothing is). */
  public List<ActivityReason> busy() {
    return busy(clock.instant());
  }

  /** No open source counts, and nothing happened for {@code idleTimeout}. */
  public boolean isIdleFor(Duration idleTimeout) {
    return snapshot(idleTimeout).idle();
  }

  /**
   * Why the server is not idle by {@code window}: {@link #busy()} (oldest first), then the
   * latest moment of each source, forward and container within the window (newest first),
   * leaving out moments of a source open now.
   */
  public List<ActivityReason> reasons(Duration window) {
    return snapshot(window).reasons();
  }

  /** Everything above at one instant, judged by {@code idleTimeout}. */
  public Snapshot snapshot(Duration idleTimeout) {
    if (idleTimeout.isNegative()) {
      throw new IllegalArgumentException("idle timeout must be 0 or more, not " + idleTimeout);
    }
    Instant now = clock.instant();
    List<ActivityReason> busy = busy(now);
    Instant last = lastActivity(now);
    Duration idleFor = since(last, now);
    Set<MomentKey> openKeys = new HashSet<>();
    busy.forEach(r -> openKeys.add(new MomentKey(r.source(), r.forwardId(), r.containerId())));
    List<ActivityReason> recent = new ArrayList<>();
    moments.forEach((key, moment) -> {
      Duration age = since(moment.at, now);
      if (age.compareTo(idleTimeout) < 0 && !openKeys.contains(key)) {
        recent.add(new ActivityReason(key.source, false, key.forwardId, key.containerId, moment.localPort,
            moment.detail, moment.at, age.toMillis()));
      }
    });
    recent.sort(Comparator.comparing(ActivityReason::at).reversed());
    List<ActivityReason> reasons = new ArrayList<>(busy);
    reasons.addAll(recent);
    boolean idle = busy.isEmpty() && idleFor.compareTo(idleTimeout) >= 0;
    return new Snapshot(now, idleTimeout, idle, last, idleFor, activityCount, List.copyOf(reasons));
  }

  /**
   * The open sources that stopped counting (no bytes for {@code connectionTimeout}) since the
   * last call, each once; one that counts again (bytes moved) is reported again when it next
   * times out. For the operator's log.
   */
  public List<ActivityReason> newlyTimedOut() {
    Instant now = clock.instant();
    List<ActivityReason> out = new ArrayList<>();
    String quiet = "no bytes for " + human(connectionTimeout) + ", no longer counts as activity";
    for (OpenConnection c : connections.values()) {
      boolean counting = now.isBefore(connectionEnd(c));
      if (!counting && !c.timeoutReported) {
        out.add(new ActivityReason(Source.FORWARD_CONNECTION, true, c.key.forwardId, c.containerId, c.localPort,
            "connection from " + c.key.peer + " open, " + quiet, c.openedAt, age(c.openedAt, now)));
      }
      c.timeoutReported = !counting;
    }
    for (ArrayDeque<OpenStream> open : streams.values()) {
      for (OpenStream s : open) {
        boolean counting = now.isBefore(streamEnd(s));
        if (!counting && !s.timeoutReported) {
          out.add(new ActivityReason(Source.DOCKER_STREAM, true, null, s.key.containerId, null,
              s.key.describe() + " open, " + quiet, s.openedAt, age(s.openedAt, now)));
        }
        s.timeoutReported = !counting;
      }
    }
    if (socket.open > 0) {
      boolean counting = now.isBefore(socketEnd());
      if (!counting && !socket.timeoutReported) {
        out.add(new ActivityReason(Source.DOCKER_CONNECTION, true, null, null, null,
            connectionsOpen(socket.open) + ", " + quiet, socket.openSince, age(socket.openSince, now)));
      }
      socket.timeoutReported = !counting;
    }
    return out;
  }

  /**
   * One reading of the ledger.
   *
   * @param idle no open source counts and nothing happened for {@code idleTimeout}
   * @param reasons {@link #busy()} then the moments within {@code idleTimeout}
   */
  public record Snapshot(Instant at, Duration idleTimeout, boolean idle, Instant lastActivity, Duration idleFor,
      long activityCount, List<ActivityReason> reasons) {

    /** An open source counts now. */
    public boolean busy() {
      return !reasons.isEmpty() && reasons.get(0).open();
    }
  }

  // ---- inside

  private List<ActivityReason> busy(Instant now) {
    List<ActivityReason> out = new ArrayList<>();
    for (ArrayDeque<OpenStream> open : streams.values()) {
      for (OpenStream s : open) {
        if (now.isBefore(streamEnd(s))) {
          out.add(new ActivityReason(Source.DOCKER_STREAM, true, null, s.key.containerId, null,
              s.key.describe() + " open (Docker connection " + s.key.connection + ")", s.openedAt,
              age(s.openedAt, now)));
        }
      }
    }
    if (socket.open > 0 && now.isBefore(socketEnd())) {
      out.add(new ActivityReason(Source.DOCKER_CONNECTION, true, null, null, null, connectionsOpen(socket.open),
          socket.openSince, age(socket.openSince, now)));
    }
    Map<String, List<OpenConnection>> byForward = new LinkedHashMap<>();
    for (OpenConnection c : connections.values()) {
      if (now.isBefore(connectionEnd(c))) {
        byForward.computeIfAbsent(c.key.forwardId, f -> new ArrayList<>()).add(c);
      }
    }
    byForward.forEach((forwardId, open) -> {
      OpenConnection oldest = open.get(0); // kept in opening order
      String detail = open.size() == 1 ? "1 connection open, from " + oldest.key.peer
          : open.size() + " connections open, oldest from " + oldest.key.peer;
      out.add(new ActivityReason(Source.FORWARD_CONNECTION, true, forwardId, oldest.containerId, oldest.localPort,
          detail, oldest.openedAt, age(oldest.openedAt, now)));
    });
    out.sort(Comparator.comparing(ActivityReason::at));
    return out;
  }

  private Instant lastActivity(Instant now) {
    Instant last = lastEvent == null || lastEvent.isBefore(startedAt) ? startedAt : lastEvent;
    for (OpenConnection c : connections.values()) {
      last = later(last, earlier(now, connectionEnd(c)));
    }
    for (ArrayDeque<OpenStream> open : streams.values()) {
      for (OpenStream s : open) {
        last = later(last, earlier(now, streamEnd(s)));
      }
    }
    if (socket.open > 0) {
      last = later(last, earlier(now, socketEnd()));
    }
    return last;
  }

  /** When this connection stops counting without bytes through its forward. */
  private Instant connectionEnd(OpenConnection c) {
    ForwardCounters counters = forwards.get(c.key.forwardId);
    Instant bytes = counters == null ? null : counters.lastBytesAt;
    return later(c.openedAt, bytes).plus(connectionTimeout);
  }

  private Instant streamEnd(OpenStream s) {
    return later(s.openedAt, socket.lastBytesAt).plus(connectionTimeout);
  }

  private Instant socketEnd() {
    return later(socket.openSince, socket.lastBytesAt).plus(connectionTimeout);
  }

  /** A moment of activity. */
  private void activity(MomentKey key, Integer localPort, String detail, Instant at) {
    activityCount++;
    record(key, localPort, detail, at);
  }

  /**
   * An open source ended now. If it still counted, the end is activity; if it had timed out, it
   * was activity only up to its timeout.
   */
  private void ended(MomentKey key, Integer localPort, String what, Instant end, Instant now) {
    if (now.isBefore(end)) {
      activity(key, localPort, what + " closed", now);
    } else {
      record(key, localPort, what + " had no bytes for " + human(connectionTimeout) + " and stopped counting", end);
    }
  }

  private void record(MomentKey key, Integer localPort, String detail, Instant at) {
    moments.remove(key);
    moments.put(key, new Moment(localPort, detail, at));
    if (moments.size() > MAX_MOMENTS) {
      Iterator<MomentKey> eldest = moments.keySet().iterator();
      eldest.next();
      eldest.remove();
    }
    lastEvent = later(lastEvent, at);
  }

  /** Drops the least recently changed forwards beyond the cap, but never one with an open connection. */
  private void evictForwards() {
    if (forwards.size() <= MAX_FORWARDS) {
      return;
    }
    Set<String> withConnections = new HashSet<>();
    connections.keySet().forEach(k -> withConnections.add(k.forwardId));
    Iterator<String> it = forwards.keySet().iterator();
    while (forwards.size() > MAX_FORWARDS && it.hasNext()) {
      if (!withConnections.contains(it.next())) {
        it.remove();
      }
    }
  }

  /**
   * A total that moved since the last reading: up, or down to a new non-zero total (its owner
   * started again and counted some already). Down to zero is a restart with nothing yet.
   */
  private static boolean changed(long now, long before) {
    return now != before && now > 0;
  }

  private static String connectionsOpen(int n) {
    return n == 1 ? "1 Docker API connection open" : n + " Docker API connections open";
  }

  private static long age(Instant at, Instant now) {
    return since(at, now).toMillis();
  }

  /** Never negative: a wall clock set back must not make anything younger than zero. */
  private static Duration since(Instant at, Instant now) {
    Duration d = Duration.between(at, now);
    return d.isNegative() ? Duration.ZERO : d;
  }

  private static Instant later(Instant a, Instant b) {
    return a == null ? b : b == null || a.isAfter(b) ? a : b;
  }

  private static Instant earlier(Instant a, Instant b) {
    return a.isBefore(b) ? a : b;
  }

  /** {@code 2h 0m}, {@code 5m 3s}, {@code 42s}, {@code 250ms}. */
  static String human(Duration d) {
    long ms = d.toMillis();
    if (ms >= 3_600_000) {
      return ms / 3_600_000 + "h " + ms % 3_600_000 / 60_000 + "m";
    }
    if (ms >= 60_000) {
      return ms / 60_000 + "m " + ms % 60_000 / 1000 + "s";
    }
    if (ms >= 1000 && ms % 1000 == 0) {
      return ms / 1000 + "s";
    }
    return ms + "ms";
  }

  private record MomentKey(Source source, String forwardId, String containerId) {
  }

  private record Moment(Integer localPort, String detail, Instant at) {
  }

  private record StreamKey(String connection, String method, String path, String containerId) {
    String describe() {
      return method + " " + path;
    }
  }

  private static final class OpenStream {
    final StreamKey key;
    final Instant openedAt;
    boolean timeoutReported;

    OpenStream(StreamKey key, Instant openedAt) {
      this.key = key;
      this.openedAt = openedAt;
    }
  }

  private record ConnectionKey(String forwardId, String peer) {
  }

  private static final class OpenConnection {
    final ConnectionKey key;
    final String containerId;
    final int localPort;
    final Instant openedAt;
    boolean timeoutReported;

    OpenConnection(ConnectionKey key, String containerId, int localPort, Instant openedAt) {
      this.key = key;
      this.containerId = containerId;
      this.localPort = localPort;
      this.openedAt = openedAt;
    }
  }

  private static final class ForwardCounters {
    long bytesIn;
    long bytesOut;
    Instant lastBytesAt;
  }

  private static final class DockerSocket {
    int open;
    Instant openSince;
    long connectionsTotal;
    long bytesIn;
    long bytesOut;
    Instant lastBytesAt;
    boolean timeoutReported;
  }
}

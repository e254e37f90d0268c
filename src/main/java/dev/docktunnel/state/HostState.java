package dev.docktunnel.state;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.LongPredicate;

/**
 * What one run knows about its host, as kept in {@code <host-id>.state.json} (issue 7's
 * contract; the field names are relied on by checks and later issues, keep them). Times are
 * ISO-8601 UTC strings; optional fields are written as JSON {@code null}. {@link #fromJson}
 * ignores unknown fields, so later versions may add some without breaking older readers. The
 * session and forward states are the bus's wire names ({@code connected}, {@code active}, ...),
 * kept as strings so this file does not depend on the verticles' enums.
 *
 * @param version {@link #VERSION}
 * @param host the host as the user gave it ({@code --host}: an ssh:// URL or an alias)
 * @param pid the daemon's PID
 * @param running true while the daemon lives; false after a graceful stop
 * @param stoppedAt when a graceful stop happened, else null
 * @param startedAt when the daemon started
 * @param updatedAt when this record was written
 * @param sessionId the current SSH session's id, null before the first session
 * @param ssh the session state
 * @param forwards the forwards, in the daemon's order
 * @param httpPort the port of the daemon's HTTP API on 127.0.0.1, null until it listens
 * @param bridgePort the port of its TCP event-bus bridge on 127.0.0.1, null until it listens
 * @param dockerSocket the local Docker socket, null until it listens (and in older records)
 * @param server the remote server's lifecycle as last published, null before its first fact
 */
public record HostState(
    int version,
    String host,
    long pid,
    boolean running,
    Instant stoppedAt,
    Instant startedAt,
    Instant updatedAt,
    String sessionId,
    Ssh ssh,
    List<Forward> forwards,
    Integer httpPort,
    Integer bridgePort,
    DockerSocket dockerSocket,
    Server server) {

  /** The only version this code writes and reads. */
  public static final int VERSION = 1;
  /** A running daemon's record older than this is stale: the writer is gone or stuck. */
  public static final Duration STALE_AFTER = Duration.ofSeconds(10);

  /** A record without a lifecycle. */
  public HostState(int version, String host, long pid, boolean running, Instant stoppedAt, Instant startedAt,
      Instant updatedAt, String sessionId, Ssh ssh, List<Forward> forwards, Integer httpPort, Integer bridgePort,
      DockerSocket dockerSocket) {
    this(version, host, pid, running, stoppedAt, startedAt, updatedAt, sessionId, ssh, forwards, httpPort, bridgePort,
        dockerSocket, null);
  }

  /** A record without a local Docker socket. */
  public HostState(int version, String host, long pid, boolean running, Instant stoppedAt, Instant startedAt,
      Instant updatedAt, String sessionId, Ssh ssh, List<Forward> forwards, Integer httpPort, Integer bridgePort) {
    this(version, host, pid, running, stoppedAt, startedAt, updatedAt, sessionId, ssh, forwards, httpPort, bridgePort,
        null, null);
  }

  public HostState {
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(startedAt, "startedAt");
    Objects.requireNonNull(updatedAt, "updatedAt");
    Objects.requireNonNull(ssh, "ssh");
    forwards = List.copyOf(forwards);
  }

  /**
   * The session.
   *
   * @param state the session state's wire name
   * @param reason why, or null
   * @param since when it entered that state
   */
  /**
   * The local Docker socket as its last fact described it.
   *
   * @param path the socket file
   * @param listening whether it accepted connections
   * @param openConnections Docker API connections open then
   * @param requestsTotal requests since the start
   * @param openStreams long-lived responses open then (logs -f, exec, attach, events, wait)
   */
  public record DockerSocket(String path, boolean listening, int openConnections, long requestsTotal,
      int openStreams) {
    public DockerSocket {
      Objects.requireNonNull(path, "path");
    }

    JsonObject toJson() {
      return new JsonObject().put("path", path).put("listening", listening).put("openConnections", openConnections)
          .put("requestsTotal", requestsTotal).put("openStreams", openStreams);
    }

    static DockerSocket fromJson(JsonObject json) {
      Object listening = json.getValue("listening");
      if (!(listening instanceof Boolean isListening)) {
        throw new IllegalArgumentException("dockerSocket.listening is " + describe(listening)
            + ", expected true or false");
      }
      return new DockerSocket(string(json, "dockerSocket.path"), isListening,
          (int) count(json, "dockerSocket.openConnections"), count(json, "dockerSocket.requestsTotal"),
          (int) count(json, "dockerSocket.openStreams"));
    }
  }

  /**
   * The remote server's lifecycle (the {@code docktunnel.lifecycle} fact's wire names).
   *
   * @param state {@code unknown}, {@code starting}, {@code running}, {@code idle-warning},
   *     {@code stopping}, {@code stopped} or {@code failed}
   * @param stopAt the idle stop's deadline while {@code idle-warning}, else null
   * @param address where the last start put the server ({@code host[:port]}), when its provider
   *     said; null: the configured address (and in older records)
   */
  public record Server(String state, String provider, String reason, Instant since, Instant stopAt,
      String address) {
    public Server {
      Objects.requireNonNull(state, "state");
      Objects.requireNonNull(provider, "provider");
      Objects.requireNonNull(since, "since");
    }

    JsonObject toJson() {
      return new JsonObject().put("state", state).put("provider", provider).put("reason", reason)
          .put("since", since.toString()).put("stopAt", stopAt == null ? null : stopAt.toString())
          .put("address", address);
    }

    static Server fromJson(JsonObject json) {
      return new Server(string(json, "server.state"), string(json, "server.provider"),
          optionalString(json, "server.reason"), instant(json, "server.since"), optionalInstant(json, "server.stopAt"),
          optionalString(json, "server.address"));
    }
  }

  public record Ssh(String state, String reason, Instant since) {
    public Ssh {
      Objects.requireNonNull(state, "state");
      Objects.requireNonNull(since, "since");
    }

    public JsonObject toJson() {
      return new JsonObject().put("state", state).put("reason", reason).put("since", since.toString());
    }

    static Ssh fromJson(JsonObject json) {
      return new Ssh(
          string(json, "ssh.state"), optionalString(json, "ssh.reason"), instant(json, "ssh.since"));
    }
  }

  /**
   * One forward.
   *
   * @param containerId the container's full id
   * @param containerName its name
   * @param localAddress the loopback address bound
   * @param localPort the local port bound (a {@code next-free} choice is kept across restarts)
   * @param remotePort the port on the remote host
   * @param status the forward status's wire name
   * @param reason why, or null
   * @param sessionId the session the status was decided in, or null
   * @param createdAt when the forward was first planned
   * @param updatedAt when its status last changed
   * @param bytesIn bytes from the remote to local clients
   * @param bytesOut bytes from local clients to the remote
   * @param openConnections connections open through it now (0 in a stopped daemon's record)
   * @param connectionsTotal connections accepted so far
   * @param connectionsFailed connections that ended by a fault so far
   */
  public record Forward(
      String containerId,
      String containerName,
      String localAddress,
      int localPort,
      int remotePort,
      String status,
      String reason,
      String sessionId,
      Instant createdAt,
      Instant updatedAt,
      long bytesIn,
      long bytesOut,
      String protocol,
      int publishedPort,
      String remoteHost,
      int requestedLocalPort,
      int openConnections,
      long connectionsTotal,
      long connectionsFailed) {

    public Forward {
      Objects.requireNonNull(containerId, "containerId");
      Objects.requireNonNull(containerName, "containerName");
      Objects.requireNonNull(localAddress, "localAddress");
      Objects.requireNonNull(status, "status");
      Objects.requireNonNull(createdAt, "createdAt");
      Objects.requireNonNull(updatedAt, "updatedAt");
      Objects.requireNonNull(protocol, "protocol");
      Objects.requireNonNull(remoteHost, "remoteHost");
    }

    /** The same forward with new counters. */
    public Forward withCounters(long in, long out, int open, long total, long failed) {
      return new Forward(containerId, containerName, localAddress, localPort, remotePort, status, reason, sessionId,
          createdAt, updatedAt, in, out, protocol, publishedPort, remoteHost, requestedLocalPort, open, total, failed);
    }

    public JsonObject toJson() {
      return new JsonObject()
          .put("containerId", containerId)
          .put("containerName", containerName)
          .put("localAddress", localAddress)
          .put("localPort", localPort)
          .put("remotePort", remotePort)
          .put("status", status)
          .put("reason", reason)
          .put("sessionId", sessionId)
          .put("createdAt", createdAt.toString())
          .put("updatedAt", updatedAt.toString())
          .put("bytesIn", bytesIn)
          .put("bytesOut", bytesOut)
          .put("protocol", protocol)
          .put("publishedPort", publishedPort)
          .put("remoteHost", remoteHost)
          .put("requestedLocalPort", requestedLocalPort)
          .put("openConnections", openConnections)
          .put("connectionsTotal", connectionsTotal)
          .put("connectionsFailed", connectionsFailed);
    }

    static Forward fromJson(JsonObject json, String at) {
      return new Forward(
          string(json, at + ".containerId"),
          string(json, at + ".containerName"),
          string(json, at + ".localAddress"),
          port(json, at + ".localPort"),
          port(json, at + ".remotePort"),
          string(json, at + ".status"),
          optionalString(json, at + ".reason"),
          optionalString(json, at + ".sessionId"),
          instant(json, at + ".createdAt"),
          instant(json, at + ".updatedAt"),
          count(json, at + ".bytesIn"),
          count(json, at + ".bytesOut"),
          // What a restart needs to rebuild the forward; a record without them (an older writer)
          // reads as a TCP port published on all addresses, at its own local port.
          json.containsKey("protocol") ? string(json, at + ".protocol") : "tcp",
          json.containsKey("publishedPort") ? port(json, at + ".publishedPort") : port(json, at + ".remotePort"),
          json.containsKey("remoteHost") ? string(json, at + ".remoteHost") : "127.0.0.1",
          json.containsKey("requestedLocalPort") ? port(json, at + ".requestedLocalPort")
              : port(json, at + ".localPort"),
          json.containsKey("openConnections") ? (int) count(json, at + ".openConnections") : 0,
          json.containsKey("connectionsTotal") ? count(json, at + ".connectionsTotal") : 0,
          json.containsKey("connectionsFailed") ? count(json, at + ".connectionsFailed") : 0);
    }
  }

  /**
   * Whether a reader should treat this record as left over rather than as a live daemon's: it
   * stopped ({@code running} false), its PID is gone, or it was not refreshed for {@link
   * #STALE_AFTER}. Pure: the clock and the PID check are passed in.
   */
  public boolean isStale(Instant now, LongPredicate pidAlive) {
    return !running || !pidAlive.test(pid) || updatedAt.plus(STALE_AFTER).isBefore(now);
  }

  public JsonObject toJson() {
    JsonArray forwardsJson = new JsonArray();
    forwards.forEach(f -> forwardsJson.add(f.toJson()));
    return new JsonObject()
        .put("version", version)
        .put("host", host)
        .put("pid", pid)
        .put("running", running)
        .put("stoppedAt", stoppedAt == null ? null : stoppedAt.toString())
        .put("startedAt", startedAt.toString())
        .put("updatedAt", updatedAt.toString())
        .put("sessionId", sessionId)
        .put("ssh", ssh.toJson())
        .put("forwards", forwardsJson)
        .put("httpPort", httpPort)
        .put("bridgePort", bridgePort)
        .put("dockerSocket", dockerSocket == null ? null : dockerSocket.toJson())
        .put("server", server == null ? null : server.toJson());
  }

  /**
   * Reads a record, ignoring unknown fields.
   *
   * @throws IllegalArgumentException naming the field, when one is missing, of the wrong type or
   *     out of range, or the version is not {@link #VERSION}
   */
  public static HostState fromJson(JsonObject json) {
    Object version = json.getValue("version");
    if (!(version instanceof Number n) || n.doubleValue() != VERSION) {
      throw new IllegalArgumentException(
          "version is " + version + ", this docktunnel reads version " + VERSION);
    }
    Object ssh = json.getValue("ssh");
    if (!(ssh instanceof JsonObject sshJson)) {
      throw new IllegalArgumentException("ssh is " + describe(ssh) + ", expected an object");
    }
    Object forwardsValue = json.getValue("forwards");
    if (!(forwardsValue instanceof JsonArray forwardsJson)) {
      throw new IllegalArgumentException("forwards is " + describe(forwardsValue) + ", expected an array");
    }
    List<Forward> forwards = new ArrayList<>(forwardsJson.size());
    for (int i = 0; i < forwardsJson.size(); i++) {
      Object forward = forwardsJson.getValue(i);
      if (!(forward instanceof JsonObject forwardJson)) {
        throw new IllegalArgumentException(
            "forwards[" + i + "] is " + describe(forward) + ", expected an object");
      }
      forwards.add(Forward.fromJson(forwardJson, "forwards[" + i + "]"));
    }
    Object running = json.getValue("running");
    if (!(running instanceof Boolean isRunning)) {
      throw new IllegalArgumentException("running is " + describe(running) + ", expected true or false");
    }
    return new HostState(
        VERSION,
        string(json, "host"),
        pid(json),
        isRunning,
        optionalInstant(json, "stoppedAt"),
        instant(json, "startedAt"),
        instant(json, "updatedAt"),
        optionalString(json, "sessionId"),
        Ssh.fromJson(sshJson),
        forwards,
        optionalPort(json, "httpPort"),
        optionalPort(json, "bridgePort"),
        dockerSocket(json.getValue("dockerSocket")),
        server(json.getValue("server")));
  }

  private static Server server(Object value) {
    if (value == null) {
      return null;
    }
    if (!(value instanceof JsonObject json)) {
      throw new IllegalArgumentException("server is " + describe(value) + ", expected an object or null");
    }
    return Server.fromJson(json);
  }

  private static DockerSocket dockerSocket(Object value) {
    if (value == null) {
      return null;
    }
    if (!(value instanceof JsonObject json)) {
      throw new IllegalArgumentException("dockerSocket is " + describe(value) + ", expected an object or null");
    }
    return DockerSocket.fromJson(json);
  }

  // The readers below take a dotted path ("forwards[2].localPort") for the message and look up
  // its last segment.

  private static Object value(JsonObject json, String path) {
    return json.getValue(path.substring(path.lastIndexOf('.') + 1));
  }

  private static String string(JsonObject json, String path) {
    Object value = value(json, path);
    if (!(value instanceof String s)) {
      throw new IllegalArgumentException(path + " is " + describe(value) + ", expected a string");
    }
    return s;
  }

  private static String optionalString(JsonObject json, String path) {
    Object value = value(json, path);
    if (value == null) {
      return null;
    }
    if (!(value instanceof String s)) {
      throw new IllegalArgumentException(path + " is " + describe(value) + ", expected a string or null");
    }
    return s;
  }

  private static Instant instant(JsonObject json, String path) {
    String text = string(json, path);
    try {
      return Instant.parse(text);
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException(path + " is '" + text + "', expected an ISO-8601 UTC time");
    }
  }

  private static Instant optionalInstant(JsonObject json, String path) {
    return value(json, path) == null ? null : instant(json, path);
  }

  private static long whole(JsonObject json, String path) {
    Object value = value(json, path);
    if (!(value instanceof Integer || value instanceof Long)) {
      throw new IllegalArgumentException(path + " is " + describe(value) + ", expected a whole number");
    }
    return ((Number) value).longValue();
  }

  private static long pid(JsonObject json) {
    long pid = whole(json, "pid");
    if (pid < 1) {
      throw new IllegalArgumentException("pid is " + pid + ", expected a positive number");
    }
    return pid;
  }

  private static int port(JsonObject json, String path) {
    long port = whole(json, path);
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException(path + " is " + port + ", expected a port 1-65535");
    }
    return (int) port;
  }

  private static Integer optionalPort(JsonObject json, String path) {
    return value(json, path) == null ? null : port(json, path);
  }

  private static long count(JsonObject json, String path) {
    long count = whole(json, path);
    if (count < 0) {
      throw new IllegalArgumentException(path + " is " + count + ", expected 0 or more");
    }
    return count;
  }

  private static String describe(Object value) {
    if (value == null) {
      return "missing";
    }
    String text = String.valueOf(value);
    return "'" + (text.length() > 40 ? text.substring(0, 40) + "..." : text) + "'";
  }
}

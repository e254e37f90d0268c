package dev.docktunnel.http;

import dev.docktunnel.bus.Addresses;
import dev.docktunnel.bus.Endpoint;
import dev.docktunnel.bus.Facts;
import dev.docktunnel.config.DurationText;
import dev.docktunnel.metrics.DocktunnelMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.TimeoutHandler;
import io.vertx.ext.web.healthchecks.HealthCheckHandler;
import io.vertx.micrometer.PrometheusScrapingHandler;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP API on 127.0.0.1 only: {@code GET /health}, {@code GET /health/ready},
 * {@code GET /status}, {@code GET /metrics}, {@code POST /stop}, the lifecycle's
 * {@code POST /lifecycle/extend}, {@code POST /server/start}, {@code POST /server/stop} and
 * {@code GET /server} (forwarded to the lifecycle verticle over the bus), plus whatever
 * {@link Mount}s the composition root adds (the SockJS event bridge at {@code /eventbus/*}).
 *
 * <p>Every request first passes the {@link HostAllowList} (403 otherwise), mounts included.
 * Requests that change state need {@code Authorization: Bearer <token>} ({@link ApiToken}, 401
 * otherwise, a WARN naming the peer). No CORS headers are ever sent, so a browser page of another
 * origin cannot read an answer. Our routes time out ({@link Limits#requestTimeout}, 503); idle
 * connections are closed ({@link Limits#idleTimeout}); beyond {@link Limits#maxConnections} open
 * connections a new one is closed at once, counted, with a WARN at most once a minute. The port
 * is published as a {@code docktunnel.endpoint} fact once listening, so the state file records it.
 */
public final class HttpApiVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(HttpApiVerticle.class);
  /** The only address we listen on: the API must not reach the laptop's network. */
  public static final String ADDRESS = "127.0.0.1";
  /** The path {@code docktunnel stop} posts to, with the token. */
  public static final String STOP_PATH = "/stop";
  /** The path {@code docktunnel extend} posts to, with the token and {@code {"duration": "30m"}} or nothing. */
  public static final String EXTEND_PATH = "/lifecycle/extend";
  /** {@code GET}: the lifecycle status; {@code POST /server/start}, {@code /server/stop} (with the token). */
  public static final String SERVER_PATH = "/server";
  static final long QUERY_TIMEOUT_MS = 2_000;
  /**
   * How long the lifecycle verticle gets to answer a command. It answers with the decision (say
   * {@code starting}), not once the provider is done, so this is short; below the request timeout.
   */
  static final long LIFECYCLE_TIMEOUT_MS = 5_000;
  /** {@code {"duration": "..."}} is a few bytes; anything larger is refused (413). */
  private static final long MAX_EXTEND_BODY = 1024;
  private static final Duration WARN_EVERY = Duration.ofMinutes(1);

  /**
   * Extra routes on the API's router, e.g. the SockJS bridge:
   * {@code (vertx, router) -> router.route("/eventbus/*").subRouter(...)}. Mounted after the Host
   * check, so it applies to them too; the request timeout does not (a bridge's connections are
   * long-lived), so a mount bounds its own requests.
   */
  @FunctionalInterface
  public interface Mount {
    void mount(Vertx vertx, Router router);
  }

  /**
   * The server's limits.
   *
   * @param maxConnections open connections at most; more are closed at once
   * @param requestTimeout how long one of our routes may take before a 503
   * @param idleTimeout a connection without a byte either way for this long is closed
   */
  public record Limits(int maxConnections, Duration requestTimeout, Duration idleTimeout) {
    /** 64 connections, 10 s per request, 60 s idle (above SockJS's 25 s heartbeat). */
    public static final Limits DEFAULT = new Limits(64, Duration.ofSeconds(10), Duration.ofSeconds(60));
  }

  private final int configuredPort;
  private final Path stateDir;
  private final DocktunnelMetrics metrics;
  private final Runnable stopDaemon;
  private final List<Mount> mounts;
  private final Limits limits;
  private final ConnectionCap cap;
  private HttpServer server;
  private HostAllowList allowList;
  private ApiToken token;
  private Counter refusedConnections;
  private Counter unauthorized;
  private Counter refusedHosts;
  private Counter lifecycleUnanswered;

  /**
   * @param port the port to listen on; 0: any free one
   * @param stateDir where the API token lives (made on first start)
   * @param metrics the registry {@code /metrics} shows
   * @param stopDaemon what an authorized {@code POST /stop} does, after its 202 went out (for
   *     {@code docktunnel run}: the process's exit, which runs the graceful stop)
   * @param mounts extra routes (see {@link Mount})
   */
  public HttpApiVerticle(int port, Path stateDir, DocktunnelMetrics metrics, Runnable stopDaemon, List<Mount> mounts) {
    this(port, stateDir, metrics, stopDaemon, mounts, Limits.DEFAULT, Clock.systemUTC());
  }

  HttpApiVerticle(int port, Path stateDir, DocktunnelMetrics metrics, Runnable stopDaemon, List<Mount> mounts,
      Limits limits, Clock clock) {
    this.configuredPort = port;
    this.stateDir = Objects.requireNonNull(stateDir, "stateDir");
    this.metrics = Objects.requireNonNull(metrics, "metrics");
    this.stopDaemon = Objects.requireNonNull(stopDaemon, "stopDaemon");
    this.mounts = List.copyOf(mounts);
    this.limits = limits;
    this.cap = new ConnectionCap(limits.maxConnections(), WARN_EVERY, clock);
  }

  /**
   * The usual stop action of {@code docktunnel run}: {@code System.exit(0)} from a thread of its
   * own (never an event loop, which the shutdown hook's graceful stop needs free).
   */
  public static Runnable exitProcess() {
    return () -> new Thread(() -> System.exit(0), "docktunnel-stop-request").start();
  }

  /** The port listened on; valid once started. */
  public int port() {
    return server.actualPort();
  }

  @Override
  public Future<?> start() {
    var registry = metrics.registry();
    refusedConnections = Counter.builder("docktunnel.http.connections.refused")
        .description("HTTP API connections closed at once because the cap was reached").register(registry);
    unauthorized = Counter.builder("docktunnel.http.unauthorized")
        .description("State-changing HTTP requests refused for a missing or wrong token").register(registry);
    refusedHosts = Counter.builder("docktunnel.http.host.refused")
        .description("HTTP requests refused for a Host header that is not ours").register(registry);
    lifecycleUnanswered = Counter.builder("docktunnel.http.lifecycle.unanswered")
        .description("Lifecycle requests (extend, server) that got a 503: no lifecycle, a timeout or its failure")
        .register(registry);
    Gauge.builder("docktunnel.http.connections.open", cap, ConnectionCap::open)
        .description("HTTP API connections open now").register(registry);
    return vertx.executeBlocking(() -> ApiToken.loadOrCreate(stateDir))
        .recover(error -> Future.failedFuture(new IllegalStateException(
            "HTTP API cannot read or make its token in " + stateDir + ": " + error.getMessage(), error)))
        .compose(loaded -> {
          token = loaded;
          return listen();
        });
  }

  private Future<HttpServer> listen() {
    Router router = Router.router(vertx);
    router.route().handler(this::checkHost);
    mounts.forEach(mount -> mount.mount(vertx, router));
    TimeoutHandler timeout = TimeoutHandler.create(limits.requestTimeout().toMillis(), 503);
    router.get("/health").handler(timeout).handler(this::alive);
    router.get("/health/ready").handler(timeout)
        .handler(HealthCheckHandler.createWithHealthChecks(ReadinessChecks.create(vertx)));
    router.get("/status").handler(timeout).handler(this::status);
    router.get("/metrics").handler(timeout).handler(PrometheusScrapingHandler.create(metrics.registry()));
    router.post(STOP_PATH).handler(timeout).handler(this::requireToken).handler(this::stop);
    // vert.x wants the body handler before any of ours; the body is bounded at 1 KB, read before the token check.
    router.post(EXTEND_PATH).handler(timeout).handler(BodyHandler.create(false).setBodyLimit(MAX_EXTEND_BODY))
        .handler(this::requireToken).handler(this::extend);
    router.post(SERVER_PATH + "/start").handler(timeout).handler(this::requireToken)
        .handler(rc -> server(rc, "start"));
    router.post(SERVER_PATH + "/stop").handler(timeout).handler(this::requireToken)
        .handler(rc -> server(rc, "stop"));
    router.get(SERVER_PATH).handler(timeout).handler(rc -> server(rc, "status"));
    router.route().failureHandler(this::failed);
    // No h2c: it delays the connection (and so the cap) until the first bytes, and we need only HTTP/1.1.
    server = vertx.createHttpServer(new HttpServerOptions().setHost(ADDRESS).setPort(configuredPort)
        .setHttp2ClearTextEnabled(false)
        .setIdleTimeout((int) limits.idleTimeout().toSeconds()).setIdleTimeoutUnit(TimeUnit.SECONDS));
    return server.connectionHandler(this::capped).requestHandler(router).listen()
        .recover(error -> Future.failedFuture(new IllegalStateException(
            "HTTP API cannot listen on " + ADDRESS + ":" + configuredPort + " (setting http.port, --http-port): "
                + error.getMessage(), error)))
        .onSuccess(s -> {
          allowList = new HostAllowList(s.actualPort());
          LOG.info("HTTP API on http://{}:{}", ADDRESS, s.actualPort());
          Facts.publish(vertx.eventBus(), Addresses.ENDPOINT,
              new Endpoint(Endpoint.Kind.HTTP, ADDRESS, s.actualPort(), Instant.now()));
        });
  }

  private void capped(HttpConnection connection) {
    if (!cap.admit()) {
      refusedConnections.increment();
      long refusals = cap.refusalsToWarn();
      if (refusals > 0) {
        LOG.warn("HTTP API: {} open connections, the cap: closed {} new one(s) at once (latest from {});"
            + " next warning in a minute at the earliest", cap.max(), refusals, connection.remoteAddress());
      }
      connection.close();
      return;
    }
    connection.closeHandler(v -> cap.release());
  }

  private void checkHost(RoutingContext rc) {
    String host = rc.request().getHeader("Host");
    if (allowList.allows(host)) {
      rc.next();
      return;
    }
    refusedHosts.increment();
    LOG.warn("HTTP API: refused {} {} from {} with Host '{}' (not a loopback name with our port)",
        rc.request().method(), rc.request().path(), rc.request().remoteAddress(), host);
    error(rc, 403, "Host header not allowed");
  }

  /** A route failed or timed out: a JSON error, a WARN naming the request. */
  private void failed(RoutingContext rc) {
    int status = rc.statusCode() < 0 ? 500 : rc.statusCode();
    String what = status == 503 && rc.failure() == null
        ? "took longer than " + limits.requestTimeout().toMillis() + " ms"
        : rc.failure() != null ? rc.failure().toString() : "failed with " + status;
    LOG.warn("HTTP API: {} {} from {} {}", rc.request().method(), rc.request().path(), rc.request().remoteAddress(),
        what);
    error(rc, status, what);
  }

  private void alive(RoutingContext rc) {
    rc.json(new JsonObject().put("status", "UP").put("pid", ProcessHandle.current().pid())
        .put("uptimeMs", ManagementFactory.getRuntimeMXBean().getUptime()));
  }

  private void status(RoutingContext rc) {
    vertx.eventBus().<JsonObject>request(Addresses.STATUS, new JsonObject(),
            new DeliveryOptions().setSendTimeout(QUERY_TIMEOUT_MS))
        .onSuccess(reply -> {
          if (!rc.response().ended()) { // else the request timed out meanwhile, and was answered
            rc.json(reply.body());
          }
        })
        .onFailure(error -> {
          LOG.warn("HTTP API: /status unanswered: {}", error.getMessage());
          error(rc, 503, "status unavailable: " + error.getMessage());
        });
  }

  /** Lets a state-changing request through only with the install's token: else 401, counted, a WARN. */
  private void requireToken(RoutingContext rc) {
    String header = rc.request().getHeader("Authorization");
    if (token.matchesHeader(header)) {
      rc.next();
      return;
    }
    unauthorized.increment();
    String route = rc.request().method() + " " + rc.request().path();
    LOG.warn("HTTP API: refused {} from {}: {}", route, rc.request().remoteAddress(),
        header == null ? "no Authorization header" : "wrong token");
    rc.response().putHeader("WWW-Authenticate", "Bearer");
    error(rc, 401, route + " needs Authorization: Bearer <the token in "
        + stateDir.resolve(ApiToken.FILE_NAME) + ">");
  }

  private void stop(RoutingContext rc) {
    LOG.info("stop requested over the HTTP API by {}", rc.request().remoteAddress());
    rc.response().setStatusCode(202).putHeader("Content-Type", "application/json")
        .end(new JsonObject().put("stopping", true).encode())
        .onComplete(sent -> stopDaemon.run());
  }

  /**
   * {@code POST /lifecycle/extend}: the body {@code {"duration": "30m"}} becomes {@code
   * {"durationMs": n}}; an empty body (or no {@code duration}) becomes {@code {}}, which the
   * lifecycle reads as "by the idle timeout" (it owns that setting).
   */
  private void extend(RoutingContext rc) {
    JsonObject command = new JsonObject();
    String text = rc.body().asString();
    if (text != null && !text.isBlank()) {
      JsonObject body;
      try {
        body = new JsonObject(text);
      } catch (DecodeException | ClassCastException e) {
        error(rc, 400, "the body must be a JSON object like {\"duration\": \"30m\"}, or empty for the idle timeout");
        return;
      }
      for (String field : body.fieldNames()) {
        if (!field.equals("duration")) {
          error(rc, 400, "unknown field '" + field + "' in the body; only \"duration\" is known");
          return;
        }
      }
      Object duration = body.getValue("duration");
      if (duration != null) {
        if (!(duration instanceof String s)) {
          error(rc, 400, "\"duration\" must be a string like \"30m\" (" + DurationText.EXAMPLES + "), not " + duration);
          return;
        }
        try {
          command.put("durationMs", DurationText.parsePositive(s).toMillis());
        } catch (IllegalArgumentException e) {
          error(rc, 400, "\"duration\": " + e.getMessage());
          return;
        }
      }
    }
    LOG.info("extend of the idle stop requested over the HTTP API by {}: {}", rc.request().remoteAddress(),
        command.containsKey("durationMs") ? command.getLong("durationMs") + " ms" : "by the idle timeout");
    forward(rc, Addresses.LIFECYCLE_EXTEND, command);
  }

  /** {@code GET /server} ({@code status}), {@code POST /server/start} and {@code /stop}. */
  private void server(RoutingContext rc, String action) {
    if (!action.equals("status")) {
      LOG.info("server {} requested over the HTTP API by {}", action, rc.request().remoteAddress());
    }
    forward(rc, Addresses.LIFECYCLE_SERVER, new JsonObject().put("action", action));
  }

  /**
   * Asks the lifecycle verticle and answers with its reply (200). No consumer, a timeout or a
   * failure without a 4xx code: 503 with the reason; a failure with a 4xx code (the lifecycle
   * refused the command, e.g. a stop while already stopped) passes with that code and its message.
   */
  private void forward(RoutingContext rc, String address, JsonObject command) {
    String route = rc.request().method() + " " + rc.request().path();
    vertx.eventBus().<JsonObject>request(address, command, new DeliveryOptions().setSendTimeout(LIFECYCLE_TIMEOUT_MS))
        .onSuccess(reply -> {
          if (!rc.response().ended()) { // else the request timed out meanwhile, and was answered
            rc.json(reply.body());
          }
        })
        .onFailure(failure -> {
          if (failure instanceof ReplyException re && re.failureType() == ReplyFailure.RECIPIENT_FAILURE
              && re.failureCode() >= 400 && re.failureCode() < 500) {
            LOG.info("HTTP API: {} refused by the lifecycle: {}", route, re.getMessage());
            error(rc, re.failureCode(), re.getMessage());
            return;
          }
          String why = failure instanceof ReplyException re && re.failureType() == ReplyFailure.NO_HANDLERS
              ? "the lifecycle is not running (nothing answers " + address + ")"
              : failure instanceof ReplyException re && re.failureType() == ReplyFailure.TIMEOUT
                  ? "the lifecycle did not answer within " + LIFECYCLE_TIMEOUT_MS + " ms"
                  : "the lifecycle failed: " + failure.getMessage();
          lifecycleUnanswered.increment();
          LOG.warn("HTTP API: {} from {} unanswered: {}", route, rc.request().remoteAddress(), why);
          error(rc, 503, why);
        });
  }

  private static void error(RoutingContext rc, int status, String message) {
    if (rc.response().ended() || rc.response().closed()) {
      return; // answered already (a timeout) or the client left
    }
    rc.response().setStatusCode(status).putHeader("Content-Type", "application/json")
        .end(new JsonObject().put("error", message).encode());
  }
}

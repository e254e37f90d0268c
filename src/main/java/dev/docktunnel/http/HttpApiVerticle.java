package dev.docktunnel.http;

import dev.docktunnel.bus.Addresses;
import dev.docktunnel.bus.Endpoint;
import dev.docktunnel.bus.Facts;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP API on 127.0.0.1 only: {@code GET /status}. Every request first passes the {@link
 * HostAllowList} (403 otherwise). The port is published as a {@code docktunnel.endpoint} fact
 * once listening, so the state file records it.
 */
public final class HttpApiVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(HttpApiVerticle.class);
  /** The only address we listen on: the API must not reach the laptop's network. */
  public static final String ADDRESS = "127.0.0.1";
  static final long QUERY_TIMEOUT_MS = 2_000;

  private final int configuredPort;
  private HttpServer server;
  private HostAllowList allowList;

  /** @param port the port to listen on; 0: any free one */
  public HttpApiVerticle(int port) {
    this.configuredPort = port;
  }

  /** The port listened on; valid once started. */
  public int port() {
    return server.actualPort();
  }

  @Override
  public Future<?> start() {
    Router router = Router.router(vertx);
    router.route().handler(this::checkHost);
    router.get("/status").handler(this::status);
    server = vertx.createHttpServer(new HttpServerOptions().setHost(ADDRESS).setPort(configuredPort));
    return server.requestHandler(router).listen()
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

  private void checkHost(RoutingContext rc) {
    String host = rc.request().getHeader("Host");
    if (allowList.allows(host)) {
      rc.next();
      return;
    }
    LOG.warn("HTTP API: refused {} {} from {} with Host '{}' (not a loopback name with our port)",
        rc.request().method(), rc.request().path(), rc.request().remoteAddress(), host);
    rc.response().setStatusCode(403).putHeader("Content-Type", "application/json")
        .end(new JsonObject().put("error", "Host header not allowed").encode());
  }

  private void status(RoutingContext rc) {
    vertx.eventBus().<JsonObject>request(Addresses.STATUS, new JsonObject(),
            new DeliveryOptions().setSendTimeout(QUERY_TIMEOUT_MS))
        .onSuccess(reply -> rc.json(reply.body()))
        .onFailure(error -> {
          LOG.warn("HTTP API: /status unanswered: {}", error.getMessage());
          rc.response().setStatusCode(503).putHeader("Content-Type", "application/json")
              .end(new JsonObject().put("error", "status unavailable: " + error.getMessage()).encode());
        });
  }
}

package dev.docktunnel.docker;

import dev.docktunnel.ssh.SessionProvider;
import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Docker Engine API over the SSH session: each request opens one
 * {@code direct-streamlocal@openssh.com} channel to the remote engine socket, speaks HTTP/1.1 on
 * it (Netty's codec; chunked and content-length bodies) and closes it. Nothing blocks; every
 * future completes on the context of the caller.
 *
 * <p>Paths after {@link #version()} carry the negotiated API version ({@code /v1.41/...}); a call
 * made before negotiates first.
 */
public final class DockerEngineClient implements DockerEngine {
  /** Oldest API we speak: every field we read exists since 1.24 (Docker 1.12). */
  public static final ApiVersion MIN_API = new ApiVersion(1, 24);
  /** Newest API we speak (Docker 27); newer engines are addressed with this version. */
  public static final ApiVersion MAX_API = new ApiVersion(1, 47);
  /** Largest non-streaming body we buffer. */
  public static final long MAX_BODY_BYTES = 16L * 1024 * 1024;

  private static final Logger LOG = LoggerFactory.getLogger(DockerEngineClient.class);
  private static final Duration OPEN_TIMEOUT = Duration.ofSeconds(10);
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);
  /** Container ids and names: what the engine accepts, nothing that could change the path. */
  private static final Pattern CONTAINER_REF = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]*");

  private final Vertx vertx;
  private final EngineConnector connector;
  private final Duration requestTimeout;
  private final AtomicReference<ApiVersion> negotiated = new AtomicReference<>();
  private final AtomicLong malformedEventLines = new AtomicLong();
  private final AtomicLong oversizedEventLines = new AtomicLong();

  /**
   * A client for the engine listening on {@code remoteSocketPath} on the SSH server.
   *
   * @param vertx            the Vert.x instance (timers; callers' contexts)
   * @param sessions         the live SSH session, if any
   * @param remoteSocketPath e.g. {@code /var/run/docker.sock}
   */
  public DockerEngineClient(Vertx vertx, SessionProvider sessions, String remoteSocketPath) {
    this(vertx, new SshEngineConnector(vertx, sessions, remoteSocketPath, OPEN_TIMEOUT),
        REQUEST_TIMEOUT);
  }

  /** For tests: any transport, any timeout. */
  DockerEngineClient(Vertx vertx, EngineConnector connector, Duration requestTimeout) {
    this.vertx = Objects.requireNonNull(vertx, "vertx");
    this.connector = Objects.requireNonNull(connector, "connector");
    this.requestTimeout = Objects.requireNonNull(requestTimeout, "requestTimeout");
  }

  /** The API version in use, once negotiated. */
  public Optional<ApiVersion> negotiatedApiVersion() {
    return Optional.ofNullable(negotiated.get());
  }

  /** Event lines skipped as malformed, over all streams of this client. */
  public long malformedEventLines() {
    return malformedEventLines.get();
  }

  /** Event lines skipped as longer than 1 MiB, over all streams of this client. */
  public long oversizedEventLines() {
    return oversizedEventLines.get();
  }

  @Override
  public Future<Void> ping() {
    return get("/_ping").compose(r -> {
      String text = r.body().toString(StandardCharsets.UTF_8).trim();
      return "OK".equals(text) ? Future.<Void>succeededFuture()
          : Future.failedFuture(new DockerEngineException(
              "the Docker engine answered /_ping with '" + abbreviate(text) + "' instead of OK"));
    });
  }

  @Override
  public Future<EngineVersion> version() {
    return get("/version").compose(r -> {
      JsonObject json = jsonObject(r, "/version");
      String apiText = JsonFields.string(json, "ApiVersion");
      if (apiText == null) {
        return Future.failedFuture(new DockerEngineException(
            "the Docker engine's /version answer has no ApiVersion: " + abbreviate(json.encode())));
      }
      ApiVersion engineApi;
      ApiVersion engineMin;
      try {
        engineApi = ApiVersion.parse(apiText);
        String minText = JsonFields.string(json, "MinAPIVersion");
        // Engines have reported MinAPIVersion since API 1.21; without it, assume ours is fine.
        engineMin = minText == null ? ApiVersion.min(engineApi, MIN_API) : ApiVersion.parse(minText);
      } catch (IllegalArgumentException e) {
        return Future.failedFuture(new DockerEngineException(
            "the Docker engine's /version answer has an unreadable API version: " + e.getMessage()));
      }
      ApiVersion chosen = ApiVersion.min(engineApi, MAX_API);
      if (chosen.compareTo(engineMin) < 0 || chosen.compareTo(MIN_API) < 0) {
        return Future.failedFuture(new DockerEngineException("the Docker engine speaks API "
            + engineMin + " to " + engineApi + ", docktunnel speaks " + MIN_API + " to " + MAX_API
            + ": no common version; " + (chosen.compareTo(MIN_API) < 0
            ? "upgrade Docker on the remote host" : "upgrade docktunnel")));
      }
      ApiVersion previous = negotiated.getAndSet(chosen);
      if (!chosen.equals(previous)) {
        LOG.info("Docker engine {} (API {}..{}): using API {}",
            JsonFields.string(json, "Version", "?"), engineMin, engineApi, chosen);
      }
      return Future.succeededFuture(new EngineVersion(JsonFields.string(json, "Version", ""),
          engineApi, engineMin, JsonFields.string(json, "Os", ""),
          JsonFields.string(json, "Arch", ""), chosen, dateHeader(r)));
    });
  }

  @Override
  public Future<List<ContainerInfo>> listContainers() {
    return apiPath("/containers/json").compose(path -> get(path).compose(r -> {
      JsonArray entries = jsonArray(r, path);
      List<ContainerInfo> result = new ArrayList<>(entries.size());
      for (Object entry : entries) {
        if (!(entry instanceof JsonObject object)) {
          return Future.failedFuture(new DockerEngineException(
              "unexpected entry in the engine's container list: " + abbreviate(entry + "")));
        }
        try {
          result.add(ContainerInfo.fromListEntry(object));
        } catch (IllegalArgumentException e) {
          return Future.failedFuture(new DockerEngineException(e.getMessage(), e));
        }
      }
      return Future.succeededFuture(result);
    }));
  }

  @Override
  public Future<ContainerInfo> inspect(String id) {
    if (id == null || !CONTAINER_REF.matcher(id).matches()) {
      return Future.failedFuture(new IllegalArgumentException("not a container id or name: " + id));
    }
    return apiPath("/containers/" + id + "/json").compose(path ->
        EngineExchange.fetch(vertx, connector, HttpMethod.GET, path, MAX_BODY_BYTES, requestTimeout)
            .compose(r -> {
              if (r.status() == 404) {
                return Future.failedFuture(
                    new NoSuchContainerException("GET " + path, id, errorMessage(r)));
              }
              return checked(r, path).map(ok -> {
                try {
                  return ContainerInfo.fromInspect(jsonObject(ok, path));
                } catch (IllegalArgumentException e) {
                  throw new DockerEngineException(e.getMessage(), e);
                }
              });
            }));
  }

  @Override
  public Future<EventStream> events(Set<String> types, Instant since, Handler<DockerEvent> handler,
                                    Handler<Throwable> endHandler) {
    Objects.requireNonNull(handler, "handler");
    Objects.requireNonNull(endHandler, "endHandler");
    StringBuilder query = new StringBuilder();
    if (types != null && !types.isEmpty()) {
      JsonObject filters = new JsonObject().put("type", new JsonArray(new ArrayList<>(
          new TreeSet<>(types))));
      query.append("filters=").append(URLEncoder.encode(filters.encode(), StandardCharsets.UTF_8));
    }
    if (since != null) {
      query.append(query.length() > 0 ? "&" : "").append("since=").append(since.getEpochSecond());
    }
    String suffix = query.length() > 0 ? "?" + query : "";
    return apiPath("/events" + suffix).compose(path -> {
      StreamHandle stream = new StreamHandle(handler, endHandler);
      return EngineExchange.stream(vertx, connector, path, requestTimeout, stream::body,
              stream::ended)
          .compose(exchange -> {
            EngineExchange.Response head = exchange.response();
            if (!head.isSuccess()) {
              return Future.failedFuture(apiError(head, path));
            }
            stream.exchange = exchange;
            return Future.succeededFuture(stream);
          });
    });
  }

  /** A streaming {@code /events} response feeding an {@link EventStreamParser}. */
  private final class StreamHandle implements EventStream {
    private final Handler<Throwable> endHandler;
    private final EventStreamParser parser;
    private EngineExchange exchange;
    private boolean cancelled;

    StreamHandle(Handler<DockerEvent> handler, Handler<Throwable> endHandler) {
      this.endHandler = endHandler;
      this.parser = new EventStreamParser(event -> {
        if (!cancelled) {
          handler.handle(event);
        }
      });
    }

    void body(Buffer chunk) {
      long malformedBefore = parser.malformedLines();
      long oversizedBefore = parser.oversizedLines();
      parser.feed(chunk);
      malformedEventLines.addAndGet(parser.malformedLines() - malformedBefore);
      oversizedEventLines.addAndGet(parser.oversizedLines() - oversizedBefore);
    }

    void ended(Throwable error) {
      if (error == null) {
        long malformedBefore = parser.malformedLines();
        parser.end();
        malformedEventLines.addAndGet(parser.malformedLines() - malformedBefore);
      }
      if (!cancelled) {
        cancelled = true;
        endHandler.handle(error);
      }
    }

    @Override
    public void cancel() {
      cancelled = true;
      if (exchange != null) {
        exchange.cancel();
      }
    }

    @Override
    public long malformedLines() {
      return parser.malformedLines();
    }

    @Override
    public long oversizedLines() {
      return parser.oversizedLines();
    }
  }

  private Future<String> apiPath(String path) {
    ApiVersion version = negotiated.get();
    if (version != null) {
      return Future.succeededFuture("/v" + version + path);
    }
    return version().map(v -> "/v" + v.negotiated() + path);
  }

  /** A buffered GET that fails on any non-2xx status. */
  private Future<EngineExchange.Response> get(String path) {
    return EngineExchange.fetch(vertx, connector, HttpMethod.GET, path, MAX_BODY_BYTES,
            requestTimeout)
        .compose(r -> checked(r, path));
  }

  private static Future<EngineExchange.Response> checked(EngineExchange.Response r, String path) {
    return r.isSuccess() ? Future.succeededFuture(r) : Future.failedFuture(apiError(r, path));
  }

  private static DockerApiException apiError(EngineExchange.Response r, String path) {
    return new DockerApiException("GET " + path, r.status(), errorMessage(r));
  }

  /** The engine's {@code {"message": "..."}}, or the raw body text. */
  private static String errorMessage(EngineExchange.Response r) {
    String text = r.body().toString(StandardCharsets.UTF_8).trim();
    try {
      String message = JsonFields.string(new JsonObject(text), "message");
      if (message != null) {
        return message;
      }
    } catch (RuntimeException e) {
      // not JSON: use the text
    }
    return abbreviate(text);
  }

  private static JsonObject jsonObject(EngineExchange.Response r, String path) {
    try {
      return new JsonObject(r.body().toString(StandardCharsets.UTF_8));
    } catch (DecodeException | ClassCastException e) {
      throw new DockerEngineException("the engine's answer to GET " + path
          + " is not a JSON object: " + abbreviate(r.body().toString(StandardCharsets.UTF_8)), e);
    }
  }

  private static JsonArray jsonArray(EngineExchange.Response r, String path) {
    try {
      return new JsonArray(r.body().toString(StandardCharsets.UTF_8));
    } catch (DecodeException | ClassCastException e) {
      throw new DockerEngineException("the engine's answer to GET " + path
          + " is not a JSON array: " + abbreviate(r.body().toString(StandardCharsets.UTF_8)), e);
    }
  }

  private static Instant dateHeader(EngineExchange.Response r) {
    String date = r.headers().get(HttpHeaderNames.DATE);
    Date parsed = date == null ? null : DateFormatter.parseHttpDate(date);
    return parsed == null ? null : parsed.toInstant();
  }

  private static String abbreviate(String text) {
    return text.length() > 200 ? text.substring(0, 200) + "..." : text;
  }
}

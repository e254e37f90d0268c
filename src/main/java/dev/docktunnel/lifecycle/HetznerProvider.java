package dev.docktunnel.lifecycle;

import dev.docktunnel.config.ConfigException;
import dev.docktunnel.config.DocktunnelConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code hetzner} provider: the server lives in Hetzner Cloud, and since a stopped Hetzner
 * server is billed like a running one, "stopped" means deleted.
 *
 * <ul>
 *   <li>{@link #status()}: the server named {@code serverName} ({@code GET /servers?name=}):
 *       {@code running} is RUNNING (so are {@code initializing}/{@code starting}, it is coming up),
 *       {@code off}/{@code stopping} are STOPPED, none (or {@code deleting}) is NOT_FOUND.</li>
 *   <li>{@link #stop()} (idle): a graceful shutdown (ACPI, waited for until {@code off}; a power-off
 *       when that takes longer than {@link Timing#shutdownTimeout()}), then with
 *       {@code keep=snapshot} a snapshot labelled {@code docktunnel=<serverName>} (older ones with
 *       that label are deleted once the new one exists), then {@code DELETE /servers/{id}}. With
 *       {@code keep=volume} the server must have the volume attached (else the stop is refused:
 *       its {@code /var/lib/docker} would be lost); the delete detaches it and it stays.</li>
 *   <li>{@link #start()} (wake): an existing server is used (powered on when {@code off}); else one
 *       is created ({@code POST /servers}) from the newest labelled snapshot (keep=snapshot) or
 *       {@code image}, with {@code sshKey} and the volume ({@code automount}); its actions are
 *       polled until they succeed and the server until it is {@code running}; the result is its
 *       public IPv4.</li>
 *   <li>{@link #destroy()}: {@code DELETE /servers/{id}} at once (no shutdown, no snapshot). The
 *       volume and the snapshots stay, and stay billed: delete them in the console or with
 *       {@code hcloud} when they are no longer wanted.</li>
 * </ul>
 *
 * <p>Every request has {@link Timing#requestTimeout()}; a start is bounded by
 * {@link Timing#startTimeout()}, a stop or destroy by {@link Timing#stopTimeout()}, polls come every
 * {@link Timing#pollInterval()}. The token is read at the start of each operation (a rotated file
 * is picked up) in {@code executeBlocking}; it is never logged. Calls are not serialized here: the lifecycle
 * verticle runs one at a time.
 */
public final class HetznerProvider implements ServerProvider {

  /** The provider's name in {@code lifecycle.provider}. */
  public static final String NAME = "hetzner";

  /** The label every server and snapshot docktunnel creates carries: {@code docktunnel=<serverName>}. */
  public static final String LABEL = "docktunnel";

  private static final Logger LOG = LoggerFactory.getLogger(HetznerProvider.class);

  /**
   * How long things may take.
   *
   * @param requestTimeout one API request
   * @param pollInterval between two polls of an action or a server's status
   * @param startTimeout a whole start (create, actions, until running)
   * @param stopTimeout a whole stop or destroy (shutdown, snapshot, delete)
   * @param shutdownTimeout how long a graceful shutdown may take before the server is powered off
   */
  public record Timing(Duration requestTimeout, Duration pollInterval, Duration startTimeout, Duration stopTimeout,
      Duration shutdownTimeout) {
    /**
     * 15 s per request, polls every 2 s, 5 min for a start, 30 min for a stop (a snapshot takes
     * minutes), 2 min for a graceful shutdown.
     */
    public static final Timing DEFAULT = new Timing(Duration.ofSeconds(15), Duration.ofSeconds(2),
        Duration.ofMinutes(5), Duration.ofMinutes(30), Duration.ofMinutes(2));

    public Timing {
      for (Duration d : new Duration[] {requestTimeout, pollInterval, startTimeout, stopTimeout, shutdownTimeout}) {
        if (d == null || d.isNegative() || d.isZero()) {
          throw new IllegalArgumentException("hetzner provider timings must be above zero: " + d);
        }
      }
    }
  }

  private enum Keep {
    VOLUME,
    SNAPSHOT
  }

  private final Vertx vertx;
  private final DocktunnelConfig.Hetzner settings;
  private final Timing timing;
  private final Keep keep;
  private final HetznerApi api;
  private final AtomicLong failures = new AtomicLong();

  /** The provider with {@link Timing#DEFAULT} and the process environment. */
  public HetznerProvider(Vertx vertx, DocktunnelConfig.Hetzner settings) {
    this(vertx, settings, Timing.DEFAULT, System.getenv());
  }

  /**
   * @param environment where {@code tokenEnv} is looked up (the process environment in production)
   * @throws ConfigException naming the {@code lifecycle.hetzner.*} setting that is missing or bad
   */
  public HetznerProvider(Vertx vertx, DocktunnelConfig.Hetzner settings, Timing timing,
      Map<String, String> environment) {
    this.vertx = Objects.requireNonNull(vertx, "vertx");
    this.settings = Objects.requireNonNull(settings, "settings");
    this.timing = Objects.requireNonNull(timing, "timing");
    Objects.requireNonNull(environment, "environment");
    this.keep = validate(settings);
    this.api = new HetznerApi(vertx, settings.apiUrl(), timing.requestTimeout(), timing.pollInterval(),
        () -> vertx.executeBlocking(() -> HetznerToken.read(settings, environment), false));
  }

  private static Keep validate(DocktunnelConfig.Hetzner s) {
    require("apiUrl", s.apiUrl());
    if (!s.apiUrl().startsWith("https://") && !s.apiUrl().startsWith("http://")) {
      throw new ConfigException("lifecycle.hetzner.apiUrl must be an http(s) URL, got " + s.apiUrl());
    }
    require("serverName", s.serverName());
    require("serverType", s.serverType());
    require("location", s.location());
    require("image", s.image());
    require("sshKey", s.sshKey());
    if ((s.tokenEnv() == null || s.tokenEnv().isBlank()) && s.tokenFile() == null) {
      throw new ConfigException("lifecycle.hetzner: set tokenEnv (an environment variable) or tokenFile (a 0600 file)"
          + " for the API token");
    }
    Keep keep;
    if ("volume".equals(s.keep())) {
      keep = Keep.VOLUME;
      if (s.volume() == null || s.volume().isBlank()) {
        throw new ConfigException("lifecycle.hetzner.volume is required with keep=volume: it holds /var/lib/docker"
            + " while the server is deleted");
      }
    } else if ("snapshot".equals(s.keep())) {
      keep = Keep.SNAPSHOT;
    } else {
      throw new ConfigException("lifecycle.hetzner.keep must be volume or snapshot, got " + s.keep());
    }
    return keep;
  }

  private static void require(String setting, String value) {
    if (value == null || value.isBlank()) {
      throw new ConfigException("lifecycle.hetzner." + setting + " is required with lifecycle.provider hetzner");
    }
  }

  @Override
  public String name() {
    return NAME;
  }

  /** Operations (status, start, stop, destroy) that failed since this provider was made. */
  public long failures() {
    return failures.get();
  }

  /** Releases the HTTP client. */
  public void close() {
    api.close();
  }

  @Override
  public Future<ServerStatus> status() {
    return api.readToken().compose(v -> findServer()).map(found -> {
      if (found.isEmpty()) {
        return new ServerStatus(ServerStatus.State.NOT_FOUND, "no Hetzner server named " + settings.serverName());
      }
      JsonObject server = found.get();
      String status = server.getString("status", "unknown");
      String which = describe(server);
      switch (status) {
        case "running":
          return new ServerStatus(ServerStatus.State.RUNNING, which + " running at " + ipv4(server).orElse("no IPv4"),
              ipv4(server).map(ServerAddress::parse));
        case "initializing":
        case "starting":
          return new ServerStatus(ServerStatus.State.RUNNING, which + " is " + status);
        case "off":
        case "stopping":
          return new ServerStatus(ServerStatus.State.STOPPED, which + " is " + status
              + " (an off Hetzner server is still billed; docktunnel deletes it when idle)");
        case "deleting":
          return new ServerStatus(ServerStatus.State.NOT_FOUND, which + " is being deleted");
        default:
          return new ServerStatus(ServerStatus.State.STOPPED, which + " has status " + status);
      }
    }).recover(cause -> failed("status", cause));
  }

  @Override
  public Future<StartResult> start() {
    long deadline = System.nanoTime() + timing.startTimeout().toNanos();
    return api.readToken().compose(v -> findServer())
        .compose(found -> found.isPresent() ? startExisting(found.get(), deadline) : create(deadline))
        .compose(server -> {
          Optional<String> ip = ipv4(server);
          if (ip.isEmpty()) {
            return Future.failedFuture(new HetznerApiException("Hetzner " + describe(server)
                + " has no public IPv4; docktunnel connects over IPv4"));
          }
          LOG.info("hetzner: {} running at {}", describe(server), ip.get());
          return Future.succeededFuture(StartResult.at(ServerAddress.parse(ip.get())));
        })
        .recover(cause -> failed("start", cause));
  }

  private Future<JsonObject> startExisting(JsonObject server, long deadline) {
    String status = server.getString("status", "unknown");
    long id = server.getLong("id");
    if ("off".equals(status)) {
      LOG.info("hetzner: {} is off, powering it on", describe(server));
      return api.post("/servers/" + id + "/actions/poweron", new JsonObject())
          .compose(answer -> api.awaitAction(answer.getJsonObject("action"), deadline))
          .compose(action -> awaitServerStatus(id, "running", deadline));
    }
    if ("running".equals(status)) {
      return Future.succeededFuture(server);
    }
    if ("stopping".equals(status)) {
      LOG.info("hetzner: {} is stopping, powering it on once it is off", describe(server));
      return awaitServerStatus(id, "off", deadline).compose(off -> startExisting(off, deadline));
    }
    if ("deleting".equals(status)) {
      return Future.failedFuture(new HetznerApiException("Hetzner " + describe(server)
          + " is being deleted; start it again once it is gone"));
    }
    LOG.info("hetzner: {} is {}, waiting until it runs", describe(server), status);
    return awaitServerStatus(id, "running", deadline);
  }

  private Future<JsonObject> create(long deadline) {
    Future<Optional<JsonObject>> snapshot =
        keep == Keep.SNAPSHOT ? newestSnapshot() : Future.succeededFuture(Optional.empty());
    Future<Optional<Long>> volume = volumeId();
    return Future.all(snapshot, volume).compose(both -> {
      Optional<JsonObject> image = snapshot.result();
      String imageRef = image.map(i -> String.valueOf(i.getLong("id"))).orElse(settings.image());
      JsonObject body = new JsonObject()
          .put("name", settings.serverName())
          .put("server_type", settings.serverType())
          .put("location", settings.location())
          .put("image", imageRef)
          .put("ssh_keys", new JsonArray().add(settings.sshKey()))
          .put("start_after_create", true)
          .put("labels", new JsonObject().put(LABEL, settings.serverName()));
      volume.result().ifPresent(v -> body.put("volumes", new JsonArray().add(v)).put("automount", true));
      LOG.info("hetzner: creating server {} ({} in {}) from {}{}", settings.serverName(), settings.serverType(),
          settings.location(),
          image.map(i -> "snapshot " + i.getLong("id") + " (" + i.getString("description", "") + ")")
              .orElse("image " + settings.image()),
          volume.result().map(v -> " with volume " + settings.volume() + " (id " + v + ")").orElse(""));
      return api.post("/servers", body);
    }).compose(answer -> {
      JsonObject server = answer.getJsonObject("server");
      if (server == null || server.getLong("id") == null) {
        return Future.failedFuture(new HetznerApiException("Hetzner API POST /servers: the answer has no server"));
      }
      long id = server.getLong("id");
      List<JsonObject> actions = new ArrayList<>();
      actions.add(answer.getJsonObject("action"));
      JsonArray next = answer.getJsonArray("next_actions", new JsonArray());
      for (int i = 0; i < next.size(); i++) {
        actions.add(next.getJsonObject(i));
      }
      Future<JsonObject> chain = Future.succeededFuture();
      for (JsonObject action : actions) {
        chain = chain.compose(previous -> api.awaitAction(action, deadline));
      }
      return chain.compose(last -> awaitServerStatus(id, "running", deadline));
    });
  }

  @Override
  public Future<Void> stop() {
    long deadline = System.nanoTime() + timing.stopTimeout().toNanos();
    return api.readToken().compose(v -> findServer()).compose(found -> {
      if (found.isEmpty()) {
        LOG.info("hetzner: no server named {} to stop (already deleted)", settings.serverName());
        return Future.<Void>succeededFuture();
      }
      JsonObject server = found.get();
      long id = server.getLong("id");
      Future<Void> kept = keep == Keep.VOLUME ? checkVolumeAttached(server) : Future.succeededFuture();
      return kept
          .compose(v -> shutdown(server, deadline))
          .compose(v -> keep == Keep.SNAPSHOT ? snapshot(server, deadline) : Future.succeededFuture())
          .compose(v -> deleteServer(id, deadline))
          .onSuccess(v -> LOG.info("hetzner: {} deleted for the idle period; {}", describe(server),
              keep == Keep.VOLUME ? "volume " + settings.volume() + " detached and kept" : "its snapshot is kept"));
    }).recover(cause -> failed("stop", cause));
  }

  @Override
  public Future<Void> destroy() {
    long deadline = System.nanoTime() + timing.stopTimeout().toNanos();
    return api.readToken().compose(v -> findServer()).compose(found -> {
      if (found.isEmpty()) {
        LOG.info("hetzner: no server named {} to destroy", settings.serverName());
        return Future.<Void>succeededFuture();
      }
      JsonObject server = found.get();
      return deleteServer(server.getLong("id"), deadline)
          .onSuccess(v -> LOG.info("hetzner: {} destroyed; {} and snapshots labelled {}={} are kept (and billed)",
              describe(server), settings.volume() == null ? "no volume" : "volume " + settings.volume(), LABEL,
              settings.serverName()));
    }).recover(cause -> failed("destroy", cause));
  }

  private Future<Optional<JsonObject>> findServer() {
    return api.get("/servers", Map.of("name", settings.serverName())).map(answer -> {
      JsonArray servers = answer.getJsonArray("servers", new JsonArray());
      for (int i = 0; i < servers.size(); i++) {
        JsonObject server = servers.getJsonObject(i);
        if (settings.serverName().equals(server.getString("name"))) {
          return Optional.of(server);
        }
      }
      return Optional.<JsonObject>empty();
    });
  }

  private Future<Optional<Long>> volumeId() {
    if (settings.volume() == null || settings.volume().isBlank()) {
      return Future.succeededFuture(Optional.empty());
    }
    return api.get("/volumes", Map.of("name", settings.volume())).compose(answer -> {
      JsonArray volumes = answer.getJsonArray("volumes", new JsonArray());
      for (int i = 0; i < volumes.size(); i++) {
        JsonObject volume = volumes.getJsonObject(i);
        if (settings.volume().equals(volume.getString("name"))) {
          JsonObject location = volume.getJsonObject("location");
          String where = location == null ? null : location.getString("name");
          if (where != null && !where.equals(settings.location())) {
            return Future.failedFuture(new HetznerApiException("Hetzner volume " + settings.volume() + " is in "
                + where + " but lifecycle.hetzner.location is " + settings.location()
                + "; a volume attaches only to servers in its location"));
          }
          return Future.succeededFuture(Optional.of(volume.getLong("id")));
        }
      }
      return Future.failedFuture(new HetznerApiException("Hetzner volume " + settings.volume()
          + " (lifecycle.hetzner.volume) does not exist; create it in " + settings.location()
          + " (Volumes in the console, or hcloud volume create)", 404, "not_found"));
    });
  }

  private Future<Void> checkVolumeAttached(JsonObject server) {
    return volumeId().compose(volume -> {
      JsonArray attached = server.getJsonArray("volumes", new JsonArray());
      long id = volume.orElseThrow();
      for (int i = 0; i < attached.size(); i++) {
        if (attached.getLong(i) == id) {
          return Future.<Void>succeededFuture();
        }
      }
      return Future.failedFuture(new HetznerApiException("Hetzner " + describe(server) + " does not have volume "
          + settings.volume() + " (id " + id + ") attached; refusing to delete it, its /var/lib/docker would be"
          + " lost (attach the volume, or use keep=snapshot)"));
    });
  }

  /**
   * A graceful ACPI shutdown, waited for until the server is {@code off}, so the disk kept is clean.
   * A server that is not off after {@link Timing#shutdownTimeout()} (its OS ignores ACPI) is
   * powered off, with a WARN: it has been idle for the whole idle timeout, and a server left
   * running would be billed on.
   */
  private Future<Void> shutdown(JsonObject server, long deadline) {
    long id = server.getLong("id");
    if ("off".equals(server.getString("status"))) {
      return Future.succeededFuture();
    }
    LOG.info("hetzner: shutting {} down", describe(server));
    long graceful = Math.min(deadline, System.nanoTime() + timing.shutdownTimeout().toNanos());
    return api.post("/servers/" + id + "/actions/shutdown", new JsonObject())
        .compose(answer -> api.awaitAction(answer.getJsonObject("action"), graceful))
        // The action only says the ACPI request was sent; the server is down when its status is off.
        .compose(action -> awaitServerStatus(id, "off", graceful))
        .<Void>mapEmpty()
        .recover(cause -> {
          if (!(cause instanceof HetznerApiException e) || !"timeout".equals(e.code())) {
            return Future.failedFuture(cause);
          }
          LOG.warn("hetzner: {} did not shut down within {} ({}); powering it off", describe(server),
              readable(timing.shutdownTimeout()), HetznerApi.oneLine(cause));
          return api.post("/servers/" + id + "/actions/poweroff", new JsonObject())
              .compose(answer -> api.awaitAction(answer.getJsonObject("action"), deadline))
              .compose(action -> awaitServerStatus(id, "off", deadline))
              .mapEmpty();
        });
  }

  private Future<Void> snapshot(JsonObject server, long deadline) {
    long id = server.getLong("id");
    JsonObject body = new JsonObject()
        .put("type", "snapshot")
        .put("description", "docktunnel " + settings.serverName() + " " + Instant.now())
        .put("labels", new JsonObject().put(LABEL, settings.serverName()));
    LOG.info("hetzner: snapshotting {}", describe(server));
    return api.post("/servers/" + id + "/actions/create_image", body).compose(answer -> {
      JsonObject image = answer.getJsonObject("image");
      Long imageId = image == null ? null : image.getLong("id");
      if (imageId == null) {
        return Future.failedFuture(new HetznerApiException("Hetzner API POST /servers/" + id
            + "/actions/create_image: the answer names no image; not deleting the server"));
      }
      return api.awaitAction(answer.getJsonObject("action"), deadline).compose(action -> {
        LOG.info("hetzner: snapshot {} of {} done", imageId, describe(server));
        return deleteOlderSnapshots(imageId);
      });
    });
  }

  /** Snapshots are billed per GB: once the new one exists, the older ones with our label go. */
  private Future<Void> deleteOlderSnapshots(long keepId) {
    return snapshots().compose(images -> {
      Future<Void> chain = Future.succeededFuture();
      for (JsonObject image : images) {
        long id = image.getLong("id");
        if (id != keepId) {
          chain = chain.compose(v -> api.delete("/images/" + id)
              .onSuccess(answer -> LOG.info("hetzner: older snapshot {} deleted", id))
              .<Void>mapEmpty()
              // A snapshot that cannot be deleted costs money but loses nothing: warn, go on.
              .recover(cause -> {
                LOG.warn("hetzner: older snapshot {} not deleted: {}", id, HetznerApi.oneLine(cause));
                return Future.succeededFuture();
              }));
        }
      }
      return chain;
    });
  }

  private Future<Optional<JsonObject>> newestSnapshot() {
    return snapshots().map(images -> images.stream()
        .filter(i -> "available".equals(i.getString("status")))
        .findFirst());
  }

  /** Our snapshots, newest first. */
  private Future<List<JsonObject>> snapshots() {
    return api.get("/images", Map.of("type", "snapshot", "label_selector", LABEL + "==" + settings.serverName(),
        "sort", "created:desc")).map(answer -> {
          JsonArray images = answer.getJsonArray("images", new JsonArray());
          List<JsonObject> list = new ArrayList<>();
          for (int i = 0; i < images.size(); i++) {
            list.add(images.getJsonObject(i));
          }
          // Sorted by the API already; sorted again so the newest is first whatever the server did.
          list.sort((a, b) -> b.getString("created", "").compareTo(a.getString("created", "")));
          return list;
        });
  }

  private Future<Void> deleteServer(long id, long deadline) {
    LOG.info("hetzner: deleting server {} (id {})", settings.serverName(), id);
    return api.delete("/servers/" + id)
        .compose(answer -> api.awaitAction(answer.getJsonObject("action"), deadline))
        .mapEmpty();
  }

  private Future<JsonObject> awaitServerStatus(long id, String wanted, long deadline) {
    return api.get("/servers/" + id, Map.of()).compose(answer -> {
      JsonObject server = answer.getJsonObject("server");
      String status = server == null ? null : server.getString("status");
      if (wanted.equals(status)) {
        return Future.succeededFuture(server);
      }
      if (System.nanoTime() - deadline >= 0) {
        return Future.failedFuture(new HetznerApiException("Hetzner server " + settings.serverName() + " (id " + id
            + ") is still " + status + ", not " + wanted + ", at the deadline", 0, "timeout"));
      }
      return api.pause().compose(v -> awaitServerStatus(id, wanted, deadline));
    });
  }

  private <T> Future<T> failed(String operation, Throwable cause) {
    String message = "hetzner " + operation + " of server " + settings.serverName() + " failed: "
        + HetznerApi.oneLine(cause);
    failures.incrementAndGet();
    LOG.warn(message);
    if (cause instanceof HetznerApiException api) {
      return Future.failedFuture(new HetznerApiException(message, api.httpStatus(), api.code()));
    }
    return Future.failedFuture(new HetznerApiException(message));
  }

  private static String readable(Duration d) {
    return d.toMillis() < 10_000 ? d.toMillis() + " ms" : d.toSeconds() + " s";
  }

  private static Optional<String> ipv4(JsonObject server) {
    JsonObject net = server.getJsonObject("public_net");
    JsonObject v4 = net == null ? null : net.getJsonObject("ipv4");
    String ip = v4 == null ? null : v4.getString("ip");
    return ip == null || ip.isBlank() ? Optional.empty() : Optional.of(ip);
  }

  private static String describe(JsonObject server) {
    return "server " + server.getString("name") + " (id " + server.getLong("id") + ")";
  }
}

package dev.docktunnel.lifecycle;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A stand-in for the Hetzner Cloud API (https://docs.hetzner.cloud/, the published OpenAPI spec),
 * on 127.0.0.1, for the endpoints the hetzner provider uses: {@code GET/POST /servers},
 * {@code GET/DELETE /servers/{id}}, {@code POST /servers/{id}/actions/{shutdown,poweroff,poweron,create_image}},
 * {@code GET /images}, {@code DELETE /images/{id}}, {@code GET /volumes}, {@code GET /actions/{id}}.
 *
 * <p>As documented: JSON bodies with a resource root ({@code server}, {@code servers} plus
 * {@code meta.pagination}, {@code action}, {@code next_actions}); {@code Authorization: Bearer}
 * checked on every request (401 {@code unauthorized} otherwise); errors as
 * {@code {"error": {"code", "message", "details"}}}; actions start {@code running} and end
 * {@code success} (or {@code error}) after {@link #pollsPerAction} polls of {@code GET /actions/{id}},
 * and only then take effect (a created server is {@code off} until its {@code start_server} action
 * ends; a shut-down server is {@code stopping} for a poll after its action, then {@code off}).
 *
 * <p>All state is guarded by this object's monitor: the handlers run on the server's event loop, the
 * tests read it from their own thread.
 */
final class HetznerStandIn {

  static final Set<String> SYSTEM_IMAGES = Set.of("docker-ce", "ubuntu-24.04");
  static final Set<String> SERVER_TYPES = Set.of("cx22", "cpx11");
  static final Set<String> LOCATIONS = Set.of("fsn1", "nbg1", "hel1");

  private final String token;
  private HttpServer server;

  private long nextId = 100;
  private final Map<Long, JsonObject> servers = new LinkedHashMap<>();
  private final Map<Long, JsonObject> volumes = new LinkedHashMap<>();
  private final Map<Long, JsonObject> images = new LinkedHashMap<>();
  private final Map<Long, Action> actions = new HashMap<>();
  private final Map<Long, String[]> laterStatus = new HashMap<>();
  private final Set<String> sshKeys = new java.util.HashSet<>();
  private final List<String> requests = new ArrayList<>();
  private final List<JsonObject> createBodies = new ArrayList<>();
  private final List<JsonObject> imageBodies = new ArrayList<>();
  private final Map<String, String[]> failingActions = new HashMap<>();
  private final Set<String> endlessActions = new java.util.HashSet<>();
  private final List<Object[]> failingRequests = new ArrayList<>();

  /** How many polls of an action see it {@code running} before it ends. */
  int pollsPerAction = 2;

  /** Servers whose OS ignores the ACPI shutdown request (the action succeeds, they keep running). */
  boolean ignoreAcpi;

  private static final class Action {
    final JsonObject json;
    int pollsLeft;
    final Runnable effect;
    final String[] failure;
    final boolean endless;

    Action(JsonObject json, int polls, Runnable effect, String[] failure, boolean endless) {
      this.json = json;
      this.pollsLeft = polls;
      this.effect = effect;
      this.failure = failure;
      this.endless = endless;
    }
  }

  HetznerStandIn(String token) {
    this.token = token;
  }

  Future<HetznerStandIn> start(Vertx vertx) {
    Router router = Router.router(vertx);
    router.route().handler(BodyHandler.create());
    router.route().handler(this::authenticate);
    router.get("/v1/servers").handler(this::listServers);
    router.post("/v1/servers").handler(this::createServer);
    router.get("/v1/servers/:id").handler(this::getServer);
    router.delete("/v1/servers/:id").handler(this::deleteServer);
    router.post("/v1/servers/:id/actions/:command").handler(this::serverAction);
    router.get("/v1/images").handler(this::listImages);
    router.delete("/v1/images/:id").handler(this::deleteImage);
    router.get("/v1/volumes").handler(this::listVolumes);
    router.get("/v1/actions/:id").handler(this::getAction);
    router.route().last().handler(ctx -> error(ctx, 404, "not_found", "no route " + ctx.request().path()));
    return vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1").map(s -> {
      server = s;
      return this;
    });
  }

  Future<Void> stop() {
    return server == null ? Future.succeededFuture() : server.close();
  }

  /** The API base URL, like {@code https://api.hetzner.cloud/v1}. */
  String url() {
    return "http://127.0.0.1:" + server.actualPort() + "/v1";
  }

  // ---- set-up and inspection, for the tests ----

  synchronized void addSshKey(String name) {
    sshKeys.add(name);
  }

  synchronized long addVolume(String name, String location) {
    long id = nextId++;
    volumes.put(id, new JsonObject().put("id", id).put("name", name).put("size", 20).put("server", (Long) null)
        .put("status", "available").put("location", new JsonObject().put("name", location))
        .put("linux_device", "/dev/disk/by-id/scsi-0HC_Volume_" + id).put("format", "ext4")
        .put("labels", new JsonObject()).put("protection", new JsonObject().put("delete", false))
        .put("created", Instant.now().toString()));
    return id;
  }

  /** A running server, as if created earlier (with the volume attached when given). */
  synchronized long addServer(String name, String location, Long volumeId) {
    long id = newServer(name, "docker-ce", location, volumeId, new JsonObject());
    servers.get(id).put("status", "running");
    return id;
  }

  synchronized long addSnapshot(String label, String created) {
    long id = nextId++;
    images.put(id, image(id, "older snapshot", new JsonObject().put(HetznerProvider.LABEL, label), created,
        "available"));
    return id;
  }

  synchronized JsonObject server(String name) {
    return servers.values().stream().filter(s -> name.equals(s.getString("name"))).findFirst()
        .map(JsonObject::copy).orElse(null);
  }

  synchronized JsonObject volume(long id) {
    return volumes.get(id).copy();
  }

  synchronized List<JsonObject> snapshots() {
    return images.values().stream().map(JsonObject::copy).toList();
  }

  synchronized List<String> requests() {
    return List.copyOf(requests);
  }

  synchronized List<JsonObject> createBodies() {
    return List.copyOf(createBodies);
  }

  synchronized List<JsonObject> imageBodies() {
    return List.copyOf(imageBodies);
  }

  /** The next action with this command ends in {@code error} with this code and message. */
  synchronized void failAction(String command, String code, String message) {
    failingActions.put(command, new String[] {code, message});
  }

  /** Actions with this command stay {@code running} for ever. */
  synchronized void neverFinish(String command) {
    endlessActions.add(command);
  }

  /** The next request whose "METHOD /path" starts with the prefix gets this error answer. */
  synchronized void failNext(String methodAndPathPrefix, int status, String code, String message) {
    failingRequests.add(new Object[] {methodAndPathPrefix, status, code, message});
  }

  // ---- the API ----

  private synchronized void authenticate(RoutingContext ctx) {
    String line = ctx.request().method().name() + " " + ctx.request().path().substring("/v1".length())
        + (ctx.request().query() == null ? "" : "?" + ctx.request().query());
    requests.add(line);
    if (!("Bearer " + token).equals(ctx.request().getHeader("Authorization"))) {
      error(ctx, 401, "unauthorized", "unable to authenticate");
      return;
    }
    for (int i = 0; i < failingRequests.size(); i++) {
      Object[] f = failingRequests.get(i);
      if (line.startsWith((String) f[0])) {
        failingRequests.remove(i);
        error(ctx, (Integer) f[1], (String) f[2], (String) f[3]);
        return;
      }
    }
    ctx.next();
  }

  private synchronized void listServers(RoutingContext ctx) {
    String name = ctx.queryParams().get("name");
    JsonArray list = new JsonArray();
    for (JsonObject s : servers.values()) {
      if (name == null || name.equals(s.getString("name"))) {
        list.add(observe(s));
      }
    }
    ok(ctx, 200, new JsonObject().put("servers", list).put("meta", pagination(list.size())));
  }

  private synchronized void getServer(RoutingContext ctx) {
    JsonObject s = servers.get(id(ctx));
    if (s == null) {
      error(ctx, 404, "not_found", "server with ID '" + ctx.pathParam("id") + "' not found");
      return;
    }
    ok(ctx, 200, new JsonObject().put("server", observe(s)));
  }

  /** A server as a poll sees it: a pending status change shows after one more look. */
  private JsonObject observe(JsonObject s) {
    String[] later = laterStatus.remove(s.getLong("id"));
    JsonObject seen = s.copy();
    if (later != null) {
      s.put("status", later[0]);
    }
    return seen;
  }

  private synchronized void createServer(RoutingContext ctx) {
    JsonObject body;
    try {
      body = ctx.body().asJsonObject();
    } catch (RuntimeException e) {
      error(ctx, 400, "json_error", "invalid JSON");
      return;
    }
    if (body == null) {
      error(ctx, 400, "json_error", "no JSON body");
      return;
    }
    createBodies.add(body.copy());
    for (String field : List.of("name", "server_type", "image")) {
      if (body.getString(field) == null) {
        invalid(ctx, field, "is required");
        return;
      }
    }
    String name = body.getString("name");
    if (servers.values().stream().anyMatch(s -> name.equals(s.getString("name")))) {
      error(ctx, 409, "uniqueness_error", "server name is already used");
      return;
    }
    if (!SERVER_TYPES.contains(body.getString("server_type"))) {
      invalid(ctx, "server_type", "server type " + body.getString("server_type") + " not found");
      return;
    }
    String location = body.getString("location", "fsn1");
    if (!LOCATIONS.contains(location)) {
      invalid(ctx, "location", "location " + location + " not found");
      return;
    }
    String image = body.getString("image");
    JsonObject imageJson;
    if (SYSTEM_IMAGES.contains(image)) {
      imageJson = new JsonObject().put("id", 1).put("type", "system").put("name", image);
    } else {
      JsonObject snap = parseLong(image) == null ? null : images.get(parseLong(image));
      if (snap == null || !"available".equals(snap.getString("status"))) {
        invalid(ctx, "image", "image " + image + " not found");
        return;
      }
      imageJson = snap.copy();
    }
    JsonArray keys = body.getJsonArray("ssh_keys", new JsonArray());
    for (int i = 0; i < keys.size(); i++) {
      if (!sshKeys.contains(String.valueOf(keys.getValue(i)))) {
        invalid(ctx, "ssh_keys", "ssh key " + keys.getValue(i) + " not found");
        return;
      }
    }
    JsonArray wantedVolumes = body.getJsonArray("volumes", new JsonArray());
    Long volumeId = null;
    for (int i = 0; i < wantedVolumes.size(); i++) {
      JsonObject v = volumes.get(wantedVolumes.getLong(i));
      if (v == null) {
        invalid(ctx, "volumes", "volume " + wantedVolumes.getValue(i) + " not found");
        return;
      }
      if (v.getLong("server") != null) {
        error(ctx, 422, "volume_already_attached", "volume " + v.getLong("id") + " is already attached");
        return;
      }
      if (!location.equals(v.getJsonObject("location").getString("name"))) {
        invalid(ctx, "volumes", "volume " + v.getLong("id") + " is in another location");
        return;
      }
      volumeId = v.getLong("id");
    }
    long id = newServer(name, image, location, volumeId, body.getJsonObject("labels", new JsonObject()));
    servers.get(id).put("status", "initializing").put("image", imageJson);
    JsonObject create = action("create_server", "server", id, () -> servers.get(id).put("status", "off"));
    JsonArray next = new JsonArray();
    if (body.getBoolean("start_after_create", true)) {
      next.add(action("start_server", "server", id, () -> {
        if (servers.containsKey(id)) {
          servers.get(id).put("status", "running");
        }
      }));
    }
    ok(ctx, 201, new JsonObject().put("server", servers.get(id).copy()).put("action", create)
        .put("next_actions", next).put("root_password", keys.isEmpty() ? "YItygq1v3GYjjMomLaKc" : null));
  }

  private long newServer(String name, String image, String location, Long volumeId, JsonObject labels) {
    long id = nextId++;
    JsonArray attached = new JsonArray();
    if (volumeId != null) {
      attached.add(volumeId);
      volumes.get(volumeId).put("server", id);
    }
    servers.put(id, new JsonObject().put("id", id).put("name", name).put("status", "running")
        .put("created", Instant.now().toString())
        .put("public_net", new JsonObject()
            .put("ipv4", new JsonObject().put("ip", "203.0.113." + (id % 250 + 1)).put("blocked", false)
                .put("dns_ptr", "static." + id + ".example.com"))
            .put("ipv6", new JsonObject().put("ip", "2001:db8:" + Long.toHexString(id) + "::/64")
                .put("blocked", false).put("dns_ptr", new JsonArray()))
            .put("floating_ips", new JsonArray()).put("firewalls", new JsonArray()))
        .put("private_net", new JsonArray())
        .put("server_type", new JsonObject().put("name", "cx22").put("cores", 2))
        .put("datacenter", new JsonObject().put("name", location + "-dc1")
            .put("location", new JsonObject().put("name", location)))
        .put("image", new JsonObject().put("type", "system").put("name", image))
        .put("volumes", attached).put("labels", labels)
        .put("protection", new JsonObject().put("delete", false).put("rebuild", false))
        .put("locked", false).put("rescue_enabled", false).put("primary_disk_size", 40));
    return id;
  }

  private synchronized void deleteServer(RoutingContext ctx) {
    long id = id(ctx);
    JsonObject s = servers.get(id);
    if (s == null) {
      error(ctx, 404, "not_found", "server with ID '" + id + "' not found");
      return;
    }
    s.put("status", "deleting");
    ok(ctx, 200, new JsonObject().put("action", action("delete_server", "server", id, () -> {
      // Deleting a server detaches its volumes; the volumes stay.
      servers.remove(id);
      for (JsonObject v : volumes.values()) {
        if (Long.valueOf(id).equals(v.getLong("server"))) {
          v.put("server", (Long) null);
        }
      }
    })));
  }

  private synchronized void serverAction(RoutingContext ctx) {
    long id = id(ctx);
    JsonObject s = servers.get(id);
    if (s == null) {
      error(ctx, 404, "not_found", "server with ID '" + id + "' not found");
      return;
    }
    switch (ctx.pathParam("command")) {
      case "shutdown" -> ok(ctx, 201, new JsonObject().put("action", action("shutdown_server", "server", id, () -> {
        // The action only delivers the ACPI request: the server is stopping, then off.
        if (!ignoreAcpi) {
          s.put("status", "stopping");
          laterStatus.put(id, new String[] {"off"});
        }
      })));
      case "poweroff" -> ok(ctx, 201, new JsonObject().put("action",
          action("stop_server", "server", id, () -> s.put("status", "off"))));
      case "poweron" -> ok(ctx, 201, new JsonObject().put("action",
          action("start_server", "server", id, () -> s.put("status", "running"))));
      case "create_image" -> {
        JsonObject body = ctx.body().asJsonObject();
        body = body == null ? new JsonObject() : body;
        imageBodies.add(body.copy());
        String type = body.getString("type", "snapshot");
        if (!type.equals("snapshot") && !type.equals("backup")) {
          invalid(ctx, "type", "type must be snapshot or backup");
          return;
        }
        long imageId = nextId++;
        JsonObject image = image(imageId, body.getString("description", "snapshot " + imageId),
            body.getJsonObject("labels", new JsonObject()), Instant.now().toString(), "creating");
        images.put(imageId, image);
        JsonObject action = action("create_image", "server", id, () -> image.put("status", "available"));
        ok(ctx, 201, new JsonObject().put("action", action).put("image", image.copy()));
      }
      default -> error(ctx, 404, "not_found", "no action " + ctx.pathParam("command"));
    }
  }

  private synchronized void listImages(RoutingContext ctx) {
    String type = ctx.queryParams().get("type");
    String selector = ctx.queryParams().get("label_selector");
    List<JsonObject> found = new ArrayList<>();
    for (JsonObject image : images.values()) {
      if (type != null && !type.equals(image.getString("type"))) {
        continue;
      }
      if (selector != null && !matches(selector, image.getJsonObject("labels"))) {
        continue;
      }
      found.add(image.copy());
    }
    if ("created:desc".equals(ctx.queryParams().get("sort"))) {
      found.sort((a, b) -> b.getString("created").compareTo(a.getString("created")));
    }
    ok(ctx, 200, new JsonObject().put("images", new JsonArray(found)).put("meta", pagination(found.size())));
  }

  /** The label selector's {@code k==v} / {@code k=v} forms, comma-separated (all must hold). */
  private static boolean matches(String selector, JsonObject labels) {
    for (String term : selector.split(",")) {
      String[] kv = term.contains("==") ? term.split("==", 2) : term.split("=", 2);
      if (kv.length != 2 || !kv[1].equals(labels.getString(kv[0]))) {
        return false;
      }
    }
    return true;
  }

  private synchronized void deleteImage(RoutingContext ctx) {
    long id = id(ctx);
    if (images.remove(id) == null) {
      error(ctx, 404, "not_found", "image with ID '" + id + "' not found");
      return;
    }
    ctx.response().setStatusCode(204).end();
  }

  private synchronized void listVolumes(RoutingContext ctx) {
    String name = ctx.queryParams().get("name");
    JsonArray list = new JsonArray();
    volumes.values().stream().filter(v -> name == null || name.equals(v.getString("name")))
        .forEach(v -> list.add(v.copy()));
    ok(ctx, 200, new JsonObject().put("volumes", list).put("meta", pagination(list.size())));
  }

  private synchronized void getAction(RoutingContext ctx) {
    Action a = actions.get(id(ctx));
    if (a == null) {
      error(ctx, 404, "not_found", "action with ID '" + ctx.pathParam("id") + "' not found");
      return;
    }
    if ("running".equals(a.json.getString("status")) && !a.endless) {
      a.pollsLeft--;
      a.json.put("progress", Math.min(90, a.json.getInteger("progress") + 30));
      if (a.pollsLeft <= 0) {
        a.json.put("finished", Instant.now().toString());
        if (a.failure != null) {
          a.json.put("status", "error").put("error",
              new JsonObject().put("code", a.failure[0]).put("message", a.failure[1]));
        } else {
          a.json.put("status", "success").put("progress", 100);
          a.effect.run();
        }
      }
    }
    ok(ctx, 200, new JsonObject().put("action", a.json.copy()));
  }

  // ---- helpers ----

  private JsonObject action(String command, String type, long resource, Runnable effect) {
    long id = nextId++;
    String[] failure = failingActions.remove(command);
    JsonObject json = new JsonObject().put("id", id).put("command", command).put("status", "running")
        .put("progress", 0).put("started", Instant.now().toString()).put("finished", (String) null)
        .put("resources", new JsonArray().add(new JsonObject().put("id", resource).put("type", type)))
        .put("error", (JsonObject) null);
    actions.put(id, new Action(json, pollsPerAction, effect, failure, endlessActions.contains(command)));
    return json.copy();
  }

  private static JsonObject image(long id, String description, JsonObject labels, String created, String status) {
    return new JsonObject().put("id", id).put("type", "snapshot").put("status", status).put("name", (String) null)
        .put("description", description).put("labels", labels).put("created", created).put("image_size", 2.3)
        .put("disk_size", 40).put("os_flavor", "debian").put("protection", new JsonObject().put("delete", false));
  }

  private static JsonObject pagination(int total) {
    return new JsonObject().put("pagination", new JsonObject().put("page", 1).put("per_page", 25)
        .put("previous_page", (Integer) null).put("next_page", (Integer) null).put("last_page", 1)
        .put("total_entries", total));
  }

  private static long id(RoutingContext ctx) {
    Long id = parseLong(ctx.pathParam("id"));
    return id == null ? -1 : id;
  }

  private static Long parseLong(String text) {
    try {
      return Long.parseLong(text);
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private static void ok(RoutingContext ctx, int status, JsonObject body) {
    ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(body.encode());
  }

  private static void invalid(RoutingContext ctx, String field, String message) {
    JsonObject details = new JsonObject().put("fields", new JsonArray()
        .add(new JsonObject().put("name", field).put("messages", new JsonArray().add(message))));
    ctx.response().setStatusCode(400).putHeader("Content-Type", "application/json")
        .end(new JsonObject().put("error", new JsonObject().put("code", "invalid_input")
            .put("message", "invalid input in field '" + field + "': " + message).put("details", details)).encode());
  }

  private static void error(RoutingContext ctx, int status, String code, String message) {
    ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json")
        .end(new JsonObject().put("error", new JsonObject().put("code", code).put("message", message)
            .put("details", new JsonObject())).encode());
  }
}

package dev.docktunnel.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docktunnel.bus.ActivityBytes;
import dev.docktunnel.bus.Addresses;
import dev.docktunnel.bus.Facts;
import dev.docktunnel.bus.ForwardStatus;
import dev.docktunnel.bus.SessionState;
import dev.docktunnel.metrics.DocktunnelMetrics;
import dev.docktunnel.metrics.MetricsVerticle;
import dev.docktunnel.metrics.TunnelMeters;
import dev.docktunnel.state.StateFile;
import dev.docktunnel.state.StateWriterVerticle;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The HTTP API in-process, asked through Vert.x's HttpClient, its queries answered by fakes on the bus. */
class HttpApiVerticleTest {
  static final String HOST = "ssh://u@h";

  @TempDir
  Path stateDir;
  final Vertx vertx = Vertx.vertx();
  final HttpClient client = vertx.createHttpClient();
  final DocktunnelMetrics metrics = DocktunnelMetrics.create();
  final AtomicInteger stops = new AtomicInteger();
  int port;

  @AfterEach
  void close() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
    metrics.close();
  }

  void startApi(HttpApiVerticle.Limits limits) throws Exception {
    HttpApiVerticle api = new HttpApiVerticle(0, stateDir, metrics, stops::incrementAndGet, List.of(), limits,
        Clock.systemUTC());
    vertx.deployVerticle(api).await(10, TimeUnit.SECONDS);
    port = api.port();
  }

  void startApi() throws Exception {
    startApi(HttpApiVerticle.Limits.DEFAULT);
  }

  record Answer(int status, MultiMap headers, String body) {
    JsonObject json() {
      return new JsonObject(body);
    }
  }

  /** A request to 127.0.0.1:port whose Host header names {@code host} (as a rebinding page's would). */
  Answer request(HttpMethod method, String path, String host, String authorization) throws Exception {
    RequestOptions options = new RequestOptions().setMethod(method).setURI(path)
        .setServer(SocketAddress.inetSocketAddress(port, "127.0.0.1")).setHost("127.0.0.1").setPort(port)
        .putHeader("Host", host).putHeader("Origin", "https://evil.example");
    if (authorization != null) {
      options.putHeader("Authorization", authorization);
    }
    return client.request(options)
        .compose(req -> req.send().compose(resp -> resp.body().map(body -> answer(resp, body))))
        .await(10, TimeUnit.SECONDS);
  }

  static Answer answer(HttpClientResponse resp, Buffer body) {
    return new Answer(resp.statusCode(), resp.headers(), body.toString());
  }

  Answer get(String path) throws Exception {
    return request(HttpMethod.GET, path, "localhost:" + port, null);
  }

  @Test
  void onlyLoopbackNamesWithOurPortAreAnswered() throws Exception {
    startApi();
    for (String host : List.of("evil.example:" + port, "evil.example", "localhost:" + (port + 1), "127.0.0.2:" + port,
        "localhost.evil.example:" + port, "")) {
      Answer answer = request(HttpMethod.GET, "/health", host, null);
      assertEquals(403, answer.status(), "Host '" + host + "': " + answer.body());
      assertEquals("Host header not allowed", answer.json().getString("error"));
    }
    // A rebinding page never gets the token-protected route either.
    assertEquals(403, request(HttpMethod.POST, "/stop", "evil.example:" + port, null).status());
    for (String host : List.of("localhost:" + port, "127.0.0.1:" + port, "[::1]:" + port, "LOCALHOST:" + port)) {
      Answer answer = request(HttpMethod.GET, "/health", host, null);
      assertEquals(200, answer.status(), "Host '" + host + "': " + answer.body());
      assertEquals("UP", answer.json().getString("status"));
      assertEquals(ProcessHandle.current().pid(), answer.json().getLong("pid"));
    }
  }

  @Test
  void noCorsHeadersEvenForAPreflight() throws Exception {
    startApi();
    List<Answer> answers = List.of(get("/health"), request(HttpMethod.OPTIONS, "/stop", "localhost:" + port, null),
        request(HttpMethod.GET, "/health", "evil.example:" + port, null));
    for (Answer answer : answers) {
      answer.headers().names().forEach(name -> assertFalse(name.toLowerCase().startsWith("access-control-"),
          "CORS header " + name + ": " + answer.headers()));
    }
  }

  @Test
  void stopNeedsTheTokenAndThenRunsTheStopAfterA202() throws Exception {
    startApi();
    Path tokenFile = stateDir.resolve(ApiToken.FILE_NAME);
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(tokenFile)));
    String token = ApiToken.read(stateDir).text();
    String local = "localhost:" + port;

    Answer none = request(HttpMethod.POST, "/stop", local, null);
    assertEquals(401, none.status(), none.body());
    assertEquals("Bearer", none.headers().get("WWW-Authenticate"));
    assertTrue(none.json().getString("error").contains(tokenFile.toString()), none.body());
    assertEquals(401, request(HttpMethod.POST, "/stop", local, "Bearer " + token + "x").status());
    assertEquals(401, request(HttpMethod.POST, "/stop", local, "Basic " + token).status());
    assertEquals(401, request(HttpMethod.POST, "/stop", local, "Bearer ").status());
    assertEquals(405, request(HttpMethod.GET, "/stop", local, "Bearer " + token).status(), "GET changes nothing");
    assertEquals(0, stops.get(), "no stop without the token");
    assertEquals(4.0, metrics.registry().get("docktunnel.http.unauthorized").counter().count());

    Answer accepted = request(HttpMethod.POST, "/stop", local, "Bearer " + token);
    assertEquals(202, accepted.status(), accepted.body());
    assertTrue(accepted.json().getBoolean("stopping"));
    awaitTrue(() -> stops.get() == 1, "the stop action never ran");
  }

  @Test
  void theTokenSurvivesARestartOfTheApi() throws Exception {
    startApi();
    String first = ApiToken.read(stateDir).text();
    startApi(); // a second instance over the same state dir: the same token
    assertEquals(first, ApiToken.read(stateDir).text());
    assertTrue(ApiToken.read(stateDir).matchesHeader("Bearer " + first));
    assertFalse(ApiToken.read(stateDir).matchesHeader(first));
  }

  @Test
  void aTokenReadableByOthersFailsTheStartNamingTheFile() throws Exception {
    Path file = Files.writeString(stateDir.resolve(ApiToken.FILE_NAME), "abc\n");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
    HttpApiVerticle api = new HttpApiVerticle(0, stateDir, metrics, stops::incrementAndGet, List.of());
    Throwable error = vertx.deployVerticle(api).map(id -> (Throwable) null).otherwise(e -> e)
        .await(10, TimeUnit.SECONDS);
    assertTrue(error != null && error.getMessage().contains(file.toString())
        && error.getMessage().contains("chmod 600"), String.valueOf(error));
  }

  @Test
  void beyondTheCapNewConnectionsAreClosedAtOnceAndCounted() throws Exception {
    startApi(new HttpApiVerticle.Limits(2, Duration.ofSeconds(10), Duration.ofSeconds(60)));
    List<Socket> held = new ArrayList<>();
    try {
      for (int i = 0; i < 2; i++) {
        held.add(new Socket("127.0.0.1", port));
      }
      awaitTrue(() -> metrics.registry().get("docktunnel.http.connections.open").gauge().value() == 2,
          "two connections never counted open");
      try (Socket third = new Socket("127.0.0.1", port)) {
        third.setSoTimeout(5_000);
        InputStream in = third.getInputStream();
        assertEquals(-1, in.read(), "the connection over the cap is closed, unanswered");
      }
      assertEquals(1.0, metrics.registry().get("docktunnel.http.connections.refused").counter().count());
    } finally {
      for (Socket s : held) {
        s.close();
      }
    }
    // Their closing frees the places again.
    awaitTrue(() -> metrics.registry().get("docktunnel.http.connections.open").gauge().value() == 0,
        "closed connections still counted open");
    assertEquals(200, get("/health").status());
  }

  @Test
  void anIdleConnectionIsClosedByTheServer() throws Exception {
    startApi(new HttpApiVerticle.Limits(64, Duration.ofSeconds(10), Duration.ofSeconds(1)));
    try (Socket idle = new Socket("127.0.0.1", port)) {
      idle.setSoTimeout(10_000); // bounds the wait; the server's 1 s idle timeout ends it first
      long started = System.nanoTime();
      assertEquals(-1, idle.getInputStream().read(), "an idle connection is closed, unanswered");
      System.out.printf("[figures] an idle HTTP connection was closed after %d ms (idle timeout 1 s)%n",
          (System.nanoTime() - started) / 1_000_000);
    }
  }

  @Test
  void aRouteThatTakesTooLongIsCutByTheRequestTimeout() throws Exception {
    startApi(new HttpApiVerticle.Limits(64, Duration.ofMillis(300), Duration.ofSeconds(60)));
    vertx.eventBus().consumer(Addresses.STATUS, message -> { }); // takes the query, never answers
    long started = System.nanoTime();
    Answer answer = get("/status");
    assertEquals(503, answer.status(), answer.body());
    System.out.printf("[figures] /status with a silent owner cut after %d ms (request timeout 300 ms)%n",
        (System.nanoTime() - started) / 1_000_000);
  }

  // ------------------------------------------------------------------ readiness

  /** The real state writer answers docktunnel.status; the list queries are answered by {@code containers} and {@code forwards}. */
  void fakeOwners(JsonObject containers, JsonObject forwards) throws Exception {
    vertx.deployVerticle(new StateWriterVerticle(new StateFile(stateDir.resolve("h.state.json"), Clock.systemUTC()),
        HOST, Clock.systemUTC())).await(10, TimeUnit.SECONDS);
    if (containers != null) {
      vertx.eventBus().consumer(Addresses.CONTAINERS_LIST, m -> m.reply(containers));
    }
    if (forwards != null) {
      vertx.eventBus().consumer(Addresses.FORWARDS_LIST, m -> m.reply(forwards));
    }
  }

  void session(SessionState.State state, String reason) {
    Facts.publish(vertx.eventBus(), Addresses.SSH_STATE, new SessionState(state, HOST, reason, Instant.now(), 1, null));
  }

  static JsonObject synced(boolean synced, String reason) {
    return new JsonObject().put("containers", new JsonArray()).put("seq", 1).put("synced", synced)
        .put("engineVersion", "27.5.1").put("unsyncedReason", reason);
  }

  static ForwardStatus forward(String id, ForwardStatus.Status status, String reason) {
    Instant at = Instant.parse("2026-12-01T10:00:00Z");
    return new ForwardStatus(id, "c1", "web", "tcp", 8080, "127.0.0.1", 8080, 18080, 18080, List.of("127.0.0.1"),
        status, reason, "s1", at, at, 0, 0, 0, 0, 0);
  }

  static JsonObject forwards(ForwardStatus... forwards) {
    JsonArray list = new JsonArray();
    for (ForwardStatus f : forwards) {
      list.add(f.toJson());
    }
    return new JsonObject().put("forwards", list).put("seq", 2);
  }

  static JsonObject check(JsonObject ready, String id) {
    return ready.getJsonArray("checks").stream().map(JsonObject.class::cast)
        .filter(c -> id.equals(c.getString("id"))).findFirst()
        .orElseThrow(() -> new AssertionError("no check " + id + " in " + ready.encode()));
  }

  /** GET /health/ready until its status is {@code wanted} (the state writer applies the SSH fact on its own context). */
  Answer awaitReady(int wanted) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    Answer last;
    do {
      last = get("/health/ready");
      if (last.status() == wanted) {
        return last;
      }
      Thread.sleep(20); // polling the endpoint, bounded by the deadline
    } while (System.nanoTime() < deadline);
    throw new AssertionError("/health/ready never " + wanted + "; last: " + last);
  }

  @Test
  void readyWhenConnectedSyncedAndNoConflictListingPendingOnes() throws Exception {
    startApi();
    fakeOwners(synced(true, null), forwards(forward("c1/tcp/80", ForwardStatus.Status.ACTIVE, null),
        forward("c1/tcp/81", ForwardStatus.Status.PENDING, "remote port 81 refused the probe")));
    session(SessionState.State.CONNECTED, "key k");
    Answer ready = awaitReady(200);
    JsonObject body = ready.json();
    assertEquals("UP", body.getString("status"), body.encode());
    assertEquals("connected", check(body, "ssh").getJsonObject("data").getString("state"));
    assertEquals("27.5.1", check(body, "engine").getJsonObject("data").getString("engineVersion"));
    JsonObject fwd = check(body, "forwards").getJsonObject("data");
    assertEquals(1, fwd.getJsonObject("counts").getInteger("active"));
    assertEquals("remote port 81 refused the probe", fwd.getJsonArray("pending").getJsonObject(0).getString("reason"));
  }

  @Test
  void notReadyNamesEachConcernThatIsDown() throws Exception {
    startApi();
    fakeOwners(synced(false, "event stream broke: SSH channel closed"),
        forwards(forward("c1/tcp/80", ForwardStatus.Status.CONFLICT, "local port 18080 is in use by pid 42 (nc)")));
    session(SessionState.State.RECONNECTING, "session lost: Connection reset");
    Answer answer = awaitReady(503);
    JsonObject body = answer.json();
    assertEquals("DOWN", body.getString("status"), body.encode());
    assertEquals("application/json;charset=UTF-8", answer.headers().get("Content-Type"));
    JsonObject ssh = check(body, "ssh");
    assertEquals("DOWN", ssh.getString("status"));
    assertEquals("the SSH session is reconnecting: session lost: Connection reset",
        ssh.getJsonObject("data").getString("reason"));
    assertEquals("container picture not synced with the engine: event stream broke: SSH channel closed",
        check(body, "engine").getJsonObject("data").getString("reason"));
    JsonObject fwd = check(body, "forwards").getJsonObject("data");
    assertEquals("1 forward(s) in conflict: their local port is taken by another process", fwd.getString("reason"));
    assertEquals("local port 18080 is in use by pid 42 (nc)", fwd.getJsonArray("conflict").getJsonObject(0)
        .getString("reason"));
  }

  @Test
  void anOwnerThatDoesNotAnswerMakesItsCheckDown() throws Exception {
    startApi();
    fakeOwners(synced(true, null), null); // nobody answers docktunnel.forwards.list
    session(SessionState.State.CONNECTED, "key k");
    JsonObject body = awaitReady(503).json();
    assertEquals("UP", check(body, "ssh").getString("status"), body.encode());
    assertEquals("UP", check(body, "engine").getString("status"), body.encode());
    JsonObject fwd = check(body, "forwards");
    assertEquals("DOWN", fwd.getString("status"));
    assertTrue(fwd.getJsonObject("data").getString("reason").startsWith("no answer: "), fwd.encode());
  }

  // ------------------------------------------------------------------ metrics

  @Test
  void metricsShowTheForwardsCountersAndDropARemovedForward() throws Exception {
    startApi();
    vertx.deployVerticle(new MetricsVerticle(new TunnelMeters(metrics.registry(), Clock.systemUTC()), metrics))
        .await(10, TimeUnit.SECONDS);
    Facts.publish(vertx.eventBus(), Addresses.FORWARD_STATUS, forward("c1/tcp/80", ForwardStatus.Status.ACTIVE, null));
    Facts.publish(vertx.eventBus(), Addresses.ACTIVITY_BYTES,
        new ActivityBytes("c1/tcp/80", "c1", 18080, 4096, 77, 1, 3, 1, Instant.now()));
    String series = "{container=\"web\",direction=\"in\",forward=\"c1/tcp/80\",local_port=\"18080\"}";
    // One fact's effects, awaited together (a scrape is not atomic).
    String text = awaitMetrics(t -> t.contains("docktunnel_forward_bytes_total" + series + " 4096")
        && t.contains("docktunnel_activity_age_seconds 0"));
    assertTrue(text.contains("docktunnel_forward_connections_total{container=\"web\",forward=\"c1/tcp/80\","
        + "local_port=\"18080\"} 3"), text);
    assertTrue(text.contains("docktunnel_forwards{state=\"active\"} 1"), text);
    assertTrue(text.contains("docktunnel_activity_age_seconds 0"), "a connection is open: " + text);
    for (String line : text.split("\n")) {
      if (!line.isBlank()) {
        String name = line.startsWith("# ") ? line.split(" ")[2] : line;
        assertTrue(name.startsWith("docktunnel_"), "not in our namespace: " + line);
      }
    }

    Facts.publish(vertx.eventBus(), Addresses.FORWARD_STATUS, forward("c1/tcp/80", ForwardStatus.Status.STOPPED, null));
    // A scrape is not atomic: it may read the state gauge before the removal and list the series
    // after it, so both are awaited; the next scrape agrees.
    String after = awaitMetrics(t -> !t.contains("forward=\"c1/tcp/80\"")
        && t.contains("docktunnel_forwards{state=\"active\"} 0"));
    assertTrue(after.contains("docktunnel_forwards{state=\"pending\"} 0"), after);
  }

  String awaitMetrics(java.util.function.Predicate<String> wanted) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    Answer last;
    do {
      last = get("/metrics");
      assertEquals(200, last.status());
      if (wanted.test(last.body())) {
        assertTrue(last.headers().get("Content-Type").startsWith("text/plain"), last.headers().toString());
        return last.body();
      }
      Thread.sleep(20); // polling the endpoint, bounded by the deadline
    } while (System.nanoTime() < deadline);
    throw new AssertionError("metrics never matched; last:\n" + last.body());
  }

  static void awaitTrue(java.util.function.BooleanSupplier condition, String message) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!condition.getAsBoolean()) {
      assertTrue(System.nanoTime() < deadline, message);
      Thread.sleep(10); // polling, bounded by the deadline
    }
  }


  // ------------------------------------------------------------------ lifecycle

  /** Like {@link #request}, with a body. */
  Answer post(String path, String authorization, String body) throws Exception {
    RequestOptions options = new RequestOptions().setMethod(HttpMethod.POST).setURI(path)
        .setServer(SocketAddress.inetSocketAddress(port, "127.0.0.1")).setHost("127.0.0.1").setPort(port)
        .putHeader("Host", "localhost:" + port).putHeader("Content-Type", "application/json");
    if (authorization != null) {
      options.putHeader("Authorization", authorization);
    }
    return client.request(options)
        .compose(req -> req.send(body == null ? Buffer.buffer() : Buffer.buffer(body))
            .compose(resp -> resp.body().map(b -> answer(resp, b))))
        .await(10, TimeUnit.SECONDS);
  }

  /** A fake lifecycle: records each command it gets and answers with {@code answer}'s result for it. */
  List<String> fakeLifecycle(String address, java.util.function.Function<JsonObject, JsonObject> answer) {
    List<String> got = new java.util.concurrent.CopyOnWriteArrayList<>();
    vertx.eventBus().<JsonObject>consumer(address, m -> {
      got.add(m.body().encode());
      JsonObject reply = answer.apply(m.body());
      if (reply == null) {
        m.fail(409, "the server is stopped already");
      } else {
        m.reply(reply);
      }
    });
    return got;
  }

  @Test
  void extendNeedsTheTokenAndForwardsTheDurationInMilliseconds() throws Exception {
    startApi();
    String bearer = "Bearer " + ApiToken.read(stateDir).text();
    List<String> got = fakeLifecycle(Addresses.LIFECYCLE_EXTEND,
        c -> new JsonObject().put("stopAt", "2026-12-01T11:00:00Z").put("state", "running"));

    Answer none = post("/lifecycle/extend", null, "{\"duration\":\"30m\"}");
    assertEquals(401, none.status(), none.body());
    assertTrue(none.json().getString("error").startsWith("POST /lifecycle/extend needs Authorization: Bearer"),
        none.body());
    assertEquals(401, post("/lifecycle/extend", bearer + "x", "").status());
    assertEquals(List.of(), got, "nothing reaches the lifecycle without the token");

    Answer extended = post("/lifecycle/extend", bearer, "{\"duration\":\"30m\"}");
    assertEquals(200, extended.status(), extended.body());
    assertEquals(new JsonObject().put("stopAt", "2026-12-01T11:00:00Z").put("state", "running"), extended.json());
    assertEquals(200, post("/lifecycle/extend", bearer, "").status());
    assertEquals(200, post("/lifecycle/extend", bearer, "{}").status());
    assertEquals(200, post("/lifecycle/extend", bearer, "{\"duration\":\"90s\"}").status());
    assertEquals(List.of("{\"durationMs\":1800000}", "{}", "{}", "{\"durationMs\":90000}"), got,
        "no duration: {} (the lifecycle extends by its idle timeout)");
  }

  @Test
  void aBadExtendBodyIsA400WithTheReasonAndNeverReachesTheLifecycle() throws Exception {
    startApi();
    String bearer = "Bearer " + ApiToken.read(stateDir).text();
    List<String> got = fakeLifecycle(Addresses.LIFECYCLE_EXTEND, c -> new JsonObject());
    assertEquals("\"duration\": 'soon' is not a duration like 500ms, 15s, 5m or 1h",
        post("/lifecycle/extend", bearer, "{\"duration\":\"soon\"}").json().getString("error"));
    assertEquals("\"duration\": '0m' is not above zero",
        post("/lifecycle/extend", bearer, "{\"duration\":\"0m\"}").json().getString("error"));
    assertEquals("\"duration\" must be a string like \"30m\" (500ms, 15s, 5m or 1h), not 1800",
        post("/lifecycle/extend", bearer, "{\"duration\":1800}").json().getString("error"));
    assertEquals("unknown field 'durationMs' in the body; only \"duration\" is known",
        post("/lifecycle/extend", bearer, "{\"durationMs\":1800}").json().getString("error"));
    Answer notJson = post("/lifecycle/extend", bearer, "30m");
    assertEquals(400, notJson.status(), notJson.body());
    assertTrue(notJson.json().getString("error").startsWith("the body must be a JSON object"), notJson.body());
    assertEquals(400, post("/lifecycle/extend", bearer, "[\"30m\"]").status());
    assertEquals(413, post("/lifecycle/extend", bearer, "{\"duration\":\"" + "1".repeat(2000) + "m\"}").status());
    assertEquals(List.of(), got);
  }

  @Test
  void serverStartAndStopNeedTheTokenWhileGetServerIsReadOnly() throws Exception {
    startApi();
    String bearer = "Bearer " + ApiToken.read(stateDir).text();
    List<String> got = fakeLifecycle(Addresses.LIFECYCLE_SERVER, c -> c.getString("action").equals("stop") ? null
        : new JsonObject().put("state", c.getString("action").equals("start") ? "starting" : "running")
            .put("provider", "command").put("reason", "asked"));

    assertEquals(401, post("/server/start", null, null).status());
    assertEquals(401, post("/server/stop", "Bearer nope", null).status());
    assertEquals(405, request(HttpMethod.GET, "/server/start", "localhost:" + port, bearer).status());
    assertEquals(List.of(), got);

    Answer status = get("/server");
    assertEquals(200, status.status(), status.body());
    assertEquals("running", status.json().getString("state"));
    Answer start = post("/server/start", bearer, null);
    assertEquals(200, start.status(), start.body());
    assertEquals("starting", start.json().getString("state"));
    Answer refused = post("/server/stop", bearer, null);
    assertEquals(409, refused.status(), "a 4xx refusal passes with its code: " + refused.body());
    assertEquals("the server is stopped already", refused.json().getString("error"));
    assertEquals(List.of("{\"action\":\"status\"}", "{\"action\":\"start\"}", "{\"action\":\"stop\"}"), got);
  }

  @Test
  void withoutALifecycleOrWhenItFailsTheRoutesAnswer503WithTheReason() throws Exception {
    startApi();
    String bearer = "Bearer " + ApiToken.read(stateDir).text();
    Answer none = get("/server");
    assertEquals(503, none.status(), none.body());
    assertEquals("the lifecycle is not running (nothing answers docktunnel.lifecycle.server)",
        none.json().getString("error"));
    Answer extend = post("/lifecycle/extend", bearer, "");
    assertEquals(503, extend.status(), extend.body());
    assertEquals("the lifecycle is not running (nothing answers docktunnel.lifecycle.extend)",
        extend.json().getString("error"));

    vertx.eventBus().<JsonObject>consumer(Addresses.LIFECYCLE_SERVER, m -> m.fail(500, "provider exploded"));
    Answer failed = post("/server/start", bearer, null);
    assertEquals(503, failed.status(), failed.body());
    assertEquals("the lifecycle failed: provider exploded", failed.json().getString("error"));
    assertEquals(3.0, metrics.registry().get("docktunnel.http.lifecycle.unanswered").counter().count());
  }

}

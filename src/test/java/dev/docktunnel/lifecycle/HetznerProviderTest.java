package dev.docktunnel.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docktunnel.config.ConfigException;
import dev.docktunnel.config.DocktunnelConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The hetzner provider, production code unchanged, against {@link HetznerStandIn} on loopback. */
class HetznerProviderTest {

  private static final String TOKEN = "hz-test-token-7f3a9c1e5b2d4f6a8c0e";
  private static final String SERVER = "dt-dev";
  private static final String VOLUME = "dt-docker";
  private static final String KEY = "laptop";
  private static final HetznerProvider.Timing FAST = new HetznerProvider.Timing(
      Duration.ofSeconds(5), Duration.ofMillis(10), Duration.ofSeconds(10), Duration.ofSeconds(10),
      Duration.ofSeconds(5));

  private Vertx vertx;
  private HetznerStandIn api;
  private HetznerProvider provider;

  @TempDir
  Path dir;

  @BeforeEach
  void setUp() throws Exception {
    vertx = Vertx.vertx();
    api = await(new HetznerStandIn(TOKEN).start(vertx));
    api.addSshKey(KEY);
  }

  @AfterEach
  void tearDown() throws Exception {
    if (provider != null) {
      provider.close();
    }
    await(api.stop());
    await(vertx.close());
  }

  @Test
  void idleStopWithAVolumeShutsDownDeletesTheServerAndKeepsTheVolume() throws Exception {
    long volume = api.addVolume(VOLUME, "fsn1");
    long server = api.addServer(SERVER, "fsn1", volume);
    provider = provider("volume", env(TOKEN), null);
    ServerStatus running = await(provider.status());
    assertEquals(ServerStatus.State.RUNNING, running.state());
    assertEquals("203.0.113." + (server % 250 + 1), running.address().orElseThrow().toString(),
        "a running server's address: where the session goes after a restart of docktunnel");

    await(provider.stop());

    assertNull(api.server(SERVER), "the server is deleted");
    JsonObject kept = api.volume(volume);
    assertEquals(VOLUME, kept.getString("name"), "the volume stays");
    assertNull(kept.getValue("server"), "and is detached");
    List<String> calls = api.requests();
    int shutdown = calls.indexOf("POST /servers/" + server + "/actions/shutdown");
    int delete = calls.indexOf("DELETE /servers/" + server);
    assertTrue(shutdown >= 0 && delete > shutdown, "shut down, then deleted: " + calls);
    assertTrue(calls.stream().noneMatch(c -> c.contains("create_image")), "no snapshot with keep=volume");
    assertTrue(api.snapshots().isEmpty());
    ServerStatus after = await(provider.status());
    assertEquals(ServerStatus.State.NOT_FOUND, after.state());
    assertTrue(after.detail().contains(SERVER), after.detail());
  }

  @Test
  void aServerThatIgnoresTheShutdownIsPoweredOffAfterTheShutdownTimeoutThenDeleted() throws Exception {
    long volume = api.addVolume(VOLUME, "fsn1");
    long server = api.addServer(SERVER, "fsn1", volume);
    api.ignoreAcpi = true;
    HetznerProvider.Timing shortShutdown = new HetznerProvider.Timing(Duration.ofSeconds(5), Duration.ofMillis(10),
        Duration.ofSeconds(10), Duration.ofSeconds(10), Duration.ofMillis(200));
    provider = new HetznerProvider(vertx, settings("volume", VOLUME, KEY, api.url()), shortShutdown, env(TOKEN));

    await(provider.stop());

    List<String> calls = api.requests();
    int shutdown = calls.indexOf("POST /servers/" + server + "/actions/shutdown");
    int poweroff = calls.indexOf("POST /servers/" + server + "/actions/poweroff");
    int delete = calls.indexOf("DELETE /servers/" + server);
    assertTrue(shutdown >= 0 && poweroff > shutdown && delete > poweroff, "shutdown, poweroff, delete: " + calls);
    assertNull(api.server(SERVER));
    assertNull(api.volume(volume).getValue("server"));
  }

  @Test
  void idleStopRefusesToDeleteAServerWithoutTheVolumeAttached() throws Exception {
    api.addVolume(VOLUME, "fsn1");
    api.addServer(SERVER, "fsn1", null);
    provider = provider("volume", env(TOKEN), null);

    String message = failure(provider.stop());

    assertTrue(message.contains("refusing to delete") && message.contains(VOLUME), message);
    assertNotNull(api.server(SERVER), "the server is still there");
    assertTrue(api.requests().stream().noneMatch(c -> c.startsWith("DELETE") || c.startsWith("POST")),
        api.requests().toString());
    assertEquals(1, provider.failures());
  }

  @Test
  void snapshotModeSnapshotsTheShutDownServerDeletesItDropsOlderSnapshotsAndWakesFromTheNewOne() throws Exception {
    long older = api.addSnapshot(SERVER, "2026-01-01T00:00:00Z");
    long foreign = api.addSnapshot("someone-else", "2026-01-02T00:00:00Z");
    long server = api.addServer(SERVER, "fsn1", null);
    provider = provider("snapshot", env(TOKEN), null);

    await(provider.stop());

    assertNull(api.server(SERVER));
    List<String> calls = api.requests();
    int off = calls.indexOf("POST /servers/" + server + "/actions/shutdown");
    int image = calls.indexOf("POST /servers/" + server + "/actions/create_image");
    int delete = calls.indexOf("DELETE /servers/" + server);
    assertTrue(off >= 0 && image > off && delete > image, "shutdown, snapshot, delete: " + calls);
    JsonObject body = api.imageBodies().get(0);
    assertEquals("snapshot", body.getString("type"));
    assertEquals(SERVER, body.getJsonObject("labels").getString(HetznerProvider.LABEL));
    List<JsonObject> snapshots = api.snapshots();
    assertEquals(2, snapshots.size(), "the older one of ours is gone, the foreign one stays: " + snapshots);
    assertTrue(snapshots.stream().noneMatch(s -> s.getLong("id") == older));
    assertTrue(snapshots.stream().anyMatch(s -> s.getLong("id") == foreign));
    JsonObject fresh = snapshots.stream().filter(s -> s.getLong("id") != foreign).findFirst().orElseThrow();
    assertEquals("available", fresh.getString("status"), "the snapshot's action was waited for");

    StartResult started = await(provider.start());

    JsonObject create = api.createBodies().get(0);
    assertEquals(String.valueOf(fresh.getLong("id")), create.getString("image"), "created from the new snapshot");
    assertEquals(ipOf(api.server(SERVER)), started.address().orElseThrow().host());
  }

  @Test
  void snapshotModeWithoutASnapshotWakesFromTheConfiguredImage() throws Exception {
    provider = provider("snapshot", env(TOKEN), null);

    await(provider.start());

    assertEquals("docker-ce", api.createBodies().get(0).getString("image"));
  }

  @Test
  void wakeCreatesTheServerWithTheVolumeKeyAndImageAndReturnsItsIpOnceItsActionsSucceeded() throws Exception {
    long volume = api.addVolume(VOLUME, "fsn1");
    api.pollsPerAction = 3;
    provider = provider("volume", env(TOKEN), null);
    assertEquals(ServerStatus.State.NOT_FOUND, await(provider.status()).state());

    StartResult started = await(provider.start());

    JsonObject server = api.server(SERVER);
    assertEquals("running", server.getString("status"));
    assertEquals(Optional.of(ipOf(server)), started.address().map(ServerAddress::host));
    JsonObject body = api.createBodies().get(0);
    assertEquals(SERVER, body.getString("name"));
    assertEquals("cx22", body.getString("server_type"));
    assertEquals("fsn1", body.getString("location"));
    assertEquals("docker-ce", body.getString("image"));
    assertEquals(new JsonArray().add(KEY), body.getJsonArray("ssh_keys"));
    assertEquals(new JsonArray().add(volume), body.getJsonArray("volumes"));
    assertEquals(Boolean.TRUE, body.getBoolean("automount"));
    assertEquals(server.getLong("id"), api.volume(volume).getLong("server"), "the volume is attached");
    long polls = api.requests().stream().filter(c -> c.startsWith("GET /actions/")).count();
    assertTrue(polls >= 2 * 3, "create_server and start_server polled until success: " + polls);
    assertEquals(ServerStatus.State.RUNNING, await(provider.status()).state());
  }

  @Test
  void wakeOfAServerThatIsOffPowersItOnInsteadOfCreatingOne() throws Exception {
    long volume = api.addVolume(VOLUME, "fsn1");
    api.addServer(SERVER, "fsn1", volume);
    provider = provider("volume", env(TOKEN), null);
    // Shut down by hand (a shutdown in the console leaves it off, and billed).
    stopByHand();
    assertEquals(ServerStatus.State.STOPPED, await(provider.status()).state());

    StartResult started = await(provider.start());

    assertTrue(api.createBodies().isEmpty(), "no second server");
    assertTrue(api.requests().stream().anyMatch(c -> c.endsWith("/actions/poweron")), api.requests().toString());
    assertEquals(ipOf(api.server(SERVER)), started.address().orElseThrow().host());
  }

  private void stopByHand() throws Exception {
    JsonObject server = api.server(SERVER);
    String url = api.url() + "/servers/" + server.getLong("id") + "/actions/shutdown";
    io.vertx.ext.web.client.WebClient client = io.vertx.ext.web.client.WebClient.create(vertx);
    JsonObject action = await(client.postAbs(url).bearerTokenAuthentication(TOKEN).send())
        .bodyAsJsonObject().getJsonObject("action");
    for (int i = 0; i < 10 && !"off".equals(api.server(SERVER).getString("status")); i++) {
      await(client.getAbs(api.url() + "/actions/" + action.getLong("id")).bearerTokenAuthentication(TOKEN).send());
      await(client.getAbs(api.url() + "/servers/" + server.getLong("id")).bearerTokenAuthentication(TOKEN).send());
    }
    client.close();
    assertEquals("off", api.server(SERVER).getString("status"));
  }

  @Test
  void destroyDeletesAtOnceAndLeavesTheVolumeAndSnapshots() throws Exception {
    long volume = api.addVolume(VOLUME, "fsn1");
    long snapshot = api.addSnapshot(SERVER, "2026-01-01T00:00:00Z");
    long server = api.addServer(SERVER, "fsn1", volume);
    provider = provider("volume", env(TOKEN), null);

    await(provider.destroy());

    assertNull(api.server(SERVER));
    assertTrue(api.requests().stream().noneMatch(c -> c.contains("/actions/shutdown")), "no shutdown first");
    assertTrue(api.requests().contains("DELETE /servers/" + server));
    assertNull(api.volume(volume).getValue("server"));
    assertTrue(api.snapshots().stream().anyMatch(s -> s.getLong("id") == snapshot));
    await(provider.destroy()); // nothing left: succeeds, does nothing
  }

  @Test
  void apiErrorsSayTheCallTheStatusAndHetznersCodeAndMessage() throws Exception {
    api.addVolume(VOLUME, "fsn1");
    provider = provider("volume", env(TOKEN), null);
    api.failNext("POST /servers", 403, "resource_limit_exceeded", "server limit exceeded");

    String limit = failure(provider.start());

    assertTrue(limit.contains("hetzner start of server " + SERVER + " failed"), limit);
    assertTrue(limit.contains("POST /servers: 403 resource_limit_exceeded: server limit exceeded"), limit);

    provider.close();
    provider = provider("volume", env(TOKEN), "no-such-key");
    String key = failure(provider.start());
    assertTrue(key.contains("400 invalid_input: invalid input in field 'ssh_keys': ssh key no-such-key not found"),
        key);

    provider.close();
    provider = new HetznerProvider(vertx, settings("volume", "gone-volume", KEY, api.url()), FAST, env(TOKEN));
    String volume = failure(provider.start());
    assertTrue(volume.contains("volume gone-volume (lifecycle.hetzner.volume) does not exist"), volume);
    assertEquals(2, api.requests().stream().filter(c -> c.equals("POST /servers")).count(),
        "no server created without its volume: " + api.requests());
  }

  @Test
  void aWrongTokenGivesTheUnauthorizedAnswerAndWhereTheTokenCameFrom() throws Exception {
    provider = provider("volume", env("wrong-token-0000"), null);

    String message = failure(provider.status());

    assertTrue(message.contains("GET /servers: 401 unauthorized: unable to authenticate"), message);
    assertTrue(message.contains("check the API token in $HCLOUD_TOKEN"), message);
    assertFalse(message.contains("wrong-token-0000"), message);
  }

  @Test
  void aCreateActionThatFailsFailsTheStartWithTheActionsError() throws Exception {
    api.addVolume(VOLUME, "fsn1");
    api.failAction("create_server", "action_failed", "no capacity for cx22 in fsn1");
    provider = provider("volume", env(TOKEN), null);

    String message = failure(provider.start());

    assertTrue(message.contains("Hetzner action create_server"), message);
    assertTrue(message.contains("failed: action_failed: no capacity for cx22 in fsn1"), message);
  }

  @Test
  void pollingGivesUpAtTheDeadlineWithABoundedNumberOfPolls() throws Exception {
    api.addVolume(VOLUME, "fsn1");
    api.neverFinish("create_server");
    HetznerProvider.Timing shortStart = new HetznerProvider.Timing(
        Duration.ofSeconds(5), Duration.ofMillis(20), Duration.ofMillis(300), Duration.ofSeconds(10),
        Duration.ofSeconds(5));
    provider = new HetznerProvider(vertx, settings("volume", VOLUME, KEY, api.url()), shortStart, env(TOKEN));

    long began = System.nanoTime();
    String message = failure(provider.start());
    long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began);

    assertTrue(message.contains("create_server") && message.contains("still running at the deadline"), message);
    long polls = api.requests().stream().filter(c -> c.startsWith("GET /actions/")).count();
    assertTrue(polls >= 3 && polls <= 300 / 20 + 2, "polls every 20 ms for 300 ms: " + polls);
    System.out.println("polling timeout: gave up after " + tookMs + " ms, " + polls + " polls");
  }

  @Test
  void anApiThatDoesNotAnswerIsAClearFailure() throws Exception {
    int closed;
    try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      closed = socket.getLocalPort();
    }
    provider = new HetznerProvider(vertx, settings("volume", VOLUME, KEY, "http://127.0.0.1:" + closed + "/v1"),
        FAST, env(TOKEN));

    String message = failure(provider.status());

    assertTrue(message.contains("GET /servers to http://127.0.0.1:" + closed + "/v1 got no answer"), message);
  }

  @Test
  void theTokenComesFromAFileReadableOnlyByItsOwner() throws Exception {
    Path file = dir.resolve("hcloud-token");
    Files.writeString(file, TOKEN + "\n");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
    provider = provider("volume", Map.of(), null, file);

    String message = failure(provider.status());

    assertTrue(message.contains("lifecycle.hetzner.tokenFile " + file + " is accessible by others (rw-r--r--)"),
        message);
    assertTrue(message.contains("chmod 600 " + file), message);
    assertTrue(api.requests().isEmpty(), "no request made with a token others can read");

    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    assertEquals(ServerStatus.State.NOT_FOUND, await(provider.status()).state());
  }

  @Test
  void noTokenAnywhereSaysWhereToPutIt() throws Exception {
    provider = provider("volume", Map.of(), null, dir.resolve("missing"));

    String message = failure(provider.status());

    assertTrue(message.contains("lifecycle.hetzner.tokenFile " + dir.resolve("missing") + " does not exist"
        + " (and $HCLOUD_TOKEN is unset)"), message);
  }

  @Test
  void badSettingsAreRefusedNamingTheSetting() {
    ConfigException keep = assertThrows(ConfigException.class, () ->
        new HetznerProvider(vertx, settings("archive", VOLUME, KEY, api.url()), FAST, env(TOKEN)));
    assertEquals("lifecycle.hetzner.keep must be volume or snapshot, got archive", keep.getMessage());
    ConfigException volume = assertThrows(ConfigException.class, () ->
        new HetznerProvider(vertx, settings("volume", null, KEY, api.url()), FAST, env(TOKEN)));
    assertTrue(volume.getMessage().startsWith("lifecycle.hetzner.volume is required with keep=volume"));
    ConfigException key = assertThrows(ConfigException.class, () ->
        new HetznerProvider(vertx, settings("volume", VOLUME, " ", api.url()), FAST, env(TOKEN)));
    assertEquals("lifecycle.hetzner.sshKey is required with lifecycle.provider hetzner", key.getMessage());
  }

  @Test
  void theTokenAppearsInNoLogLineAndNoMessage() throws Exception {
    String log = stderrDuring(() -> {
      long volume = api.addVolume(VOLUME, "fsn1");
      provider = provider("volume", env(TOKEN), null);
      await(provider.start());
      await(provider.stop());
      api.failNext("POST /servers", 500, "service_error", "error within a service");
      String failed = failure(provider.start());
      assertFalse(failed.contains(TOKEN), failed);
      api.failAction("delete_server", "action_failed", "delete failed");
      await(provider.start());
      assertFalse(failure(provider.stop()).contains(TOKEN));
      assertEquals(api.server(SERVER).getLong("id"), api.volume(volume).getLong("server"),
          "a failed delete leaves the server, with its volume");
    });
    assertTrue(log.contains("hetzner: creating server " + SERVER), "the log was captured: " + log);
    assertTrue(log.contains("WARN"), log);
    assertFalse(log.contains(TOKEN), "the token is in the log:\n" + log);
    assertFalse(log.contains(TOKEN.substring(0, 12)), "part of the token is in the log:\n" + log);
  }

  // ---- helpers ----

  private HetznerProvider provider(String keep, Map<String, String> environment, String sshKey) {
    return provider(keep, environment, sshKey, null);
  }

  private HetznerProvider provider(String keep, Map<String, String> environment, String sshKey, Path tokenFile) {
    // keep=snapshot runs without a volume here (a volume is optional then).
    DocktunnelConfig.Hetzner s = settings(keep, "snapshot".equals(keep) ? null : VOLUME,
        sshKey == null ? KEY : sshKey, api.url());
    s = new DocktunnelConfig.Hetzner(s.apiUrl(), s.tokenEnv(), tokenFile, s.serverName(), s.serverType(),
        s.location(), s.image(), s.sshKey(), s.volume(), s.keep());
    return new HetznerProvider(vertx, s, FAST, environment);
  }

  private static DocktunnelConfig.Hetzner settings(String keep, String volume, String sshKey, String url) {
    return new DocktunnelConfig.Hetzner(url, "HCLOUD_TOKEN", null, SERVER, "cx22", "fsn1", "docker-ce", sshKey,
        volume, keep);
  }

  private static Map<String, String> env(String token) {
    return Map.of("HCLOUD_TOKEN", token);
  }

  private static String ipOf(JsonObject server) {
    return server.getJsonObject("public_net").getJsonObject("ipv4").getString("ip");
  }

  private static <T> T await(Future<T> future) throws Exception {
    try {
      return future.toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof Exception cause ? cause : e;
    }
  }

  /** The failure's message; fails the test when the future succeeds. */
  private static String failure(Future<?> future) throws Exception {
    try {
      future.toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      assertTrue(e.getCause() instanceof HetznerApiException, "a HetznerApiException: " + e.getCause());
      return e.getCause().getMessage();
    }
    throw new AssertionError("expected a failure, the call succeeded");
  }

  private interface Block {
    void run() throws Exception;
  }

  /** What slf4j-simple (which looks System.err up on every line) printed while the block ran. */
  private static String stderrDuring(Block block) throws Exception {
    PrintStream original = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      block.run();
    } finally {
      System.setErr(original);
    }
    String text = captured.toString(StandardCharsets.UTF_8);
    original.print(text);
    return text;
  }
}

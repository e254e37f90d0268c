package dev.docktunnel.testbed;

import dev.docktunnel.Docktunnel;
import dev.docktunnel.bus.Addresses;
import dev.docktunnel.bus.FactRecorder;
import dev.docktunnel.config.ConfigLoader;
import dev.docktunnel.config.DocktunnelConfig;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * docktunnel running in the test JVM against the testbed, as {@code docktunnel run} would run
 * it, with the bus facts recorded for assertions.
 */
public final class RunningDocktunnel implements AutoCloseable {
  public static final Duration WAIT = Duration.ofSeconds(30);

  public final Vertx vertx;
  public final Docktunnel app;
  public final FactRecorder forwardStatus;
  public final FactRecorder containers;
  public final FactRecorder sshStates;

  private RunningDocktunnel(Vertx vertx, Docktunnel app, FactRecorder forwardStatus, FactRecorder containers,
      FactRecorder sshStates) {
    this.vertx = vertx;
    this.app = app;
    this.forwardStatus = forwardStatus;
    this.containers = containers;
    this.sshStates = sshStates;
  }

  /** The config {@code docktunnel run} would build for the testbed, plus {@code extra} settings. */
  public static DocktunnelConfig config(Testbed testbed, JsonObject extra) {
    JsonObject settings = new JsonObject()
        .put("host", testbed.sshUri())
        .put("identities", new JsonArray().add(testbed.clientPrivateKey().toString()))
        .put("knownHosts", testbed.knownHostsFile().toString())
        .put("sshConfig", "/dev/null") // no user SSH config leaks in
        .put("remoteDockerSocket", testbed.dockerSocket().toString())
        .put("stateDir", testbed.workDir().resolve("state").toString());
    extra.forEach(e -> settings.put(e.getKey(), e.getValue()));
    return new ConfigLoader(Path.of(System.getProperty("user.home"))).load(null, settings);
  }

  /** Starts and waits until the SSH session is up. */
  public static RunningDocktunnel start(Testbed testbed, JsonObject extra) throws Exception {
    return start(testbed, extra, Optional.empty());
  }

  /** Starts with the local Docker socket at {@code dockerSocket} and waits until the session is up. */
  public static RunningDocktunnel start(Testbed testbed, JsonObject extra, Optional<Path> dockerSocket)
      throws Exception {
    Vertx vertx = Vertx.vertx();
    FactRecorder forwardStatus = FactRecorder.on(vertx, Addresses.FORWARD_STATUS);
    FactRecorder containers = FactRecorder.on(vertx, Addresses.CONTAINER);
    FactRecorder sshStates = FactRecorder.on(vertx, Addresses.SSH_STATE);
    try {
      Docktunnel app = Docktunnel.start(vertx, config(testbed, extra), dockerSocket)
          .await(WAIT.toSeconds(), TimeUnit.SECONDS);
      app.ssh().firstConnection().await(WAIT.toSeconds(), TimeUnit.SECONDS);
      return new RunningDocktunnel(vertx, app, forwardStatus, containers, sshStates);
    } catch (Exception e) {
      vertx.close();
      throw e;
    }
  }

  /** Waits for a forward status fact with {@code status} for published port {@code port}. */
  public JsonObject awaitForward(String status, int publishedPort) throws InterruptedException {
    return forwardStatus.await(isForward(status, publishedPort), WAIT);
  }

  public static Predicate<JsonObject> isForward(String status, int publishedPort) {
    return s -> status.equals(s.getString("status")) && s.getInteger("publishedPort") == publishedPort;
  }

  /** The forwards the forward verticle holds now ({@link Addresses#FORWARDS_LIST}). */
  public List<JsonObject> forwards() throws Exception {
    JsonObject reply = vertx.eventBus().<JsonObject>request(Addresses.FORWARDS_LIST, new JsonObject(),
        new DeliveryOptions().setSendTimeout(5000)).await(10, TimeUnit.SECONDS).body();
    return reply.getJsonArray("forwards").stream().map(JsonObject.class::cast).toList();
  }

  /**
   * A test class's teardown: stops {@code docktunnel} when it was started, then the class's
   * threads and the testbed's containers, also when the stop fails.
   */
  public static void tearDown(RunningDocktunnel docktunnel, ExecutorService threads, Testbed testbed) {
    try {
      if (docktunnel != null) {
        docktunnel.close();
      }
    } finally {
      threads.shutdownNow();
      testbed.removeAllContainers();
    }
  }

  @Override
  public void close() {
    try {
      vertx.close().await(20, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("docktunnel did not stop within 20 s", e);
    }
  }
}

package dev.docktunnel.forward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static dev.docktunnel.testbed.Figures.freePort;
import static dev.docktunnel.testbed.Figures.awaitRefused;

import dev.docktunnel.bus.Addresses;
import dev.docktunnel.bus.ContainersSynced;
import dev.docktunnel.bus.ContainersUnsynced;
import dev.docktunnel.bus.FactRecorder;
import dev.docktunnel.config.DocktunnelConfig.ConflictStrategy;
import dev.docktunnel.config.DocktunnelConfig.Forwarding;
import dev.docktunnel.docker.ContainerInfo;
import dev.docktunnel.docker.PublishedPort;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.time.Instant;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The forward verticle driven only through the bus: container facts in, forward status facts
 * out, against an in-process sshd whose "remote" ports are loopback servers of this test.
 */
class ForwardVerticleTest {
  @TempDir
  static Path tmp;
  static InProcessSsh ssh;
  Vertx vertx;
  FactRecorder statuses;

  @BeforeAll
  static void startSsh() throws IOException {
    ssh = new InProcessSsh(tmp);
  }

  @AfterAll
  static void stopSsh() throws IOException {
    ssh.close();
  }

  void deploy(ConflictStrategy strategy) throws Exception {
    deploy(strategy, List.of());
  }

  void deploy(ConflictStrategy strategy, List<RestoredForward> restored) throws Exception {
    vertx = Vertx.vertx();
    statuses = FactRecorder.on(vertx, Addresses.FORWARD_STATUS);
    Forwarding config = new Forwarding(List.of("127.0.0.1"), List.of(), List.of(), strategy);
    vertx.deployVerticle(new ForwardVerticle(config, ssh.sessions(), restored)).await(10, TimeUnit.SECONDS);
  }

  @AfterEach
  void undeploy() throws Exception {
    if (vertx != null) {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }


  /** A running container whose published port {@code remote} is forwarded to local {@code local}. */
  static JsonObject running(String id, int remote, int local) {
    return new ContainerInfo(id, "c-" + id, "img", "running",
        Map.of("docktunnel.port." + remote, String.valueOf(local)),
        List.of(new PublishedPort("0.0.0.0", remote, 80, "tcp"))).toJson();
  }

  void publish(JsonObject fact) {
    vertx.eventBus().publish(Addresses.CONTAINER, fact);
  }

  JsonObject awaitStatus(Predicate<JsonObject> wanted) throws InterruptedException {
    return statuses.await(wanted, Duration.ofSeconds(20));
  }

  static Predicate<JsonObject> status(String status, int publishedPort) {
    return s -> status.equals(s.getString("status")) && s.getInteger("publishedPort") == publishedPort;
  }

  static String echoThrough(int localPort, String text) throws IOException {
    try (Socket s = new Socket("127.0.0.1", localPort)) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write(text.getBytes());
      s.shutdownOutput();
      return new String(s.getInputStream().readAllBytes());
    }
  }

  JsonObject settled(String containerId, long timeoutMs) throws Exception {
    return vertx.eventBus().<JsonObject>request(Addresses.FORWARDS_SETTLED,
            new JsonObject().put("containerId", containerId).put("timeoutMs", timeoutMs))
        .await(20, TimeUnit.SECONDS).body();
  }

  /**
   * The Docker socket's "are this container's forwards up?": answered at once for a container
   * without forwards, when its forward turns active (not before), and at the timeout with the
   * forward's pending status when the remote never answers.
   */
  @Test
  void settledQueryAnswersWhenTheContainersForwardsAreActiveOrAtItsTimeout() throws Exception {
    deploy(ConflictStrategy.FAIL);
    JsonObject none = settled("nothing-here", 5_000);
    assertTrue(none.getBoolean("settled"));
    assertEquals(0, none.getJsonArray("forwards").size());

    int remote = ssh.serve(InProcessSsh::echo);
    int local = freePort();
    publish(running("bbb", remote, local)); // its forward exists (pending) before the query comes
    JsonObject up = settled("bbb", 20_000);
    assertTrue(up.getBoolean("settled"), up.encode());
    assertEquals("active", up.getJsonArray("forwards").getJsonObject(0).getString("status"));
    assertEquals("ping", echoThrough(local, "ping"), "settled means a client is served");

    int dead = InProcessSsh.deadPort();
    publish(running("ccc", dead, freePort()));
    awaitStatus(status("pending", dead));
    JsonObject timedOut = settled("ccc", 300);
    assertFalse(timedOut.getBoolean("settled"));
    JsonObject forward = timedOut.getJsonArray("forwards").getJsonObject(0);
    assertEquals("pending", forward.getString("status"));
    assertTrue(forward.getString("reason").contains("did not answer") || forward.getString("reason")
        .contains("probing"), forward.getString("reason"));

    var bad = vertx.eventBus().request(Addresses.FORWARDS_SETTLED, new JsonObject().put("containerId", "x"));
    assertTrue(assertThrows(Exception.class, () -> bad.await(5, TimeUnit.SECONDS)).getMessage()
        .contains("timeoutMs"));
  }

  @Test
  void runningContainerGetsAnActiveForwardThatCarriesData() throws Exception {
    deploy(ConflictStrategy.FAIL);
    int remote = ssh.serve(InProcessSsh::echo);
    int local = freePort();
    publish(running("aaa", remote, local));
    JsonObject pending = awaitStatus(status("pending", remote));
    JsonObject active = awaitStatus(status("active", remote));
    assertEquals(pending.getString("sessionId"), active.getString("sessionId"));
    assertEquals(local, active.getInteger("localPort"));
    assertEquals("127.0.0.1", active.getString("remoteHost"));
    assertEquals(List.of("127.0.0.1"), active.getJsonArray("bindAddresses").getList());
    assertEquals("ping", echoThrough(local, "ping"));

    JsonObject listed = vertx.eventBus().<JsonObject>request(Addresses.FORWARDS_LIST, new JsonObject())
        .await(5, TimeUnit.SECONDS).body();
    assertEquals("active", listed.getJsonArray("forwards").getJsonObject(0).getString("status"));
  }

  @Test
  void stoppedContainerClosesItsLocalPort() throws Exception {
    deploy(ConflictStrategy.FAIL);
    int remote = ssh.serve(InProcessSsh::echo);
    int local = freePort();
    publish(running("bbb", remote, local));
    awaitStatus(status("active", remote));
    publish(ContainerInfo.fromJson(running("bbb", remote, local)).withState("exited").toJson());
    JsonObject stopped = awaitStatus(status("stopped", remote));
    assertTrue(stopped.getString("reason").contains("exited"), stopped.getString("reason"));
    awaitRefused(local);
  }

  @Test
  void resyncDropsContainersThatVanished() throws Exception {
    deploy(ConflictStrategy.FAIL);
    int remote = ssh.serve(InProcessSsh::echo);
    publish(running("ccc", remote, freePort()));
    awaitStatus(status("active", remote));
    vertx.eventBus().publish(Addresses.CONTAINERS_SYNCED, new ContainersSynced(List.of(), "27.0", Instant.now()).toJson());
    awaitStatus(status("stopped", remote));
  }

  @Test
  void takenLocalPortIsAConflictNamingTheOwnerAndOthersAreUnaffected() throws Exception {
    deploy(ConflictStrategy.FAIL);
    int remoteA = ssh.serve(InProcessSsh::echo);
    int remoteB = ssh.serve(InProcessSsh::echo);
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      publish(running("ddd", remoteA, taken.getLocalPort()));
      int localB = freePort();
      publish(running("eee", remoteB, localB));
      JsonObject conflict = awaitStatus(status("conflict", remoteA));
      String reason = conflict.getString("reason");
      assertTrue(reason.contains("local port " + taken.getLocalPort() + " is in use"), reason);
      assertTrue(reason.contains("pid " + ProcessHandle.current().pid()), reason);
      awaitStatus(status("active", remoteB));
      assertEquals("still fine", echoThrough(localB, "still fine"));
    }
  }

  @Test
  void nextFreeTakesTheNextPortAndSaysSo() throws Exception {
    deploy(ConflictStrategy.NEXT_FREE);
    int remote = ssh.serve(InProcessSsh::echo);
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      publish(running("fff", remote, taken.getLocalPort()));
      JsonObject active = awaitStatus(status("active", remote));
      int chosen = active.getInteger("localPort");
      assertTrue(chosen > taken.getLocalPort(), "chose " + chosen);
      assertTrue(active.getString("reason").contains("using " + chosen), active.getString("reason"));
      assertEquals("moved", echoThrough(chosen, "moved"));
    }
  }

  @Test
  void remotePortThatDoesNotAnswerStaysPendingWithTheReasonThenBecomesActive() throws Exception {
    deploy(ConflictStrategy.FAIL);
    int remote = freePort();
    publish(running("ggg", remote, freePort()));
    JsonObject pending = awaitStatus(s -> status("pending", remote).test(s)
        && s.getString("reason", "").contains("did not answer"));
    assertTrue(pending.getString("reason").contains("127.0.0.1:" + remote), pending.getString("reason"));
    try (ServerSocket late = new ServerSocket(remote, 50, InetAddress.getLoopbackAddress())) {
      awaitStatus(status("active", remote));
    }
  }

  @Test
  void conflictBecomesActiveOnceThePortFrees() throws Exception {
    deploy(ConflictStrategy.FAIL);
    int remote = ssh.serve(InProcessSsh::echo);
    int local;
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      local = taken.getLocalPort();
      publish(running("hhh", remote, local));
      JsonObject conflict = awaitStatus(status("conflict", remote));
      assertTrue(conflict.getString("reason").contains("waiting for the port"), conflict.getString("reason"));
    }
    JsonObject active = awaitStatus(status("active", remote));
    assertEquals(local, active.getInteger("localPort"));
    assertEquals("back", echoThrough(local, "back"));
  }

  @Test
  void brokenEventStreamMakesForwardsPendingUntilTheResync() throws Exception {
    deploy(ConflictStrategy.FAIL);
    int remote = ssh.serve(InProcessSsh::echo);
    publish(running("iii", remote, freePort()));
    awaitStatus(status("active", remote));
    vertx.eventBus().publish(Addresses.CONTAINERS_UNSYNCED, new ContainersUnsynced("event stream broke", Instant.now()).toJson());
    JsonObject pending = awaitStatus(s -> status("pending", remote).test(s)
        && s.getString("reason", "").contains("event stream broke"));
    int factsBefore = statuses.facts().size();
    vertx.eventBus().publish(Addresses.CONTAINERS_SYNCED, new ContainersSynced(List.of("iii"), "27.0", Instant.now()).toJson());
    awaitStatus(s -> status("active", remote).test(s) && statuses.facts().indexOf(s) >= factsBefore);
    assertEquals(pending.getString("sessionId"), statuses.facts().get(statuses.facts().size() - 1).getString("sessionId"));
  }

  @Test
  void removedForwardResetsItsOpenConnections() throws Exception {
    deploy(ConflictStrategy.FAIL);
    int remote = ssh.serve(InProcessSsh::echo);
    int local = freePort();
    publish(running("jjj", remote, local));
    awaitStatus(status("active", remote));
    try (Socket idle = new Socket("127.0.0.1", local)) {
      idle.setSoTimeout(20_000);
      idle.getOutputStream().write("x".getBytes());
      assertEquals('x', idle.getInputStream().read()); // the connection is through
      publish(ContainerInfo.fromJson(running("jjj", remote, local)).withState("exited").toJson());
      awaitStatus(status("stopped", remote));
      assertThrows(SocketException.class, () -> idle.getInputStream().read());
    }
  }

  @Test
  void restoredForwardListensAtOnceOnItsOldPortAndIsConfirmedByTheContainer() throws Exception {
    int remote = ssh.serve(InProcessSsh::echo);
    int requested = freePort();
    int chosen = freePort(); // as if next-free had picked it last time
    deploy(ConflictStrategy.FAIL, List.of(new RestoredForward("rrr", "c-rrr", "tcp", remote, "127.0.0.1", remote,
        requested, chosen)));
    JsonObject waiting = awaitStatus(s -> status("pending", remote).test(s)
        && s.getString("reason", "").contains("restored from the last run"));
    assertEquals(chosen, waiting.getInteger("localPort"));
    assertEquals("early", echoThrough(chosen, "early"), "served before any container fact");

    publish(running("rrr", remote, requested));
    JsonObject active = awaitStatus(status("active", remote));
    assertEquals(chosen, active.getInteger("localPort"), "the old local port is kept");
    assertEquals(waiting.getString("sessionId"), active.getString("sessionId"), "the same forward, not a new one");
  }

  @Test
  void restoredForwardOfAContainerThatIsGoneIsDroppedByTheSync() throws Exception {
    int remote = ssh.serve(InProcessSsh::echo);
    int local = freePort();
    deploy(ConflictStrategy.FAIL, List.of(new RestoredForward("sss", "c-sss", "tcp", remote, "127.0.0.1", remote,
        local, local)));
    awaitStatus(status("pending", remote));
    vertx.eventBus().publish(Addresses.CONTAINERS_SYNCED, new ContainersSynced(List.of(), "27.0", Instant.now()).toJson());
    awaitStatus(status("stopped", remote));
    awaitRefused(local);
  }

}

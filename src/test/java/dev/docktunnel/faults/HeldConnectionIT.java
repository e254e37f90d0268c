package dev.docktunnel.faults;

import static dev.docktunnel.faults.FaultSupport.awaitTrue;
import static dev.docktunnel.faults.FaultSupport.echoes;
import static dev.docktunnel.faults.FaultSupport.millisSince;
import static dev.docktunnel.faults.FaultSupport.sshState;
import static dev.docktunnel.faults.FaultSupport.sshStateAfter;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docktunnel.bus.Addresses;
import dev.docktunnel.bus.FactRecorder;
import dev.docktunnel.testbed.Figures;
import dev.docktunnel.testbed.RunningDocktunnel;
import dev.docktunnel.testbed.StreamServerContainer;
import dev.docktunnel.testbed.Testbed;
import dev.docktunnel.testbed.TestbedExtension;
import dev.docktunnel.testbed.Traffic;
import dev.docktunnel.testbed.Traffic.Outcome;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A connection made while the SSH session is down is held and served once sshd is back (issue 7,
 * "Held connections"), on the testbed's real OpenSSH.
 */
@ExtendWith(TestbedExtension.class)
class HeldConnectionIT {
  static final Duration WAIT = Duration.ofSeconds(30);
  /** How long the connection is kept waiting before sshd returns: several refused attempts. */
  static final Duration DOWN_WHILE_HELD = Duration.ofSeconds(3);

  static final ExecutorService threads = Executors.newCachedThreadPool();
  static Testbed testbed;
  static RunningDocktunnel docktunnel;
  static StreamServerContainer server;
  static FactRecorder connectionEvents;

  @BeforeAll
  static void start(Testbed bed) throws Exception {
    testbed = bed;
    server = bed.runStreamServer("held-connection", 1 << 20);
    docktunnel = RunningDocktunnel.start(bed, new JsonObject());
    connectionEvents = FactRecorder.on(docktunnel.vertx, Addresses.ACTIVITY_CONNECTION);
    docktunnel.awaitForward("active", server.echoPort());
  }

  @AfterAll
  static void stop() {
    RunningDocktunnel.tearDown(docktunnel, threads, testbed);
  }

  @AfterEach
  void sshdBack() {
    testbed.faults().ensureSshdRunning();
  }

  @Test
  void connectionMadeWhileSshdIsDownIsServedByteExactOnceItIsBack() throws Exception {
    awaitTrue("the echo forward serving before the test", WAIT,
        () -> echoes(server.echoPort(), Duration.ofSeconds(3), threads));
    int factsBefore = docktunnel.sshStates.facts().size();
    testbed.faults().killSshd();
    awaitTrue("docktunnel noticing sshd was killed (an SSH state other than connected)", WAIT,
        () -> sshStateAfter(docktunnel, factsBefore, sshState("connected").negate()) != null);
    int factsWhileDown = docktunnel.sshStates.facts().size();
    int eventsBefore = connectionEvents.facts().size();

    byte[] data = Traffic.random(1 << 20, 700);
    long openedAt = System.nanoTime();
    CompletableFuture<Outcome> echo = CompletableFuture.supplyAsync(
        () -> Traffic.echo(server.echoPort(), data, Duration.ofSeconds(60), threads), threads);
    CompletableFuture<Long> servedAt = echo.thenApply(done -> System.nanoTime());
    awaitTrue("the proxy accepting the connection while sshd is down", WAIT,
        () -> connectionEvents.facts().stream().skip(eventsBefore).anyMatch(f -> "opened".equals(f.getString("event"))
            && f.getInteger("localPort") == server.echoPort()));
    Thread.sleep(DOWN_WHILE_HELD.toMillis()); // part of the scenario: sshd stays down while the client waits
    assertFalse(echo.isDone(), "the connection must be held while sshd is down, not ended: " + (echo.isDone()
        ? echo.getNow(null) : ""));
    assertTrue(connectionEvents.facts().stream().skip(eventsBefore).noneMatch(f -> "closed".equals(f.getString("event"))
        && f.getInteger("localPort") == server.echoPort()), "no connection closed while held");

    testbed.faults().startSshd();
    long backAt = System.nanoTime();
    long connectedAt = awaitTrue("the SSH session connected again", WAIT,
        () -> sshStateAfter(docktunnel, factsWhileDown, sshState("connected")) != null);
    Outcome outcome = echo.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    long served = servedAt.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    Figures.report("held connection: held %d ms in all; after sshd was back: session connected within %d ms,"
            + " the held 1 MiB echo served byte-exact %d ms (hold timeout 15 s)",
        millisSince(openedAt, served), millisSince(backAt, connectedAt), millisSince(backAt, served));
    assertTrue(outcome.ok(), "the held connection must be served byte-exact once sshd is back: " + outcome);
  }
}

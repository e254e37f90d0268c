package dev.docktunnel.faults;

import static dev.docktunnel.faults.FaultSupport.awaitTrue;
import static dev.docktunnel.faults.FaultSupport.echoes;
import static dev.docktunnel.faults.FaultSupport.millisSince;
import static dev.docktunnel.faults.FaultSupport.sshState;
import static dev.docktunnel.faults.FaultSupport.sshStateAfter;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docktunnel.faults.WatchedConnection.Ending;
import dev.docktunnel.faults.WatchedConnection.Kind;
import dev.docktunnel.testbed.Figures;
import dev.docktunnel.testbed.RunningDocktunnel;
import dev.docktunnel.testbed.StreamServerContainer;
import dev.docktunnel.testbed.Testbed;
import dev.docktunnel.testbed.TestbedExtension;
import dev.docktunnel.testbed.Traffic;
import dev.docktunnel.testbed.Traffic.Outcome;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The SSH session dies under docktunnel (issue 6, "Endings" and the fault suite): the live SSH
 * connection killed with {@code ss -K}, and sshd killed and restarted.
 */
@ExtendWith(TestbedExtension.class)
class SessionFaultsIT {
  /** Generous bounds for the waits; the targets (1 s to reset, 5 s back) are reported as figures. */
  static final Duration RESET_WAIT = Duration.ofSeconds(15);
  static final Duration BACK_WAIT = Duration.ofSeconds(30);

  static final ExecutorService threads = Executors.newCachedThreadPool();
  static Testbed testbed;
  static RunningDocktunnel docktunnel;
  static StreamServerContainer server;
  final List<WatchedConnection> connections = new ArrayList<>();

  @BeforeAll
  static void start(Testbed bed) throws Exception {
    testbed = bed;
    server = bed.runStreamServer("session-faults", 1 << 20);
    docktunnel = RunningDocktunnel.start(bed, new JsonObject());
    docktunnel.awaitForward("active", server.echoPort());
    docktunnel.awaitForward("active", server.sourcePort());
  }

  @AfterAll
  static void stop() {
    RunningDocktunnel.tearDown(docktunnel, threads, testbed);
  }

  @BeforeEach
  void forwardServes() throws InterruptedException {
    // A previous test broke the session: start only once docktunnel serves again.
    awaitTrue("the echo forward serving before the test", BACK_WAIT,
        () -> echoes(server.echoPort(), Duration.ofSeconds(3), threads));
  }

  @AfterEach
  void closeConnections() throws IOException {
    testbed.faults().ensureSshdRunning();
    for (WatchedConnection connection : connections) {
      connection.close();
    }
  }

  @Test
  void killedSshConnectionResetsEveryForwardedConnection() throws Exception {
    for (int i = 0; i < 4; i++) {
      connections.add(WatchedConnection.open(Kind.IDLE, server.echoPort(), threads));
    }
    for (int i = 0; i < 2; i++) {
      connections.add(WatchedConnection.open(Kind.SOURCE, server.sourcePort(), threads));
      connections.add(WatchedConnection.open(Kind.ECHO, server.echoPort(), threads));
    }
    awaitTrue("every busy connection moving data", Duration.ofSeconds(30), () -> connections.stream()
        .allMatch(c -> c.kind == Kind.IDLE || c.bytesRead() >= 1 << 20));

    long killedAt = System.nanoTime();
    int killed = testbed.faults().killSshConnections();
    assertTrue(killed >= 1, "ss -K killed no SSH connection (is the kernel built without INET_DIAG_DESTROY?)");

    List<String> stillOpen = new ArrayList<>();
    List<String> notReset = new ArrayList<>();
    List<String> timings = new ArrayList<>();
    long slowestMs = 0;
    for (WatchedConnection connection : connections) {
      long left = RESET_WAIT.toNanos() - (System.nanoTime() - killedAt);
      Ending ending = connection.awaitEnding(Duration.ofNanos(Math.max(left, 1)));
      if (ending == null) {
        stillOpen.add(connection.toString());
        continue;
      }
      long ms = millisSince(killedAt, ending.atNanos());
      slowestMs = Math.max(slowestMs, ms);
      timings.add(connection.kind + " " + ms + " ms (" + ending + ")");
      if (!ending.reset()) {
        notReset.add(connection + ": " + ending);
      }
    }
    Figures.report("ss -K on the SSH connection (%d killed): %d forwarded connections; ended: %s; still open after"
        + " %d s: %d; slowest ending %d ms", killed, connections.size(), timings, RESET_WAIT.toSeconds(),
        stillOpen.size(), slowestMs);
    assertTrue(stillOpen.isEmpty() && notReset.isEmpty(), "after the SSH connection was killed, every forwarded"
        + " connection must be reset (RST), never left open nor ended with a clean EOF (a FIN a client takes for a"
        + " complete stream). Still open after " + RESET_WAIT.toSeconds() + " s: " + stillOpen
        + "; ended without a reset: " + notReset);
  }

  @Test
  void sshdKilledAndRestartedForwardsServeAgain() throws Exception {
    int factsBefore = docktunnel.sshStates.facts().size();
    testbed.faults().killSshd();
    long killedAt = System.nanoTime();
    long noticedAt = awaitTrue("docktunnel noticing sshd was killed (an SSH state other than connected)", BACK_WAIT,
        () -> sshStateAfter(docktunnel, factsBefore, sshState("connected").negate()) != null);
    int factsWhileDown = docktunnel.sshStates.facts().size();
    testbed.faults().startSshd();
    long backAt = System.nanoTime();

    long connectedAt = awaitTrue("the SSH session connected again after sshd came back", BACK_WAIT,
        () -> sshStateAfter(docktunnel, factsWhileDown, sshState("connected")) != null);
    long servingAt = awaitTrue("a new connection through the forward echoing after sshd came back", BACK_WAIT,
        () -> echoes(server.echoPort(), Duration.ofSeconds(2), threads));
    long activeAt = awaitTrue("every forward active after sshd came back", BACK_WAIT,
        () -> {
          List<JsonObject> forwards = FaultSupport.forwardsOrEmpty(docktunnel);
          return !forwards.isEmpty() && forwards.stream().allMatch(f -> "active".equals(f.getString("status")));
        });
    Figures.report("sshd SIGKILLed: noticed after %d ms; after sshd was back: session connected %d ms, new"
            + " connection served %d ms, all forwards active %d ms (target <= 5000)",
        millisSince(killedAt, noticedAt), millisSince(backAt, connectedAt), millisSince(backAt, servingAt),
        millisSince(backAt, activeAt));

    List<CompletableFuture<Outcome>> streams = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      byte[] data = Traffic.random(1 << 20, 300 + i);
      streams.add(CompletableFuture.supplyAsync(
          () -> Traffic.echo(server.echoPort(), data, Duration.ofSeconds(30), threads), threads));
    }
    List<Outcome> bad = new ArrayList<>();
    for (CompletableFuture<Outcome> stream : streams) {
      Outcome outcome = stream.get(60, TimeUnit.SECONDS);
      if (!outcome.ok()) {
        bad.add(outcome);
      }
    }
    assertTrue(bad.isEmpty(), "new connections after the sshd restart must be byte-exact: " + bad);
  }
}

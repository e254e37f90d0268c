package dev.docktunnel.faults;

import static dev.docktunnel.faults.FaultSupport.millisSince;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docktunnel.testbed.Figures;
import dev.docktunnel.testbed.RunningDocktunnel;
import dev.docktunnel.testbed.Testbed;
import dev.docktunnel.testbed.TestbedExtension;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The remote engine stops or crashes under docktunnel (issue 6, fault suite): dockerd SIGTERM,
 * and dockerd + containerd SIGKILL, each followed by a restart. Afterwards the forward set equals
 * {@code docker ps} (no duplicates, no orphans); while the event stream is broken no forward is
 * reported {@code active}.
 */
@ExtendWith(TestbedExtension.class)
class EngineFaultsIT {
  static final Duration CONVERGE_WAIT = Duration.ofSeconds(45);
  static final Duration NOT_ACTIVE_WAIT = Duration.ofSeconds(15);
  static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  static Testbed testbed;
  static RunningDocktunnel docktunnel;
  final List<Integer> portsUsed = new ArrayList<>();
  int keeperPort;
  int plainPort;

  @BeforeAll
  static void start(Testbed bed) throws Exception {
    testbed = bed;
    docktunnel = RunningDocktunnel.start(bed, new JsonObject());
  }

  @AfterAll
  static void stop() {
    if (docktunnel != null) {
      docktunnel.close();
    }
  }

  /** Two httpd containers: "keeper" comes back after an engine restart (restart always), "plain" does not. */
  @BeforeEach
  void containers() throws Exception {
    List<Integer> ports = Figures.freePorts(2);
    keeperPort = ports.get(0);
    plainPort = ports.get(1);
    portsUsed.addAll(ports);
    testbed.runContainer(List.of("--name", "keeper", "--restart", "always", "-p", keeperPort + ":80"),
        "httpd", "-f", "-p", "80", "-h", "/www");
    testbed.runContainer(List.of("--name", "plain", "-p", plainPort + ":80"), "httpd", "-f", "-p", "80", "-h", "/www");
    ForwardSet.awaitMatch("before the fault", testbed, docktunnel, portsUsed, true, CONVERGE_WAIT);
  }

  @AfterEach
  void restoreEngine() {
    testbed.faults().ensureDockerdRunning();
    testbed.removeAllContainers();
  }

  @Test
  void dockerdTerminatedAndRestarted() throws Exception {
    long stoppedAt = System.nanoTime();
    testbed.faults().terminateDockerd();
    long exitedAt = System.nanoTime();
    long notActiveAt = FaultSupport.awaitTrue("no forward reported active while dockerd is down",
        () -> statuses(FaultSupport.forwardsOrEmpty(docktunnel)).toString(), NOT_ACTIVE_WAIT, this::noForwardActive);
    List<JsonObject> whileDown = docktunnel.forwards();

    testbed.faults().startDockerd();
    Duration converged = ForwardSet.awaitMatch("after dockerd SIGTERM and restart", testbed, docktunnel, portsUsed,
        true, CONVERGE_WAIT);
    Figures.report("dockerd SIGTERM: exited after %d ms; no forward active %d ms after SIGTERM; forwards while"
            + " down: %s; after restart forward set == docker ps in %d ms (%s)", millisSince(stoppedAt, exitedAt),
        millisSince(stoppedAt, notActiveAt), statuses(whileDown), converged.toMillis(),
        testbed.publishedTcpPorts());
    assertServes(keeperPort);
  }

  @Test
  void dockerdKilledAndRestarted() throws Exception {
    // Every check runs (the engine is restarted whatever the first one found); the test fails at
    // the end with all problems, so one run tells the whole story.
    List<String> problems = new ArrayList<>();
    long killedAt = System.nanoTime();
    testbed.faults().killDockerd();
    try {
      long notActiveAt = FaultSupport.awaitTrue("no forward reported active while the engine's event stream is"
          + " broken (dockerd and containerd SIGKILLed)", () -> statuses(FaultSupport.forwardsOrEmpty(docktunnel))
          .toString(), NOT_ACTIVE_WAIT, this::noForwardActive);
      List<JsonObject> whileDown = docktunnel.forwards();
      Figures.report("dockerd SIGKILL: no forward active %d ms after the kill; forwards while down: %s",
          millisSince(killedAt, notActiveAt), statuses(whileDown));
      // The containers still run (their shims outlive containerd): their forwards are unproven, not gone.
      if (whileDown.size() != 2 || !whileDown.stream().allMatch(f -> "pending".equals(f.getString("status")))) {
        problems.add("while the engine is down its two running containers' forwards should stay, as pending: "
            + statuses(whileDown));
      }
    } catch (AssertionError e) {
      Figures.report("dockerd SIGKILL: forwards still active %d s after the kill", NOT_ACTIVE_WAIT.toSeconds());
      problems.add(e.getMessage());
    }

    testbed.faults().startDockerd();
    try {
      Duration converged = ForwardSet.awaitMatch("after dockerd SIGKILL and restart", testbed, docktunnel,
          portsUsed, true, CONVERGE_WAIT);
      Figures.report("dockerd SIGKILL + restart: forward set == docker ps %d ms after dockerd answered (%s)",
          converged.toMillis(), testbed.publishedTcpPorts());
      assertServes(keeperPort);
    } catch (AssertionError e) {
      problems.add(e.getMessage());
    }
    assertTrue(problems.isEmpty(), String.join("\n", problems));
  }

  private boolean noForwardActive() {
    return FaultSupport.forwardsOrEmpty(docktunnel).stream().noneMatch(f -> "active".equals(f.getString("status")));
  }

  private static List<String> statuses(List<JsonObject> forwards) {
    return forwards.stream().map(f -> f.getString("containerName") + ":" + f.getInteger("publishedPort") + "="
        + f.getString("status") + (f.getString("reason") == null ? "" : " (" + f.getString("reason") + ")")).toList();
  }

  private static void assertServes(int port) throws Exception {
    HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/"))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(Testbed.HTTPD_INDEX_BODY, response.body(), "the restarted container serves through its forward");
  }
}

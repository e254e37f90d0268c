package dev.docktunnel.faults;

import static dev.docktunnel.faults.FaultSupport.millisSince;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docktunnel.testbed.Figures;
import dev.docktunnel.testbed.RunningDocktunnel;
import dev.docktunnel.testbed.Testbed;
import dev.docktunnel.testbed.TestbedExtension;
import io.vertx.core.json.JsonObject;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A {@code conflict} forward retries its bind (issue 6, "Endings"): {@code active} within 5 s of
 * its local port freeing, whether a process of the test or a second docktunnel held the port,
 * and while it waits its reason says it waits for the port.
 */
@ExtendWith(TestbedExtension.class)
class PortConflictIT {
  /** The target is 5 s (reported); the wait is bounded more generously so the figure is always known. */
  static final Duration ACTIVE_WAIT = Duration.ofSeconds(15);
  static final Pattern WAITS_FOR_THE_PORT = Pattern.compile("(?i)\\bwait");
  static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  static Testbed testbed;
  final List<RunningDocktunnel> instances = new ArrayList<>();

  @BeforeAll
  static void start(Testbed bed) {
    testbed = bed;
  }

  @AfterEach
  void stopAndRemove() {
    try {
      for (RunningDocktunnel instance : instances) {
        instance.close();
      }
    } finally {
      testbed.removeAllContainers();
    }
  }

  private RunningDocktunnel startInstance(String stateDir) throws Exception {
    RunningDocktunnel instance = RunningDocktunnel.start(testbed,
        new JsonObject().put("stateDir", testbed.workDir().resolve(stateDir).toString()));
    instances.add(instance);
    return instance;
  }

  @Test
  void conflictBecomesActiveOnceATestHeldPortFrees() throws Exception {
    RunningDocktunnel docktunnel = startInstance("state-conflict");
    int port = Figures.freePort();
    List<String> problems = new ArrayList<>();
    try (ServerSocket holder = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
      testbed.runHttpd("held", port);
      JsonObject conflict = docktunnel.awaitForward("conflict", port);
      checkReason(conflict, port, problems);
    }
    long freedAt = System.nanoTime();
    awaitActiveAfterFree("port held by a test ServerSocket", docktunnel, port, freedAt, problems);
    assertTrue(problems.isEmpty(), String.join("\n", problems));
  }

  @Test
  void conflictBecomesActiveOnceASecondDocktunnelStops() throws Exception {
    int port = Figures.freePort();
    List<String> problems = new ArrayList<>();
    RunningDocktunnel holder = startInstance("state-holder");
    testbed.runHttpd("contended", port);
    holder.awaitForward("active", port);
    RunningDocktunnel waiting = startInstance("state-waiting");
    JsonObject conflict = waiting.awaitForward("conflict", port);
    checkReason(conflict, port, problems);
    long freedAt = System.nanoTime();
    holder.close();
    instances.remove(holder);
    awaitActiveAfterFree("port held by another docktunnel that stopped", waiting, port, freedAt, problems);
    assertTrue(problems.isEmpty(), String.join("\n", problems));
  }

  private static void checkReason(JsonObject conflict, int port, List<String> problems) {
    String reason = String.valueOf(conflict.getString("reason"));
    if (!reason.contains(Integer.toString(port)) || !WAITS_FOR_THE_PORT.matcher(reason).find()) {
      problems.add("a conflict's reason must name the port and say that it waits for it, got: " + reason);
    }
  }

  private static void awaitActiveAfterFree(String what, RunningDocktunnel instance, int port, long freedAt,
                                           List<String> problems) throws Exception {
    int seen = instance.forwardStatus.facts().size();
    try {
      long activeAt = FaultSupport.awaitTrue("forward on " + port + " active after the " + what + " freed it",
          () -> instance.forwardStatus.facts().stream().filter(s -> s.getInteger("publishedPort") == port)
              .reduce((a, b) -> b).map(JsonObject::encode).orElse("no fact"), ACTIVE_WAIT,
          () -> instance.forwardStatus.facts().stream().skip(seen)
              .anyMatch(RunningDocktunnel.isForward("active", port)));
      Figures.report("conflict (%s): active %d ms after the port freed (target <= 5000)", what,
          millisSince(freedAt, activeAt));
      assertEquals(Testbed.HTTPD_INDEX_BODY, get(port), "the forward serves once active");
    } catch (AssertionError e) {
      Figures.report("conflict (%s): still not active %d s after the port freed", what, ACTIVE_WAIT.toSeconds());
      problems.add(e.getMessage());
    }
  }

  private static String get(int port) throws Exception {
    HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/"))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    return response.body();
  }
}

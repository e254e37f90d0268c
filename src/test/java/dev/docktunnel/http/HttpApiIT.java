package dev.docktunnel.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static dev.docktunnel.testbed.Figures.freePort;

import dev.docktunnel.testbed.ProcessResult;
import dev.docktunnel.testbed.StartedProcesses;
import dev.docktunnel.testbed.StateFiles;
import dev.docktunnel.testbed.Testbed;
import dev.docktunnel.testbed.TestbedExtension;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTP API of the shipped jar ({@code java -jar target/docktunnel.jar run}) against the
 * testbed: readiness through an sshd outage, {@code /metrics} read by a real Prometheus text
 * parser (Debian's python3-prometheus-client) with the bytes sent through a forward, a
 * DNS-rebinding Host header, and {@code POST /stop} with and without the token.
 */
@ExtendWith(TestbedExtension.class)
class HttpApiIT {
  static final Path JAR = Path.of("target", "docktunnel.jar").toAbsolutePath();
  static final Duration WAIT = Duration.ofSeconds(60);
  static final Path PYTHON = Path.of("/usr/bin/python3");
  /** Reads Prometheus text on stdin, writes its families as JSON (non-finite values as strings). */
  static final String PARSER = String.join("\n",
      "import sys, json, math",
      "from prometheus_client.parser import text_string_to_metric_families",
      "out = []",
      "for f in text_string_to_metric_families(sys.stdin.read()):",
      "    out.append({'name': f.name, 'type': f.type, 'samples': [{'name': s.name, 'labels': s.labels,",
      "        'value': s.value if math.isfinite(s.value) else str(s.value)} for s in f.samples]})",
      "print(json.dumps({'families': out}))");

  final Testbed testbed;
  final StartedProcesses started = new StartedProcesses();
  @TempDir
  Path tmp;

  HttpApiIT(Testbed testbed) {
    this.testbed = testbed;
  }

  @AfterEach
  void cleanUp() throws InterruptedException {
    started.endAll(); // only the processes this test started, by handle
    testbed.faults().ensureSshdRunning();
    testbed.removeAllContainers();
  }

  Path stateDir() {
    return tmp.resolve("state");
  }

  Process docktunnel() throws IOException {
    assertTrue(Files.isRegularFile(JAR), "the fat jar is built by `package` before integration tests: " + JAR);
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx64m", "-XX:+UseSerialGC", "-jar", JAR.toString(), "run",
        "--host", testbed.sshUri(), "--identity", testbed.clientPrivateKey().toString(),
        "--known-hosts", testbed.knownHostsFile().toString(), "--ssh-config", "/dev/null",
        "--remote-docker-socket", testbed.dockerSocket().toString(), "--state-dir", stateDir().toString(),
        "--http-port", "0"));
    ProcessBuilder builder = new ProcessBuilder(command).directory(tmp.toFile()).redirectErrorStream(true)
        .redirectOutput(tmp.resolve("output.log").toFile());
    builder.environment().put("XDG_CONFIG_HOME", tmp.toString()); // no user config leaks in
    Process process = builder.start();
    started.add(process);
    return process;
  }

  String output() throws IOException {
    return Files.readString(tmp.resolve("output.log"));
  }

  /** The state file's record once {@code wanted} holds (bounded). */
  JsonObject awaitState(Process process, Predicate<JsonObject> wanted) throws Exception {
    return StateFiles.await(stateDir(), WAIT, wanted, () -> process == null || process.isAlive(), this::output);
  }


  /** The HTTP API's port, from the state file, once the daemon is ready. */
  int apiPort(Process process) throws Exception {
    JsonObject state = awaitState(process, s -> s.getValue("httpPort") instanceof Integer);
    return state.getInteger("httpPort");
  }

  record Reply(int status, String headers, String body) {
  }

  /** One HTTP/1.0 exchange with 127.0.0.1:{@code port}, with exactly the headers given. */
  static Reply http(int port, String method, String path, String host, String... headers) throws IOException {
    StringBuilder request = new StringBuilder(method + " " + path + " HTTP/1.0\r\nHost: " + host + "\r\n");
    for (String header : headers) {
      request.append(header).append("\r\n");
    }
    request.append("\r\n");
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write(request.toString().getBytes(StandardCharsets.US_ASCII));
      String reply = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      int end = reply.indexOf("\r\n\r\n");
      assertTrue(reply.startsWith("HTTP/1.") && end > 0, "not an HTTP reply: " + reply);
      return new Reply(Integer.parseInt(reply.substring(9, 12)), reply.substring(0, end), reply.substring(end + 4));
    }
  }

  static Reply get(int port, String path) throws IOException {
    return http(port, "GET", path, "localhost:" + port);
  }

  /** GET {@code path} until its status is {@code wanted} (bounded); the reply and how long it took. */
  static Reply awaitStatus(int port, String path, int wanted, Process process) throws Exception {
    return awaitStatus(port, path, wanted, reply -> true, process);
  }

  /** As above, until the reply also matches {@code alsoWanted}. */
  static Reply awaitStatus(int port, String path, int wanted, Predicate<Reply> alsoWanted,
      Process process) throws Exception {
    long deadline = System.nanoTime() + WAIT.toNanos();
    Reply last = null;
    while (System.nanoTime() < deadline) {
      last = get(port, path);
      if (last.status() == wanted && alsoWanted.test(last)) {
        return last;
      }
      assertTrue(process.isAlive(), "docktunnel exited");
      Thread.sleep(100); // polling the endpoint, bounded by the deadline
    }
    throw new AssertionError(path + " never answered " + wanted + "; last: " + last);
  }

  static JsonObject check(JsonObject ready, String id) {
    return ready.getJsonArray("checks").stream().map(JsonObject.class::cast)
        .filter(c -> id.equals(c.getString("id"))).findFirst()
        .orElseThrow(() -> new AssertionError("no check " + id + " in " + ready.encode()));
  }


  @Test
  void readyIsDownWhileSshdIsDownAndUpWhenItIsBack() throws Exception {
    Process process = docktunnel();
    int port = apiPort(process);
    assertEquals(200, get(port, "/health").status());
    JsonObject ready = new JsonObject(awaitStatus(port, "/health/ready", 200, process).body());
    assertEquals("UP", ready.getString("status"), ready.encode());

    long killedAt = System.nanoTime();
    testbed.faults().killSshd();
    // The engine check may fall first (the event stream breaks with sshd at once); the session's
    // own loss is detected a moment later: that is the verdict awaited.
    JsonObject down = new JsonObject(awaitStatus(port, "/health/ready", 503,
        reply -> "DOWN".equals(check(new JsonObject(reply.body()), "ssh").getString("status")), process).body());
    long downMs = (System.nanoTime() - killedAt) / 1_000_000;
    assertEquals("DOWN", down.getString("status"), down.encode());
    JsonObject ssh = check(down, "ssh");
    assertEquals("DOWN", ssh.getString("status"), down.encode());
    assertTrue(ssh.getJsonObject("data").getString("reason").startsWith("the SSH session is "), down.encode());
    assertEquals(200, get(port, "/health").status(), "alive while not ready");

    long restartedAt = System.nanoTime();
    testbed.faults().startSshd();
    JsonObject up = new JsonObject(awaitStatus(port, "/health/ready", 200, process).body());
    long upMs = (System.nanoTime() - restartedAt) / 1_000_000;
    assertEquals("UP", check(up, "ssh").getString("status"), up.encode());
    assertEquals("UP", check(up, "engine").getString("status"), up.encode());
    System.out.printf("[figures] /health/ready 503 %d ms after sshd was killed, 200 again %d ms after it was"
        + " restarted%n", downMs, upMs);
  }

  @Test
  void metricsParseAsPrometheusTextAndCountTheBytesSentThroughAForward() throws Exception {
    assertTrue(Files.isExecutable(PYTHON), PYTHON + " is missing: install Debian's python3 and"
        + " python3-prometheus-client (bin/test installs them)");
    ProcessResult probe = testbed.exec(List.of(PYTHON.toString(), "-c",
        "import prometheus_client.parser"), Duration.ofSeconds(30));
    assertTrue(probe.ok(), "Debian's python3-prometheus-client is missing (bin/test installs it): "
        + probe.describeFailure());

    Process process = docktunnel();
    int api = apiPort(process);
    int web = freePort();
    testbed.runHttpd("metered", web);
    awaitState(process, s -> s.getJsonArray("forwards", new JsonArray()).stream().map(JsonObject.class::cast)
        .anyMatch(f -> f.getInteger("localPort") == web && "active".equals(f.getString("status"))));

    byte[] request = "GET / HTTP/1.0\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    int exchanges = 3;
    long received = 0;
    for (int i = 0; i < exchanges; i++) {
      try (Socket s = new Socket("127.0.0.1", web)) {
        s.setSoTimeout(10_000);
        s.getOutputStream().write(request);
        InputStream in = s.getInputStream();
        byte[] reply = in.readAllBytes();
        assertTrue(new String(reply, StandardCharsets.US_ASCII).contains(Testbed.HTTPD_INDEX_BODY), "reply " + i);
        received += reply.length;
      }
    }
    long sent = (long) exchanges * request.length;

    // The counters arrive with the next activity fact (once a second): poll until they match.
    String local = Integer.toString(web);
    long deadline = System.nanoTime() + WAIT.toNanos();
    Map<String, JsonObject> families;
    String last;
    while (true) {
      Reply reply = get(api, "/metrics");
      assertEquals(200, reply.status(), reply.body());
      assertTrue(reply.headers().toLowerCase().contains("content-type: text/plain"), reply.headers());
      last = reply.body();
      families = parse(last);
      if (value(families, "docktunnel_forward_bytes", "docktunnel_forward_bytes_total", local, "out") == sent
          && value(families, "docktunnel_forward_bytes", "docktunnel_forward_bytes_total", local, "in") == received
          && value(families, "docktunnel_forward_connections", "docktunnel_forward_connections_total", local, null)
              == exchanges) {
        break;
      }
      assertTrue(System.nanoTime() < deadline, "the forward's counters never matched " + sent + " out, " + received
          + " in, " + exchanges + " connections:\n" + last);
      Thread.sleep(200); // polling the endpoint, bounded by the deadline
    }
    Map<String, String> expectedTypes = Map.ofEntries(
        Map.entry("docktunnel_forward_bytes", "counter"),
        Map.entry("docktunnel_forward_connections", "counter"),
        Map.entry("docktunnel_forward_connections_failed", "counter"),
        Map.entry("docktunnel_forward_connections_open", "gauge"),
        Map.entry("docktunnel_forwards", "gauge"),
        Map.entry("docktunnel_ssh_state", "gauge"),
        Map.entry("docktunnel_ssh_reconnects", "counter"),
        Map.entry("docktunnel_engine_synced", "gauge"),
        Map.entry("docktunnel_engine_resyncs", "counter"),
        Map.entry("docktunnel_engine_stream_breaks", "counter"),
        Map.entry("docktunnel_activity_age_seconds", "gauge"),
        Map.entry("docktunnel_jvm_memory_used_bytes", "gauge"),
        Map.entry("docktunnel_jvm_threads_live_threads", "gauge"),
        Map.entry("docktunnel_process_cpu_usage", "gauge"),
        Map.entry("docktunnel_process_uptime_seconds", "gauge"),
        Map.entry("docktunnel_http_connections_refused", "counter"));
    for (var e : expectedTypes.entrySet()) {
      JsonObject family = families.get(e.getKey());
      assertTrue(family != null, "no family " + e.getKey() + " in " + families.keySet());
      assertEquals(e.getValue(), family.getString("type"), e.getKey());
    }
    assertTrue(families.keySet().stream().anyMatch(n -> n.startsWith("docktunnel_jvm_gc_")), families.keySet().toString());
    assertTrue(families.keySet().stream().anyMatch(n -> n.startsWith("docktunnel_vertx_http_server_")),
        "Vert.x's own HTTP server meters: " + families.keySet());
    for (String name : families.keySet()) {
      assertTrue(name.startsWith("docktunnel_"), "not in our namespace: " + name);
    }
    assertEquals(0, value(families, "docktunnel_forward_connections_failed", "docktunnel_forward_connections_failed_total",
        local, null));
    assertEquals(1, sample(families, "docktunnel_ssh_state", Map.of("state", "connected")));
    assertEquals(1, sample(families, "docktunnel_engine_synced", Map.of()));
    assertTrue(sample(families, "docktunnel_forwards", Map.of("state", "active")) >= 1);
    double age = sample(families, "docktunnel_activity_age_seconds", Map.of());
    assertTrue(age >= 0 && age < WAIT.toSeconds(), "activity age " + age);
    System.out.printf("[figures] /metrics: %d families, %d bytes; forward counted %d out / %d in over %d"
        + " connections%n", families.size(), last.length(), sent, received, exchanges);

    // The forward's series go with its container.
    testbed.docker("rm", "-f", "metered");
    long goneBy = System.nanoTime() + WAIT.toNanos();
    while (get(api, "/metrics").body().contains("local_port=\"" + web + "\"")) {
      assertTrue(System.nanoTime() < goneBy, "the removed forward's series stayed");
      Thread.sleep(200); // polling the endpoint, bounded by the deadline
    }
  }

  /** The families of {@code text}, by name, as Debian's prometheus_client parser reads them. */
  Map<String, JsonObject> parse(String text) {
    ProcessResult result = testbed.exec(List.of(PYTHON.toString(), "-c", PARSER), Duration.ofSeconds(30),
        text.getBytes(StandardCharsets.UTF_8));
    assertTrue(result.ok(), "not Prometheus text: " + result.describeFailure());
    Map<String, JsonObject> families = new HashMap<>();
    new JsonObject(result.stdout()).getJsonArray("families").stream().map(JsonObject.class::cast)
        .forEach(f -> families.put(f.getString("name"), f));
    return families;
  }

  /** A per-forward sample of {@code family} for local port {@code localPort} (and {@code direction}), -1 if none. */
  static double value(Map<String, JsonObject> families, String family, String sample, String localPort,
      String direction) {
    JsonObject f = families.get(family);
    if (f == null) {
      return -1;
    }
    return f.getJsonArray("samples").stream().map(JsonObject.class::cast)
        .filter(s -> sample.equals(s.getString("name")))
        .filter(s -> localPort.equals(s.getJsonObject("labels").getString("local_port")))
        .filter(s -> direction == null || direction.equals(s.getJsonObject("labels").getString("direction")))
        .mapToDouble(s -> s.getDouble("value")).findFirst().orElse(-1);
  }

  static double sample(Map<String, JsonObject> families, String family, Map<String, String> labels) {
    JsonObject f = families.get(family);
    assertTrue(f != null, "no family " + family);
    return f.getJsonArray("samples").stream().map(JsonObject.class::cast)
        .filter(s -> labels.entrySet().stream().allMatch(l -> l.getValue().equals(
            s.getJsonObject("labels").getString(l.getKey()))))
        .mapToDouble(s -> s.getDouble("value")).findFirst()
        .orElseThrow(() -> new AssertionError("no sample " + labels + " in " + f.encode()));
  }

  @Test
  void aForeignHostHeaderIsRefusedByTheRealDaemon() throws Exception {
    Process process = docktunnel();
    int port = apiPort(process);
    for (String path : List.of("/status", "/metrics", "/health/ready")) {
      Reply attack = http(port, "GET", path, "evil.example:" + port, "Origin: http://evil.example:" + port);
      assertEquals(403, attack.status(), path + ": " + attack.body());
      assertFalse(attack.body().contains("schema"), "nothing of the status leaks: " + attack.body());
      assertFalse(attack.headers().toLowerCase().contains("access-control-"), attack.headers());
    }
    Reply status = http(port, "GET", "/status", "127.0.0.1:" + port, "Origin: http://evil.example:" + port);
    assertEquals(200, status.status(), status.body());
    assertEquals(1, new JsonObject(status.body()).getInteger("schema"));
    assertFalse(status.headers().toLowerCase().contains("access-control-"), "no CORS: " + status.headers());
    assertTrue(output().contains("refused GET /status from") && output().contains("evil.example:" + port), output());
  }

  @Test
  void stopNeedsTheTokenThenTheDaemonExitsZeroMarkedNotRunning() throws Exception {
    Process process = docktunnel();
    int port = apiPort(process);
    awaitStatus(port, "/health/ready", 200, process);
    Reply none = http(port, "POST", "/stop", "localhost:" + port);
    assertEquals(401, none.status(), none.body());
    Reply wrong = http(port, "POST", "/stop", "localhost:" + port, "Authorization: Bearer not-the-token");
    assertEquals(401, wrong.status(), wrong.body());
    assertTrue(process.isAlive(), "refused stops stop nothing");
    assertTrue(output().contains("refused POST /stop from") && output().contains("no Authorization header")
        && output().contains("wrong token"), output());

    String token = ApiToken.read(stateDir()).text();
    long askedAt = System.nanoTime();
    Reply accepted = http(port, "POST", "/stop", "localhost:" + port, "Authorization: Bearer " + token);
    assertEquals(202, accepted.status(), accepted.body());
    assertTrue(process.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS), "docktunnel did not exit: " + output());
    long exitMs = (System.nanoTime() - askedAt) / 1_000_000;
    assertEquals(0, process.exitValue(), output());
    JsonObject state = awaitState(null, s -> Boolean.FALSE.equals(s.getBoolean("running")));
    assertTrue(state.getString("stoppedAt") != null, state.encode());
    String out = output();
    assertTrue(out.contains("stop requested over the HTTP API"), out);
    assertFalse(out.contains("[ERROR]") || out.contains("\tat "), out);
    out.lines().filter(line -> line.contains("[WARN]")).forEach(line ->
        assertTrue(line.contains("HttpApiVerticle - HTTP API: refused POST /stop"), "an unexpected WARN: " + line));
    System.out.printf("[figures] POST /stop with the token: the daemon exited 0 %d ms later%n", exitMs);
  }
}

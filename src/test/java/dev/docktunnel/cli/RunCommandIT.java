package dev.docktunnel.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static dev.docktunnel.testbed.Figures.freePort;

import dev.docktunnel.testbed.StartedProcesses;
import dev.docktunnel.testbed.StateFiles;
import dev.docktunnel.testbed.Testbed;
import dev.docktunnel.testbed.TestbedExtension;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped fat jar as a user runs it: {@code java -jar target/docktunnel.jar run ...}
 * against the testbed, checked by exit code, stderr and the ports it opens.
 */
@ExtendWith(TestbedExtension.class)
class RunCommandIT {
  static final Path JAR = Path.of("target", "docktunnel.jar").toAbsolutePath();
  static final Duration EXIT_WAIT = Duration.ofSeconds(60);

  final Testbed testbed;
  final StartedProcesses started = new StartedProcesses();
  @TempDir
  Path tmp;

  RunCommandIT(Testbed testbed) {
    this.testbed = testbed;
  }

  @AfterEach
  void cleanUp() throws InterruptedException {
    started.endAll(); // only the processes this test started, by handle
    testbed.removeAllContainers();
  }

  Process docktunnel(Path knownHosts, String... extra) throws IOException {
    return docktunnel(List.of(), options(knownHosts, Map.of()), extra);
  }

  /** The options the tests run with, {@code replaced} ones swapped for the given values. */
  List<String> options(Path knownHosts, Map<String, String> replaced) {
    Map<String, String> options = new LinkedHashMap<>();
    options.put("--host", testbed.sshUri());
    options.put("--identity", testbed.clientPrivateKey().toString());
    options.put("--known-hosts", knownHosts.toString());
    options.put("--ssh-config", "/dev/null");
    options.put("--remote-docker-socket", testbed.dockerSocket().toString());
    options.put("--state-dir", tmp.resolve("state").toString());
    options.putAll(replaced);
    List<String> args = new ArrayList<>();
    options.forEach((name, value) -> args.addAll(List.of(name, value)));
    return args;
  }

  /**
   * Starts the jar with {@code launcher} in front of java (e.g. {@code env --default-signal=INT}:
   * a shell that started the build in the background may have left SIGINT ignored, and an ignored
   * signal stays ignored across exec).
   */
  Process docktunnel(List<String> launcher, List<String> options, String... extra) throws IOException {
    return docktunnel(tmp.resolve("output.log"), launcher, options, extra);
  }

  /** As above, with its output in {@code log} (a second instance beside the first). */
  Process docktunnel(Path log, List<String> launcher, List<String> options, String... extra) throws IOException {
    assertTrue(Files.isRegularFile(JAR), "the fat jar is built by `package` before integration tests: " + JAR);
    List<String> command = new ArrayList<>(launcher);
    command.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx64m", "-XX:+UseSerialGC", "-jar", JAR.toString(), "run"));
    command.addAll(options);
    command.addAll(List.of(extra));
    ProcessBuilder builder = new ProcessBuilder(command)
        .directory(tmp.toFile()) // no conf/docktunnel.json there
        .redirectErrorStream(true)
        .redirectOutput(log.toFile());
    // Nor in the config home: a docktunnel.json of the machine's user must not leak in.
    builder.environment().put("XDG_CONFIG_HOME", tmp.toString());
    Process process = builder.start();
    started.add(process);
    return process;
  }

  /** Sends {@code signal} to a process this test started, by its PID. */
  static void signal(Process process, String signal) throws Exception {
    Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).inheritIO().start();
    assertTrue(kill.waitFor(10, TimeUnit.SECONDS) && kill.exitValue() == 0, "kill -" + signal + " failed");
  }

  /** A requested stop: exit 0, one "stopping" line, no error and no stack trace. */
  void assertStoppedCleanly(Process process, String how) throws Exception {
    assertEquals(ExitCodes.OK, exitCode(process), how + " is a requested stop and exits 0: " + output());
    String out = output();
    assertEquals(1, count(out, "[INFO] Docktunnel - stopping"), out);
    assertFalse(out.contains("[ERROR]") || out.contains("Exception") || out.contains("\tat "), out);
  }

  static int count(String text, String part) {
    int n = 0;
    for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + part.length())) {
      n++;
    }
    return n;
  }

  String output() throws IOException {
    return Files.readString(tmp.resolve("output.log"));
  }

  int exitCode(Process process) throws Exception {
    assertTrue(process.waitFor(EXIT_WAIT.toSeconds(), TimeUnit.SECONDS), "docktunnel did not exit: " + output());
    return process.exitValue();
  }

  void awaitOutput(String text, Process process) throws Exception {
    long deadline = System.nanoTime() + EXIT_WAIT.toNanos();
    while (!output().contains(text)) {
      assertTrue(process.isAlive(), "docktunnel exited: " + output());
      assertTrue(System.nanoTime() < deadline, "no '" + text + "' in: " + output());
      Thread.sleep(50); // polling the log file, bounded by the deadline
    }
  }


  static boolean accepts(int port) {
    try (Socket s = new Socket("127.0.0.1", port)) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  @Test
  void unknownHostKeyIsRefusedWithItsFingerprintAndNothingForwarded() throws Exception {
    Path empty = Files.createFile(tmp.resolve("known_hosts"));
    int port = freePort();
    testbed.runHttpd("before", port);
    Process process = docktunnel(empty);
    assertEquals(ExitCodes.CONNECT, exitCode(process));
    String out = output();
    assertTrue(out.contains("SHA256:"), out);
    assertTrue(out.contains(testbed.sshHost()), out);
    assertFalse(accepts(port), "nothing may be forwarded after a refused host key");
    assertEquals("", Files.readString(empty), "yes must not record the key");
    assertEquals(1, count(out, "Host key verification failed"), "the refusal is printed once: " + out);
    assertFalse(out.contains("org.apache.sshd") || out.contains("did not validate"), "no MINA-internal lines: " + out);
  }

  @Test
  void changedHostKeyIsRefused() throws Exception {
    Process process = docktunnel(testbed.writeWrongKnownHosts(), "--strict-host-key-checking", "accept-new");
    assertEquals(ExitCodes.CONNECT, exitCode(process));
    assertTrue(output().contains("SHA256:"), output());
  }

  @Test
  void acceptNewRecordsTheKeyThenForwardsUntilTerminated() throws Exception {
    Path knownHosts = tmp.resolve("fresh_known_hosts");
    Process process = docktunnel(knownHosts, "--strict-host-key-checking", "accept-new");
    awaitOutput("ready", process);
    // Ready only once the engine answered, with its summary.
    assertTrue(output().matches("(?s).*ready: .*: Docker engine \\S+, \\d+ container\\(s\\) running, \\d+ forward\\(s\\).*"),
        output());
    assertTrue(Files.readString(knownHosts).contains(testbed.sshHost() + " ssh-ed25519 "), Files.readString(knownHosts));
    int port = freePort();
    testbed.runHttpd("web", port);
    long deadline = System.nanoTime() + EXIT_WAIT.toNanos();
    while (!accepts(port)) {
      assertTrue(System.nanoTime() < deadline, "port " + port + " never opened: " + output());
      Thread.sleep(20); // polling the port, bounded by the deadline
    }
    process.destroy(); // SIGTERM to our own child, by handle
    assertStoppedCleanly(process, "SIGTERM");
    assertFalse(accepts(port), "the forward must close with docktunnel");
  }

  @Test
  void ctrlCOnceTheSessionIsUpExitsZero() throws Exception {
    Process process = docktunnel(List.of("env", "--default-signal=INT"), options(testbed.knownHostsFile(), Map.of()));
    awaitOutput("ready", process);
    signal(process, "INT");
    assertStoppedCleanly(process, "SIGINT");
  }

  @Test
  void sigtermBeforeTheSessionIsUpExitsZeroWithoutAStackTrace() throws Exception {
    // Refused: the address of the test namespace on a port nothing listens on; --wait retries.
    Process refused = docktunnel(List.of(), options(testbed.knownHostsFile(),
        Map.of("--host", "ssh://root@" + testbed.sshHost() + ":1")), "--wait");
    awaitOutput("Connection refused", refused);
    refused.destroy(); // SIGTERM, by handle
    assertStoppedCleanly(refused, "SIGTERM while reconnecting");

    // In flight: a loopback server that accepts and never sends its SSH banner.
    try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      silent.setSoTimeout((int) EXIT_WAIT.toMillis());
      Process waiting = docktunnel(List.of(), options(testbed.knownHostsFile(),
          Map.of("--host", "ssh://root@127.0.0.1:" + silent.getLocalPort())));
      try (Socket accepted = silent.accept()) {
        awaitOutput("connecting", waiting);
        waiting.destroy();
        assertStoppedCleanly(waiting, "SIGTERM during the first attempt");
      }
    }
  }

  /**
   * A stop while Vert.x and the verticles are still starting (from the "starting" line on, logged
   * once the stop hook is in place) is as clean as any: exit 0, no ERROR (Vert.x logs "Promise
   * already completed" when it is closed under a deploying verticle), and no state file left
   * saying running: true.
   */
  @Test
  void sigtermWhileStartingIsCleanAndLeavesTheStateFileStopped() throws Exception {
    try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      for (long extraMs : new long[] {0, 20, 50, 100, 200}) {
        Process starting = docktunnel(List.of(), options(testbed.knownHostsFile(),
            Map.of("--host", "ssh://root@127.0.0.1:" + silent.getLocalPort())));
        awaitOutput("Docktunnel - starting", starting);
        Thread.sleep(extraMs); // where in the start the stop lands, not an assertion
        starting.destroy(); // SIGTERM, by handle
        assertStoppedCleanly(starting, "SIGTERM " + extraMs + " ms into the start");
        // A stop before Vert.x existed leaves no record at all; any record there is marked stopped.
        try (var files = Files.list(tmp.resolve("state"))) {
          for (Path file : files.filter(f -> f.toString().endsWith(".state.json")).toList()) {
            assertFalse(new JsonObject(Files.readString(file)).getBoolean("running"), "stopped " + extraMs + " ms in");
          }
        }
      }
    }
  }

  /**
   * Each bad option: exit 2, exactly one line {@code docktunnel: <what>}, and nothing started (no
   * verticle logs its start, no port is forwarded).
   */
  @Test
  void everyBadOptionIsOneLineAndExitTwoBeforeAnythingStarts() throws Exception {
    int port = freePort();
    testbed.runHttpd("bad-options", port);
    Path openKey = tmp.resolve("open_key");
    Files.copy(testbed.clientPrivateKey(), openKey);
    Files.setPosixFilePermissions(openKey, PosixFilePermissions.fromString("rw-r--r--"));
    Path stringIdentities = Files.writeString(tmp.resolve("identities.json"),
        "{\"identities\": \"" + testbed.clientPrivateKey() + "\"}");
    Path knownHosts = testbed.knownHostsFile();
    Map<List<String>, String> cases = new LinkedHashMap<>();
    cases.put(options(knownHosts, Map.of("--ssh-config", "/nonexistent")),
        "docktunnel: setting 'sshConfig' (--ssh-config): /nonexistent does not exist");
    cases.put(options(knownHosts, Map.of("--identity", "/nonexistent")),
        "docktunnel: setting 'identities' (--identity): private key file /nonexistent does not exist");
    cases.put(options(knownHosts, Map.of("--identity", openKey.toString())),
        "docktunnel: setting 'identities' (--identity): UNPROTECTED PRIVATE KEY FILE: permissions 0644 for " + openKey);
    cases.put(options(knownHosts, Map.of("--known-hosts", tmp.toString())),
        "docktunnel: setting 'knownHosts' (--known-hosts): " + tmp + " is a directory");
    cases.put(options(knownHosts, Map.of("--host", "ftp://root@" + testbed.sshHost())),
        "docktunnel: setting 'host' (--host): SSH host 'ftp://root@" + testbed.sshHost() + "' has unsupported scheme 'ftp'");
    cases.put(options(knownHosts, Map.of("--host", "ssh://root@" + testbed.sshHost() + ":70000")),
        "docktunnel: setting 'host' (--host): SSH host 'ssh://root@" + testbed.sshHost() + ":70000': port 70000 is out of range");
    cases.put(options(knownHosts, Map.of("--host", "ssh://root@")), "docktunnel: setting 'host' (--host): SSH host 'ssh://root@' has no host name");
    cases.put(options(knownHosts, Map.of("--host", "root@bad host")), "contains white space");
    List<String> withFile = new ArrayList<>(options(knownHosts, Map.of()));
    withFile.addAll(List.of("--config", stringIdentities.toString()));
    cases.put(withFile, "docktunnel: setting 'identities' in " + stringIdentities + " must be a list of strings");
    List<String> missingFile = new ArrayList<>(options(knownHosts, Map.of()));
    missingFile.addAll(List.of("--config", tmp.resolve("missing.json").toString()));
    cases.put(missingFile, "docktunnel: config file " + tmp.resolve("missing.json") + " (--config) does not exist");
    for (Map.Entry<List<String>, String> c : cases.entrySet()) {
      Process process = docktunnel(List.of(), c.getKey());
      assertEquals(ExitCodes.USAGE, exitCode(process), c.getValue() + ": " + output());
      String out = output();
      assertTrue(out.contains(c.getValue()), "expected '" + c.getValue() + "' in: " + out);
      assertEquals(1, out.lines().count(), "one line, nothing started: " + out);
      assertTrue(out.startsWith("docktunnel: "), out);
    }
    assertFalse(accepts(port), "nothing may be forwarded after a bad option");
  }

  @Test
  void badOptionAndBadConfigExitTwoWithOneLineNamingIt() throws Exception {
    Process unknown = docktunnel(tmp.resolve("kh"), "--frobnicate");
    assertEquals(ExitCodes.USAGE, exitCode(unknown));
    assertTrue(output().contains("--frobnicate"), output());

    Path config = tmp.resolve("bad.json");
    Files.writeString(config, "{\"forwarding\": {\"conflictStrategy\": \"maybe\"}}");
    Process bad = docktunnel(tmp.resolve("kh"), "--config", config.toString());
    assertEquals(ExitCodes.USAGE, exitCode(bad));
    assertTrue(output().contains("forwarding.conflictStrategy"), output());
  }

  /**
   * One docktunnel per host: a second one for the same host exits at once naming the first's
   * PID; the state file (0600 in a 0700 dir) says running while the first lives and
   * {@code running: false} with {@code stoppedAt} after its graceful stop, which frees the host.
   */
  @Test
  void aSecondInstanceForTheSameHostIsRefusedAndTheStateFileFollowsTheFirst() throws Exception {
    Process first = docktunnel(testbed.knownHostsFile());
    awaitOutput("ready", first);
    Path stateDir = tmp.resolve("state");
    Path stateFile;
    try (var files = Files.list(stateDir)) {
      stateFile = files.filter(f -> f.getFileName().toString().endsWith(".state.json")).findFirst().orElseThrow(
          () -> new AssertionError("no <host-id>.state.json in " + stateDir));
    }
    assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(stateDir)));
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(stateFile)));
    JsonObject running = new JsonObject(Files.readString(stateFile));
    assertTrue(running.getBoolean("running"), running.encode());
    assertEquals(first.pid(), running.getLong("pid"));

    Path secondLog = tmp.resolve("second.log");
    long startedAt = System.nanoTime();
    Process second = docktunnel(secondLog, List.of(), options(testbed.knownHostsFile(), Map.of()));
    assertTrue(second.waitFor(EXIT_WAIT.toSeconds(), TimeUnit.SECONDS), "the second instance did not exit");
    long refusedMs = (System.nanoTime() - startedAt) / 1_000_000;
    String said = Files.readString(secondLog);
    assertEquals(ExitCodes.FAILED, second.exitValue(), said);
    assertTrue(said.contains("already served by another docktunnel (PID " + first.pid() + ")"), said);
    System.out.printf("[figures] second instance for the same host refused %d ms after its start (JVM start"
        + " included)%n", refusedMs);

    // Another host (here one that does not answer, waited for) runs side by side, same state dir.
    Path otherLog = tmp.resolve("other-host.log");
    Process other = docktunnel(otherLog, List.of(), options(testbed.knownHostsFile(),
        Map.of("--host", "ssh://root@127.0.0.1:1")), "--wait");
    long otherDeadline = System.nanoTime() + EXIT_WAIT.toNanos();
    while (!Files.readString(otherLog).contains("Connection refused")) {
      assertTrue(other.isAlive() && System.nanoTime() < otherDeadline, "another host did not run beside: "
          + Files.readString(otherLog));
      Thread.sleep(50); // polling the log file, bounded by the deadline
    }
    other.destroy();
    assertTrue(other.waitFor(EXIT_WAIT.toSeconds(), TimeUnit.SECONDS));
    assertEquals(ExitCodes.OK, other.exitValue(), Files.readString(otherLog));

    first.destroy(); // SIGTERM, by handle
    assertStoppedCleanly(first, "SIGTERM");
    JsonObject stopped = new JsonObject(Files.readString(stateFile));
    assertFalse(stopped.getBoolean("running"), stopped.encode());
    assertTrue(stopped.getString("stoppedAt") != null, stopped.encode());

    Process third = docktunnel(secondLog, List.of(), options(testbed.knownHostsFile(), Map.of()));
    long deadline = System.nanoTime() + EXIT_WAIT.toNanos();
    while (!Files.readString(secondLog).contains("ready")) {
      assertTrue(third.isAlive() && System.nanoTime() < deadline, "the host was not free after the stop: "
          + Files.readString(secondLog));
      Thread.sleep(50); // polling the log file, bounded by the deadline
    }
    assertTrue(Files.readString(secondLog).contains("last run's state: 0 forward(s), stopped at"),
        Files.readString(secondLog));
    third.destroy();
    assertTrue(third.waitFor(EXIT_WAIT.toSeconds(), TimeUnit.SECONDS));
  }

  /** The body of {@code GET /} through 127.0.0.1:{@code port}, or null when that fails now. */
  static String httpGet(int port) {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(2_000);
      s.getOutputStream().write("GET / HTTP/1.0\r\nHost: x\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      String reply = new String(s.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII);
      int body = reply.indexOf("\r\n\r\n");
      return reply.startsWith("HTTP/1.") && body >= 0 ? reply.substring(body + 4) : null;
    } catch (IOException e) {
      return null;
    }
  }

  /** The state file's record, once {@code wanted} holds for it (bounded). */
  JsonObject awaitState(java.util.function.Predicate<JsonObject> wanted) throws Exception {
    return StateFiles.await(tmp.resolve("state"), EXIT_WAIT, wanted, () -> true, () -> "");
  }


  static boolean hasActiveForward(JsonObject state, int port) {
    return state.getJsonArray("forwards").stream().map(JsonObject.class::cast)
        .anyMatch(f -> f.getInteger("localPort") == port && "active".equals(f.getString("status")));
  }

  /**
   * SIGKILL, then a new start: the forward of the still-running container is served again, on the
   * same port, byte-exact, within a few seconds of the process start (JVM start included), and the
   * record holds that forward only.
   */
  @Test
  void afterSigkillTheNextStartServesTheSameForwardsAtOnce() throws Exception {
    int port = freePort();
    testbed.runHttpd("survivor", port);
    Process first = docktunnel(testbed.knownHostsFile());
    awaitOutput("ready", first);
    awaitState(state -> hasActiveForward(state, port));
    assertEquals(Testbed.HTTPD_INDEX_BODY, httpGet(port));
    first.destroyForcibly(); // SIGKILL, by handle: a crash
    assertTrue(first.waitFor(EXIT_WAIT.toSeconds(), TimeUnit.SECONDS));

    Path log = tmp.resolve("restarted.log");
    long startedAt = System.nanoTime();
    Process second = docktunnel(log, List.of(), options(testbed.knownHostsFile(), Map.of()));
    long deadline = startedAt + EXIT_WAIT.toNanos();
    String body;
    while (!Testbed.HTTPD_INDEX_BODY.equals(body = httpGet(port))) {
      assertTrue(second.isAlive() && System.nanoTime() < deadline, "not served again: " + body + "\n"
          + Files.readString(log));
      Thread.sleep(10); // polling the port, bounded by the deadline
    }
    long servedMs = (System.nanoTime() - startedAt) / 1_000_000;
    System.out.printf("[figures] after SIGKILL, the next start served the restored forward byte-exact %d ms after"
        + " its process start (JVM start included)%n", servedMs);
    assertTrue(Files.readString(log).contains("did not stop cleanly (PID " + first.pid() + ")"), Files.readString(log));
    JsonObject state = awaitState(s -> s.getLong("pid") == second.pid() && hasActiveForward(s, port));
    assertEquals(1, state.getJsonArray("forwards").size(), "no orphans: " + state.encode());
    second.destroy();
    assertTrue(second.waitFor(EXIT_WAIT.toSeconds(), TimeUnit.SECONDS));
  }

  /**
   * A port next-free chose is kept across a graceful restart, also once the port it replaced is
   * free again, so a bookmark of it stays valid.
   */
  @Test
  void aNextFreeMappingIsKeptAcrossAGracefulRestart() throws Exception {
    int port = freePort();
    testbed.runHttpd("moved", port);
    Path config = Files.writeString(tmp.resolve("next-free.json"),
        "{\"forwarding\": {\"conflictStrategy\": \"next-free\"}}");
    int chosen;
    try (ServerSocket taken = new ServerSocket(port, 1, InetAddress.getByName("127.0.0.1"))) {
      Process first = docktunnel(testbed.knownHostsFile(), "--config", config.toString());
      awaitOutput("ready", first);
      JsonObject state = awaitState(s -> s.getJsonArray("forwards").stream().map(JsonObject.class::cast)
          .anyMatch(f -> "active".equals(f.getString("status"))));
      chosen = state.getJsonArray("forwards").getJsonObject(0).getInteger("localPort");
      assertTrue(chosen > port, "next-free chose " + chosen + " for taken " + port);
      first.destroy();
      assertStoppedCleanly(first, "SIGTERM");
    }
    Path log = tmp.resolve("after-restart.log");
    Process second = docktunnel(log, List.of(), options(testbed.knownHostsFile(), Map.of()),
        "--config", config.toString());
    JsonObject restored = awaitState(s -> s.getLong("pid") == second.pid() && hasActiveForward(s, chosen));
    assertEquals(1, restored.getJsonArray("forwards").size(), restored.encode());
    assertEquals(Testbed.HTTPD_INDEX_BODY, httpGet(chosen));
    assertFalse(accepts(port), "the freed original port is not taken back: the mapping is kept");
    second.destroy();
    assertTrue(second.waitFor(EXIT_WAIT.toSeconds(), TimeUnit.SECONDS));
  }

  /**
   * SIGKILL at random moments while containers start and stop: the state file is always a whole
   * record (the old or the new one), never a partial write, and nothing is moved aside as
   * corrupt. Rounds: {@code -Dstate.kill.rounds} (default 50).
   */
  @Test
  void sigkillAtRandomMomentsNeverLeavesAPartialStateFile() throws Exception {
    int rounds = Integer.getInteger("state.kill.rounds", 50);
    java.util.Random random = new java.util.Random(7);
    java.util.concurrent.atomic.AtomicBoolean churning = new java.util.concurrent.atomic.AtomicBoolean(true);
    Thread churn = new Thread(() -> {
      for (int i = 0; churning.get(); i++) {
        try {
          String name = "churn-" + (i % 3);
          testbed.dockerResult("rm", "-f", name);
          testbed.runHttpd(name, freePort());
        } catch (RuntimeException e) {
          // a failed start or removal only changes what docktunnel sees; the file is what is checked
        }
      }
    }, "state-kill-churn");
    churn.start();
    Path log = tmp.resolve("killed.log");
    int sawRecord = 0;
    try {
      for (int round = 0; round < rounds; round++) {
        Process process = docktunnel(log, List.of(), options(testbed.knownHostsFile(), Map.of()));
        Thread.sleep(300 + random.nextInt(1_200)); // the random moment: start-up, sync, forwards changing
        process.destroyForcibly(); // SIGKILL, by handle
        assertTrue(process.waitFor(EXIT_WAIT.toSeconds(), TimeUnit.SECONDS));
        try (var files = Files.list(tmp.resolve("state"))) {
          for (Path file : files.toList()) {
            String name = file.getFileName().toString();
            assertFalse(name.contains(".corrupt-"), "round " + round + ": a state file was moved aside: " + name);
            if (name.endsWith(".state.json")) {
              // Throws naming the field if the record is not whole.
              dev.docktunnel.state.HostState.fromJson(new JsonObject(Files.readString(file)));
              sawRecord++;
            }
          }
        }
      }
    } finally {
      churning.set(false);
      churn.join(60_000);
    }
    assertTrue(sawRecord >= rounds / 2, "a record was there after only " + sawRecord + " of " + rounds + " kills");
    System.out.printf("[figures] SIGKILL at random moments x %d: a whole record every time it existed (%d),"
        + " none moved aside%n", rounds, sawRecord);
  }
}

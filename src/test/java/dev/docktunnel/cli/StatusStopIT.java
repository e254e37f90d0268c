package dev.docktunnel.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static dev.docktunnel.testbed.Figures.freePort;

import dev.docktunnel.ssh.SshTargetResolver;
import dev.docktunnel.state.HostId;
import dev.docktunnel.state.StateDir;
import dev.docktunnel.testbed.ServerSwitch;
import dev.docktunnel.testbed.StartedProcesses;
import dev.docktunnel.testbed.StreamServerContainer;
import dev.docktunnel.testbed.Testbed;
import dev.docktunnel.testbed.TestbedExtension;
import dev.docktunnel.testbed.Traffic;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code docktunnel status} and {@code stop} as a user runs them, through the launcher {@code
 * bin/docktunnel}, against a daemon started from the fat jar on the testbed: the live daemon's
 * table and document, the state file after SIGKILL and after a clean stop, {@code --watch
 * --json}, {@code stop}, and {@code run --log-level/--log-file}.
 */
@ExtendWith(TestbedExtension.class)
class StatusStopIT {
  static final Path JAR = Path.of("target", "docktunnel.jar").toAbsolutePath();
  static final Path LAUNCHER = Path.of("bin", "docktunnel").toAbsolutePath();
  static final Duration WAIT = Duration.ofSeconds(60);

  final Testbed testbed;
  final StartedProcesses started = new StartedProcesses();
  final ExecutorService threads = Executors.newCachedThreadPool();
  @TempDir
  Path tmp;

  StatusStopIT(Testbed testbed) {
    this.testbed = testbed;
  }

  @AfterEach
  void cleanUp() throws InterruptedException {
    threads.shutdownNow();
    started.endAll(); // only the processes this test started, by handle
    testbed.removeAllContainers();
  }

  /** The state record's {@code host}: the host as given to run. */
  String recordedHost() {
    return testbed.sshUri();
  }

  Path stateDir() {
    return tmp.resolve("state");
  }

  Path daemonLog() {
    return tmp.resolve("daemon.log");
  }

  /** {@code java -jar docktunnel.jar run ...} against the testbed; its output in {@link #daemonLog()}. */
  Process daemon(String... extra) throws IOException {
    return daemonFor(testbed.sshUri(), testbed.knownHostsFile(), extra);
  }

  /** A daemon for the configured {@code host}, its host key checked against {@code knownHosts}. */
  Process daemonFor(String host, Path knownHosts, String... extra) throws IOException {
    assertTrue(Files.isRegularFile(JAR), "the fat jar is built by `package` before integration tests: " + JAR);
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx64m", "-XX:+UseSerialGC", "-jar", JAR.toString(), "run",
        "--host", host, "--identity", testbed.clientPrivateKey().toString(),
        "--known-hosts", knownHosts.toString(), "--ssh-config", "/dev/null",
        "--remote-docker-socket", testbed.dockerSocket().toString(), "--state-dir", stateDir().toString()));
    command.addAll(List.of(extra));
    return start(new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(daemonLog().toFile()));
  }

  Process start(ProcessBuilder builder) throws IOException {
    builder.directory(tmp.toFile()); // no conf/docktunnel.json there
    builder.environment().put("XDG_CONFIG_HOME", tmp.toString()); // nor the machine user's
    builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
    Process process = builder.start();
    started.add(process);
    return process;
  }

  /** The launcher with {@code args} (the command and its options), not yet waited for. */
  ProcessBuilder cli(String... args) {
    List<String> command = new ArrayList<>(List.of("env", "--default-signal=INT", LAUNCHER.toString()));
    command.addAll(List.of(args));
    return new ProcessBuilder(command);
  }

  record Result(int exit, String out, String err) {
    @Override
    public String toString() {
      return "exit " + exit + "\nstdout:\n" + out + "\nstderr:\n" + err;
    }
  }

  /** Runs the launcher to its end. */
  Result run(String... args) throws Exception {
    Path out = Files.createTempFile(tmp, "out", ".txt");
    Path err = Files.createTempFile(tmp, "err", ".txt");
    Process process = start(cli(args).redirectOutput(out.toFile()).redirectError(err.toFile()));
    assertTrue(process.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS), "docktunnel " + String.join(" ", args)
        + " did not end");
    return new Result(process.exitValue(), Files.readString(out), Files.readString(err));
  }

  Result status(String... extra) throws Exception {
    List<String> args = new ArrayList<>(List.of("status", "--state-dir", stateDir().toString()));
    args.addAll(List.of(extra));
    return run(args.toArray(String[]::new));
  }

  void awaitLog(Path log, String text, Process process) throws Exception {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!(Files.exists(log) && Files.readString(log).contains(text))) {
      assertTrue(process.isAlive(), "docktunnel exited: " + Files.readString(daemonLog()));
      assertTrue(System.nanoTime() < deadline, "no '" + text + "' in " + log);
      Thread.sleep(50); // polling the log file, bounded by the deadline
    }
  }

  /** Asks {@code status --json} until its one document matches, bounded. */
  JsonObject awaitDocument(Predicate<JsonObject> wanted, String what) throws Exception {
    long deadline = System.nanoTime() + WAIT.toNanos();
    Result last = null;
    while (System.nanoTime() < deadline) {
      last = status("--json");
      if (last.exit() != ExitCodes.USAGE && !last.out().isBlank()) {
        JsonObject doc = new JsonObject(last.out().strip());
        if (wanted.test(doc)) {
          return doc;
        }
      }
      Thread.sleep(200); // polling the daemon through the command, bounded by the deadline
    }
    throw new AssertionError("status --json never showed " + what + "; last: " + last);
  }

  static Predicate<JsonObject> forwardActive(int port) {
    return doc -> forward(doc, port) != null && "active".equals(forward(doc, port).getString("status"));
  }

  static JsonObject forward(JsonObject doc, int localPort) {
    return doc.getJsonArray("forwards").stream().map(JsonObject.class::cast)
        .filter(f -> f.getInteger("localPort") == localPort).findFirst().orElse(null);
  }


  JsonObject stateFile() throws IOException {
    try (Stream<Path> files = Files.list(stateDir())) {
      Path file = files.filter(f -> f.getFileName().toString().endsWith(".state.json")).findFirst()
          .orElseThrow(() -> new AssertionError("no state file in " + stateDir()));
      return new JsonObject(Files.readString(file));
    }
  }

  @Test
  void theLiveDaemonAnswersWithItsForwardsAsATableAndAsTheStatusDocument() throws Exception {
    Process daemon = daemon();
    awaitLog(daemonLog(), "ready", daemon);
    int port = freePort();
    String id = testbed.runHttpd("web", port);
    JsonObject doc = awaitDocument(forwardActive(port), "the web forward active");
    assertEquals(1, doc.getInteger("schema"));
    assertEquals("daemon", doc.getString("source"));
    assertEquals(false, doc.getBoolean("stale"));
    assertEquals(daemon.pid(), doc.getLong("pid"));
    assertNotNull(doc.getLong("seq"));
    assertNotNull(doc.getInteger("httpPort"));
    JsonObject web = forward(doc, port);
    assertEquals(port, web.getInteger("remotePort"));
    assertEquals(id, web.getString("containerId"));
    // Traffic through the forward shows in its counters, and so in the BYTES column.
    try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
      socket.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      String reply = new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
      assertTrue(reply.endsWith(Testbed.HTTPD_INDEX_BODY), reply);
    }
    JsonObject counted = awaitDocument(d -> forward(d, port) != null && forward(d, port).getLong("bytesIn") > 0
        && forward(d, port).getLong("connectionsTotal") == 1, "the request's bytes counted");
    long bytesIn = forward(counted, port).getLong("bytesIn");
    long bytesOut = forward(counted, port).getLong("bytesOut");

    Result table = status("--host", testbed.sshUri(), "--ssh-config", "/dev/null");
    System.out.println("[figures] status table from the live daemon:\n" + table.out());
    assertEquals(ExitCodes.OK, table.exit(), table.toString());
    assertEquals("", table.err(), "no warning for a live daemon: " + table);
    List<String> lines = table.out().lines().toList();
    assertTrue(lines.get(0).matches("HOST  " + java.util.regex.Pattern.quote(recordedHost()) + "  PID " + daemon.pid() + "  up \\d.*"), table.toString());
    assertTrue(lines.get(1).startsWith("SSH   connected since "), table.toString());
    Path socket = StateDir.dockerSocketIn(stateDir(), HostId.of(SshTargetResolver.resolve(testbed.sshUri(),
        Path.of("/dev/null"))));
    assertTrue(lines.get(2).startsWith("DOCKER unix://" + socket + "  "), table.toString());
    assertTrue(lines.get(3).startsWith("SERVER running (static) since "), table.toString());
    assertEquals(String.join("  ", StatusTable.COLUMNS), lines.get(4).replaceAll(" {2,}", "  "), table.toString());
    String row = lines.stream().filter(l -> l.contains("127.0.0.1:" + port + " ")).findFirst()
        .orElseThrow(() -> new AssertionError("no row for 127.0.0.1:" + port + ": " + table));
    assertTrue(row.startsWith(id.substring(0, 12) + "  web "), row);
    assertTrue(row.matches(".*  127\\.0\\.0\\.1:" + port + " +\\S+:" + port + " +active +\\d.*"), row);
    assertTrue(row.contains("  " + StatusTable.bytes(bytesIn) + "/" + StatusTable.bytes(bytesOut) + "  "), row);

    // The README's line: eval "$(docktunnel docker-env)", then the docker CLI reaches the remote engine.
    Result env = run("docker-env", "--host", testbed.sshUri(), "--ssh-config", "/dev/null",
        "--state-dir", stateDir().toString());
    assertEquals("export DOCKER_HOST=unix://" + socket + "\n", env.out(), env.toString());
    assertEquals("", env.err(), "no warning for a live daemon: " + env);
    Path out = tmp.resolve("docker-ps.txt");
    ProcessBuilder evalThenPs = new ProcessBuilder("sh", "-c", "eval \"$(" + LAUNCHER + " docker-env --host '"
        + testbed.sshUri() + "' --ssh-config /dev/null --state-dir '" + stateDir() + "')\" && "
        + testbed.dockerCli() + " ps --no-trunc --format '{{.ID}}'")
        .redirectErrorStream(true).redirectOutput(out.toFile());
    evalThenPs.environment().put("DOCKER_CONFIG", tmp.resolve("docker-cli").toString()); // not the user's
    evalThenPs.environment().remove("DOCKER_CONTEXT");
    evalThenPs.environment().remove("DOCKER_HOST");
    Process shell = start(evalThenPs);
    assertTrue(shell.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS), "eval docker-env && docker ps did not end");
    assertEquals(0, shell.exitValue(), Files.readString(out));
    assertEquals(id, Files.readString(out).trim(), "docker ps through docktunnel's socket lists the container");
  }

  @Test
  void afterSigkillStatusShowsTheStateFileAndWarnsThatItIsNotRunning() throws Exception {
    Process daemon = daemon();
    awaitLog(daemonLog(), "ready", daemon);
    int port = freePort();
    testbed.runHttpd("web", port);
    awaitDocument(forwardActive(port), "the web forward active");
    daemon.destroyForcibly(); // SIGKILL to our own child, by handle
    assertTrue(daemon.waitFor(20, TimeUnit.SECONDS));

    Result table = status();
    assertEquals(ExitCodes.FAILED, table.exit(), "not running reads as exit 1: " + table);
    assertTrue(table.err().startsWith("docktunnel: host " + recordedHost() + " is not running (PID " + daemon.pid() + " is gone without a clean stop"), table.toString());
    assertTrue(table.err().strip().endsWith("(stale)"), table.toString());
    assertTrue(table.out().contains("not running (PID " + daemon.pid()), table.toString());
    assertTrue(table.out().lines().anyMatch(l -> l.contains("127.0.0.1:" + port + " ") && l.contains(" active ")),
        "the last record's forward: " + table);

    Result json = status("--json");
    assertEquals(ExitCodes.FAILED, json.exit(), json.toString());
    JsonObject doc = new JsonObject(json.out().strip());
    assertEquals(1, doc.getInteger("schema"));
    assertEquals("state-file", doc.getString("source"));
    assertEquals(true, doc.getBoolean("stale"));
    assertTrue(doc.getString("staleReason").startsWith("not running"), doc.encode());
    assertEquals(port, forward(doc, port).getInteger("remotePort"));
  }

  /**
   * An idle stop, then docktunnel restarted while the server is stopped: it finds the server
   * stopped, keeps the session suspended and the last run's forward listening, and the first
   * connection to it starts the server and is answered byte-exact.
   */
  @Test
  void restartedWhileItsServerIsStoppedItKeepsTheForwardAndAConnectionWakesTheServer() throws Exception {
    try (ServerSwitch server = ServerSwitch.start(testbed, false)) {
      Path config = tmp.resolve("lifecycle.json");
      Files.writeString(config, new JsonObject().put("lifecycle", new JsonObject().put("provider", "command")
          .put("idleTimeout", "2s").put("gracePeriod", "1s").put("command", server.commands())).encodePrettily());
      StreamServerContainer streams = testbed.runStreamServer("restart-wake", 1 << 20);
      Process first = daemon("--config", config.toString());
      awaitLog(daemonLog(), "ready", first);
      awaitDocument(forwardActive(streams.echoPort()), "the echo forward active");
      awaitDocument(doc -> "stopped".equals(doc.getJsonObject("server").getString("state")), "the idle stop");
      first.destroy(); // SIGTERM to our own child, by handle
      assertTrue(first.waitFor(20, TimeUnit.SECONDS));
      assertEquals(ExitCodes.OK, first.exitValue(), Files.readString(daemonLog()));

      Process second = daemon("--config", config.toString());
      awaitLog(daemonLog(), "the server is stopped", second);
      JsonObject doc = awaitDocument(d -> "suspended".equals(d.getJsonObject("ssh").getString("state"))
          && forward(d, streams.echoPort()) != null, "the restored forward with the session suspended");
      assertEquals("stopped", doc.getJsonObject("server").getString("state"), doc.encodePrettily());
      assertEquals(1, server.starts().size() + server.stops().size(), "one stop, no start yet");
      Result table = status();
      assertTrue(table.out().contains("stopped"), table.toString());

      byte[] data = Traffic.random(2 << 20, 7);
      Traffic.Outcome echoed = Traffic.echo(streams.echoPort(), data, WAIT, threads);
      assertTrue(echoed.ok(), echoed + "\n" + Files.readString(daemonLog()));
      assertEquals(1, server.starts().size(), "the connection started the server");
      awaitDocument(d -> "connected".equals(d.getJsonObject("ssh").getString("state")), "the session back");
    }
  }

  /**
   * The configured host is a loopback port where nothing listens; a start prints where the server
   * really is. After a restart with the server still up, the session goes to that address at once,
   * its host key still checked for the configured host.
   */
  @Test
  void restartedItsSessionGoesWhereTheLastStartPutTheServer() throws Exception {
    int nowhere = freePort();
    String configured = "ssh://" + testbed.sshUser() + "@127.0.0.1:" + nowhere;
    Path knownHosts = tmp.resolve("known_hosts_moved");
    String key = Files.readString(testbed.knownHostsFile()).strip().split(" ", 2)[1];
    Files.writeString(knownHosts, "[127.0.0.1]:" + nowhere + " " + key + "\n");
    try (ServerSwitch server = ServerSwitch.start(testbed, false)) {
      server.startPrints("sshd up\naddress: " + testbed.sshHost() + ":" + testbed.sshPort() + "\n");
      Path config = tmp.resolve("moved.json");
      Files.writeString(config, new JsonObject().put("lifecycle", new JsonObject().put("provider", "command")
          .put("command", server.commands())).encodePrettily());
      testbed.faults().killSshd(); // the server is stopped before the first run
      Process first = daemonFor(configured, knownHosts, "--config", config.toString());
      awaitLog(daemonLog(), "the server is stopped", first);
      Result start = run("server", "start", "--state-dir", stateDir().toString());
      assertEquals(ExitCodes.OK, start.exit(), start.toString());
      JsonObject up = awaitDocument(d -> "connected".equals(d.getJsonObject("ssh").getString("state")),
          "the session at the start's address");
      assertEquals(testbed.sshHost() + ":" + testbed.sshPort(), up.getJsonObject("server").getString("address"),
          up.encodePrettily());
      first.destroy(); // SIGTERM to our own child, by handle
      assertTrue(first.waitFor(20, TimeUnit.SECONDS));
      assertEquals(ExitCodes.OK, first.exitValue(), Files.readString(daemonLog()));

      Process second = daemonFor(configured, knownHosts, "--config", config.toString());
      awaitLog(daemonLog(), "the last run's start put the server at " + testbed.sshHost(), second);
      JsonObject again = awaitDocument(d -> d.getLong("pid") == second.pid()
          && "connected".equals(d.getJsonObject("ssh").getString("state")), "the restarted session connected");
      assertEquals("running", again.getJsonObject("server").getString("state"), again.encodePrettily());
      assertEquals(1, server.starts().size(), "no second start: the server was up");
    } finally {
      testbed.faults().ensureSshdRunning();
    }
  }

  @Test
  void stopEndsARunningDaemonCleanlyAndStatusThenSaysNotRunning() throws Exception {
    Process daemon = daemon();
    awaitLog(daemonLog(), "ready", daemon);
    long before = System.nanoTime();
    Result stop = run("stop", "--host", testbed.sshUri(), "--ssh-config", "/dev/null",
        "--state-dir", stateDir().toString());
    long ms = (System.nanoTime() - before) / 1_000_000;
    assertEquals(ExitCodes.OK, stop.exit(), stop.toString());
    assertTrue(stop.out().startsWith("docktunnel: stopped host " + recordedHost() + " (PID " + daemon.pid() + ")"), stop.toString());
    System.out.printf("[figures] docktunnel stop took %d ms (launcher and JVM start included): %s%n", ms,
        stop.out().strip());
    assertFalse(daemon.isAlive(), "stop returns once the daemon is gone");
    assertEquals(ExitCodes.OK, daemon.exitValue(), "a clean stop exits 0: " + Files.readString(daemonLog()));
    assertTrue(Files.readString(daemonLog()).contains("Docktunnel - stopping"), Files.readString(daemonLog()));
    JsonObject record = stateFile();
    assertEquals(false, record.getBoolean("running"), record.encodePrettily());
    assertNotNull(record.getString("stoppedAt"));

    Result status = status();
    assertEquals(ExitCodes.FAILED, status.exit(), status.toString());
    assertTrue(status.err().contains("is not running (stopped at "), status.toString());

    Result again = run("stop", "--state-dir", stateDir().toString());
    assertEquals(ExitCodes.OK, again.exit(), again.toString());
    assertTrue(again.out().startsWith("docktunnel: nothing to stop"), again.toString());
  }

  @Test
  void watchJsonPrintsANewLineWhenAContainerStartsAndCtrlCEndsItWithZero() throws Exception {
    Process daemon = daemon();
    awaitLog(daemonLog(), "ready", daemon);
    Process watch = start(cli("status", "--state-dir", stateDir().toString(), "--watch", "--json")
        .redirectError(tmp.resolve("watch.err").toFile()));
    BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    Thread reader = new Thread(() -> {
      try (BufferedReader in = new BufferedReader(new InputStreamReader(watch.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line = in.readLine(); line != null; line = in.readLine()) {
          lines.add(line);
        }
      } catch (IOException e) {
        lines.add("read failed: " + e);
      }
    }, "watch-reader");
    reader.start();
    String first = lines.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
    assertNotNull(first, "the first document comes at once");
    int port = freePort();
    assertEquals(null, forward(new JsonObject(first), port));
    // Quiet: nothing changes, so (heartbeats aside) no new line. Bounded look, not a timing assertion.
    String quiet = lines.poll(3, TimeUnit.SECONDS);
    assertEquals(null, quiet, "a line without a change");
    long started = System.nanoTime();
    testbed.runHttpd("web", port);
    JsonObject seen = null;
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (seen == null && System.nanoTime() < deadline) {
      String line = lines.poll(1, TimeUnit.SECONDS);
      if (line != null) {
        JsonObject doc = new JsonObject(line);
        assertEquals(1, doc.getInteger("schema"), line);
        if (forwardActive(port).test(doc)) {
          seen = doc;
        }
      }
    }
    assertNotNull(seen, "no line with the new forward active; stderr: " + Files.readString(tmp.resolve("watch.err")));
    System.out.printf("[figures] status --watch --json showed the new forward active %d ms after docker run "
        + "returned%n", (System.nanoTime() - started) / 1_000_000);
    new ProcessBuilder("kill", "-INT", Long.toString(watch.pid())).inheritIO().start().waitFor();
    assertTrue(watch.waitFor(20, TimeUnit.SECONDS), "Ctrl-C ends --watch");
    assertEquals(ExitCodes.OK, watch.exitValue(), "Ctrl-C is the way out of --watch: exit 0");
    reader.join(5000);
  }

  @Test
  void watchTableInAPipeIsPrintedAgainOnlyWhenSomethingChanged() throws Exception {
    Process daemon = daemon();
    awaitLog(daemonLog(), "ready", daemon);
    Path out = tmp.resolve("watch.out");
    Process watch = start(cli("status", "--state-dir", stateDir().toString(), "--watch")
        .redirectOutput(out.toFile()).redirectError(tmp.resolve("watch.err").toFile()));
    awaitLog(out, "HOST  ", watch);
    // Bounded look: with nothing changing, no second table (durations tick, but only a terminal redraws for them).
    Thread.sleep(3000);
    String quiet = Files.readString(out);
    assertEquals(1, RunCommandIT.count(quiet, "HOST  "), quiet);
    assertFalse(quiet.contains("\033["), "no ANSI codes outside a terminal: " + quiet);
    int port = freePort();
    testbed.runHttpd("web", port);
    awaitLog(out, "127.0.0.1:" + port + " ", watch);
    watch.destroy(); // SIGTERM to our own child: ends --watch like Ctrl-C
    assertTrue(watch.waitFor(20, TimeUnit.SECONDS));
    assertEquals(ExitCodes.OK, watch.exitValue());
    String all = Files.readString(out);
    assertTrue(RunCommandIT.count(all, "HOST  ") >= 2, all);
    assertTrue(all.contains("\n\nHOST  "), "tables one after another, a blank line between: " + all);
  }

  @Test
  void runWithDebugLevelAppendsDebugLinesToTheLogFileAndNothingToStderr() throws Exception {
    Path logFile = tmp.resolve("docktunnel.log");
    Files.writeString(logFile, "an earlier line\n");
    Process daemon = daemon("--log-level", "debug", "--log-file", logFile.toString());
    awaitLog(logFile, "ready", daemon);
    String log = Files.readString(logFile);
    assertTrue(log.startsWith("an earlier line\n"), "appended, not truncated: " + log);
    assertTrue(log.contains("[DEBUG] "), "debug lines: " + log);
    assertFalse(log.contains("org.apache.sshd") || log.contains("[DEBUG] o"), "MINA, Netty, Vert.x keep their levels: "
        + log);
    daemon.destroy(); // SIGTERM to our own child, by handle
    assertTrue(daemon.waitFor(20, TimeUnit.SECONDS));
    assertEquals(ExitCodes.OK, daemon.exitValue());
    assertTrue(Files.readString(logFile).contains("Docktunnel - stopping"));
    assertEquals("", Files.readString(daemonLog()), "everything went to the log file");
  }
}

package dev.docktunnel.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docktunnel.testbed.Testbed;
import dev.docktunnel.testbed.TestbedExtension;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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
  final List<Process> started = new ArrayList<>();
  @TempDir
  Path tmp;

  RunCommandIT(Testbed testbed) {
    this.testbed = testbed;
  }

  @AfterEach
  void cleanUp() throws InterruptedException {
    for (Process p : started) {
      if (p.isAlive()) {
        p.destroyForcibly(); // only the processes this test started, by handle
        p.waitFor(10, TimeUnit.SECONDS);
      }
    }
    testbed.removeAllContainers();
  }

  Process docktunnel(Path knownHosts, String... extra) throws IOException {
    assertTrue(Files.isRegularFile(JAR), "the fat jar is built by `package` before integration tests: " + JAR);
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx64m", "-XX:+UseSerialGC", "-jar", JAR.toString(), "run",
        "--host", testbed.sshUri(),
        "--identity", testbed.clientPrivateKey().toString(),
        "--known-hosts", knownHosts.toString(),
        "--ssh-config", "/dev/null",
        "--remote-docker-socket", testbed.dockerSocket().toString(),
        "--state-dir", tmp.resolve("state").toString()));
    command.addAll(List.of(extra));
    Process process = new ProcessBuilder(command)
        .directory(tmp.toFile()) // no conf/docktunnel.json there
        .redirectErrorStream(true)
        .redirectOutput(tmp.resolve("output.log").toFile())
        .start();
    started.add(process);
    return process;
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

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
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
    assertTrue(Files.readString(knownHosts).contains(testbed.sshHost() + " ssh-ed25519 "), Files.readString(knownHosts));
    int port = freePort();
    testbed.runHttpd("web", port);
    long deadline = System.nanoTime() + EXIT_WAIT.toNanos();
    while (!accepts(port)) {
      assertTrue(System.nanoTime() < deadline, "port " + port + " never opened: " + output());
      Thread.sleep(20); // polling the port, bounded by the deadline
    }
    process.destroy(); // SIGTERM to our own child, by handle
    assertTrue(process.waitFor(EXIT_WAIT.toSeconds(), TimeUnit.SECONDS), output());
    assertEquals(143, process.exitValue(), "a clean stop on SIGTERM ends with 128+15: " + output());
    assertFalse(accepts(port), "the forward must close with docktunnel");
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
}

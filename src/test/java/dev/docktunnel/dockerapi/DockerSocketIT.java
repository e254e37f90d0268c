package dev.docktunnel.dockerapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docktunnel.bus.Addresses;
import dev.docktunnel.bus.FactRecorder;
import dev.docktunnel.testbed.Figures;
import dev.docktunnel.testbed.RunningDocktunnel;
import dev.docktunnel.testbed.Testbed;
import dev.docktunnel.testbed.TestbedExtension;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The local Docker socket's own promises, in-process on the testbed with the real docker CLI:
 * the socket's mode, a start's answer held until the forward is up (the first GET after {@code
 * docker run -d -p} is served), the facts it publishes, and the socket gone after the stop. The
 * docker CLI's whole repertoire through the socket is {@link DockerCliIT}'s.
 */
@ExtendWith(TestbedExtension.class)
class DockerSocketIT {
  static final Duration TIMEOUT = Duration.ofSeconds(60);
  static final ExecutorService threads = Executors.newCachedThreadPool();
  static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  static Testbed testbed;
  static RunningDocktunnel docktunnel;
  static Path socket;
  static FactRecorder dockerActivity;
  static FactRecorder socketStatus;

  @BeforeAll
  static void start(Testbed bed) throws Exception {
    testbed = bed;
    Path folder = bed.workDir().resolve("docker-socket-it");
    Files.createDirectories(folder);
    Files.setPosixFilePermissions(folder, PosixFilePermissions.fromString("rwx------"));
    socket = folder.resolve("docker.sock");
    docktunnel = RunningDocktunnel.start(bed, new JsonObject(), Optional.of(socket));
    dockerActivity = FactRecorder.on(docktunnel.vertx, Addresses.ACTIVITY_DOCKER);
    socketStatus = FactRecorder.on(docktunnel.vertx, Addresses.DOCKER_SOCKET);
  }

  @AfterAll
  static void stop() {
    RunningDocktunnel.tearDown(docktunnel, threads, testbed);
  }

  /** The docker CLI against docktunnel's socket, bounded; stdout, or an error naming the command. */
  static String docker(byte[] stdin, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(testbed.dockerCli().toString()));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(false);
    builder.environment().put("DOCKER_HOST", "unix://" + socket);
    builder.environment().put("DOCKER_CONFIG", testbed.workDir().resolve("docker-socket-it-cli").toString());
    builder.environment().remove("DOCKER_CONTEXT");
    Process process = builder.start();
    var out = threads.submit(() -> readAll(process.getInputStream()));
    var err = threads.submit(() -> readAll(process.getErrorStream()));
    if (stdin != null) {
      process.getOutputStream().write(stdin);
    }
    process.getOutputStream().close();
    if (!process.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("docker " + String.join(" ", args) + " did not end within " + TIMEOUT);
    }
    String stdout = out.get(10, TimeUnit.SECONDS);
    if (process.exitValue() != 0) {
      throw new AssertionError("docker " + String.join(" ", args) + " exited " + process.exitValue() + ": "
          + err.get(10, TimeUnit.SECONDS));
    }
    return stdout;
  }

  static String readAll(InputStream in) throws IOException {
    return new String(in.readAllBytes(), StandardCharsets.UTF_8);
  }

  @Test
  void theSocketIsPrivateAndTheEngineAnswersThroughIt() throws Exception {
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
    String version = docker(null, "version", "--format", "{{.Server.Version}}").trim();
    assertEquals(testbed.docker("version", "--format", "{{.Server.Version}}").trim(), version);
    docker(null, "ps");
    JsonObject request = dockerActivity.await(f -> "request".equals(f.getString("event"))
        && "/containers/json".equals(f.getString("path")), TIMEOUT);
    assertEquals("GET", request.getString("method"));
    JsonObject status = socketStatus.await(f -> f.getLong("requestsTotal") >= 2, TIMEOUT);
    assertEquals(socket.toString(), status.getString("path"));
    assertTrue(status.getBoolean("listening"));
  }

  /** The no-race promise: the first GET right after {@code docker run -d -p} is served. */
  @Test
  void aStartsAnswerWaitsForItsForwardSoTheFirstRequestIsServed() throws Exception {
    for (int i = 0; i < 5; i++) {
      int port = Figures.freePort();
      String id = docker(null, "run", "-d", "-p", port + ":80", Testbed.IMAGE,
          "httpd", "-f", "-p", "80", "-h", "/www").trim();
      try {
        HttpResponse<String> page = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/"))
            .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, page.statusCode(), "run " + i);
        assertEquals(Testbed.HTTPD_INDEX_BODY, page.body(), "run " + i);
        JsonObject start = dockerActivity.await(f -> "/containers/{id}/start".equals(f.getString("path"))
            && id.startsWith(String.valueOf(f.getString("containerId")).substring(0, 12)), TIMEOUT);
        assertEquals("POST", start.getString("method"));
      } finally {
        docker(null, "rm", "-f", id);
      }
    }
    // The counters are published once a second: wait for the status that counts every request so far.
    long requests = dockerActivity.facts().stream().filter(f -> "request".equals(f.getString("event"))).count();
    JsonObject after = socketStatus.await(f -> f.getLong("requestsTotal") >= requests, TIMEOUT);
    assertEquals(0, after.getLong("startHoldTimeouts"), after.encode());
  }

  /** stdin's EOF reaches the container (half-close) and the output after it comes back. */
  @Test
  void execWithStdinEofReturnsTheOutput() throws Exception {
    String id = testbed.runContainer(List.of(), "sleep", "600");
    try {
      assertEquals("hi\n", docker("hi\n".getBytes(StandardCharsets.UTF_8), "exec", "-i", id, "cat"));
      JsonObject opened = dockerActivity.await(f -> "stream-opened".equals(f.getString("event"))
          && "/exec/{id}/start".equals(f.getString("path")), TIMEOUT);
      dockerActivity.await(f -> "stream-closed".equals(f.getString("event"))
          && opened.getString("connection").equals(f.getString("connection")), TIMEOUT);
    } finally {
      testbed.docker("rm", "-f", id);
    }
  }

  @Test
  void theSocketIsGoneAfterTheStop() throws Exception {
    assertTrue(Files.exists(socket));
    RunningDocktunnel second = null;
    Path folder = testbed.workDir().resolve("docker-socket-it-2");
    Files.createDirectories(folder);
    Path other = folder.resolve("docker.sock");
    try {
      second = RunningDocktunnel.start(testbed, new JsonObject().put("http", new JsonObject().put("port", 0)),
          Optional.of(other));
      assertTrue(Files.exists(other));
    } finally {
      if (second != null) {
        second.close();
      }
    }
    assertFalse(Files.exists(other), "the socket file outlived the stop");
  }
}

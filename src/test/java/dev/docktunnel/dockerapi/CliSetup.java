package dev.docktunnel.dockerapi;

import dev.docktunnel.config.DocktunnelConfig;
import dev.docktunnel.ssh.SshTargetResolver;
import dev.docktunnel.state.HostId;
import dev.docktunnel.state.StateDir;
import dev.docktunnel.testbed.Figures;
import dev.docktunnel.testbed.RunningDocktunnel;
import dev.docktunnel.testbed.Testbed;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * What the docker CLI tests talk to, chosen by {@code -Ddockerapi.target}:
 * <ul>
 *   <li>{@code docktunnel} (the default, the real target): docktunnel's {@code docker.sock} in the
 *   host's state folder, from a {@link RunningDocktunnel}; the CLI and curl run on this host, so a
 *   published port is reached through docktunnel's forward, as a user reaches it;</li>
 *   <li>{@code direct}: the testbed dockerd's own socket, with the CLI and curl inside the
 *   testbed's network namespace: the user sitting at the engine's machine. The baseline that
 *   proves each command and its assertion on this testbed, and its figures compare with.</li>
 * </ul>
 */
final class CliSetup implements AutoCloseable {
  static final String PROPERTY = "dockerapi.target";
  /**
   * {@code -Ddockerapi.holdStart=1ms} overrides docktunnel's {@code docker.holdStart}, to see the
   * race the hold prevents (RunThenCurlIT should then fail); unset, the default applies.
   */
  static final String HOLD_START_PROPERTY = "dockerapi.holdStart";
  private static final Duration SOCKET_WAIT = Duration.ofSeconds(30);

  enum Target {
    DOCKTUNNEL, DIRECT
  }

  final Target target;
  final Testbed testbed;
  /** The docktunnel under test; null for {@link Target#DIRECT}. */
  final RunningDocktunnel docktunnel;
  final UserMachine user;

  private CliSetup(Target target, Testbed testbed, RunningDocktunnel docktunnel, UserMachine user) {
    this.target = target;
    this.testbed = testbed;
    this.docktunnel = docktunnel;
    this.user = user;
  }

  static Target target() {
    String value = System.getProperty(PROPERTY, "docktunnel").trim().toUpperCase(Locale.ROOT);
    try {
      return Target.valueOf(value);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("system property " + PROPERTY + " must be docktunnel or direct, got '"
          + System.getProperty(PROPERTY) + "'");
    }
  }

  /** Starts docktunnel when the target needs it, and the user's machine pointed at the socket. */
  static CliSetup start(Testbed testbed, Path scratch) throws Exception {
    requireTools();
    Target target = target();
    if (target == Target.DIRECT) {
      UserMachine user = new UserMachine(testbed.dockerHost(),
          List.of("/usr/bin/nsenter", "--net=" + testbed.netnsPath(), "--"), scratch);
      System.out.println("[dockerapi] the CLI talks to the testbed's dockerd directly: " + testbed.dockerHost());
      return new CliSetup(target, testbed, null, user);
    }
    JsonObject extra = new JsonObject();
    String holdStart = System.getProperty(HOLD_START_PROPERTY, "").trim();
    if (!holdStart.isEmpty()) {
      extra.put("docker", new JsonObject().put("holdStart", holdStart));
    }
    DocktunnelConfig config = RunningDocktunnel.config(testbed, extra);
    // The folders a run makes (state dir, the host's 0700 socket folder), then the socket in it.
    StateDir stateDir = StateDir.open(config.stateDir(),
        HostId.of(SshTargetResolver.resolve(config.host(), config.sshConfig())));
    Path socket = stateDir.dockerSocket();
    RunningDocktunnel docktunnel = RunningDocktunnel.start(testbed, extra, Optional.of(socket));
    try {
      awaitSocket(socket);
      UserMachine user = new UserMachine("unix://" + socket, List.of(), scratch);
      System.out.println("[dockerapi] the CLI talks to docktunnel's socket " + socket);
      return new CliSetup(target, testbed, docktunnel, user);
    } catch (Exception | Error e) {
      docktunnel.close();
      throw e;
    }
  }

  /**
   * The user's tools, each from its Debian package (bin/test installs them): a missing one fails
   * the test class loudly, it never skips.
   */
  static void requireTools() {
    Map<String, String> packages = new LinkedHashMap<>();
    packages.put("docker", "docker.io");
    packages.put("docker-compose", "docker-compose");
    packages.put("curl", "curl");
    packages.put("script", "bsdutils");
    packages.put("nsenter", "util-linux");
    List<String> missing = new ArrayList<>();
    packages.forEach((tool, debianPackage) -> {
      boolean found = Stream.of(UserMachine.PATH.split(":")).map(dir -> Path.of(dir, tool))
          .anyMatch(Files::isExecutable);
      if (!found) {
        missing.add(tool + " (Debian package " + debianPackage + ")");
      }
    });
    if (!missing.isEmpty()) {
      throw new AssertionError("the docker CLI tests need tools that are not on " + UserMachine.PATH + ": "
          + String.join(", ", missing) + "; bin/test installs them, or run `apt-get install -y "
          + "--no-install-recommends docker.io docker-compose curl bsdutils util-linux`");
    }
  }

  /** The {@code DOCKER_HOST} every CLI call of the tests gets: the one switch. */
  String dockerHost() {
    return user.dockerHost();
  }

  private static void awaitSocket(Path socket) throws InterruptedException {
    long deadline = System.nanoTime() + SOCKET_WAIT.toNanos();
    while (!Files.exists(socket)) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("docktunnel's Docker socket " + socket + " did not appear within "
            + SOCKET_WAIT.toSeconds() + " s (run with -D" + PROPERTY + "=direct for the testbed's own socket)");
      }
      Thread.sleep(20); // polling for the socket file, bounded by the deadline
    }
  }

  /** Forward facts for {@code port}, to explain a failed request (empty for {@link Target#DIRECT}). */
  String forwardFacts(int port) {
    if (docktunnel == null) {
      return "";
    }
    return "; docktunnel's forward facts for port " + port + ": "
        + docktunnel.forwardStatus.facts().stream()
        .filter(f -> Integer.valueOf(port).equals(f.getInteger("publishedPort"))).toList();
  }

  /**
   * docktunnel's Docker socket counters once every connection of the CLI has ended (the fact comes
   * about a second after a change); fails when one is still open 5 s after the last command
   * ended. Only with a docktunnel.
   */
  String socketCountersOnceAllEnded() throws InterruptedException {
    List<JsonObject> facts = docktunnel.dockerSocket.facts();
    if (facts.isEmpty()) {
      return "no docker socket fact";
    }
    JsonObject last = facts.get(facts.size() - 1);
    if (allEnded(last)) {
      return last.encode();
    }
    long seq = last.getLong("seq");
    try {
      return docktunnel.dockerSocket.await(f -> f.getLong("seq") > seq && allEnded(f), Duration.ofSeconds(5))
          .encode();
    } catch (AssertionError e) {
      List<JsonObject> now = docktunnel.dockerSocket.facts();
      throw new AssertionError("every docker CLI process has ended, yet docktunnel still counts open Docker "
          + "connections or streams 5 s later: " + now.get(now.size() - 1).encode(), e);
    }
  }

  /**
   * A test class's end: reports the socket counters once every CLI connection ended (failing when
   * one is still counted), then stops, also when that check fails; {@code cleanUp} runs last.
   */
  static void endOf(String testClass, CliSetup cli, Runnable cleanUp) throws InterruptedException {
    try {
      if (cli != null && cli.docktunnel != null) {
        Figures.report("dockerapi %s: %s docker socket counters at the end: %s", cli.target, testClass,
            cli.socketCountersOnceAllEnded());
      }
    } finally {
      try {
        if (cli != null) {
          cli.close();
        }
      } finally {
        cleanUp.run();
      }
    }
  }

  private static boolean allEnded(JsonObject socketFact) {
    return socketFact.getInteger("openConnections") == 0 && socketFact.getInteger("openStreams") == 0;
  }

  @Override
  public void close() {
    try {
      user.close();
    } finally {
      if (docktunnel != null) {
        docktunnel.close();
      }
    }
  }
}

package dev.docktunnel.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.docktunnel.ssh.SshTargetResolver;
import dev.docktunnel.state.HostId;
import dev.docktunnel.state.StateDir;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code docktunnel context} in process: against a fake docker (a shell script recording its
 * arguments), and once against the real docker CLI with its own {@code DOCKER_CONFIG}, so the
 * user's contexts are never touched. No Docker daemon is contacted: the context commands only
 * read and write the CLI's config dir.
 */
class ContextCommandTest {
  /** What docker accepts as a context name. */
  static final Pattern DOCKER_CONTEXT_NAME = Pattern.compile("^[a-zA-Z0-9][a-zA-Z0-9_.+-]+$");
  static final HostId DEVBOX = new HostId("dev-devbox-22-00000002");
  /**
   * Logs "--" and then each argument on its own line; {@code context inspect} exits
   * {@code $FAKE_INSPECT_EXIT}; other commands fail with {@code $FAKE_FAIL} on stderr when set.
   */
  static final String FAKE_DOCKER = """
      #!/bin/sh
      printf '%s\\n' -- "$@" >> "$FAKE_DOCKER_LOG"
      if [ "$2" = inspect ]; then
        echo "context \\"$3\\": context not found" >&2
        exit "${FAKE_INSPECT_EXIT:-1}"
      fi
      if [ -n "$FAKE_FAIL" ]; then
        printf '%s\\nsecond line\\n' "$FAKE_FAIL" >&2
        exit 3
      fi
      echo "$3"
      """;

  @TempDir
  Path dir;

  Path stateDir() {
    return dir.resolve("state");
  }

  Path log() {
    return dir.resolve("docker-args.log");
  }

  Map<String, String> fakeDocker(Map<String, String> extra) throws IOException {
    Path script = Files.writeString(dir.resolve("fake-docker"), FAKE_DOCKER);
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
    Map<String, String> env = new HashMap<>(System.getenv());
    env.put(ContextCommand.DOCKER_BINARY_ENV, script.toString());
    env.put("FAKE_DOCKER_LOG", log().toString());
    env.putAll(extra);
    return env;
  }

  static CliRun run(Map<String, String> environment, String... args) {
    CommandLine.IFactory factory = new CommandLine.IFactory() {
      @Override
      public <K> K create(Class<K> cls) throws Exception {
        return cls == ContextCommand.class ? cls.cast(new ContextCommand(environment))
            : CommandLine.defaultFactory().create(cls);
      }
    };
    return CliRun.of(factory, args);
  }

  /** Each docker run's arguments, in order. */
  List<List<String>> dockerRuns() throws IOException {
    List<List<String>> runs = new ArrayList<>();
    for (String line : Files.readAllLines(log())) {
      if (line.equals("--")) {
        runs.add(new ArrayList<>());
      } else {
        runs.get(runs.size() - 1).add(line);
      }
    }
    return runs;
  }

  @Test
  void createsTheContextWhenInspectFindsNone() throws Exception {
    HostId id = HostId.of(SshTargetResolver.resolve("ssh://root@box:2222", Path.of("/dev/null")));
    Path socket = StateDir.dockerSocketIn(stateDir(), id);
    CliRun run = run(fakeDocker(Map.of()), "context", "--host", "ssh://root@box:2222", "--ssh-config", "/dev/null",
        "--state-dir", stateDir().toString());
    assertEquals(ExitCodes.OK, run.exit(), run.toString());
    assertEquals(List.of(
        List.of("context", "inspect", "docktunnel-root-box-2222"),
        List.of("context", "create", "docktunnel-root-box-2222", "--description", "docktunnel: ssh://root@box:2222",
            "--docker", "host=unix://" + socket)), dockerRuns());
    assertEquals("docker context docktunnel-root-box-2222 created (unix://" + socket + "); use it with: docker "
        + "--context docktunnel-root-box-2222 ps, or docker context use docktunnel-root-box-2222\n", run.out());
    assertTrue(run.err().startsWith("docktunnel: warning: docktunnel for ssh://root@box:2222 is not running"),
        run.toString());
    assertEquals(1, run.err().lines().count(), run.toString());
  }

  @Test
  void updatesTheContextWhenItExistsAndTakesTheOnlyHostsNameFromItsStateFile() throws Exception {
    StatusCommandTest.write(stateDir(), DEVBOX,
        StatusCommandTest.withHost(StatusFixtures.stopped(StatusCommandTest.DEAD_PID), "devbox"));
    Path socket = StateDir.dockerSocketIn(stateDir(), DEVBOX);
    CliRun run = run(fakeDocker(Map.of("FAKE_INSPECT_EXIT", "0")), "context", "--state-dir", stateDir().toString());
    assertEquals(ExitCodes.OK, run.exit(), run.toString());
    assertEquals(List.of(
        List.of("context", "inspect", "docktunnel-devbox"),
        List.of("context", "update", "docktunnel-devbox", "--description", "docktunnel: devbox",
            "--docker", "host=unix://" + socket)), dockerRuns());
    assertTrue(run.out().startsWith("docker context docktunnel-devbox updated (unix://" + socket + "); "), run.out());
  }

  @Test
  void dockerFailingIsOneLineWithItsStderrAndExitOne() throws Exception {
    CliRun run = run(fakeDocker(Map.of("FAKE_FAIL", "open /root/.docker/contexts: permission denied")),
        "context", "--host", "devbox", "--ssh-config", "/dev/null", "--state-dir", stateDir().toString());
    assertEquals(ExitCodes.FAILED, run.exit(), run.toString());
    assertEquals("", run.out());
    String first = run.err().lines().findFirst().orElseThrow();
    assertTrue(first.startsWith("docktunnel: " + dir.resolve("fake-docker") + " context create docktunnel-devbox "
        + "--description 'docktunnel: devbox' --docker "), run.toString());
    assertTrue(first.endsWith(" failed (exit 3): open /root/.docker/contexts: permission denied; second line"),
        run.toString());
    assertEquals(1, run.err().lines().count(), "no warning after a failure: " + run);
  }

  @Test
  void dockerMissingSaysHowToPointAtIt() throws Exception {
    Map<String, String> env = new HashMap<>(System.getenv());
    env.put(ContextCommand.DOCKER_BINARY_ENV, dir.resolve("no-such-docker").toString());
    CliRun run = run(env, "context", "--host", "devbox", "--ssh-config", "/dev/null", "--state-dir",
        stateDir().toString());
    assertEquals(ExitCodes.FAILED, run.exit(), run.toString());
    assertTrue(run.err().startsWith("docktunnel: cannot run docker '" + dir.resolve("no-such-docker") + "' ("),
        run.toString());
    assertTrue(run.err().endsWith("): install the docker CLI, or set DOCKTUNNEL_DOCKER to its path\n"),
        run.toString());
  }

  @Test
  void noHostOrSeveralIsAnErrorAndDockerIsNotRun() throws Exception {
    CliRun none = run(fakeDocker(Map.of()), "context", "--state-dir", stateDir().toString());
    assertEquals(ExitCodes.USAGE, none.exit(), none.toString());
    assertTrue(none.err().startsWith("docktunnel: no host found: "), none.toString());
    assertTrue(none.err().contains("(docktunnel context --host HOST)"), none.toString());
    assertTrue(Files.notExists(log()), "docker was not run");
  }

  @Test
  void contextNamesAreTheHostAsGivenMadeValid() {
    assertEquals("docktunnel-devbox", ContextCommand.contextName("devbox", DEVBOX));
    assertEquals("docktunnel-root-box-2222", ContextCommand.contextName("ssh://root@box:2222", DEVBOX));
    assertEquals("docktunnel-u-1-22", ContextCommand.contextName("SSH://u@[::1]:22", DEVBOX));
    assertEquals("docktunnel-my-box_1.lan+x", ContextCommand.contextName("my box_1.lan+x", DEVBOX));
    assertEquals("docktunnel-a-b", ContextCommand.contextName("a/ é\tb!", DEVBOX));
    assertEquals("docktunnel-" + DEVBOX.value(), ContextCommand.contextName("@:/", DEVBOX));
    for (String host : List.of("devbox", "ssh://root@box:2222", "SSH://u@[::1]:22", "a/ é\tb!", "@:/", "-x-")) {
      String name = ContextCommand.contextName(host, DEVBOX);
      assertTrue(DOCKER_CONTEXT_NAME.matcher(name).matches(), name);
      assertEquals(name, ContextCommand.contextName(host, DEVBOX), "the same host, the same name");
    }
  }

  @Test
  void theDockerEndpointIsCsvQuotedOnlyWhenThePathHasAnEqualsSign() {
    assertEquals("host=unix:///s/a b,c/docker.sock", ContextCommand.dockerEndpoint(Path.of("/s/a b,c/docker.sock")));
    assertEquals("\"host=unix:///s/a=b,c/docker.sock\"",
        ContextCommand.dockerEndpoint(Path.of("/s/a=b,c/docker.sock")));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ContextCommand.dockerEndpoint(Path.of("/s/a\"b/docker.sock")));
    assertTrue(e.getMessage().contains("/s/a\"b/docker.sock"), e.getMessage());
  }

  @Test
  void aDockerThatHangsIsKilledAtTheTimeout() throws Exception {
    DockerCli sleeper = new DockerCli("sleep", System.getenv(), Duration.ofMillis(300));
    long started = System.nanoTime();
    DockerCli.DockerCliException e = assertThrows(DockerCli.DockerCliException.class,
        () -> sleeper.run(List.of("30")));
    assertEquals("sleep 30 did not finish within 300 ms; killed it", e.getMessage());
    long deadline = started + TimeUnit.SECONDS.toNanos(10);
    while (ProcessHandle.current().children().anyMatch(p -> p.info().command().orElse("").endsWith("/sleep"))) {
      assertTrue(System.nanoTime() < deadline, "the killed sleep is gone within 10 s");
      Thread.sleep(20); // polling for the child to be reaped, bounded by the deadline
    }
  }

  /**
   * The real docker CLI with a config dir of this test's own: the context is created, then
   * updated, and docker itself reads its endpoint back (a socket path with a space, a comma and an
   * equals sign, which docker's option parsing would split if not quoted).
   */
  @Test
  void theRealDockerCliCreatesAndUpdatesTheContextInItsOwnConfigDir() throws Exception {
    Path docker = Path.of("/usr/bin/docker");
    assumeTrue(Files.isExecutable(docker), "the docker CLI is at /usr/bin/docker");
    Path config = Files.createDirectory(dir.resolve("docker-config"));
    Path state = dir.resolve("st a,b=c");
    Map<String, String> env = new HashMap<>(System.getenv());
    env.remove("DOCKER_HOST");
    env.remove("DOCKER_CONTEXT");
    env.put(ContextCommand.DOCKER_BINARY_ENV, docker.toString());
    env.put("DOCKER_CONFIG", config.toString());
    String[] args = {"context", "--host", "x", "--ssh-config", "/dev/null", "--state-dir", state.toString()};
    HostId id = HostId.of(SshTargetResolver.resolve("x", Path.of("/dev/null")));
    Path socket = StateDir.dockerSocketIn(state, id);

    CliRun created = run(env, args);
    assertEquals(ExitCodes.OK, created.exit(), created.toString());
    assertTrue(created.out().startsWith("docker context docktunnel-x created (unix://" + socket + ")"),
        created.toString());
    assertEquals("unix://" + socket + " | docktunnel: x", inspect(docker, config, "docktunnel-x"));
    CliRun updated = run(env, args);
    assertEquals(ExitCodes.OK, updated.exit(), updated.toString());
    assertTrue(updated.out().startsWith("docker context docktunnel-x updated (unix://" + socket + ")"),
        updated.toString());
    assertEquals("unix://" + socket + " | docktunnel: x", inspect(docker, config, "docktunnel-x"));
    assertTrue(Files.isDirectory(config.resolve("contexts/meta")), "the context went to the test's DOCKER_CONFIG");
  }

  /** {@code docker --context NAME context inspect}: the endpoint and the description. */
  static String inspect(Path docker, Path config, String name) throws IOException, InterruptedException {
    ProcessBuilder builder = new ProcessBuilder(docker.toString(), "--context", name, "context", "inspect",
        "--format", "{{.Endpoints.docker.Host}} | {{.Metadata.Metadata.Description}}").redirectErrorStream(true);
    builder.environment().remove("DOCKER_HOST");
    builder.environment().remove("DOCKER_CONTEXT");
    builder.environment().put("DOCKER_CONFIG", config.toString());
    Process p = builder.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(15, TimeUnit.SECONDS), "docker context inspect ended");
    assertEquals(0, p.exitValue(), out);
    return out.strip();
  }
}

package dev.docktunnel.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docktunnel.ssh.SshTargetResolver;
import dev.docktunnel.state.HostId;
import dev.docktunnel.state.HostState;
import dev.docktunnel.state.StateDir;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code docktunnel docker-env} in process, against state files written here (no daemon runs). */
class DockerEnvCommandTest {
  static final HostId BOX = new HostId("root-box-22-00000001");

  @TempDir
  Path dir;

  @Test
  void theOnlyHostGetsTheExportLineAndAWarningThatItIsNotRunning() throws Exception {
    StatusCommandTest.write(dir, BOX, StatusFixtures.stopped(StatusCommandTest.DEAD_PID));
    CliRun run = CliRun.of("docker-env", "--state-dir", dir.toString());
    assertEquals(ExitCodes.OK, run.exit(), run.toString());
    Path socket = dir.resolve(BOX.value()).resolve("docker.sock");
    assertEquals("export DOCKER_HOST=unix://" + socket + "\n", run.out(), "the exact line, nothing quoted");
    assertEquals(StateDir.dockerSocketIn(dir, BOX), socket);
    assertEquals(1, run.err().lines().count(), run.toString());
    assertTrue(run.err().startsWith("docktunnel: warning: docktunnel for root@box:22 is not running (stopped at "
        + "2026-12-01T10:00:09Z); start it with: docktunnel run --host root@box:22 --state-dir " + dir + "\n"),
        run.toString());
    assertTrue(Files.notExists(socket.getParent()), "docker-env creates nothing");
  }

  @Test
  void aPathWithSpacesAndQuotesIsQuotedSoEvalSetsItExactly() throws Exception {
    Path stateDir = dir.resolve("my state's dir");
    StatusCommandTest.write(stateDir, BOX, StatusFixtures.stopped(StatusCommandTest.DEAD_PID));
    CliRun run = CliRun.of("docker-env", "--state-dir", stateDir.toString());
    assertEquals(ExitCodes.OK, run.exit(), run.toString());
    String value = "unix://" + stateDir.resolve(BOX.value()).resolve("docker.sock");
    assertEquals("export DOCKER_HOST='" + value.replace("'", "'\\''") + "'\n", run.out());
    assertEquals(value, evalThenPrint(run.out(), "DOCKER_HOST"));
    assertTrue(run.err().contains("--state-dir '" + stateDir.toString().replace("'", "'\\''") + "'"),
        "the hint is quoted too: " + run);
  }

  @Test
  void aLiveDaemonWithItsSocketGetsNoWarningAndWithoutItOne() throws Exception {
    HostState live = StopCommandTest.freshRecord(ProcessHandle.current().pid(), null);
    StatusCommandTest.write(dir, BOX, live);
    CliRun missing = CliRun.of("docker-env", "--state-dir", dir.toString());
    Path socket = StateDir.dockerSocketIn(dir, BOX);
    assertEquals(ExitCodes.OK, missing.exit(), missing.toString());
    assertEquals("export DOCKER_HOST=unix://" + socket + "\n", missing.out());
    assertEquals("docktunnel: warning: docktunnel for root@box:22 runs (PID " + live.pid() + ") but its Docker socket "
        + socket + " is not there: docker commands fail until it listens there\n", missing.err());
    Files.createDirectories(socket.getParent());
    try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      server.bind(UnixDomainSocketAddress.of(socket));
      CliRun up = CliRun.of("docker-env", "--state-dir", dir.toString());
      assertEquals(ExitCodes.OK, up.exit(), up.toString());
      assertEquals("export DOCKER_HOST=unix://" + socket + "\n", up.out());
      assertEquals("", up.err(), "running, socket there: nothing to warn about");
    }
  }

  @Test
  void aStaleRecordPointsAtStatusNotAtRun() throws Exception {
    // A live PID (ours) whose record is old: stuck, or not docktunnel; starting another would clash.
    StatusCommandTest.write(dir, BOX, StatusFixtures.running(ProcessHandle.current().pid(), List.of()));
    CliRun run = CliRun.of("docker-env", "--state-dir", dir.toString());
    assertEquals(ExitCodes.OK, run.exit(), run.toString());
    assertTrue(run.err().startsWith("docktunnel: warning: docktunnel for root@box:22 is stale (last written at"),
        run.toString());
    assertTrue(run.err().endsWith("; see: docktunnel status --host root@box:22 --state-dir " + dir + "\n"),
        run.toString());
  }

  @Test
  void anUnreadableStateFileStillGivesTheLineAndSaysWhyItCannotTell() throws Exception {
    Files.createDirectories(dir);
    Files.writeString(StateDir.stateFileIn(dir, BOX), "{\"trunc");
    CliRun run = CliRun.of("docker-env", "--state-dir", dir.toString());
    assertEquals(ExitCodes.OK, run.exit(), run.toString());
    assertEquals("export DOCKER_HOST=unix://" + StateDir.dockerSocketIn(dir, BOX) + "\n", run.out());
    assertEquals("docktunnel: warning: cannot tell whether docktunnel runs for " + BOX.value() + ": state file "
        + StateDir.stateFileIn(dir, BOX) + " is not a JSON object (empty, truncated or garbage); see: docktunnel status "
        + "--state-dir " + dir + "\n", run.err());
  }

  @Test
  void noHostOrSeveralIsAnErrorAskingForHost() throws Exception {
    Path empty = dir.resolve("empty");
    CliRun none = CliRun.of("docker-env", "--state-dir", empty.toString());
    assertEquals(ExitCodes.USAGE, none.exit(), none.toString());
    assertEquals("", none.out());
    assertEquals("docktunnel: no host found: no <host-id>.state.json in state dir " + empty + "; name the host with "
        + "--host (docktunnel docker-env --host HOST), or the state dir with --state-dir\n", none.err());

    StatusCommandTest.write(dir, BOX, StatusFixtures.stopped(StatusCommandTest.DEAD_PID));
    HostId other = new HostId("dev-devbox-22-00000002");
    StatusCommandTest.write(dir, other,
        StatusCommandTest.withHost(StatusFixtures.stopped(StatusCommandTest.DEAD_PID), "devbox"));
    CliRun several = CliRun.of("docker-env", "--state-dir", dir.toString());
    assertEquals(ExitCodes.USAGE, several.exit(), several.toString());
    assertEquals("", several.out());
    assertEquals("docktunnel: 2 hosts in state dir " + dir + ": devbox (dev-devbox-22-00000002), root@box:22 "
        + "(root-box-22-00000001); name one with --host (docktunnel docker-env --host HOST)\n", several.err());
  }

  @Test
  void aNamedHostIsResolvedAsRunResolvesItEvenBeforeItEverRan() throws Exception {
    StatusCommandTest.write(dir, BOX, StatusFixtures.stopped(StatusCommandTest.DEAD_PID));
    StatusCommandTest.write(dir, new HostId("other-host-22-00000009"),
        StatusFixtures.stopped(StatusCommandTest.DEAD_PID));
    HostId id = HostId.of(SshTargetResolver.resolve("ssh://root@box:2222", Path.of("/dev/null")));
    CliRun run = CliRun.of("docker-env", "--state-dir", dir.toString(), "--ssh-config", "/dev/null",
        "--host", "ssh://root@box:2222");
    assertEquals(ExitCodes.OK, run.exit(), run.toString());
    assertEquals("export DOCKER_HOST=unix://" + StateDir.dockerSocketIn(dir, id) + "\n", run.out());
    assertEquals("docktunnel: warning: docktunnel for ssh://root@box:2222 is not running (it has not run with state "
        + "dir " + dir + "); start it with: docktunnel run --host ssh://root@box:2222 --state-dir " + dir
        + " --ssh-config /dev/null\n", run.err());
  }

  @Test
  void unsetPrintsTheUnsetLineWithoutLookingForAHost() {
    CliRun run = CliRun.of("docker-env", "--unset", "--state-dir", dir.resolve("none").toString());
    assertEquals(ExitCodes.OK, run.exit(), run.toString());
    assertEquals("unset DOCKER_HOST\n", run.out());
    assertEquals("", run.err());
  }

  @Test
  void shellWordsQuoteOnlyWhatNeedsIt() throws Exception {
    assertEquals("unix:///a/b-c_d.sock", ShellWords.quote("unix:///a/b-c_d.sock"));
    assertEquals("'a b'", ShellWords.quote("a b"));
    assertEquals("''", ShellWords.quote(""));
    String nasty = "it's $HOME `x` \"q\" \\ *";
    assertEquals(nasty, evalThenPrint("export V=" + ShellWords.quote(nasty) + "\n", "V"));
  }

  /** Runs {@code script} in sh, then prints {@code $name}: what {@code eval "$(...)"} gives. */
  static String evalThenPrint(String script, String name) throws IOException, InterruptedException {
    Process sh = new ProcessBuilder("sh", "-c", "eval \"$1\"; printf '%s' \"$" + name + "\"", "sh", script)
        .redirectErrorStream(true).start();
    String out = new String(sh.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(sh.waitFor(10, TimeUnit.SECONDS), "sh ended");
    assertEquals(0, sh.exitValue(), out);
    return out;
  }
}

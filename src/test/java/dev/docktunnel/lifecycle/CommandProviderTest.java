package dev.docktunnel.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docktunnel.config.ConfigException;
import dev.docktunnel.config.DocktunnelConfig;
import dev.docktunnel.state.HostId;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command provider against real shell commands in a temp dir: scripts that write marker
 * files, print statuses and addresses, fail, or sleep past the timeout.
 */
class CommandProviderTest {
  static final Duration TIMEOUT = Duration.ofSeconds(20);
  static final HostId HOST_ID = new HostId("dev-box-example-2222-0000abcd");

  private final Vertx vertx = Vertx.vertx();

  @TempDir
  Path dir;

  @AfterEach
  void close() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  ProviderHost host() {
    return new ProviderHost("ssh://dev@box.example:2222", HOST_ID, "10.0.0.5", 2222, "dev", dir.resolve("state"));
  }

  CommandProvider provider(String status, String start, String stop, String destroy, Duration timeout) {
    return new CommandProvider(vertx, new DocktunnelConfig.Command(status, start, stop, destroy, timeout), host());
  }

  /** A provider whose other commands fail loudly, so a test sees which one ran. */
  CommandProvider provider(String status, String start) {
    return provider(status, start, "echo 'stop must not run' >&2; exit 99", null, TIMEOUT);
  }

  /** {@code echo marker > file} for a command, in the temp dir. */
  String mark(String name) {
    return "echo " + name + " > '" + dir.resolve(name) + "'";
  }

  static <T> T await(Future<T> future) throws Exception {
    return future.await(30, TimeUnit.SECONDS);
  }

  static ProviderException failure(Future<?> future) {
    return assertThrows(ProviderException.class, () -> await(future));
  }

  @Test
  void statusIsTheLastNonBlankLineInAnyCase() throws Exception {
    ServerStatus running = await(provider("echo checking i-0abc; echo '  running  '; echo; echo '   '", "true")
        .status());
    assertEquals(ServerStatus.running("lifecycle.command.status printed running"), running);
    assertEquals(ServerStatus.State.STOPPED, await(provider("echo STOPPED", "true").status()).state());
    assertEquals(ServerStatus.State.NOT_FOUND, await(provider("printf NotFound", "true").status()).state());
    assertEquals(ServerStatus.State.RUNNING,
        await(provider("printf 'Running\\r\\n'; echo 'NotFound, says stderr' >&2", "true").status()).state());
  }

  @Test
  void statusFailsOnAnythingElse() {
    assertEquals("lifecycle.command.status printed 'Busy' on its last line; expected Running, Stopped or NotFound",
        failure(provider("echo Running; echo Busy", "true").status()).getMessage());
    assertEquals("lifecycle.command.status printed 'Not Found' on its last line; expected Running, Stopped or "
        + "NotFound", failure(provider("echo 'Not Found'", "true").status()).getMessage());
    assertEquals("lifecycle.command.status printed nothing on stdout; expected Running, Stopped or NotFound on its "
        + "last line; stderr: no such instance", failure(provider("echo no such instance >&2", "true").status())
        .getMessage());
  }

  @Test
  void statusFailsOnANonZeroExitWhateverItPrinted() {
    assertEquals("lifecycle.command.status exited with 3; stderr: credentials expired; stdout: Running",
        failure(provider("echo Running; echo credentials expired >&2; exit 3", "true").status()).getMessage());
  }

  @Test
  void commandsSeeTheHostInTheirEnvironment() throws Exception {
    Path seen = dir.resolve("env.txt");
    CommandProvider provider = provider("env | grep '^DOCKTUNNEL_' | sort > '" + seen + "'; echo \"HOME=$HOME\" >> '"
        + seen + "'; echo Running", "true");
    await(provider.status());
    assertEquals(List.of(
        "DOCKTUNNEL_HOST=ssh://dev@box.example:2222",
        "DOCKTUNNEL_HOST_ID=dev-box-example-2222-0000abcd",
        "DOCKTUNNEL_SSH_HOST=10.0.0.5",
        "DOCKTUNNEL_SSH_PORT=2222",
        "DOCKTUNNEL_SSH_USER=dev",
        "DOCKTUNNEL_STATE_DIR=" + dir.resolve("state"),
        "HOME=" + System.getenv("HOME")), Files.readAllLines(seen));
  }

  @Test
  void startRunsItsCommandAndKeepsTheAddressWithoutAnAddressLine() throws Exception {
    CommandProvider provider = provider("echo Running", mark("started") + "; echo 'address: 10.9.9.9' >&2");
    assertEquals(StartResult.unchanged(), await(provider.start()));
    assertEquals("started", Files.readString(dir.resolve("started")).strip());
    assertEquals(host(), provider.host());
  }

  /** The last {@code address:} line on stdout wins, wherever it is; later commands see it. */
  @Test
  void startTakesTheLastAddressLineAndLaterCommandsSeeIt() throws Exception {
    Path seen = dir.resolve("seen.txt");
    CommandProvider provider = provider("echo \"$DOCKTUNNEL_SSH_HOST $DOCKTUNNEL_SSH_PORT\" > '" + seen
        + "'; echo Running", "echo 'address: 192.0.2.1'; echo waiting; echo '  Address:  10.1.2.3:2200 '; echo done");
    StartResult result = await(provider.start());
    assertEquals(StartResult.at(new ServerAddress("10.1.2.3", OptionalInt.of(2200))), result);
    await(provider.status());
    assertEquals("10.1.2.3 2200", Files.readString(seen).strip());
    assertEquals(host().at(result.address().orElseThrow()), provider.host());
  }

  @Test
  void anAddressWithoutAPortKeepsTheSshPort() throws Exception {
    CommandProvider provider = provider("echo Running", "echo 'address: [fd00::7]'");
    assertEquals(StartResult.at(new ServerAddress("fd00::7", OptionalInt.empty())), await(provider.start()));
    assertEquals(2222, provider.host().sshPort());
    assertEquals("fd00::7", provider.host().sshHost());
  }

  @Test
  void startFailsOnABadAddressOrANonZeroExit() {
    assertEquals("lifecycle.command.start printed 'address: the new box', but 'the new box' is not host[:port]: "
        + "'the new box' is not a host name or IP address",
        failure(provider("echo Running", "echo 'address: the new box'").start()).getMessage());
    CommandProvider failing = provider("echo Running", "echo 'address: 10.1.2.3'; echo quota exceeded >&2; exit 2");
    assertEquals("lifecycle.command.start exited with 2; stderr: quota exceeded; stdout: address: 10.1.2.3",
        failure(failing.start()).getMessage());
    assertEquals(host(), failing.host());
  }

  @Test
  void stopRunsTheStopCommandAndFailsOnItsExit() throws Exception {
    await(provider("echo Running", "true", mark("stopped"), null, TIMEOUT).stop());
    assertEquals("stopped", Files.readString(dir.resolve("stopped")).strip());
    assertEquals("lifecycle.command.stop exited with 1; no output",
        failure(provider("echo Running", "true", "false", null, TIMEOUT).stop()).getMessage());
  }

  @Test
  void destroyWithoutItsOwnCommandIsAStop() throws Exception {
    await(provider("echo Running", "true", mark("stopped"), null, TIMEOUT).destroy());
    assertTrue(Files.exists(dir.resolve("stopped")));
    Files.delete(dir.resolve("stopped"));
    await(provider("echo Running", "true", mark("stopped"), "  ", TIMEOUT).destroy());
    assertTrue(Files.exists(dir.resolve("stopped")), "a blank destroy is a stop too");
  }

  @Test
  void destroyRunsItsOwnCommandWhenSet() throws Exception {
    await(provider("echo Running", "true", mark("stopped"), mark("destroyed"), TIMEOUT).destroy());
    assertTrue(Files.exists(dir.resolve("destroyed")));
    assertFalse(Files.exists(dir.resolve("stopped")));
    assertEquals("lifecycle.command.destroy exited with 5; stderr: volume busy",
        failure(provider("echo Running", "true", "true", "echo volume busy >&2; exit 5", TIMEOUT).destroy())
            .getMessage());
  }

  /** A start that hangs is killed with what it started; the call fails naming the timeout. */
  @Test
  void aCommandPastItsTimeoutIsKilledWithItsChildren() throws Exception {
    Path tree = Files.writeString(dir.resolve("tree.sh"), """
        sleep 300 &
        echo $! > "$1/grandchild.pid"
        echo waiting for the instance
        wait
        """);
    String start = "sh '" + tree + "' '" + dir + "' & echo $! > '" + dir + "/child.pid'; wait";
    CommandProvider provider = provider("echo Running", start, "true", null, Duration.ofSeconds(1));
    assertEquals("lifecycle.command.start did not finish within 1 s; killed it and the 2 processes it started; "
        + "stdout: waiting for the instance", failure(provider.start()).getMessage());
    for (String name : List.of("child", "grandchild")) {
      long pid = Long.parseLong(Files.readString(dir.resolve(name + ".pid")).strip());
      assertTrue(Processes.goneWithin(pid, Duration.ofSeconds(10)), name + " " + pid + " still runs");
    }
  }

  @Test
  void statusAndStartRunSideBySide() throws Exception {
    Path gate = dir.resolve("gate");
    // The start waits (bounded) for the status to have run: one worker would deadlock until the timeout.
    String start = "i=0; while [ ! -e '" + gate + "' ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; "
        + "[ -e '" + gate + "' ] && echo started";
    CommandProvider provider = provider("touch '" + gate + "'; echo Running", start);
    Future<StartResult> started = provider.start();
    assertEquals(ServerStatus.State.RUNNING, await(provider.status()).state());
    assertEquals(StartResult.unchanged(), await(started));
  }

  @Test
  void refusesMissingCommandsAndABadTimeout() {
    assertConfigError("lifecycle.provider is command, but lifecycle.command is not set: it needs "
        + "lifecycle.command.status, lifecycle.command.start and lifecycle.command.stop", null);
    String needs = " is not set: it needs lifecycle.command.status, lifecycle.command.start and "
        + "lifecycle.command.stop (destroy is optional)";
    assertConfigError("lifecycle.provider is command, but lifecycle.command.status" + needs,
        new DocktunnelConfig.Command(null, "a", "b", null, TIMEOUT));
    assertConfigError("lifecycle.provider is command, but lifecycle.command.start" + needs,
        new DocktunnelConfig.Command("a", " ", "b", null, TIMEOUT));
    assertConfigError("lifecycle.provider is command, but lifecycle.command.stop" + needs,
        new DocktunnelConfig.Command("a", "b", "", "c", TIMEOUT));
    assertConfigError("lifecycle.command.timeout must be a positive duration (was PT0S)",
        new DocktunnelConfig.Command("a", "b", "c", null, Duration.ZERO));
    assertConfigError("lifecycle.command.timeout must be a positive duration (was null)",
        new DocktunnelConfig.Command("a", "b", "c", null, null));
  }

  private void assertConfigError(String message, DocktunnelConfig.Command config) {
    assertEquals(message, assertThrows(ConfigException.class, () -> CommandProvider.validate(config)).getMessage());
    assertEquals(message, assertThrows(ConfigException.class, () -> new CommandProvider(vertx, config, host()))
        .getMessage());
  }

  @Test
  void isNamedCommand() {
    assertEquals("command", provider("echo Running", "true").name());
  }
}

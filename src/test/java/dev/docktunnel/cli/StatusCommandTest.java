package dev.docktunnel.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docktunnel.ssh.SshTargetResolver;
import dev.docktunnel.state.HostId;
import dev.docktunnel.state.HostState;
import dev.docktunnel.state.StateDir;
import dev.docktunnel.state.StateFile;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code docktunnel status} in process, against state files written here (no daemon runs). */
class StatusCommandTest {
  /** A PID above Linux's pid_max: never a live process. */
  static final long DEAD_PID = 99_999_999;

  @TempDir
  Path dir;

  static void write(Path stateDir, HostId id, HostState state) throws Exception {
    Files.createDirectories(stateDir);
    new StateFile(StateDir.stateFileIn(stateDir, id), Clock.systemUTC()).write(state);
  }

  static HostState withHost(HostState s, String host) {
    return new HostState(s.version(), host, s.pid(), s.running(), s.stoppedAt(), s.startedAt(), s.updatedAt(),
        s.sessionId(), s.ssh(), s.forwards(), s.httpPort(), s.bridgePort());
  }

  @Test
  void noHostAtAllNamesTheStateDirSearchedAndExitsOne() {
    Path stateDir = dir.resolve("never-used");
    CliRun run = CliRun.of("status", "--state-dir", stateDir.toString());
    assertEquals(ExitCodes.FAILED, run.exit(), run.toString());
    assertEquals("", run.out());
    assertTrue(run.err().startsWith("docktunnel: no host found: no <host-id>.state.json in state dir " + stateDir),
        run.toString());
    assertEquals(1, run.err().lines().count(), run.toString());
    assertTrue(Files.notExists(stateDir), "status creates nothing");
  }

  @Test
  void jsonPrintsOneDocumentPerHostPerLineAndWarnsThatTheyAreNotRunning() throws Exception {
    write(dir, new HostId("a-box-22-00000001"), withHost(StatusFixtures.running(DEAD_PID,
        List.of(StatusFixtures.forward("active", null, 5, 6))), "a@box:22"));
    write(dir, new HostId("b-box-22-00000002"), withHost(StatusFixtures.stopped(DEAD_PID), "b@box:22"));
    Files.writeString(dir.resolve("c-box-22-00000003.state.json.corrupt-20261201T100000.000Z"), "x");
    CliRun run = CliRun.of("status", "--state-dir", dir.toString(), "--json");
    assertEquals(ExitCodes.FAILED, run.exit(), "hosts not running: " + run);
    List<String> lines = run.out().lines().toList();
    assertEquals(2, lines.size(), run.toString());
    JsonObject a = new JsonObject(lines.get(0));
    JsonObject b = new JsonObject(lines.get(1));
    assertEquals(1, a.getInteger("schema"));
    assertEquals("a@box:22", a.getString("host"));
    assertEquals("b@box:22", b.getString("host"));
    assertEquals(true, a.getBoolean("stale"));
    assertEquals("state-file", a.getString("source"));
    JsonObject forward = a.getJsonArray("forwards").getJsonObject(0);
    assertEquals(Map.of("localPort", 8080, "remotePort", 80, "status", "active"),
        Map.of("localPort", forward.getInteger("localPort"), "remotePort", forward.getInteger("remotePort"),
            "status", forward.getString("status")));
    List<String> warnings = run.err().lines().toList();
    assertEquals(2, warnings.size(), run.toString());
    assertTrue(warnings.get(0).startsWith("docktunnel: host a@box:22 is not running (PID " + DEAD_PID + " is gone"),
        run.toString());
    assertTrue(warnings.get(1).startsWith("docktunnel: host b@box:22 is not running (stopped at"), run.toString());
    assertTrue(warnings.stream().allMatch(w -> w.endsWith("(stale)")), run.toString());
  }

  @Test
  void hostIsResolvedAsRunResolvesItAndItsTableShown() throws Exception {
    HostId id = HostId.of(SshTargetResolver.resolve("ssh://root@box:2222", Path.of("/dev/null")));
    write(dir, id, StatusFixtures.stopped(DEAD_PID));
    write(dir, new HostId("other-host-22-00000009"), StatusFixtures.stopped(DEAD_PID));
    CliRun run = CliRun.of("status", "--state-dir", dir.toString(), "--ssh-config", "/dev/null",
        "--host", "ssh://root@box:2222");
    assertEquals(ExitCodes.FAILED, run.exit(), run.toString());
    List<String> lines = run.out().lines().toList();
    assertEquals("HOST  root@box:22  PID " + DEAD_PID + "  not running (stopped at 2026-12-01T10:00:09Z)",
        lines.get(0), run.toString());
    assertEquals(String.join("  ", StatusTable.COLUMNS), lines.get(2).replaceAll(" {2,}", "  "));
    assertEquals(4, lines.size(), "one host, one forward: " + run);
    assertTrue(run.err().contains("is not running"), run.toString());
  }

  @Test
  void theStateDirComesFromTheConfigFileWithoutAHost() throws Exception {
    Path stateDir = dir.resolve("from-config");
    write(stateDir, new HostId("a-box-22-00000001"), StatusFixtures.stopped(DEAD_PID));
    Path config = Files.writeString(dir.resolve("docktunnel.json"),
        new JsonObject().put("stateDir", stateDir.toString()).encode());
    CliRun run = CliRun.of("status", "--config", config.toString());
    assertTrue(run.out().startsWith("HOST  root@box:22  PID " + DEAD_PID), run.toString());
    Path bad = Files.writeString(dir.resolve("bad.json"), "{\"stateDir\": 5}");
    CliRun badRun = CliRun.of("status", "--config", bad.toString());
    assertEquals(ExitCodes.USAGE, badRun.exit(), badRun.toString());
    assertTrue(badRun.err().contains("stateDir"), badRun.toString());
  }

  @Test
  void aNamedHostWithoutStateSaysSo() {
    CliRun run = CliRun.of("status", "--state-dir", dir.toString(), "--ssh-config", "/dev/null",
        "--host", "root@nowhere");
    assertEquals(ExitCodes.FAILED, run.exit(), run.toString());
    assertTrue(run.err().startsWith("docktunnel: no state for host root@nowhere:22 in " + dir), run.toString());
  }

  @Test
  void badOptionsExitTwoWithALineNamingThem() {
    CliRun unknown = CliRun.of("status", "--frobnicate");
    assertEquals(ExitCodes.USAGE, unknown.exit());
    assertTrue(unknown.err().startsWith("docktunnel: Unknown option: '--frobnicate'"), unknown.toString());

    CliRun badHost = CliRun.of("status", "--state-dir", dir.toString(), "--ssh-config", "/dev/null",
        "--host", "root@bad host");
    assertEquals(ExitCodes.USAGE, badHost.exit());
    assertTrue(badHost.err().startsWith("docktunnel: setting 'host' (--host): "), badHost.toString());
    assertEquals(1, badHost.err().lines().count(), badHost.toString());

    CliRun missingConfig = CliRun.of("status", "--config", dir.resolve("none.json").toString());
    assertEquals(ExitCodes.USAGE, missingConfig.exit());
    assertEquals("docktunnel: config file " + dir.resolve("none.json") + " (--config) does not exist",
        missingConfig.err().strip());
  }

  @Test
  void aChangeIsAnythingButTheSeqAndTheWriteTime() {
    JsonObject doc = new JsonObject().put("seq", 4).put("updatedAt", "t1").put("forwards", List.of());
    assertEquals(StatusCommand.changeKey(doc),
        StatusCommand.changeKey(doc.copy().put("seq", 9).put("updatedAt", "t2")));
    assertTrue(!StatusCommand.changeKey(doc).equals(StatusCommand.changeKey(doc.copy().put("stale", true))));
  }
}

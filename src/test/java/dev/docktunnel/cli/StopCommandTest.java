package dev.docktunnel.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.docktunnel.http.ApiToken;
import dev.docktunnel.state.HostId;
import dev.docktunnel.state.HostState;
import dev.docktunnel.state.LockProbeMain;
import dev.docktunnel.state.StateDir;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code docktunnel stop} in process against state files written here. The processes it may
 * signal are children of this test, so a wrong decision can only hit them.
 */
class StopCommandTest {
  static final HostId ID = new HostId("root-box-22-00000001");

  @TempDir
  Path dir;
  Process child;

  @AfterEach
  void endChild() throws InterruptedException {
    if (child != null && child.isAlive()) {
      child.destroyForcibly(); // our own child, by handle
      child.waitFor(10, TimeUnit.SECONDS);
    }
  }

  /** A running daemon's record for {@code pid} (started after it), written just now. */
  static HostState freshRecord(long pid, Integer httpPort) {
    Instant now = Instant.now();
    return new HostState(HostState.VERSION, "root@box:22", pid, true, null, now, now, "s-1",
        new HostState.Ssh("connected", null, now), List.of(), httpPort, null);
  }

  /**
   * The HTTP path, against the documented contract: {@code POST /stop} with {@code Authorization:
   * Bearer <token>} answers 202 and the daemon ends, leaving {@code running: false}. The fake
   * daemon here does just that for a child process standing in for the daemon's PID.
   */
  @Test
  void aLiveDaemonIsAskedOverHttpWithTheTokenAndWaitedFor() throws Exception {
    child = new ProcessBuilder("sleep", "60").start();
    ApiToken token = ApiToken.loadOrCreate(dir);
    List<String> authorizations = new java.util.concurrent.CopyOnWriteArrayList<>();
    HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    try {
      server.createContext("/stop", exchange -> {
        authorizations.add(exchange.getRequestMethod() + " " + exchange.getRequestHeaders().getFirst("Authorization"));
        boolean ok = exchange.getRequestMethod().equals("POST")
            && token.matchesHeader(exchange.getRequestHeaders().getFirst("Authorization"));
        exchange.sendResponseHeaders(ok ? 202 : 401, -1);
        exchange.close();
        if (ok) {
          try {
            StatusCommandTest.write(dir, ID, StatusFixtures.stopped(child.pid()));
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
          child.destroy();
        }
      });
      server.start();
      StatusCommandTest.write(dir, ID, freshRecord(child.pid(), server.getAddress().getPort()));
      CliRun run = CliRun.of("stop", "--state-dir", dir.toString());
      assertEquals(ExitCodes.OK, run.exit(), run.toString());
      assertEquals(List.of("POST Bearer " + token.text()), authorizations);
      assertTrue(run.out().startsWith("docktunnel: stopped host root@box:22 (PID " + child.pid() + ") in "), run.toString());
      assertTrue(run.out().strip().endsWith("; asked over HTTP (POST /stop)"), run.toString());
      assertTrue(!child.isAlive());
    } finally {
      server.stop(0);
    }
  }

  @Test
  void aNamedHostWithoutStateExitsOne() {
    CliRun run = CliRun.of("stop", "--state-dir", dir.toString(), "--ssh-config", "/dev/null", "--host", "root@box");
    assertEquals(ExitCodes.FAILED, run.exit(), run.toString());
    assertTrue(run.err().contains("no state for host root@box:22"), run.toString());
    assertTrue(run.err().endsWith("nothing to stop\n"), run.toString());
  }

  @Test
  void aHostNotRunningIsSaidAndExitsZero() throws Exception {
    StatusCommandTest.write(dir, ID, StatusFixtures.stopped(StatusCommandTest.DEAD_PID));
    CliRun all = CliRun.of("stop", "--state-dir", dir.toString());
    assertEquals(ExitCodes.OK, all.exit(), all.toString());
    assertEquals("docktunnel: nothing to stop: no docktunnel is running with state dir " + dir + " (1 host(s) there)",
        all.out().strip());
  }

  @Test
  void aReusedPidIsNeverSignalled() throws Exception {
    child = new ProcessBuilder("sleep", "60").start();
    // Stale: the record is old, so its HTTP port is not asked; the PID is alive but holds no lock.
    HostState old = StatusFixtures.running(child.pid(), List.of());
    StatusCommandTest.write(dir, ID, old);
    CliRun stale = CliRun.of("stop", "--state-dir", dir.toString());
    assertEquals(ExitCodes.OK, stale.exit(), stale.toString());
    assertTrue(child.isAlive(), "an unrelated process with the recorded PID must not be signalled: " + stale);

    // Fresh (as if it crashed a moment ago and the PID was taken at once): HTTP fails, no SIGTERM either.
    StatusCommandTest.write(dir, ID, freshRecord(child.pid(), 1));
    CliRun fresh = CliRun.of("stop", "--state-dir", dir.toString());
    assertEquals(ExitCodes.FAILED, fresh.exit(), fresh.toString());
    assertTrue(fresh.err().contains("no SIGTERM to PID " + child.pid() + ": lock "), fresh.toString());
    assertTrue(fresh.err().contains("is not held"), fresh.toString());
    assertTrue(child.isAlive(), fresh.toString());
  }

  @Test
  void withoutAnHttpAnswerTheLockHolderGetsSigtermAndAnUncleanEndIsReported() throws Exception {
    String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-XX:TieredStopAtLevel=1", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp", classPath,
        LockProbeMain.class.getName(), "hold", StateDir.lockFileIn(dir, ID).toString(), "test")
        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    String line = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8)).readLine();
    assertEquals("ACQUIRED " + child.pid(), line);
    StatusCommandTest.write(dir, ID, freshRecord(child.pid(), null));
    CliRun run = CliRun.of("stop", "--state-dir", dir.toString());
    assertTrue(child.waitFor(20, TimeUnit.SECONDS), "SIGTERM ends the lock holder: " + run);
    assertEquals(143, child.exitValue(), "ended by SIGTERM, not a kill");
    // The probe is no docktunnel: it cannot mark the file stopped, and stop says so.
    assertEquals(ExitCodes.FAILED, run.exit(), run.toString());
    assertTrue(run.err().contains("PID " + child.pid() + " ended (sent SIGTERM to PID " + child.pid()
        + ", since its state file records no HTTP port) but did not mark its state file stopped"), run.toString());
  }
}

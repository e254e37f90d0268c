package dev.docktunnel.cli;

import static dev.docktunnel.cli.StatusFixtures.T0;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docktunnel.state.HostState;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class StatusTableTest {

  @Test
  void aLiveHostShowsItsSessionUptimeAndOneAlignedRowPerForward() {
    HostState state = StatusFixtures.running(4242, List.of(
        StatusFixtures.forward("active", null, 1234, 340),
        new HostState.Forward("abc", "db-with-a-long-name", "::1", 15432, 5432, "conflict",
            "local port 5432 is taken by postgres (PID 77)", null, T0, T0.plusSeconds(60), 0, 0, "tcp", 5432,
            "10.0.0.5", 5432, 0, 0, 0)));
    String table = StatusTable.render(state, null, T0.plusSeconds(192));
    List<String> lines = table.lines().toList();
    assertEquals("HOST  root@box:22  PID 4242  up 3m 12s", lines.get(0));
    assertEquals("SSH   connected since 2026-12-01T10:00:02Z (3m 10s)", lines.get(1));
    assertEquals("CONTAINER     NAME                 LOCAL           REMOTE         STATE     DURATION  BYTES"
        + "          REASON", lines.get(2));
    assertEquals("3f9a1c2b4d5e  web                  127.0.0.1:8080  127.0.0.1:80   active    3m 09s    "
        + "1.2 KiB/340 B  -", lines.get(3));
    assertEquals("abc           db-with-a-long-name  [::1]:15432     10.0.0.5:5432  conflict  2m 12s    "
        + "0 B/0 B        local port 5432 is taken by postgres (PID 77)", lines.get(4));
    assertEquals(5, lines.size(), table);
    assertTrue(table.endsWith("\n"));
  }

  @Test
  void aHostNotRunningSaysWhyInsteadOfAnUptimeAndTheSessionReason() {
    HostState stopped = StatusFixtures.stopped(4242);
    String table = StatusTable.render(stopped, "not running (stopped at 2026-12-01T10:00:09Z)", T0.plusSeconds(3600));
    List<String> lines = table.lines().toList();
    assertEquals("HOST  root@box:22  PID 4242  not running (stopped at 2026-12-01T10:00:09Z)", lines.get(0));
    assertEquals("SSH   disconnected since 2026-12-01T10:00:09Z (59m 51s): stopped", lines.get(1));
    assertTrue(lines.get(3).contains(" active "), table);
  }

  @Test
  void theDockerSocketLineShowsItsPathAndCountsWhileLiveOnly() {
    HostState base = StatusFixtures.running(7, List.of());
    HostState.DockerSocket socket = new HostState.DockerSocket("/s/root-box-22-1/docker.sock", true, 2, 14, 1);
    HostState live = new HostState(base.version(), base.host(), base.pid(), true, null, base.startedAt(),
        base.updatedAt(), base.sessionId(), base.ssh(), List.of(), null, null, socket);
    assertEquals("DOCKER unix:///s/root-box-22-1/docker.sock  2 connection(s), 14 request(s), 1 stream(s)",
        StatusTable.render(live, null, T0.plusSeconds(5)).lines().toList().get(2));
    assertEquals("DOCKER unix:///s/root-box-22-1/docker.sock  not listening",
        StatusTable.render(live, "not running (PID 7 is gone)", T0.plusSeconds(5)).lines().toList().get(2));
  }

  @Test
  void theServerLineShowsTheLifecycleAndTheCountdownAndTheBellRingsWhenItBegins() {
    HostState base = StatusFixtures.running(7, List.of());
    HostState warning = new HostState(base.version(), base.host(), base.pid(), true, null, base.startedAt(),
        base.updatedAt(), base.sessionId(), base.ssh(), List.of(), null, null, null,
        new HostState.Server("idle-warning", "static", "idle for 30m", T0.plusSeconds(60), T0.plusSeconds(120), null));
    assertEquals("SERVER idle-warning (static) since 2026-12-01T10:01:00Z (42s): idle for 30m;"
        + " stops at 2026-12-01T10:02:00Z (in 18s)",
        StatusTable.render(warning, null, T0.plusSeconds(102)).lines().toList().get(2));
    JsonObject running = new JsonObject().put("server", new JsonObject().put("state", "running"));
    JsonObject counting = new JsonObject().put("server", new JsonObject().put("state", "idle-warning"));
    assertTrue(StatusTable.countdownBegan(running, counting));
    assertTrue(StatusTable.countdownBegan(null, counting), "watching starts during a countdown");
    assertFalse(StatusTable.countdownBegan(counting, counting), "rung once per countdown");
    assertFalse(StatusTable.countdownBegan(counting, running));
    assertFalse(StatusTable.countdownBegan(running, new JsonObject()), "an older daemon without a lifecycle");
  }

  @Test
  void noForwardsIsSaidInWords() {
    String table = StatusTable.render(StatusFixtures.running(1, List.of()), null, T0.plusSeconds(5));
    assertEquals("no forwards (no running container publishes a TCP port)", table.lines().toList().get(2));
  }

  @Test
  void durationsAreShortAndNeverNegative() {
    assertEquals("0s", StatusTable.duration(Duration.ofSeconds(-3)));
    assertEquals("59s", StatusTable.duration(Duration.ofMillis(59_999)));
    assertEquals("1m 00s", StatusTable.duration(Duration.ofSeconds(60)));
    assertEquals("2h 05m", StatusTable.duration(Duration.ofMinutes(125).plusSeconds(59)));
    assertEquals("3d 04h", StatusTable.duration(Duration.ofHours(76)));
  }

  @Test
  void bytesUseBinaryUnits() {
    assertEquals("0 B", StatusTable.bytes(0));
    assertEquals("1023 B", StatusTable.bytes(1023));
    assertEquals("1.0 KiB", StatusTable.bytes(1024));
    assertEquals("1.5 MiB", StatusTable.bytes(1536L * 1024));
    assertEquals("2.0 GiB", StatusTable.bytes(2L << 30));
    assertEquals("8.0 EiB", StatusTable.bytes(Long.MAX_VALUE));
  }
}

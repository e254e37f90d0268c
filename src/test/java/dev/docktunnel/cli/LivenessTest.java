package dev.docktunnel.cli;

import static dev.docktunnel.cli.StatusFixtures.T0;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docktunnel.state.HostState;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class LivenessTest {
  final HostState running = StatusFixtures.running(4242, List.of());

  @Test
  void aFreshRecordOfALivePidIsLive() {
    Liveness live = Liveness.of(running, T0.plusSeconds(15), pid -> true);
    assertTrue(live.live());
    assertNull(live.reason());
  }

  @Test
  void aGracefulStopIsNotRunningWithItsTime() {
    Liveness l = Liveness.of(StatusFixtures.stopped(4242), T0.plusSeconds(10), pid -> true);
    assertFalse(l.live());
    assertEquals("not running (stopped at 2026-12-01T10:00:09Z)", l.reason());
    assertEquals("docktunnel: host root@box:22 is not running (stopped at 2026-12-01T10:00:09Z); showing the last "
        + "state file /s/h.state.json (stale)", l.warning("root@box:22", Path.of("/s/h.state.json")));
  }

  @Test
  void aGonePidIsNotRunningEvenWhenTheRecordIsFresh() {
    Liveness l = Liveness.of(running, T0.plusSeconds(6), pid -> false);
    assertFalse(l.live());
    assertTrue(l.reason().startsWith("not running (PID 4242 is gone without a clean stop"), l.reason());
  }

  @Test
  void anOldRecordOfALivePidIsStale() {
    // 10 s is the limit: at 10 s it is live, past it stale
    assertTrue(Liveness.of(running, T0.plusSeconds(15), pid -> true).live());
    Liveness l = Liveness.of(running, T0.plusSeconds(16), pid -> true);
    assertFalse(l.live());
    assertEquals("stale (last written at 2026-12-01T10:00:05Z; PID 4242 is alive but not writing it: stuck, or not "
        + "docktunnel)", l.reason());
  }

  @Test
  void theReasonDoesNotTickWithTheClock() {
    assertEquals(Liveness.of(running, T0.plusSeconds(20), pid -> false).reason(),
        Liveness.of(running, T0.plusSeconds(80), pid -> false).reason());
  }
}

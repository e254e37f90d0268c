package dev.docktunnel.cli;

import dev.docktunnel.state.HostState;
import java.time.Instant;
import java.util.List;

/** Records for the status tests. */
final class StatusFixtures {
  static final Instant T0 = Instant.parse("2026-12-01T10:00:00Z");
  static final String ID = "3f9a1c2b4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8";

  private StatusFixtures() {
  }

  static HostState.Forward forward(String status, String reason, long in, long out) {
    return new HostState.Forward(ID, "web", "127.0.0.1", 8080, 80, status, reason, "s-1", T0,
        T0.plusSeconds(3), in, out, "tcp", 8080, "127.0.0.1", 8080, 1, 4, 0);
  }

  /** A live daemon's record, written at {@code T0 + 5 s}, session up since {@code T0 + 2 s}. */
  static HostState running(long pid, List<HostState.Forward> forwards) {
    return new HostState(HostState.VERSION, "root@box:22", pid, true, null, T0, T0.plusSeconds(5), "s-1",
        new HostState.Ssh("connected", null, T0.plusSeconds(2)), forwards, 41234, null);
  }

  static HostState stopped(long pid) {
    return new HostState(HostState.VERSION, "root@box:22", pid, false, T0.plusSeconds(9), T0, T0.plusSeconds(9),
        "s-1", new HostState.Ssh("disconnected", "stopped", T0.plusSeconds(9)),
        List.of(forward("active", null, 0, 0)), 41234, null);
  }
}

package dev.docktunnel.ssh;

import dev.docktunnel.bus.SessionState;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.docktunnel.ssh.FailureVerdict.Cause;
import dev.docktunnel.bus.SessionState.State;
import org.junit.jupiter.api.Test;

class FailureVerdictTest {

  private static FailureVerdict ends(State state) {
    return new FailureVerdict(state, true);
  }

  private static FailureVerdict retries(State state) {
    return new FailureVerdict(state, false);
  }

  @Test
  void aRefusedHostKeyEndsEverythingAlways() {
    for (boolean connected : new boolean[] {false, true}) {
      for (boolean wait : new boolean[] {false, true}) {
        assertEquals(ends(State.FAILED), FailureVerdict.of(Cause.HOST_KEY_REFUSED, connected, wait, false));
      }
    }
  }

  @Test
  void theFirstConnectionFailsFastUnlessToldToWait() {
    assertEquals(ends(State.FAILED), FailureVerdict.of(Cause.UNREACHABLE, false, false, false));
    assertEquals(ends(State.FAILED), FailureVerdict.of(Cause.AUTH_REJECTED, false, false, false));
    assertEquals(retries(State.CONNECTING), FailureVerdict.of(Cause.UNREACHABLE, false, true, false));
    assertEquals(retries(State.AUTH_REQUIRED), FailureVerdict.of(Cause.AUTH_REJECTED, false, true, false));
    assertEquals(retries(State.FAILED), FailureVerdict.of(Cause.UNREACHABLE, false, true, true));
  }

  @Test
  void afterAFirstSuccessItNeverGivesUp() {
    assertEquals(retries(State.RECONNECTING), FailureVerdict.of(Cause.UNREACHABLE, true, false, false));
    assertEquals(retries(State.FAILED), FailureVerdict.of(Cause.UNREACHABLE, true, false, true));
    assertEquals(retries(State.AUTH_REQUIRED), FailureVerdict.of(Cause.AUTH_REJECTED, true, false, false));
    assertEquals(retries(State.AUTH_REQUIRED), FailureVerdict.of(Cause.AUTH_REJECTED, true, false, true));
  }
}

package dev.docktunnel.ssh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docktunnel.ssh.LinkLiveness.Verdict;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The liveness rules driven tick by tick (500 ms, as the verticle does) with keepalive 5 s × 2
 * and a 2 s wake timeout, in simulated time.
 */
class LinkLivenessTest {

  private static final long MS = 1_000_000L;
  private static final long TICK = 500 * MS;

  private final LinkLiveness liveness =
      new LinkLiveness(Duration.ofSeconds(5), 2, Duration.ofSeconds(2), 0);
  private long now;
  private long in;
  private long out;
  private final List<String> log = new ArrayList<>();

  /** Ticks until {@code untilMillis}; returns the first non-ALIVE verdict's time, or -1. */
  private long tickUntil(long untilMillis, long inPerTick, long outPerTick, Verdict stopAt) {
    while (now < untilMillis * MS) {
      now += TICK;
      in += inPerTick;
      out += outPerTick;
      Verdict verdict = liveness.check(now, in, out);
      if (verdict != Verdict.ALIVE) {
        log.add(now / MS + " " + verdict);
      }
      if (verdict == Verdict.PROBE) {
        out += 60; // the probe itself
      }
      if (verdict == stopAt) {
        return now / MS;
      }
    }
    return -1;
  }

  private void reply() {
    in += 40;
  }

  @Test
  void anIdleLinkIsProbedEveryIntervalAndStaysUpWhileAnswered() {
    assertEquals(5_000, tickUntil(6_000, 0, 0, Verdict.PROBE));
    reply();
    liveness.answered();
    // the reply bytes reset the silence at the next tick (5.5 s): the next probe is 5 s later
    assertEquals(10_500, tickUntil(20_000, 0, 0, Verdict.PROBE));
    reply();
    liveness.answered();
    assertEquals(-1, tickUntil(15_000, 0, 0, Verdict.DEAD));
  }

  @Test
  void aDeadIdleLinkIsNoticedWithinIntervalTimesCountPlusOne() {
    // the link dies right after the first probe's reply arrived (seen at t = 5.5 s): the worst case
    tickUntil(5_000, 0, 0, Verdict.PROBE);
    reply();
    liveness.answered();
    tickUntil(5_500, 0, 0, Verdict.DEAD);
    long died = 5_500;
    long dead = tickUntil(60_000, 0, 0, Verdict.DEAD);
    assertEquals(died + 15_000, dead, log.toString());
    assertTrue(liveness.deadReason().contains("no answer from the server"), liveness.deadReason());
  }

  @Test
  void withDataInFlightSilenceIsSuspectAfterOneSecondAndDeadAfterIntervalTimesCount() {
    tickUntil(3_000, 64 * 1024, 512, null); // a download through a forward
    long died = 3_000;
    assertEquals(died + 1_000, tickUntil(10_000, 0, 0, Verdict.PROBE));
    assertEquals(died + 10_000, tickUntil(60_000, 0, 0, Verdict.DEAD), log.toString());
  }

  @Test
  void anUploadWhoseWindowAdjustsStopIsBusyToo() {
    tickUntil(3_000, 80, 64 * 1024, null); // we stream, the server acknowledges with window adjusts
    assertEquals(3_000 + 10_000, tickUntil(60_000, 0, 64 * 1024, Verdict.DEAD), log.toString());
  }

  @Test
  void aBlipShorterThanTheProbeWindowIsSurvived() {
    // idle: the probe at 5 s goes unanswered for 8 s, then TCP's retransmission gets through
    tickUntil(5_000, 0, 0, Verdict.PROBE);
    assertEquals(-1, tickUntil(13_000, 0, 0, Verdict.DEAD));
    reply();
    liveness.answered();
    assertEquals(-1, tickUntil(17_000, 0, 0, Verdict.DEAD));
    // busy: 8 s without a byte, then the stream resumes; any inbound byte proves the link
    tickUntil(20_000, 64 * 1024, 0, null);
    assertEquals(-1, tickUntil(28_000, 0, 0, Verdict.DEAD));
    assertEquals(-1, tickUntil(32_000, 64 * 1024, 0, Verdict.DEAD));
  }

  @Test
  void afterAWakeTheLinkIsProbedAtOnceWithTheShortTimeout() {
    tickUntil(2_000, 0, 0, null);
    liveness.woke(now);
    assertEquals(2_500, tickUntil(3_000, 0, 0, Verdict.PROBE));
    assertEquals(4_500, tickUntil(10_000, 0, 0, Verdict.DEAD));
    assertTrue(liveness.deadReason().contains("after a wake from sleep"), liveness.deadReason());
  }

  @Test
  void anAnsweredWakeProbeKeepsTheSession() {
    liveness.woke(now);
    assertEquals(500, tickUntil(1_000, 0, 0, Verdict.PROBE));
    reply();
    liveness.answered();
    assertEquals(-1, tickUntil(5_500, 0, 0, Verdict.DEAD));
    assertEquals(6_000, tickUntil(7_000, 0, 0, Verdict.PROBE), "back to the idle rhythm");
  }

  @Test
  void aWakeWhileAProbeIsOutstandingCutsItsWait() {
    tickUntil(5_000, 0, 0, Verdict.PROBE);
    tickUntil(6_000, 0, 0, null);
    liveness.woke(now);
    assertEquals(8_000, tickUntil(20_000, 0, 0, Verdict.DEAD), log.toString());
  }

  @Test
  void badSettings() {
    assertThrows(IllegalArgumentException.class,
        () -> new LinkLiveness(Duration.ZERO, 2, Duration.ofSeconds(2), 0));
    assertThrows(IllegalArgumentException.class,
        () -> new LinkLiveness(Duration.ofSeconds(5), 0, Duration.ofSeconds(2), 0));
  }
}

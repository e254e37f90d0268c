package dev.docktunnel.ssh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class SleepDetectorTest {

  private static final long MS = 1_000_000L;
  private final SleepDetector detector = new SleepDetector(Duration.ofMillis(500), Duration.ofSeconds(3));

  @Test
  void regularTicksAndSmallDelaysAreNoSleep() {
    assertEquals(Optional.empty(), detector.tick(10_000, 0));
    assertEquals(Optional.empty(), detector.tick(10_500, 500 * MS));
    // a busy event loop: the tick is 2.5 s late
    assertEquals(Optional.empty(), detector.tick(13_500, 3_500 * MS));
  }

  @Test
  void suspendIsSeenByTheWallClockWhileTheMonotonicClockStood() {
    detector.tick(10_000, 0);
    // Linux stops CLOCK_MONOTONIC during suspend: 500 ms passed for it, 60 s on the wall
    assertEquals(Optional.of(Duration.ofSeconds(60)), detector.tick(70_000, 500 * MS));
    assertEquals(Optional.empty(), detector.tick(70_500, 1_000 * MS), "once per wake");
  }

  @Test
  void aFrozenProcessIsSeenByBothClocks() {
    detector.tick(10_000, 0);
    assertEquals(Optional.of(Duration.ofSeconds(20)), detector.tick(30_000, 20_000 * MS));
  }

  @Test
  void aWallClockStepBackIsNoSleep() {
    detector.tick(10_000, 0);
    assertEquals(Optional.empty(), detector.tick(5_000, 500 * MS));
    assertEquals(Optional.empty(), detector.tick(5_500, 1_000 * MS));
  }

  @Test
  void badSettings() {
    assertThrows(IllegalArgumentException.class, () -> new SleepDetector(Duration.ZERO, Duration.ofSeconds(1)));
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> new SleepDetector(Duration.ofSeconds(1), Duration.ZERO)).getMessage().contains("positive"));
  }
}

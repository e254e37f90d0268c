package dev.docktunnel.ssh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ReconnectPolicyTest {

  private final ReconnectPolicy policy =
      new ReconnectPolicy(Duration.ofSeconds(1), Duration.ofSeconds(30), Duration.ofMinutes(5));

  @Test
  void doublesFromMinUpToMaxWithEqualJitter() {
    // random 0.999..: the top of each step
    assertEquals(Duration.ofMillis(1000), policy.delay(1, () -> 0.9999999));
    assertEquals(Duration.ofMillis(1999), policy.delay(2, () -> 0.9999999));
    assertEquals(Duration.ofMillis(3999), policy.delay(3, () -> 0.9999999));
    assertEquals(Duration.ofMillis(29999), policy.delay(6, () -> 0.9999999));
    assertEquals(Duration.ofMillis(29999), policy.delay(60, () -> 0.9999999));
    // random 0: the bottom half of each step, never under min
    assertEquals(Duration.ofMillis(1000), policy.delay(1, () -> 0));
    assertEquals(Duration.ofMillis(1000), policy.delay(2, () -> 0));
    assertEquals(Duration.ofMillis(2000), policy.delay(3, () -> 0));
    assertEquals(Duration.ofMillis(15000), policy.delay(10, () -> 0));
  }

  @Test
  void delaysStayWithinMinAndMax() {
    Random random = new Random(42);
    for (int failures = 1; failures < 100; failures++) {
      Duration d = policy.delay(failures, random::nextDouble);
      assertTrue(d.compareTo(Duration.ofSeconds(1)) >= 0 && d.compareTo(Duration.ofSeconds(30)) <= 0, d.toString());
    }
    assertEquals(Duration.ofMillis(15000), policy.delay(Integer.MAX_VALUE, () -> 0.0));
  }

  @Test
  void progressTimeout() {
    Instant start = Instant.parse("2025-01-01T00:00:00Z");
    assertFalse(policy.progressTimedOut(start, start.plus(Duration.ofMinutes(4))));
    assertTrue(policy.progressTimedOut(start, start.plus(Duration.ofMinutes(5))));
  }

  @Test
  void afterTheProgressTimeoutEveryRetryWaitsTheMaximumStep() {
    Instant start = Instant.parse("2025-01-01T00:00:00Z");
    Instant before = start.plus(Duration.ofMinutes(4));
    Instant after = start.plus(Duration.ofMinutes(5));
    assertEquals(Duration.ofMillis(1000), policy.delay(1, start, before, () -> 0.9999999), "the usual steps before");
    assertEquals(Duration.ofMillis(29999), policy.delay(1, start, after, () -> 0.9999999), "the maximum step after");
    assertEquals(Duration.ofMillis(15000), policy.delay(1, start, after, () -> 0), "jittered in its upper half");
  }

  @Test
  void badSettingsAreNamed() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new ReconnectPolicy(Duration.ofSeconds(5), Duration.ofSeconds(1), Duration.ofMinutes(1)));
    assertTrue(e.getMessage().contains("reconnectMaxDelay"), e.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> new ReconnectPolicy(Duration.ZERO, Duration.ofSeconds(1), Duration.ofMinutes(1)));
    assertThrows(IllegalArgumentException.class,
        () -> new ReconnectPolicy(Duration.ofSeconds(1), Duration.ofSeconds(1), Duration.ZERO));
    assertThrows(IllegalArgumentException.class, () -> policy.delay(0, () -> 0));
  }
}

package dev.docktunnel.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

/** The cap's decisions and its once-a-minute warning, with a hand-moved clock. */
class ConnectionCapTest {
  Instant now = Instant.parse("2026-12-01T10:00:00Z");
  final Clock clock = new Clock() {
    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  };
  final ConnectionCap cap = new ConnectionCap(2, Duration.ofMinutes(1), clock);

  @Test
  void admitsUpToTheCapAndAgainAfterARelease() {
    assertTrue(cap.admit());
    assertTrue(cap.admit());
    assertFalse(cap.admit());
    assertEquals(2, cap.open());
    cap.release();
    assertTrue(cap.admit());
    assertEquals(1, cap.refused());
  }

  @Test
  void warnsAtMostOnceAMinuteWithTheRefusalsSince() {
    assertEquals(0, cap.refusalsToWarn(), "nothing refused, nothing to say");
    cap.admit();
    cap.admit();
    cap.admit();
    assertEquals(1, cap.refusalsToWarn());
    cap.admit();
    cap.admit();
    now = now.plusSeconds(59);
    assertEquals(0, cap.refusalsToWarn(), "within the minute");
    now = now.plusSeconds(1);
    assertEquals(2, cap.refusalsToWarn(), "the ones held back are counted in the next warning");
    assertEquals(3, cap.refused());
  }

  @Test
  void aCapBelowOneIsRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new ConnectionCap(0, Duration.ofMinutes(1), clock));
    assertEquals("connection cap must be 1 or more, not 0", e.getMessage());
  }
}

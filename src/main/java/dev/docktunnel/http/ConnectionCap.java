package dev.docktunnel.http;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * How many HTTP connections may be open at once, and when a refusal is worth a WARN again (at
 * most once per {@code warnEvery}, with the number refused meanwhile). Pure; the clock injected.
 * Used from one event loop (the HTTP server's); the counts are read by a scrape, so volatile.
 */
final class ConnectionCap {
  private final int max;
  private final Duration warnEvery;
  private final Clock clock;
  private volatile int open;
  private volatile long refused;
  private long refusedSinceWarn;
  private Instant lastWarn;

  ConnectionCap(int max, Duration warnEvery, Clock clock) {
    if (max < 1) {
      throw new IllegalArgumentException("connection cap must be 1 or more, not " + max);
    }
    this.max = max;
    this.warnEvery = warnEvery;
    this.clock = clock;
  }

  /** True when one more connection may open (and it is counted open); false: close it at once. */
  boolean admit() {
    if (open >= max) {
      refused++;
      refusedSinceWarn++;
      return false;
    }
    open++;
    return true;
  }

  /** An admitted connection closed. */
  void release() {
    if (open > 0) {
      open--;
    }
  }

  /**
   * The number of refusals to report in a WARN now, or 0 when one was reported less than
   * {@code warnEvery} ago (the count carries over to the next).
   */
  long refusalsToWarn() {
    Instant now = clock.instant();
    if (refusedSinceWarn == 0 || (lastWarn != null && now.isBefore(lastWarn.plus(warnEvery)))) {
      return 0;
    }
    lastWarn = now;
    long n = refusedSinceWarn;
    refusedSinceWarn = 0;
    return n;
  }

  int max() {
    return max;
  }

  int open() {
    return open;
  }

  long refused() {
    return refused;
  }
}

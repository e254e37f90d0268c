package dev.docktunnel.ssh;

import java.time.Duration;
import java.util.Optional;

/**
 * Notices that the machine slept (or the process was frozen) from two clocks read on a periodic
 * timer: the monotonic clock stops while Linux is suspended and the wall clock does not, and a
 * frozen process sees both jump. A gap between ticks well beyond the timer's period is a wake.
 * A wall-clock step (NTP) looks the same; the only cost is one extra keepalive probe. Pure: the
 * readings are passed in.
 */
final class SleepDetector {

  private final long periodMillis;
  private final long thresholdMillis;
  private long lastWall;
  private long lastMono;
  private boolean started;

  /**
   * @param period how often {@link #tick} is called
   * @param threshold how far beyond the period a gap must be to count as sleep
   */
  SleepDetector(Duration period, Duration threshold) {
    if (period.isNegative() || period.isZero() || threshold.isNegative() || threshold.isZero()) {
      throw new IllegalArgumentException("period and threshold must be positive: " + period + ", " + threshold);
    }
    this.periodMillis = period.toMillis();
    this.thresholdMillis = threshold.toMillis();
  }

  /**
   * One timer tick.
   *
   * @param wallMillis {@code System.currentTimeMillis()}
   * @param monoNanos {@code System.nanoTime()}
   * @return how long the machine was away, when this tick comes after a sleep or freeze
   */
  Optional<Duration> tick(long wallMillis, long monoNanos) {
    if (!started) {
      started = true;
      lastWall = wallMillis;
      lastMono = monoNanos;
      return Optional.empty();
    }
    long wallGap = wallMillis - lastWall;
    long monoGap = (monoNanos - lastMono) / 1_000_000;
    lastWall = wallMillis;
    lastMono = monoNanos;
    long gap = Math.max(wallGap, monoGap);
    return gap - periodMillis > thresholdMillis ? Optional.of(Duration.ofMillis(gap)) : Optional.empty();
  }
}

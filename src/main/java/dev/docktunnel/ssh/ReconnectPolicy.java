package dev.docktunnel.ssh;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.function.DoubleSupplier;

/**
 * When to try again: exponential backoff from {@code minDelay} doubling up to {@code maxDelay},
 * with jitter so many clients do not retry in lockstep, and when to give up: no progress for
 * {@code progressTimeout}. Pure; the randomness and the clock are passed in.
 *
 * @param minDelay the first backoff step
 * @param maxDelay the ceiling
 * @param progressTimeout how long without progress before the state is {@code failed}
 */
public record ReconnectPolicy(Duration minDelay, Duration maxDelay, Duration progressTimeout) {

  public ReconnectPolicy {
    Objects.requireNonNull(minDelay, "minDelay");
    Objects.requireNonNull(maxDelay, "maxDelay");
    Objects.requireNonNull(progressTimeout, "progressTimeout");
    if (minDelay.isNegative() || minDelay.isZero()) {
      throw new IllegalArgumentException("reconnectMinDelay must be positive, got " + minDelay);
    }
    if (maxDelay.compareTo(minDelay) < 0) {
      throw new IllegalArgumentException(
          "reconnectMaxDelay " + maxDelay + " is below reconnectMinDelay " + minDelay);
    }
    if (progressTimeout.isNegative() || progressTimeout.isZero()) {
      throw new IllegalArgumentException("progressTimeout must be positive, got " + progressTimeout);
    }
  }

  /**
   * The wait after {@code failures} consecutive failed attempts: the exponential step
   * {@code min * 2^(failures-1)} capped at max, then drawn uniformly from its upper half ("equal
   * jitter"), never below min nor above max.
   *
   * @param failures consecutive failed attempts so far, at least 1
   * @param random uniform values in [0, 1)
   */
  public Duration delay(int failures, DoubleSupplier random) {
    if (failures < 1) {
      throw new IllegalArgumentException("failures must be at least 1, got " + failures);
    }
    long min = minDelay.toMillis();
    long max = maxDelay.toMillis();
    long step = min;
    for (int i = 1; i < failures && step < max; i++) {
      step = Math.min(max, step * 2);
    }
    step = Math.min(step, max);
    long jittered = step / 2 + (long) (random.getAsDouble() * (step - step / 2));
    return Duration.ofMillis(Math.max(min, Math.min(max, jittered)));
  }

  /** Whether the time since the last progress reached the progress timeout. */
  public boolean progressTimedOut(Instant lastProgress, Instant now) {
    return Duration.between(lastProgress, now).compareTo(progressTimeout) >= 0;
  }
}

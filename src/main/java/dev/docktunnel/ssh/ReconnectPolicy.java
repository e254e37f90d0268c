package dev.docktunnel.ssh;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.function.DoubleSupplier;

/**
 * When to try again: exponential backoff from {@code minDelay} doubling up to {@code maxDelay},
 * with jitter so many clients do not retry in lockstep, and when the session counts as
 * {@code failed}: no progress for {@code progressTimeout}. Failed is a state, not an ending: the
 * retries go on at the maximum backoff. Pure; the randomness and the clock are passed in.
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
    return jittered(Math.min(step, max), random);
  }

  /**
   * The wait before the next attempt: {@link #delay(int, DoubleSupplier)}, or the maximum step
   * (jittered the same way) once the progress timeout passed, so a long outage costs one attempt
   * per {@code maxDelay} and no more.
   */
  public Duration delay(int failures, Instant lastProgress, Instant now, DoubleSupplier random) {
    if (progressTimedOut(lastProgress, now)) {
      return jittered(maxDelay.toMillis(), random);
    }
    return delay(failures, random);
  }

  private Duration jittered(long step, DoubleSupplier random) {
    long jittered = step / 2 + (long) (random.getAsDouble() * (step - step / 2));
    return Duration.ofMillis(Math.max(minDelay.toMillis(), Math.min(maxDelay.toMillis(), jittered)));
  }

  /** Whether the time since the last progress reached the progress timeout. */
  public boolean progressTimedOut(Instant lastProgress, Instant now) {
    return Duration.between(lastProgress, now).compareTo(progressTimeout) >= 0;
  }
}

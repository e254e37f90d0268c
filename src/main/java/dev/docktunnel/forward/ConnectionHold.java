package dev.docktunnel.forward;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The bounds on local connections held while the SSH session is connecting or reconnecting, for
 * one proxy: how long each may wait and how many may wait at once. Any thread.
 */
final class ConnectionHold {
  final Duration timeout;
  final int limit;
  private final AtomicInteger held = new AtomicInteger();

  ConnectionHold(Duration timeout, int limit) {
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("hold timeout must be above zero, not " + timeout);
    }
    if (limit < 1) {
      throw new IllegalArgumentException("hold limit must be at least 1, not " + limit);
    }
    this.timeout = timeout;
    this.limit = limit;
  }

  /** Takes a place; false when {@link #limit} connections are held already. */
  boolean tryHold() {
    while (true) {
      int n = held.get();
      if (n >= limit) {
        return false;
      }
      if (held.compareAndSet(n, n + 1)) {
        return true;
      }
    }
  }

  /** Gives back a place taken by {@link #tryHold()}. */
  void release() {
    held.decrementAndGet();
  }

  /** How many are held now. */
  int held() {
    return held.get();
  }

  /** The timeout as people write it: {@code 15 s}, {@code 500 ms}. */
  String timeoutText() {
    return text(timeout);
  }

  /** A timeout as people write it: {@code 15 s}, {@code 500 ms}. */
  static String text(Duration timeout) {
    long ms = timeout.toMillis();
    return ms % 1000 == 0 ? ms / 1000 + " s" : ms + " ms";
  }
}

package dev.docktunnel.activity;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The one point where new work and an idle stop meet, so that a stop racing a new connection
 * loses. Every local connection (a forward's, the Docker socket's) {@link #enter enters} on its
 * I/O thread; the lifecycle, having decided to stop on a count of entries it saw, closes the gate
 * only if nobody entered since ({@link #closeIfNoEntrySince}). Either the connection entered
 * first (the close fails and the stop is called off) or it finds the gate closed (it is held and
 * wakes the server). One atomic word: the entries counted in the high bits, closed in the lowest.
 * Any thread.
 */
public final class ActivityGate {
  private static final long CLOSED = 1;
  private static final long ONE_ENTRY = 2;

  private final AtomicLong state = new AtomicLong();

  /** Counts a new connection; false when the gate is closed (the server stops or is stopped). */
  public boolean enter() {
    while (true) {
      long now = state.get();
      if ((now & CLOSED) != 0) {
        return false;
      }
      if (state.compareAndSet(now, now + ONE_ENTRY)) {
        return true;
      }
    }
  }

  /** How many connections entered so far: what a stop decision is based on. */
  public long entries() {
    return state.get() >>> 1;
  }

  public boolean isClosed() {
    return (state.get() & CLOSED) != 0;
  }

  /**
   * Closes the gate for a stop decided on {@code seenEntries}; false (and still open) when a
   * connection entered since, or it is closed already.
   */
  public boolean closeIfNoEntrySince(long seenEntries) {
    long open = seenEntries << 1;
    return state.compareAndSet(open, open | CLOSED);
  }

  /** Closes the gate whatever entered (a person's stop); idempotent. */
  public void close() {
    while (true) {
      long now = state.get();
      if ((now & CLOSED) != 0 || state.compareAndSet(now, now | CLOSED)) {
        return;
      }
    }
  }

  /** Opens the gate again (the server runs, or the stop was given up); the count goes on. */
  public void open() {
    while (true) {
      long now = state.get();
      if ((now & CLOSED) == 0 || state.compareAndSet(now, now & ~CLOSED)) {
        return;
      }
    }
  }
}

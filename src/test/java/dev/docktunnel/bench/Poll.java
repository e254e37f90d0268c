package dev.docktunnel.bench;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Waiting on a condition with a deadline (never a fixed sleep). */
final class Poll {

    private static final long INTERVAL_MILLIS = 20;

    private Poll() {
    }

    /** Polls {@code condition} until true; throws naming {@code what} at the deadline. */
    static void until(String what, Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("waiting for " + what + ": not after " + timeout.toSeconds() + " s");
            }
            pause();
        }
    }

    /** The pause between two checks of a condition that has its own deadline. */
    static void pause() {
        try {
            Thread.sleep(INTERVAL_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting", e);
        }
    }
}

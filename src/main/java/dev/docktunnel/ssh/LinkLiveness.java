package dev.docktunnel.ssh;

import java.time.Duration;
import java.util.Objects;

/**
 * Decides whether the SSH link is alive from byte counters sampled on a timer, so a half-open
 * link (packets silently dropped) is noticed in seconds instead of TCP's minutes. Pure: the
 * caller passes monotonic readings ({@code System.nanoTime()}) and the transport's cumulative
 * byte counts ({@link LinkMeter}), then carries out the verdict (send a probe, or close the
 * session).
 *
 * <p>The rules, with I = keepalive interval and C = keepalive count (defaults 4 s and 2):
 * <ul>
 *   <li>idle (no bulk traffic within the last I): after I without an inbound byte, send a
 *       keepalive probe; the link is dead when it stays unanswered for I × C. A dead idle link is
 *       noticed within I + I × C (12 s, plus up to a second of timer granularity);
 *   <li>data in flight (at least {@link #BULK_BYTES} moved in one check within the last I): a
 *       peer that is streaming to us, or acknowledging our stream with window adjusts, is never
 *       silent for long, so probe after {@link #BUSY_PROBE_AFTER} of inbound silence and call the
 *       link dead after I × C without any inbound byte (8 s, plus the granularity);
 *   <li>after a wake from sleep ({@link #woke()}): probe at once and call the link dead when the
 *       reply does not come within the wake timeout (2 s), so forwards come back right away.
 * </ul>
 * Any inbound byte after a probe was sent (its reply or anything else) proves the link.
 *
 * <p>The trade-off: a network blip is survived when the probe sent during it is answered within
 * I × C, which TCP's retransmission (with exponential backoff) achieves for any idle blip up to
 * ~6 s, and for a 10 s blip that begins with no probe due (the probe then goes out 4 s into the
 * blip and its retransmission 10.2 s in gets through before its 12 s limit). With data in flight
 * a blip longer than I × C ends the session; it is replaced at once, and a longer wait is what
 * makes users see a hung tunnel. Raising {@code ssh.keepaliveInterval} buys tolerance for
 * detection time.
 * TCP_USER_TIMEOUT would do the in-flight part in the kernel, but the JDK's NIO2 sockets MINA
 * uses cannot set it (jdk.net.ExtendedSocketOptions has only the TCP keepalive knobs).
 */
final class LinkLiveness {

  /** Bytes moved (either way) within one check that count as data in flight. */
  static final long BULK_BYTES = 1024;
  /** Inbound silence after which a busy link is probed. */
  static final Duration BUSY_PROBE_AFTER = Duration.ofSeconds(1);

  /** What the caller does now. */
  enum Verdict {
    /** Nothing to do. */
    ALIVE,
    /** Send one keepalive probe now (the rules count it as sent). */
    PROBE,
    /** The link is dead: close the session and reconnect. */
    DEAD
  }

  private final long interval;
  private final long deadAfter;
  private final long wakeTimeout;

  private long lastIn = -1;
  private long lastOut = -1;
  private long lastInboundAt;
  private long lastBulkAt = Long.MIN_VALUE;
  private boolean probing;
  private long probeSentAt;
  private long probeDeadline;
  private long inAtProbe;
  private boolean wakePending;
  private boolean wakeProbe;
  private String deadReason = "";

  /**
   * @param interval I: idle time before a probe, and the window in which bulk traffic means
   *     data is in flight
   * @param countMax C: a probe may go unanswered for I × C
   * @param wakeTimeout how long a probe after a wake from sleep may go unanswered
   * @param nowNanos the monotonic time the session came up
   */
  LinkLiveness(Duration interval, int countMax, Duration wakeTimeout, long nowNanos) {
    Objects.requireNonNull(interval, "interval");
    Objects.requireNonNull(wakeTimeout, "wakeTimeout");
    if (interval.isNegative() || interval.isZero() || countMax < 1 || wakeTimeout.isNegative() || wakeTimeout.isZero()) {
      throw new IllegalArgumentException("bad liveness settings: interval " + interval + ", count " + countMax
          + ", wake timeout " + wakeTimeout);
    }
    this.interval = interval.toNanos();
    this.deadAfter = interval.toNanos() * countMax;
    this.wakeTimeout = wakeTimeout.toNanos();
    this.lastInboundAt = nowNanos;
  }

  /**
   * One check.
   *
   * @param nowNanos monotonic now
   * @param inBytes cumulative bytes received on the link
   * @param outBytes cumulative bytes sent on the link
   */
  Verdict check(long nowNanos, long inBytes, long outBytes) {
    boolean first = lastIn < 0;
    if (!first && (inBytes - lastIn >= BULK_BYTES || outBytes - lastOut >= BULK_BYTES)) {
      lastBulkAt = nowNanos;
    }
    if (!first && inBytes != lastIn) {
      lastInboundAt = nowNanos;
    }
    lastIn = inBytes;
    lastOut = outBytes;
    if (probing && inBytes > inAtProbe) {
      probing = false;
    }
    long silence = nowNanos - lastInboundAt;
    if (probing) {
      if (nowNanos - probeDeadline >= 0) {
        deadReason = "no answer from the server for " + millis(silence) + " ms (keepalive sent "
            + millis(nowNanos - probeSentAt) + " ms ago" + (wakeProbe ? ", after a wake from sleep" : "") + ")";
        return Verdict.DEAD;
      }
      return Verdict.ALIVE;
    }
    if (wakePending) {
      wakePending = false;
      Verdict verdict = probe(nowNanos, inBytes, nowNanos + wakeTimeout);
      wakeProbe = true;
      return verdict;
    }
    boolean busy = lastBulkAt != Long.MIN_VALUE && nowNanos - lastBulkAt <= interval;
    if (busy && silence >= BUSY_PROBE_AFTER.toNanos()) {
      return probe(nowNanos, inBytes, Math.max(lastInboundAt + deadAfter, nowNanos + BUSY_PROBE_AFTER.toNanos()));
    }
    if (silence >= interval) {
      return probe(nowNanos, inBytes, nowNanos + deadAfter);
    }
    return Verdict.ALIVE;
  }

  private Verdict probe(long nowNanos, long inBytes, long deadline) {
    probing = true;
    wakeProbe = false;
    probeSentAt = nowNanos;
    probeDeadline = deadline;
    inAtProbe = inBytes;
    return Verdict.PROBE;
  }

  /** The reply to the outstanding probe arrived. */
  void answered() {
    probing = false;
  }

  /**
   * The machine woke from sleep: probe at once with the short timeout, also cutting the wait of
   * a probe already outstanding.
   *
   * @param nowNanos monotonic now
   */
  void woke(long nowNanos) {
    if (probing) {
      probeDeadline = Math.min(probeDeadline, nowNanos + wakeTimeout);
      wakeProbe = true;
    } else {
      wakePending = true;
    }
  }

  /** Why the last {@link Verdict#DEAD} was given. */
  String deadReason() {
    return deadReason;
  }

  private static long millis(long nanos) {
    return nanos / 1_000_000;
  }
}

package dev.docktunnel.forward;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Byte and connection counts of one forward. Written from Netty and MINA threads, read by the
 * forward verticle's timer, so every field is thread-safe.
 */
public final class ForwardCounters {
  /** Bytes from the local client to the remote service. */
  final LongAdder bytesOut = new LongAdder();
  /** Bytes from the remote service to the local client. */
  final LongAdder bytesIn = new LongAdder();
  final AtomicInteger openConnections = new AtomicInteger();
  final LongAdder connectionsTotal = new LongAdder();
  final LongAdder connectionsFailed = new LongAdder();

  public long bytesOut() {
    return bytesOut.sum();
  }

  public long bytesIn() {
    return bytesIn.sum();
  }

  public int openConnections() {
    return openConnections.get();
  }

  public long connectionsTotal() {
    return connectionsTotal.sum();
  }

  public long connectionsFailed() {
    return connectionsFailed.sum();
  }
}

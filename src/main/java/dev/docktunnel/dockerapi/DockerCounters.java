package dev.docktunnel.dockerapi;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The local Docker socket's request counts. Written by the connections' taps on Netty threads,
 * read by the verticle's timer, so every field is thread-safe.
 */
final class DockerCounters {
  final LongAdder requests = new LongAdder();
  final AtomicInteger openStreams = new AtomicInteger();
  final LongAdder startHoldTimeouts = new LongAdder();
  /** Connections whose HTTP could not be followed (their bytes still flowed). */
  final LongAdder unparseable = new LongAdder();

  long requests() {
    return requests.sum();
  }

  int openStreams() {
    return openStreams.get();
  }

  long startHoldTimeouts() {
    return startHoldTimeouts.sum();
  }
}

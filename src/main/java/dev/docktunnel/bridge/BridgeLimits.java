package dev.docktunnel.bridge;

import java.time.Duration;

/**
 * The bounds every event-bridge client lives within, on the TCP bridge and the SockJS bridge
 * alike. They keep the daemon's memory flat whatever a client sends or fails to read.
 *
 * @param maxFrameBytes an inbound frame over this closes the connection (its length prefix is
 *     checked before anything of it is buffered)
 * @param maxQueuedBytes frames written but not yet taken by the OS; a client whose queue would
 *     exceed this is not reading fast enough and is dropped
 * @param maxClients connections beyond this are refused with an error frame
 * @param maxQueriesInFlight unanswered queries per client; more get an error frame
 * @param queryTimeout how long a query waits for its owner's reply
 */
public record BridgeLimits(int maxFrameBytes, int maxQueuedBytes, int maxClients, int maxQueriesInFlight,
    Duration queryTimeout) {

  /** 1 MiB frames, 256 KiB queue, 64 clients, 16 queries in flight, 5 s query timeout. */
  public static final BridgeLimits DEFAULT = new BridgeLimits(1024 * 1024, 256 * 1024, 64, 16, Duration.ofSeconds(5));

  public BridgeLimits {
    if (maxFrameBytes < 1 || maxQueuedBytes < 1 || maxClients < 1 || maxQueriesInFlight < 1
        || queryTimeout.isNegative() || queryTimeout.isZero()) {
      throw new IllegalArgumentException("bridge limits must be positive: " + maxFrameBytes + ", " + maxQueuedBytes
          + ", " + maxClients + ", " + maxQueriesInFlight + ", " + queryTimeout);
    }
  }
}

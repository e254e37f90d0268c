package dev.docktunnel.bridge;

import java.util.concurrent.atomic.AtomicLong;

/**
 * What went wrong with bridge clients since the start, for the WARN lines and the metrics. Shared
 * by the TCP and the SockJS bridge; thread-safe.
 */
public final class BridgeCounters {
  /** Frames refused by the {@link BridgePolicy} (nothing delivered for them). */
  public final AtomicLong refusedFrames = new AtomicLong();
  /** Connections closed for a frame over the cap. */
  public final AtomicLong oversizedFrames = new AtomicLong();
  /** Connections closed for a frame that is not a JSON object. */
  public final AtomicLong badFrames = new AtomicLong();
  /** Subscribers dropped because their queue was full. */
  public final AtomicLong slowClientsDropped = new AtomicLong();
  /** Connections refused because the client cap was reached. */
  public final AtomicLong refusedConnections = new AtomicLong();
  /** Queries that failed or timed out, and queries refused because too many were in flight. */
  public final AtomicLong failedQueries = new AtomicLong();
  /** Clients connected now. */
  public final AtomicLong openClients = new AtomicLong();
  /** Connections accepted. */
  public final AtomicLong connections = new AtomicLong();
}

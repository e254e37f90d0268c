package dev.docktunnel.metrics;

import dev.docktunnel.bridge.BridgeCounters;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.atomic.AtomicLong;

/** The event bridges' counters (TCP and SockJS share one {@link BridgeCounters}) as meters. */
public final class BridgeMeters {
  private BridgeMeters() {
  }

  /** Registers a meter per counter, read when scraped. */
  public static void bind(MeterRegistry registry, BridgeCounters counters) {
    counter(registry, "docktunnel.bridge.connections", "bridge connections accepted", counters.connections);
    counter(registry, "docktunnel.bridge.connections.refused", "bridge connections refused at the client cap",
        counters.refusedConnections);
    counter(registry, "docktunnel.bridge.frames.refused", "frames refused by the bridge's permissions",
        counters.refusedFrames);
    counter(registry, "docktunnel.bridge.frames.oversized", "connections closed for a frame over the cap",
        counters.oversizedFrames);
    counter(registry, "docktunnel.bridge.frames.bad", "connections closed for a frame that is not a JSON object",
        counters.badFrames);
    counter(registry, "docktunnel.bridge.clients.dropped", "subscribers dropped because their queue was full",
        counters.slowClientsDropped);
    counter(registry, "docktunnel.bridge.queries.failed", "bridge queries that failed, timed out or were refused",
        counters.failedQueries);
    Gauge.builder("docktunnel.bridge.clients.open", counters.openClients, AtomicLong::get)
        .description("bridge clients connected now").register(registry);
  }

  private static void counter(MeterRegistry registry, String name, String description, AtomicLong value) {
    FunctionCounter.builder(name, value, AtomicLong::get).description(description).register(registry);
  }
}

package dev.docktunnel.metrics;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docktunnel.bridge.BridgeCounters;
import org.junit.jupiter.api.Test;

class BridgeMetersTest {

  @Test
  void theBridgesCountersAreScrapedAsTheyAreNow() {
    try (DocktunnelMetrics metrics = DocktunnelMetrics.create()) {
      BridgeCounters counters = new BridgeCounters();
      BridgeMeters.bind(metrics.registry(), counters);
      counters.slowClientsDropped.incrementAndGet();
      counters.refusedFrames.addAndGet(3);
      counters.openClients.set(2);
      String text = metrics.registry().scrape();
      assertTrue(text.contains("docktunnel_bridge_clients_dropped_total 1.0"), text);
      assertTrue(text.contains("docktunnel_bridge_frames_refused_total 3.0"), text);
      assertTrue(text.contains("docktunnel_bridge_clients_open 2.0"), text);
      counters.openClients.set(0);
      assertTrue(metrics.registry().scrape().contains("docktunnel_bridge_clients_open 0.0"));
    }
  }
}

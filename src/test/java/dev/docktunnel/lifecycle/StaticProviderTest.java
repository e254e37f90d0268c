package dev.docktunnel.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The static provider answers at once, without Vert.x: its futures are already complete. */
class StaticProviderTest {
  private final StaticProvider provider = new StaticProvider();

  @Test
  void isAlwaysRunning() {
    assertEquals("static", provider.name());
    ServerStatus status = provider.status().result();
    assertEquals(ServerStatus.State.RUNNING, status.state());
    assertEquals("static provider: the server is always there", status.detail());
  }

  @Test
  void startStopAndDestroySucceedAndChangeNothing() {
    assertEquals(StartResult.unchanged(), provider.start().result());
    assertTrue(provider.stop().succeeded());
    assertTrue(provider.destroy().succeeded());
    assertEquals(ServerStatus.State.RUNNING, provider.status().result().state());
  }
}

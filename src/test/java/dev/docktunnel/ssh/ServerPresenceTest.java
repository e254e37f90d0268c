package dev.docktunnel.ssh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docktunnel.bus.LifecycleState;
import dev.docktunnel.ssh.ServerPresence.Change;
import org.junit.jupiter.api.Test;

class ServerPresenceTest {

  @Test
  void theStaticProviderIsNeverSuspended() {
    ServerPresence presence = new ServerPresence(false);
    assertFalse(presence.suspended());
    assertEquals(Change.NONE, presence.lifecycle(LifecycleState.RUNNING, null));
    assertEquals(Change.NONE, presence.lifecycle(LifecycleState.IDLE_WARNING, null));
    assertFalse(presence.lostAsExpected(), "a lost session is a fault to reconnect from");
  }

  @Test
  void aStoppingProviderWaitsForTheLifecycleAndResumesWhenTheServerRuns() {
    ServerPresence presence = new ServerPresence(true);
    assertTrue(presence.suspended());
    assertTrue(presence.reason().contains("waiting for the lifecycle"), presence.reason());
    assertEquals(Change.NONE, presence.lifecycle(LifecycleState.UNKNOWN, null));
    assertEquals(Change.RESUME, presence.lifecycle(LifecycleState.RUNNING, null));
    assertFalse(presence.justStarted(), "found running: the first connection is judged as usual");
    assertNull(presence.address());
  }

  @Test
  void aStopSuspendsAfterTheLossItCausesAndAStartResumesAtItsAddress() {
    ServerPresence presence = new ServerPresence(true);
    presence.lifecycle(LifecycleState.RUNNING, null);
    assertEquals(Change.NONE, presence.lifecycle(LifecycleState.STOPPING, null));
    assertFalse(presence.suspended(), "the session stays until the stop takes it");
    assertTrue(presence.lostAsExpected(), "the loss during a stop is expected");
    assertTrue(presence.suspended());
    assertEquals(Change.NONE, presence.lifecycle(LifecycleState.STOPPED, null), "already suspended");
    assertEquals(Change.NONE, presence.lifecycle(LifecycleState.STARTING, null));
    assertEquals(Change.RESUME, presence.lifecycle(LifecycleState.RUNNING, "203.0.113.9:2222"));
    assertTrue(presence.justStarted(), "just booted: early failures are retried");
    assertEquals("203.0.113.9:2222", presence.address());
    presence.connected();
    assertFalse(presence.justStarted());
    assertEquals(Change.NONE, presence.lifecycle(LifecycleState.RUNNING, null));
    assertEquals("203.0.113.9:2222", presence.address(), "a start without an address keeps the last one");
  }

  @Test
  void aStoppedServerSuspendsALiveSessionAndAnAbortedStopKeepsIt() {
    ServerPresence presence = new ServerPresence(true);
    presence.lifecycle(LifecycleState.RUNNING, null);
    presence.lifecycle(LifecycleState.STOPPING, null);
    assertEquals(Change.NONE, presence.lifecycle(LifecycleState.RUNNING, null), "the idle stop was called off");
    assertFalse(presence.lostAsExpected(), "after an aborted stop a loss is a fault again");
    assertEquals(Change.SUSPEND, presence.lifecycle(LifecycleState.STOPPED, null), "stopped outside docktunnel");
    assertTrue(presence.reason().contains("stopped"), presence.reason());
    assertEquals(Change.NONE, presence.lifecycle(LifecycleState.FAILED, null), "a failed start stays suspended");
    assertTrue(presence.suspended());
  }

  @Test
  void theLifecyclesWordBeforeAStopSuspendsAtOnce() {
    ServerPresence presence = new ServerPresence(true);
    presence.lifecycle(LifecycleState.RUNNING, null);
    assertEquals(Change.SUSPEND, presence.stopComing());
    assertTrue(presence.suspended());
    assertEquals(Change.NONE, presence.stopComing(), "once");
    assertTrue(presence.lostAsExpected());
    assertEquals(Change.NONE, presence.lifecycle(LifecycleState.STOPPING, null));
    assertEquals(Change.NONE, presence.lifecycle(LifecycleState.STOPPED, null));
    assertEquals(Change.RESUME, presence.lifecycle(LifecycleState.RUNNING, null), "a stop that failed and a start");
  }
}

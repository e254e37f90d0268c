package dev.docktunnel.activity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ActivityGateTest {

  @Test
  void aStopDecidedBeforeAnEntryCannotCloseTheGate() {
    ActivityGate gate = new ActivityGate();
    long seen = gate.entries();
    assertTrue(gate.enter(), "open: admitted");
    assertFalse(gate.closeIfNoEntrySince(seen), "an entry since the decision calls the stop off");
    assertFalse(gate.isClosed());
    assertTrue(gate.closeIfNoEntrySince(gate.entries()));
    assertTrue(gate.isClosed());
    assertFalse(gate.enter(), "closed: held for the wake");
    assertEquals(1, gate.entries(), "a refused entry is not counted");
    assertFalse(gate.closeIfNoEntrySince(gate.entries()), "already closed");
    gate.open();
    assertTrue(gate.enter());
    assertEquals(2, gate.entries());
    gate.open(); // idempotent
    assertFalse(gate.isClosed());
    gate.close();
    assertTrue(gate.isClosed());
    assertFalse(gate.enter());
    gate.close(); // idempotent
    assertEquals(2, gate.entries());
  }

  /**
   * Threads enter while another closes on the count it saw: every entry either happened before
   * the close (and then the close failed) or was refused; never admitted after a close.
   */
  @Test
  void concurrentEntriesAndCloseNeverAdmitAfterTheClose() throws Exception {
    for (int round = 0; round < 200; round++) {
      ActivityGate gate = new ActivityGate();
      AtomicLong admitted = new AtomicLong();
      AtomicBoolean admittedAfterClose = new AtomicBoolean();
      AtomicBoolean closed = new AtomicBoolean();
      CountDownLatch go = new CountDownLatch(1);
      Thread[] threads = new Thread[4];
      for (int i = 0; i < threads.length; i++) {
        threads[i] = new Thread(() -> {
          try {
            go.await();
          } catch (InterruptedException e) {
            return;
          }
          for (int k = 0; k < 500; k++) {
            boolean wasClosed = closed.get();
            if (gate.enter()) {
              admitted.incrementAndGet();
              if (wasClosed) {
                admittedAfterClose.set(true);
              }
            }
          }
        });
        threads[i].start();
      }
      go.countDown();
      boolean didClose = false;
      while (!didClose && admitted.get() < 2000) {
        didClose = gate.closeIfNoEntrySince(gate.entries());
      }
      closed.set(didClose);
      for (Thread t : threads) {
        t.join(10_000);
      }
      assertFalse(admittedAfterClose.get(), "admitted after the gate closed (round " + round + ")");
      assertEquals(admitted.get(), gate.entries(), "every admitted entry is counted");
    }
  }
}

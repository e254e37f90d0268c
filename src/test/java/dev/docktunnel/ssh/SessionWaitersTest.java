package dev.docktunnel.ssh;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.apache.sshd.client.session.ClientSession;
import org.junit.jupiter.api.Test;

class SessionWaitersTest {

  @Test
  void eachWaiterIsCalledOnceAndWithdrawnOnesNever() {
    SessionWaiters waiters = new SessionWaiters();
    List<String> calls = new ArrayList<>();
    waiters.add(s -> calls.add("a"));
    Runnable withdrawB = waiters.add(s -> calls.add("b"));
    withdrawB.run();
    assertEquals(1, waiters.size());
    waiters.connected((ClientSession) null);
    waiters.connected((ClientSession) null);
    assertEquals(List.of("a"), calls);
    assertEquals(0, waiters.size());
  }

  @Test
  void aFixedSessionProviderWithoutASessionNeverCalls() {
    List<String> calls = new ArrayList<>();
    SessionProvider none = java.util.Optional::empty;
    none.whenConnected(s -> calls.add("called")).run();
    assertEquals(List.of(), calls);
  }
}

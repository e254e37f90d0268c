package dev.docktunnel.ssh;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.apache.sshd.client.session.ClientSession;

/**
 * Who waits for the next session to be up (held local connections): each is called once, with
 * the session, on the thread that reports it, and can withdraw before. Any thread; a waiter
 * holds no thread, so a thousand of them cost a thousand small objects.
 */
public final class SessionWaiters {
  private final Set<Consumer<ClientSession>> waiting = ConcurrentHashMap.newKeySet();

  /** Adds a waiter; running the returned handle withdraws it (no effect once it was called). */
  public Runnable add(Consumer<ClientSession> waiter) {
    // A wrapper per add, so the same consumer added twice is two waiters.
    Consumer<ClientSession> entry = waiter::accept;
    waiting.add(entry);
    return () -> waiting.remove(entry);
  }

  /** The session is up: calls every waiter added so far exactly once and forgets it. */
  public void connected(ClientSession session) {
    for (Consumer<ClientSession> entry : waiting) {
      if (waiting.remove(entry)) { // a concurrent connected() or withdrawal gets it at most once
        entry.accept(session);
      }
    }
  }

  /** How many wait now. */
  public int size() {
    return waiting.size();
  }
}

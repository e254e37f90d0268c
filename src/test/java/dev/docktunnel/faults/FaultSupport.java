package dev.docktunnel.faults;

import dev.docktunnel.testbed.RunningDocktunnel;
import dev.docktunnel.testbed.Traffic;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;

/** Bounded waits shared by the fault ITs. */
final class FaultSupport {
  private FaultSupport() {
  }

  /** Polls {@code condition} every 50 ms; returns the nanoTime it first held, or fails with {@code what}. */
  static long awaitTrue(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
    return awaitTrue(what, () -> "", timeout, condition);
  }

  /** Like {@link #awaitTrue(String, Duration, BooleanSupplier)}; {@code detail} says what was seen at the deadline. */
  static long awaitTrue(String what, Supplier<String> detail, Duration timeout, BooleanSupplier condition)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      if (condition.getAsBoolean()) {
        return System.nanoTime();
      }
      if (System.nanoTime() > deadline) {
        String seen = detail.get();
        throw new AssertionError(what + ": not true within " + timeout.toMillis() + " ms"
            + (seen.isEmpty() ? "" : "; at the deadline: " + seen));
      }
      Thread.sleep(50); // polling with a deadline
    }
  }

  /** Whether a small echo through 127.0.0.1:{@code port} comes back whole within {@code timeout}. */
  static boolean echoes(int port, Duration timeout, ExecutorService threads) {
    byte[] ping = "ping".getBytes(StandardCharsets.US_ASCII);
    return Traffic.echo(port, ping, timeout, threads).ok();
  }

  /** The first SSH state fact published after the first {@code skip} facts that matches {@code wanted}, or null. */
  static JsonObject sshStateAfter(RunningDocktunnel docktunnel, int skip, Predicate<JsonObject> wanted) {
    List<JsonObject> facts = docktunnel.sshStates.facts();
    return facts.subList(Math.min(skip, facts.size()), facts.size()).stream().filter(wanted).findFirst()
        .orElse(null);
  }

  static Predicate<JsonObject> sshState(String state) {
    return fact -> state.equals(fact.getString("state"));
  }

  static long millisSince(long startNanos, long nanos) {
    return (nanos - startNanos) / 1_000_000;
  }

  /** The forwards list, or an empty list with the failure noted when the verticle does not answer. */
  static List<JsonObject> forwardsOrEmpty(RunningDocktunnel docktunnel) {
    try {
      return docktunnel.forwards();
    } catch (Exception e) {
      return List.of();
    }
  }
}

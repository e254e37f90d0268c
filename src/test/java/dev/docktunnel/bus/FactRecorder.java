package dev.docktunnel.bus;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

/**
 * Records every fact published on one address so tests can wait for one that matches. Waits
 * scan all facts seen so far, so a fact that arrived before the wait is not missed.
 */
public final class FactRecorder {
  private final String address;
  private final List<JsonObject> facts = new CopyOnWriteArrayList<>();

  private FactRecorder(String address) {
    this.address = address;
  }

  /** Starts recording {@code address} on {@code vertx}. */
  public static FactRecorder on(Vertx vertx, String address) {
    FactRecorder recorder = new FactRecorder(address);
    vertx.eventBus().<JsonObject>consumer(address, m -> recorder.facts.add(m.body()));
    return recorder;
  }

  /** All facts so far, oldest first. */
  public List<JsonObject> facts() {
    return List.copyOf(facts);
  }

  public Optional<JsonObject> find(Predicate<JsonObject> wanted) {
    return facts.stream().filter(wanted).findFirst();
  }

  /** The first fact matching {@code wanted}, waiting up to {@code timeout} for it. */
  public JsonObject await(Predicate<JsonObject> wanted, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      Optional<JsonObject> found = find(wanted);
      if (found.isPresent()) {
        return found.get();
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("no matching fact on " + address + " within " + timeout.toMillis()
            + " ms; seen: " + facts);
      }
      Thread.sleep(5); // polling recorded facts, bounded by the deadline
    }
  }
}

package dev.docktunnel.bus;

import io.vertx.core.eventbus.EventBus;
import io.vertx.core.json.JsonObject;

/**
 * Publishes facts, each stamped with the next {@code seq} of this process. The stamp and the
 * publish happen under one lock, so every consumer receives facts in {@code seq} order (Vert.x
 * queues a local delivery on the consumer's context in publish order). A verticle that answers a
 * list query replies with the {@code seq} of the last fact it applied or published: a subscriber
 * that registered first and drops events with a {@code seq} at or below the reply's misses nothing.
 */
public final class Facts {
  private static final Object LOCK = new Object();
  private static long last;

  private Facts() {
  }

  /** Any typed fact record. */
  public interface Fact {
    JsonObject toJson();
  }

  /** Publishes {@code fact} on {@code address} with a new {@code seq}, and returns that seq. */
  public static long publish(EventBus bus, String address, Fact fact) {
    return publish(bus, address, fact.toJson());
  }

  /** As {@link #publish(EventBus, String, Fact)}, for a fact already in its JSON form. */
  public static long publish(EventBus bus, String address, JsonObject fact) {
    synchronized (LOCK) {
      long seq = ++last;
      bus.publish(address, fact.put("seq", seq));
      return seq;
    }
  }

  /** The {@code seq} of a received fact, 0 when it has none. */
  public static long seqOf(JsonObject fact) {
    Object seq = fact.getValue("seq");
    return seq instanceof Number n ? n.longValue() : 0;
  }
}

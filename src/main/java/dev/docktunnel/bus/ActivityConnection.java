package dev.docktunnel.bus;

import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.Locale;

/**
 * The {@code docktunnel.activity.connection} fact: a connection through a forward opened or
 * closed, with that connection's own byte counts (zero on {@code opened}). Schema in
 * docs/events.md.
 */
public record ActivityConnection(Event event, String forwardId, String containerId, int localPort, String peer,
    long bytesIn, long bytesOut, Instant at) implements Facts.Fact {

  /** What happened to the connection. */
  public enum Event implements FactFields.WireName {
    OPENED, CLOSED;

    @Override
    public String text() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  @Override
  public JsonObject toJson() {
    return new JsonObject()
        .put("event", event.text())
        .put("forwardId", forwardId)
        .put("containerId", containerId)
        .put("localPort", localPort)
        .put("peer", peer)
        .put("bytesIn", bytesIn)
        .put("bytesOut", bytesOut)
        .put("at", at.toString());
  }

  /** @throws IllegalArgumentException naming the field that is missing or wrong */
  public static ActivityConnection fromJson(JsonObject json) {
    FactFields f = FactFields.of("activity.connection", json);
    return new ActivityConnection(f.wire("event", Event.class), f.string("forwardId"), f.string("containerId"),
        f.portOrZero("localPort"), f.string("peer"), f.count("bytesIn"), f.count("bytesOut"), f.instant("at"));
  }
}

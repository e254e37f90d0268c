package dev.docktunnel.bus;

import io.vertx.core.json.JsonObject;
import java.time.Instant;

/**
 * The {@code docktunnel.activity.bytes} fact: a forward's counters, published once a second while
 * they change. Schema in docs/events.md.
 */
public record ActivityBytes(String forwardId, String containerId, int localPort, long bytesIn, long bytesOut,
    int openConnections, long connectionsTotal, long connectionsFailed, Instant at) implements Facts.Fact {

  @Override
  public JsonObject toJson() {
    return new JsonObject()
        .put("forwardId", forwardId)
        .put("containerId", containerId)
        .put("localPort", localPort)
        .put("bytesIn", bytesIn)
        .put("bytesOut", bytesOut)
        .put("openConnections", openConnections)
        .put("connectionsTotal", connectionsTotal)
        .put("connectionsFailed", connectionsFailed)
        .put("at", at.toString());
  }

  /** @throws IllegalArgumentException naming the field that is missing or wrong */
  public static ActivityBytes fromJson(JsonObject json) {
    FactFields f = FactFields.of("activity.bytes", json);
    return new ActivityBytes(f.string("forwardId"), f.string("containerId"), f.portOrZero("localPort"),
        f.count("bytesIn"), f.count("bytesOut"), (int) f.count("openConnections"), f.count("connectionsTotal"),
        f.count("connectionsFailed", 0), f.instant("at"));
  }
}

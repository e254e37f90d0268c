package dev.docktunnel.bus;

import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.Locale;

/**
 * The {@code docktunnel.endpoint} fact: one of docktunnel's own local endpoints is listening. The
 * state file records it, so {@code docktunnel status} and {@code events} find a daemon whose port
 * was chosen by the system. Schema in docs/events.md.
 *
 * @param address the loopback address bound
 */
public record Endpoint(Kind kind, String address, int port, Instant at) implements Facts.Fact {

  /** Which endpoint. */
  public enum Kind implements FactFields.WireName {
    /** The HTTP API (health, status, metrics, the SockJS bridge). */
    HTTP,
    /** The TCP event-bus bridge. */
    BRIDGE;

    @Override
    public String text() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  @Override
  public JsonObject toJson() {
    return new JsonObject().put("kind", kind.text()).put("address", address).put("port", port)
        .put("at", at.toString());
  }

  /** @throws IllegalArgumentException naming the field that is missing or wrong */
  public static Endpoint fromJson(JsonObject json) {
    FactFields f = FactFields.of("endpoint", json);
    return new Endpoint(f.wire("kind", Kind.class), f.string("address"), f.port("port"), f.instant("at"));
  }
}

package dev.docktunnel.bus;

import io.vertx.core.json.JsonObject;
import java.time.Instant;

/**
 * The {@code docktunnel.activity.docker} fact: a connection to the local Docker socket opened, a
 * Docker API request passed through it, or one of its long-lived streams ({@code logs -f},
 * {@code exec}, {@code attach}, {@code events}, {@code wait}) opened or closed. Schema in
 * docs/events.md.
 *
 * @param connection the local socket connection it came on (one connection carries several requests)
 * @param method the request's method; null for {@code connection-opened}
 * @param path the path template: the API version, query and ids left out ({@code /containers/{id}/start});
 *     null for {@code connection-opened}
 * @param containerId the container id or name the path names, or null
 */
public record DockerActivity(Event event, String connection, String method, String path, String containerId,
    Instant at) implements Facts.Fact {

  /** What happened. */
  public enum Event implements FactFields.WireName {
    CONNECTION_OPENED("connection-opened"), REQUEST("request"), STREAM_OPENED("stream-opened"),
    STREAM_CLOSED("stream-closed");

    private final String text;

    Event(String text) {
      this.text = text;
    }

    @Override
    public String text() {
      return text;
    }
  }

  public DockerActivity {
    java.util.Objects.requireNonNull(event, "event");
    if (event != Event.CONNECTION_OPENED && (method == null || path == null)) {
      throw new IllegalArgumentException("activity.docker fact: a " + event.text() + " needs method and path");
    }
  }

  @Override
  public JsonObject toJson() {
    return new JsonObject()
        .put("event", event.text())
        .put("connection", connection)
        .put("method", method)
        .put("path", path)
        .put("containerId", containerId)
        .put("at", at.toString());
  }

  /** @throws IllegalArgumentException naming the field that is missing or wrong */
  public static DockerActivity fromJson(JsonObject json) {
    FactFields f = FactFields.of("activity.docker", json);
    return new DockerActivity(f.wire("event", Event.class), f.string("connection"), f.optionalString("method"),
        f.optionalString("path"), f.optionalString("containerId"), f.instant("at"));
  }
}

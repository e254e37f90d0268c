package dev.docktunnel.bus;

import io.vertx.core.json.JsonObject;
import java.time.Instant;

/**
 * The {@code docktunnel.activity.docker} fact: a Docker API request passed through the local
 * Docker socket, or one of its long-lived streams ({@code logs -f}, {@code exec}, {@code attach},
 * {@code events}, {@code wait}) opened or closed. Schema in docs/events.md.
 *
 * @param connection the local socket connection it came on (one connection carries several requests)
 * @param path the path template: the API version, query and ids left out ({@code /containers/{id}/start})
 * @param containerId the container id or name the path names, or null
 */
public record DockerActivity(Event event, String connection, String method, String path, String containerId,
    Instant at) implements Facts.Fact {

  /** What happened. */
  public enum Event implements FactFields.WireName {
    REQUEST("request"), STREAM_OPENED("stream-opened"), STREAM_CLOSED("stream-closed");

    private final String text;

    Event(String text) {
      this.text = text;
    }

    @Override
    public String text() {
      return text;
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
    return new DockerActivity(f.wire("event", Event.class), f.string("connection"), f.string("method"),
        f.string("path"), f.optionalString("containerId"), f.instant("at"));
  }
}

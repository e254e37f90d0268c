package dev.docktunnel.docker;

import io.vertx.core.json.JsonObject;
import java.util.Collections;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * One line of the engine's {@code /events} stream, e.g.
 * {@code {"Type":"container","Action":"start","Actor":{"ID":"4f1c…","Attributes":{"name":"web",
 * "image":"nginx"}},"time":1700000000,"timeNano":1700000000123456789}}.
 *
 * @param type       object type ({@code container}, {@code network}, ...)
 * @param action     the full action, e.g. {@code start} or {@code exec_start: sh -c true}
 * @param id         the actor's id (container id for container events)
 * @param attributes the actor's attributes (for containers: {@code name}, {@code image}, labels)
 * @param timeNano   engine time of the event in nanoseconds since the epoch, 0 when absent
 */
public record DockerEvent(String type, String action, String id, Map<String, String> attributes,
                          long timeNano) {

  /** Null-safe, sorted, unmodifiable attributes. */
  public DockerEvent {
    attributes = attributes == null ? Map.of()
        : Collections.unmodifiableMap(new TreeMap<>(attributes));
  }

  /** The action without its detail: {@code exec_start: sh} → {@code exec_start}. */
  public String baseAction() {
    int colon = action.indexOf(':');
    return colon < 0 ? action : action.substring(0, colon).trim();
  }

  /** The actor's {@code name} attribute (container name), or empty. */
  public String name() {
    return attributes.getOrDefault("name", "");
  }

  /**
   * Reads one event object. Engines before API 1.22 sent only {@code status}/{@code id}/
   * {@code from}; those are read as container events.
   *
   * @return empty when the object lacks an action or an actor id (not an event we can use)
   */
  public static Optional<DockerEvent> fromJson(JsonObject json) {
    JsonObject actor = JsonFields.object(json, "Actor");
    String type = JsonFields.string(json, "Type");
    String action = JsonFields.string(json, "Action");
    String id = JsonFields.string(actor, "ID");
    Map<String, String> attributes = JsonFields.stringMap(actor, "Attributes");
    if (type == null && action == null) {
      action = JsonFields.string(json, "status");
      id = JsonFields.string(json, "id");
      type = "container";
      String from = JsonFields.string(json, "from");
      if (from != null) {
        attributes.put("image", from);
      }
    }
    if (type == null || action == null || action.isBlank() || id == null || id.isBlank()) {
      return Optional.empty();
    }
    Long nanos = JsonFields.integer(json, "timeNano");
    if (nanos == null) {
      Long seconds = JsonFields.integer(json, "time");
      nanos = seconds == null ? 0L : seconds * 1_000_000_000L;
    }
    return Optional.of(new DockerEvent(type, action, id, attributes, nanos));
  }
}

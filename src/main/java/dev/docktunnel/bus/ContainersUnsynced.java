package dev.docktunnel.bus;

import io.vertx.core.json.JsonObject;
import java.time.Instant;

/**
 * The {@code docktunnel.containers.unsynced} fact: the engine's event stream broke or a sync
 * failed; what is known of the containers may be stale until the next sync. Schema in
 * docs/events.md.
 */
public record ContainersUnsynced(String reason, Instant at) implements Facts.Fact {

  @Override
  public JsonObject toJson() {
    return new JsonObject().put("reason", reason).put("at", at.toString());
  }

  /** @throws IllegalArgumentException naming the field that is missing or wrong */
  public static ContainersUnsynced fromJson(JsonObject json) {
    FactFields f = FactFields.of("containers.unsynced", json);
    return new ContainersUnsynced(f.string("reason"), f.instant("at"));
  }
}

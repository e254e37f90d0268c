package dev.docktunnel.bus;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;

/**
 * The {@code docktunnel.containers.synced} fact: a full sync finished; {@code ids} are every
 * container the engine listed. Schema in docs/events.md.
 *
 * @param engineVersion the engine's version as this sync read it, or null
 */
public record ContainersSynced(List<String> ids, String engineVersion, Instant at) implements Facts.Fact {

  public ContainersSynced {
    ids = List.copyOf(ids);
  }

  @Override
  public JsonObject toJson() {
    return new JsonObject().put("ids", new JsonArray(ids)).put("engineVersion", engineVersion).put("at", at.toString());
  }

  /** @throws IllegalArgumentException naming the field that is missing or wrong */
  public static ContainersSynced fromJson(JsonObject json) {
    FactFields f = FactFields.of("containers.synced", json);
    return new ContainersSynced(f.strings("ids"), f.optionalString("engineVersion"), f.instant("at"));
  }
}

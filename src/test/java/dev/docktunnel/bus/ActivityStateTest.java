package dev.docktunnel.bus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class ActivityStateTest {
  static final Instant AT = Instant.parse("2026-12-01T16:02:12Z");

  static ActivityState sample() {
    return new ActivityState(false, AT, 0, 1_800_000, 17, List.of(
        new ActivityReason(ActivityReason.Source.FORWARD_CONNECTION, true, "4f1c2d3e4f5a/tcp/8080", "4f1c2d3e4f5a6b7c",
            8080, "1 connection open, from /127.0.0.1:53412", AT.minusSeconds(60), 60_000),
        new ActivityReason(ActivityReason.Source.DOCKER_REQUEST, false, null, null, null, "GET /containers/json",
            AT.minusSeconds(5), 5_000)), 1, 2, AT, 981);
  }

  @Test
  void jsonHasTheDocumentedFieldsAndReadsBack() {
    JsonObject json = sample().toJson();
    assertEquals(false, json.getBoolean("idle"));
    assertEquals("2026-12-01T16:02:12Z", json.getString("lastActivityAt"));
    assertEquals(0L, json.getLong("idleForMs"));
    assertEquals(1_800_000L, json.getLong("idleTimeoutMs"));
    assertEquals(17L, json.getLong("activityCount"));
    assertEquals(981L, json.getLong("seq"));
    JsonObject first = json.getJsonArray("reasons").getJsonObject(0);
    assertEquals(new JsonObject().put("source", "forward-connection").put("open", true)
        .put("forwardId", "4f1c2d3e4f5a/tcp/8080").put("containerId", "4f1c2d3e4f5a6b7c").put("localPort", 8080)
        .put("detail", "1 connection open, from /127.0.0.1:53412").put("at", "2026-12-01T16:01:12Z")
        .put("ageMs", 60_000L), first);
    JsonObject second = json.getJsonArray("reasons").getJsonObject(1);
    assertTrue(second.containsKey("localPort") && second.getValue("localPort") == null, "null where unknown");
    assertEquals(sample(), ActivityState.fromJson(json));
    assertEquals(sample(), ActivityState.fromJson(new JsonObject(json.encode())), "through text, as a bridge sends it");
  }

  @Test
  void badStatesAreNamed() {
    JsonObject noReasons = sample().toJson();
    noReasons.remove("reasons");
    assertEquals("activity.state fact: reasons is missing, expected an array of reasons",
        assertThrows(IllegalArgumentException.class, () -> ActivityState.fromJson(noReasons)).getMessage());
    JsonObject badSource = sample().toJson();
    badSource.getJsonArray("reasons").getJsonObject(1).put("source", "telepathy");
    assertTrue(assertThrows(IllegalArgumentException.class, () -> ActivityState.fromJson(badSource)).getMessage()
        .startsWith("activity.state reasons[1] fact: source is 'telepathy', expected one of [docker-request,"));
    JsonObject notObject = sample().toJson().put("reasons", new JsonArray().add(3));
    assertEquals("activity.state fact: reasons[0] is not a JSON object",
        assertThrows(IllegalArgumentException.class, () -> ActivityState.fromJson(notObject)).getMessage());
    JsonObject badPort = sample().toJson();
    badPort.getJsonArray("reasons").getJsonObject(0).put("localPort", 70000);
    assertTrue(assertThrows(IllegalArgumentException.class, () -> ActivityState.fromJson(badPort)).getMessage()
        .contains("localPort is '70000', expected a port 1-65535"));
    assertThrows(IllegalArgumentException.class, () -> ActivityState.fromJson(sample().toJson().put("idle", "no")));
  }
}

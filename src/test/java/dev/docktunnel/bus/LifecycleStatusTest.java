package dev.docktunnel.bus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class LifecycleStatusTest {
  private static final Instant SINCE = Instant.parse("2026-12-01T16:00:00Z");
  private static final Instant STOP_AT = Instant.parse("2026-12-01T16:31:00.250Z");
  private static final Instant AT = Instant.parse("2026-12-01T16:30:00.250Z");

  @Test
  void wireNamesAreTheContracts() {
    assertEquals(List.of("unknown", "starting", "running", "idle-warning", "stopping", "stopped", "failed"),
        Arrays.stream(LifecycleState.values()).map(LifecycleState::text).toList());
  }

  @Test
  void jsonHasTheDocumentedFieldsAndReadsBack() {
    LifecycleStatus warning = new LifecycleStatus(LifecycleState.IDLE_WARNING, "command", "idle since 16:00",
        SINCE, STOP_AT, "203.0.113.7:2222", 1_800_000, 60_000, AT);
    JsonObject json = warning.toJson();
    assertEquals(new JsonObject().put("state", "idle-warning").put("provider", "command")
        .put("reason", "idle since 16:00").put("since", "2026-12-01T16:00:00Z")
        .put("stopAt", "2026-12-01T16:31:00.250Z").put("address", "203.0.113.7:2222")
        .put("idleTimeoutMs", 1_800_000L).put("gracePeriodMs", 60_000L)
        .put("at", "2026-12-01T16:30:00.250Z"), json);
    assertEquals(warning, LifecycleStatus.fromJson(json));
    assertEquals(warning, LifecycleStatus.fromJson(new JsonObject(json.encode())), "through the wire");
  }

  @Test
  void stopAtIsNullOutsideTheCountdownAndMayBeLeftOut() {
    LifecycleStatus running = new LifecycleStatus(LifecycleState.RUNNING, "static", "running", SINCE, null,
        null, 1_800_000, 60_000, AT);
    JsonObject json = running.toJson();
    assertTrue(json.containsKey("stopAt"));
    assertEquals(null, json.getValue("stopAt"));
    assertEquals(running, LifecycleStatus.fromJson(json));
    json.remove("stopAt");
    assertEquals(running, LifecycleStatus.fromJson(json));
  }

  @Test
  void badFieldsAreNamed() {
    JsonObject good = new LifecycleStatus(LifecycleState.STOPPED, "command", "idle", SINCE, null, null, 1, 2, AT).toJson();
    assertBad(good.copy().put("state", "asleep"),
        "lifecycle fact: state is 'asleep', expected one of [unknown, starting, running, idle-warning, stopping, "
            + "stopped, failed]");
    assertBad(good.copy().put("stopAt", "soon"), "lifecycle fact: stopAt is 'soon', expected an ISO-8601 UTC time");
    assertBad(good.copy().put("stopAt", 5), "lifecycle fact: stopAt is '5', expected a string");
    assertBad(good.copy().put("idleTimeoutMs", -1), "lifecycle fact: idleTimeoutMs is '-1', expected a whole number, 0 or more");
    JsonObject noReason = good.copy();
    noReason.remove("reason");
    assertBad(noReason, "lifecycle fact: reason is missing, expected a string");
    JsonObject noSince = good.copy();
    noSince.remove("since");
    assertBad(noSince, "lifecycle fact: since is missing, expected a string");
    assertBad(good.copy().put("provider", true), "lifecycle fact: provider is 'true', expected a string");
    assertBad(null, "lifecycle fact is not a JSON object");
  }

  @Test
  void isAFactTheBridgesLetThrough() {
    assertEquals("docktunnel.lifecycle", Addresses.LIFECYCLE);
    assertTrue(Addresses.FACTS.contains(Addresses.LIFECYCLE));
  }

  private static void assertBad(JsonObject json, String message) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LifecycleStatus.fromJson(json));
    assertEquals(message, e.getMessage());
  }
}

package dev.docktunnel.bus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.vertx.core.json.JsonObject;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class SessionStateTest {

  @Test
  void jsonHasTheDocumentedFields() {
    Instant at = Instant.parse("2025-03-04T05:06:07Z");
    SessionState s = new SessionState(SessionState.State.AUTH_REQUIRED, "ssh://root@h", "no key", at, 3, null);
    JsonObject json = s.toJson();
    assertEquals(new JsonObject().put("state", "auth_required").put("host", "ssh://root@h").put("reason", "no key")
        .put("at", "2025-03-04T05:06:07Z").put("attempt", 3), json);
    assertFalse(json.containsKey("fingerprint"));
    assertEquals(s, SessionState.fromJson(json));
    SessionState failed = new SessionState(SessionState.State.FAILED, "h", "changed", at, 1, "SHA256:abc");
    assertEquals("SHA256:abc", failed.toJson().getString("fingerprint"));
    assertEquals(failed, SessionState.fromJson(failed.toJson()));
  }

  @Test
  void badFactsAreNamed() {
    assertThrows(IllegalArgumentException.class, () -> SessionState.fromJson(new JsonObject().put("state", "nope")));
    assertThrows(IllegalArgumentException.class,
        () -> SessionState.fromJson(new JsonObject().put("state", "connected").put("host", "h").put("at", "yesterday")));
  }
}

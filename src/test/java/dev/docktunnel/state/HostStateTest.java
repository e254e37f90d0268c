package dev.docktunnel.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class HostStateTest {

  static final Instant T0 = Instant.parse("2026-12-01T10:00:00Z");

  static HostState.Forward forward(String id, int localPort, long bytes) {
    return new HostState.Forward(id, "web-" + id, "127.0.0.1", localPort, 8080, "active", null, "s-2",
        T0, T0.plusSeconds(1), bytes, bytes * 2, "tcp", 8080, "127.0.0.1", localPort, 1, 3, 0);
  }

  static HostState state(int forwards, long bytes) {
    List<HostState.Forward> list = new java.util.ArrayList<>();
    for (int i = 0; i < forwards; i++) {
      list.add(forward("c" + i, 10000 + i, bytes));
    }
    return new HostState(HostState.VERSION, "root@box:22", 4242, true, null, T0, T0.plusSeconds(5), "s-2",
        new HostState.Ssh("connected", null, T0.plusSeconds(2)), list, 41234, null,
        new HostState.DockerSocket("/home/me/.docktunnel/root-box-22-3f9a1c2b/docker.sock", true, 2, 31, 1),
        new HostState.Server("idle-warning", "static", "no activity since ...", T0.plusSeconds(3), T0.plusSeconds(63), "10.0.0.7:2222"));
  }

  @Test
  void roundTripsEveryContractField() {
    HostState state = state(2, 7);
    JsonObject json = state.toJson();
    assertEquals(Set.of("version", "host", "pid", "running", "stoppedAt", "startedAt", "updatedAt", "sessionId",
        "ssh", "forwards",
        // beyond the contract: where the daemon's HTTP API and event bridge listen, its Docker socket
        "httpPort", "bridgePort", "dockerSocket", "server"), json.fieldNames());
    assertEquals(Set.of("state", "reason", "since"), json.getJsonObject("ssh").fieldNames());
    assertEquals(Set.of("containerId", "containerName", "localAddress", "localPort", "remotePort", "status",
        "reason", "sessionId", "createdAt", "updatedAt", "bytesIn", "bytesOut",
        // beyond the contract, what a restart needs to rebuild the forward
        "protocol", "publishedPort", "remoteHost", "requestedLocalPort",
        // and what status shows
        "openConnections", "connectionsTotal", "connectionsFailed"),
        json.getJsonArray("forwards").getJsonObject(0).fieldNames());
    assertEquals("2026-12-01T10:00:05Z", json.getString("updatedAt"));
    assertEquals(state, HostState.fromJson(new JsonObject(json.encode())));
  }

  @Test
  void theServersAddressIsOptionalAndMustBeAString() {
    JsonObject json = state(0, 0).toJson();
    json.getJsonObject("server").remove("address"); // a record written before the field existed
    assertNull(HostState.fromJson(json).server().address());
    json.getJsonObject("server").put("address", 22);
    IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> HostState.fromJson(json));
    assertTrue(bad.getMessage().contains("server.address"), bad.getMessage());
  }

  @Test
  void aGracefulStopKeepsStoppedAt() {
    HostState stopped = new HostState(1, "root@box:22", 4242, false, T0.plusSeconds(9), T0, T0.plusSeconds(9),
        null, new HostState.Ssh("disconnected", "stopped", T0), List.of(), null, null);
    HostState back = HostState.fromJson(new JsonObject(stopped.toJson().encode()));
    assertEquals(T0.plusSeconds(9), back.stoppedAt());
    assertNull(back.sessionId());
    assertFalse(back.running());
  }

  @Test
  void ignoresUnknownFields() {
    JsonObject json = state(1, 1).toJson().put("provisioner", new JsonObject().put("kind", "later"));
    json.getJsonObject("ssh").put("attempts", 3);
    json.getJsonArray("forwards").getJsonObject(0).put("protocol", "tcp");
    assertEquals(state(1, 1), HostState.fromJson(json));
  }

  @Test
  void badFieldsAreNamed() {
    assertError("version is 2, this docktunnel reads version 1", state(0, 0).toJson().put("version", 2));
    assertError("version is null", state(0, 0).toJson().putNull("version"));
    assertError("host is missing, expected a string", without(state(0, 0).toJson(), "host"));
    assertError("pid is '1.5', expected a whole number", state(0, 0).toJson().put("pid", 1.5));
    assertError("running is 'yes', expected true or false", state(0, 0).toJson().put("running", "yes"));
    assertError("updatedAt is 'soon', expected an ISO-8601 UTC time", state(0, 0).toJson().put("updatedAt", "soon"));
    assertError("ssh is missing, expected an object", without(state(0, 0).toJson(), "ssh"));
    assertError("forwards is missing, expected an array", without(state(0, 0).toJson(), "forwards"));
    JsonObject badPort = state(2, 0).toJson();
    badPort.getJsonArray("forwards").getJsonObject(1).put("localPort", 70000);
    assertError("forwards[1].localPort is 70000, expected a port 1-65535", badPort);
    JsonObject badBytes = state(1, 0).toJson();
    badBytes.getJsonArray("forwards").getJsonObject(0).put("bytesIn", -1);
    assertError("forwards[0].bytesIn is -1, expected 0 or more", badBytes);
    JsonObject badSsh = state(0, 0).toJson();
    badSsh.getJsonObject("ssh").put("state", 3);
    assertError("ssh.state is '3', expected a string", badSsh);
  }

  @Test
  void staleWhenStoppedOrThePidIsGoneOrNotRefreshedFor10Seconds() {
    HostState live = state(0, 0); // updatedAt T0+5s, pid 4242
    Instant now = T0.plusSeconds(15);
    assertFalse(live.isStale(now, pid -> pid == 4242));
    assertTrue(live.isStale(now, pid -> false));
    assertTrue(live.isStale(now.plusMillis(1), pid -> true));
    HostState stopped = new HostState(1, "h", 4242, false, T0, T0, T0.plusSeconds(5), null,
        new HostState.Ssh("disconnected", null, T0), List.of(), null, null);
    assertTrue(stopped.isStale(T0.plusSeconds(6), pid -> true));
  }

  private static JsonObject without(JsonObject json, String field) {
    json.remove(field);
    return json;
  }

  private static void assertError(String expectedStart, JsonObject json) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HostState.fromJson(json));
    assertTrue(e.getMessage().startsWith(expectedStart), e.getMessage());
  }
}

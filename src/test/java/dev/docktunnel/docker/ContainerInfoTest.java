package dev.docktunnel.docker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ContainerInfoTest {

  static String resource(String name) throws IOException {
    try (InputStream in = ContainerInfoTest.class.getResourceAsStream(name)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @Test
  void inspectOfARunningContainer() throws IOException {
    ContainerInfo info = ContainerInfo.fromInspect(new JsonObject(resource("inspect-running.json")));

    assertEquals("4f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c", info.id());
    assertEquals("web", info.name());
    assertEquals("nginx:1.25", info.image(), "the image as named, not its sha256 id");
    assertEquals(ContainerInfo.RUNNING, info.state());
    assertEquals(Map.of("maintainer", "NGINX Docker Maintainers <docker-maint@nginx.com>",
        "docktunnel.port.8080", "18080"), info.labels());
    // 443/tcp is exposed but null (unpublished): left out; 0.0.0.0 and :: both kept; sorted.
    assertEquals(List.of(
        new PublishedPort("127.0.0.1", 5353, 53, "udp"),
        new PublishedPort("0.0.0.0", 8080, 80, "tcp"),
        new PublishedPort("::", 8080, 80, "tcp")).stream().sorted().toList(), info.ports());
  }

  @Test
  void listEntriesWithIpv6DuplicatesUnpublishedPortsAndUnknownFields() throws IOException {
    JsonArray list = new JsonArray(resource("list.json"));
    ContainerInfo web = ContainerInfo.fromListEntry(list.getJsonObject(0));
    ContainerInfo db = ContainerInfo.fromListEntry(list.getJsonObject(1));
    ContainerInfo echo = ContainerInfo.fromListEntry(list.getJsonObject(2));

    assertEquals("web", web.name());
    assertEquals(ContainerInfo.RUNNING, web.state());
    assertEquals(3, web.ports().size(), "443 has no PublicPort: unpublished, left out");
    assertTrue(web.ports().contains(new PublishedPort("::", 8080, 80, "tcp")));
    assertTrue(web.ports().contains(new PublishedPort("0.0.0.0", 8080, 80, "tcp")));
    assertTrue(web.ports().contains(new PublishedPort("127.0.0.1", 5353, 53, "udp")));
    // Same container seen through list and inspect: same picture.
    assertEquals(ContainerInfo.fromInspect(new JsonObject(resource("inspect-running.json"))), web);

    assertEquals("db", db.name(), "the own name, not the legacy link name");
    assertEquals(ContainerInfo.PAUSED, db.state());
    assertEquals(List.of(), db.ports());

    assertEquals(List.of(new PublishedPort("0.0.0.0", 7000, 7000, "tcp")), echo.ports(),
        "exact duplicates collapse");
    assertEquals(Map.of(), echo.labels(), "null Labels");
  }

  @Test
  void inspectWithoutNetworkSettingsOrWithNullPorts() {
    JsonObject noNetwork = new JsonObject()
        .put("Id", "abc")
        .put("Name", "/x")
        .put("State", new JsonObject().put("Status", "exited").put("ExitCode", 1))
        .put("Config", new JsonObject().put("Image", "busybox").putNull("Labels"));
    ContainerInfo info = ContainerInfo.fromInspect(noNetwork);
    assertEquals(ContainerInfo.EXITED, info.state());
    assertEquals(List.of(), info.ports());
    assertEquals(Map.of(), info.labels());

    JsonObject nullPorts = noNetwork.copy().put("NetworkSettings", new JsonObject().putNull("Ports"));
    assertEquals(List.of(), ContainerInfo.fromInspect(nullPorts).ports());

    JsonObject odd = noNetwork.copy().put("NetworkSettings", new JsonObject().put("Ports",
        new JsonObject()
            .put("80/tcp", new JsonArray().add(new JsonObject().put("HostIp", "0.0.0.0")))
            .put("81/tcp", new JsonArray().add(new JsonObject().put("HostPort", "")))
            .put("82/tcp", new JsonArray().add(new JsonObject().put("HostPort", "99999")))
            .put("oops/tcp", new JsonArray().add(new JsonObject().put("HostPort", "83")))
            .put("84", new JsonArray().add(new JsonObject().put("HostPort", "8484")))
            .put("85/SCTP", new JsonArray().add(new JsonObject().put("HostIp", "").put("HostPort", 8585)))));
    assertEquals(List.of(new PublishedPort("0.0.0.0", 8484, 84, "tcp"),
            new PublishedPort("0.0.0.0", 8585, 85, "sctp")),
        ContainerInfo.fromInspect(odd).ports(),
        "no/empty/out-of-range HostPort and a bad key are skipped; no protocol means tcp");
  }

  @Test
  void oldEnginesWithoutStatusWords() {
    JsonObject inspect = new JsonObject().put("Id", "a").put("Name", "/a")
        .put("State", new JsonObject().put("Running", true).put("Paused", true));
    assertEquals(ContainerInfo.PAUSED, ContainerInfo.fromInspect(inspect).state());
    JsonObject entry = new JsonObject().put("Id", "b").put("Names", new JsonArray().add("/b"))
        .put("Status", "Up 5 minutes");
    assertEquals(ContainerInfo.RUNNING, ContainerInfo.fromListEntry(entry).state());
  }

  @Test
  void stateWordsNormalize() {
    assertEquals("running", ContainerInfo.normalizeState("running"));
    assertEquals("paused", ContainerInfo.normalizeState("PAUSED"));
    for (String other : new String[] {"created", "restarting", "removing", "exited", "dead", null}) {
      assertEquals("exited", ContainerInfo.normalizeState(other), String.valueOf(other));
    }
  }

  @Test
  void busFormRoundTripsAndIgnoresUnknownFields() throws IOException {
    ContainerInfo info = ContainerInfo.fromInspect(new JsonObject(resource("inspect-running.json")));
    JsonObject json = info.toJson();

    assertEquals("web", json.getString("name"));
    assertEquals(new JsonObject().put("hostIp", "::").put("hostPort", 8080)
        .put("containerPort", 80).put("protocol", "tcp"), json.getJsonArray("ports").getJsonObject(2));
    assertEquals(info, ContainerInfo.fromJson(json));
    assertEquals(info, ContainerInfo.fromJson(json.copy().put("at", "2024-05-02T10:15:32Z")
        .put("future", new JsonObject())));
    assertEquals(info, ContainerInfo.fromJson(new JsonObject(json.encode())), "through text");
  }

  @Test
  void missingIdIsAnError() {
    assertThrows(IllegalArgumentException.class, () -> ContainerInfo.fromJson(new JsonObject()));
    assertThrows(IllegalArgumentException.class,
        () -> ContainerInfo.fromInspect(new JsonObject().put("Name", "/x")));
    assertThrows(IllegalArgumentException.class, () -> ContainerInfo.fromJson(new JsonObject()
        .put("id", "a").put("ports", new JsonArray().add(new JsonObject().put("hostPort", 80)))));
  }
}

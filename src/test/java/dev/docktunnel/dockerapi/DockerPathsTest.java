package dev.docktunnel.dockerapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docktunnel.dockerapi.DockerPaths.AfterSuccess;
import dev.docktunnel.dockerapi.DockerPaths.Call;
import java.util.List;
import org.junit.jupiter.api.Test;

class DockerPathsTest {
  static final String ID = "4fa6e0f0c6786287e131c3852c58a2e01cc697a68231826813597e4994f1d6e2";

  @Test
  void versionPrefixAndQueryAreStripped() {
    Call call = DockerPaths.classify("GET", "/v1.41/containers/json?all=1&filters=%7B%7D");
    assertEquals(new Call("GET", "1.41", "/containers/json", "all=1&filters=%7B%7D", "/containers/json",
        null, false, AfterSuccess.NOTHING), call);
    assertNull(DockerPaths.classify("GET", "/_ping").apiVersion());
    assertEquals("/_ping", DockerPaths.classify("GET", "/_ping").path());
    // Words that begin with v are not versions.
    assertEquals("/version", DockerPaths.classify("GET", "/version").template());
    assertEquals("/volumes", DockerPaths.classify("GET", "/v1.44/volumes").template());
    assertEquals("/volumes/{name}", DockerPaths.classify("GET", "/volumes/v1.41").template());
  }

  @Test
  void theClassifierAcceptsARequestHead() {
    RequestHead head = new RequestHead(0, "POST", "/v1.41/containers/" + ID + "/start", "/v1.41/containers/"
        + ID + "/start", null, "HTTP/1.1", -1, false, null, false);
    Call call = DockerPaths.classify(head);
    assertEquals("/containers/{id}/start", call.template());
    assertEquals(ID, call.containerId());
    assertEquals(AfterSuccess.HOLD_FOR_FORWARDS, call.afterSuccess());
  }

  /** method, target, template, container id or "-". */
  static final List<String[]> TEMPLATES = List.of(
      row("GET", "/v1.41/_ping", "/_ping", "-"),
      row("HEAD", "/_ping", "/_ping", "-"),
      row("GET", "/v1.41/version", "/version", "-"),
      row("GET", "/v1.41/info", "/info", "-"),
      row("GET", "/v1.41/events?since=1", "/events", "-"),
      row("POST", "/v1.41/auth", "/auth", "-"),
      row("GET", "/v1.41/system/df", "/system/df", "-"),
      row("POST", "/v1.41/build?t=app", "/build", "-"),
      row("POST", "/v1.41/build/prune", "/build/prune", "-"),
      row("POST", "/v1.41/build/cancel?id=x", "/build/cancel", "-"),
      row("POST", "/v1.41/session", "/session", "-"),
      row("POST", "/grpc", "/grpc", "-"),
      row("POST", "/v1.41/commit?container=web", "/commit", "-"),
      row("GET", "/v1.41/containers/json", "/containers/json", "-"),
      row("POST", "/v1.41/containers/create?name=web", "/containers/create", "-"),
      row("POST", "/v1.41/containers/prune", "/containers/prune", "-"),
      row("GET", "/v1.41/containers/web/json", "/containers/{id}/json", "web"),
      row("DELETE", "/v1.41/containers/" + ID + "?force=1", "/containers/{id}", ID),
      row("POST", "/v1.41/containers/web/start", "/containers/{id}/start", "web"),
      row("POST", "/v1.41/containers/web/stop?t=10", "/containers/{id}/stop", "web"),
      row("POST", "/v1.41/containers/web/restart", "/containers/{id}/restart", "web"),
      row("POST", "/v1.41/containers/web/kill?signal=TERM", "/containers/{id}/kill", "web"),
      row("POST", "/v1.41/containers/web/pause", "/containers/{id}/pause", "web"),
      row("POST", "/v1.41/containers/web/unpause", "/containers/{id}/unpause", "web"),
      row("POST", "/v1.41/containers/web/rename?name=w2", "/containers/{id}/rename", "web"),
      row("POST", "/v1.41/containers/web/update", "/containers/{id}/update", "web"),
      row("POST", "/v1.41/containers/web/resize?h=1&w=2", "/containers/{id}/resize", "web"),
      row("POST", "/v1.41/containers/web/wait?condition=next-exit", "/containers/{id}/wait", "web"),
      row("POST", "/v1.41/containers/web/attach?stream=1", "/containers/{id}/attach", "web"),
      row("GET", "/v1.41/containers/web/attach/ws?stream=1", "/containers/{id}/attach/ws", "web"),
      row("GET", "/v1.41/containers/web/logs?follow=1", "/containers/{id}/logs", "web"),
      row("GET", "/v1.41/containers/web/top", "/containers/{id}/top", "web"),
      row("GET", "/v1.41/containers/web/changes", "/containers/{id}/changes", "web"),
      row("GET", "/v1.41/containers/web/export", "/containers/{id}/export", "web"),
      row("GET", "/v1.41/containers/web/stats?stream=0", "/containers/{id}/stats", "web"),
      row("HEAD", "/v1.41/containers/web/archive?path=/etc", "/containers/{id}/archive", "web"),
      row("PUT", "/v1.41/containers/web/archive?path=/tmp", "/containers/{id}/archive", "web"),
      row("POST", "/v1.41/containers/web/exec", "/containers/{id}/exec", "web"),
      row("DELETE", "/v1.41/containers/web/checkpoints/cp1", "/containers/{id}/checkpoints/{checkpoint}", "web"),
      row("GET", "/v1.41/containers/web/frobnicate", "/containers/{id}/{other}", "web"),
      row("GET", "/v1.41/containers/web/logs/extra", "/containers/{id}/{other}", "web"),
      row("GET", "/v1.41/containers/", "/containers/{other}", "-"),
      row("GET", "/v1.41/containers/json/x", "/containers/{other}", "-"),
      row("POST", "/v1.41/exec/9a8b/start", "/exec/{id}/start", "-"),
      row("POST", "/v1.41/exec/9a8b/resize?h=1", "/exec/{id}/resize", "-"),
      row("GET", "/v1.41/exec/9a8b/json", "/exec/{id}/json", "-"),
      row("GET", "/v1.41/images/json", "/images/json", "-"),
      row("POST", "/v1.41/images/create?fromImage=busybox&tag=latest", "/images/create", "-"),
      row("POST", "/v1.41/images/load?quiet=1", "/images/load", "-"),
      row("GET", "/v1.41/images/get?names=a&names=b", "/images/get", "-"),
      row("GET", "/v1.41/images/search?term=x", "/images/search", "-"),
      row("POST", "/v1.41/images/prune", "/images/prune", "-"),
      row("GET", "/v1.41/images/busybox/json", "/images/{name}/json", "-"),
      row("GET", "/v1.41/images/registry.example:5000/team/app:1.2/json", "/images/{name}/json", "-"),
      row("GET", "/v1.41/images/app@sha256:0123abcd/history", "/images/{name}/history", "-"),
      row("GET", "/v1.41/images/team/app:1.2/get", "/images/{name}/get", "-"),
      row("POST", "/v1.41/images/team/app/push?tag=1.2", "/images/{name}/push", "-"),
      row("POST", "/v1.41/images/team/app:1.2/tag?repo=x", "/images/{name}/tag", "-"),
      row("DELETE", "/v1.41/images/team/json", "/images/{name}", "-"),
      row("GET", "/v1.41/images/team/app", "/images/{other}", "-"),
      row("POST", "/v1.41/images/team/app/json", "/images/{other}", "-"),
      row("GET", "/v1.41/networks", "/networks", "-"),
      row("POST", "/v1.41/networks/create", "/networks/create", "-"),
      row("POST", "/v1.41/networks/prune", "/networks/prune", "-"),
      row("GET", "/v1.41/networks/net1", "/networks/{id}", "-"),
      row("DELETE", "/v1.41/networks/net1", "/networks/{id}", "-"),
      row("POST", "/v1.41/networks/net1/connect", "/networks/{id}/connect", "-"),
      row("POST", "/v1.41/networks/net1/disconnect", "/networks/{id}/disconnect", "-"),
      row("GET", "/v1.41/volumes?filters=x", "/volumes", "-"),
      row("POST", "/v1.41/volumes/create", "/volumes/create", "-"),
      row("POST", "/v1.41/volumes/prune", "/volumes/prune", "-"),
      row("GET", "/v1.41/volumes/data", "/volumes/{name}", "-"),
      row("DELETE", "/v1.41/volumes/data", "/volumes/{name}", "-"),
      row("GET", "/v1.41/plugins", "/plugins", "-"),
      row("GET", "/v1.41/plugins/privileges?remote=x", "/plugins/privileges", "-"),
      row("POST", "/v1.41/plugins/pull?remote=x", "/plugins/pull", "-"),
      row("GET", "/v1.41/plugins/vieux/sshfs:latest/json", "/plugins/{name}/json", "-"),
      row("POST", "/v1.41/plugins/vieux/sshfs:latest/enable", "/plugins/{name}/enable", "-"),
      row("DELETE", "/v1.41/plugins/vieux/sshfs:latest", "/plugins/{name}", "-"),
      row("GET", "/v1.41/distribution/docker.io/library/busybox:latest/json", "/distribution/{name}/json", "-"),
      row("GET", "/v1.41/swarm", "/swarm", "-"),
      row("POST", "/v1.41/swarm/init", "/swarm/init", "-"),
      row("GET", "/v1.41/swarm/unlockkey", "/swarm/unlockkey", "-"),
      row("GET", "/v1.41/nodes/n1", "/nodes/{id}", "-"),
      row("POST", "/v1.41/services/create", "/services/create", "-"),
      row("POST", "/v1.41/services/s1/update", "/services/{id}/update", "-"),
      row("GET", "/v1.41/services/s1/logs?follow=1", "/services/{id}/logs", "-"),
      row("GET", "/v1.41/tasks/t1/logs", "/tasks/{id}/logs", "-"),
      row("GET", "/v1.41/secrets", "/secrets", "-"),
      row("POST", "/v1.41/configs/c1/update", "/configs/{id}/update", "-"),
      // Unknown paths keep no word of their own beyond the known first one.
      row("GET", "/v1.41/" + ID, "/{other}", "-"),
      row("GET", "/v1.41/_ping/" + ID, "/{other}", "-"),
      row("GET", "/v1.41/networks/n1/" + ID, "/networks/{id}/{other}", "-"),
      row("GET", "/v1.41/system/" + ID, "/system/{other}", "-"),
      row("GET", "/", "/{other}", "-"),
      row("OPTIONS", "*", "/{other}", "-"),
      row("GET", "http://docker/v1.41/containers/web/json", "/containers/{id}/json", "web"));

  private static String[] row(String... cells) {
    return cells;
  }

  @Test
  void templatesFollowTheEngineApiAndNeverLeakIds() {
    for (String[] row : TEMPLATES) {
      Call call = DockerPaths.classify(row[0], row[1]);
      String what = row[0] + " " + row[1];
      assertEquals(row[2], call.template(), what);
      assertEquals(row[3].equals("-") ? null : row[3], call.containerId(), what + ": container id");
      assertFalse(call.template().contains(ID), what + ": template leaks an id");
    }
  }

  @Test
  void longStreamsAreFollowedLogsAttachExecEventsWaitStatsAndBuildKitSessions() {
    assertTrue(stream("GET", "/v1.41/containers/web/logs?stdout=1&follow=1"));
    assertTrue(stream("GET", "/v1.41/containers/web/logs?follow=true&tail=all"));
    assertTrue(stream("GET", "/v1.41/containers/web/logs?follow=TRUE"));
    assertFalse(stream("GET", "/v1.41/containers/web/logs?stdout=1"));
    assertFalse(stream("GET", "/v1.41/containers/web/logs?follow=0"));
    assertFalse(stream("GET", "/v1.41/containers/web/logs?follow=false"));
    assertFalse(stream("GET", "/v1.41/containers/web/logs?follow="));
    assertFalse(stream("GET", "/v1.41/containers/web/logs?follow"));
    assertFalse(stream("GET", "/v1.41/containers/web/logs?nofollow=1"));
    assertTrue(stream("POST", "/v1.41/containers/web/attach?stream=1&stdin=1"));
    assertTrue(stream("GET", "/v1.41/containers/web/attach/ws?stream=1"));
    assertTrue(stream("POST", "/v1.41/exec/9a8b/start"));
    assertTrue(stream("GET", "/v1.41/events"));
    assertTrue(stream("POST", "/v1.41/containers/web/wait?condition=not-running"));
    assertTrue(stream("GET", "/v1.41/containers/web/stats"));
    assertFalse(stream("GET", "/v1.41/containers/web/stats?stream=0"));
    assertTrue(stream("POST", "/v1.41/session"));
    assertTrue(stream("POST", "/grpc"));
    assertTrue(stream("GET", "/v1.41/services/s1/logs?follow=1"));
    assertFalse(stream("GET", "/v1.41/containers/json"));
    assertFalse(stream("POST", "/v1.41/containers/web/start"));
    assertFalse(stream("GET", "/v1.41/events/x"));
    assertFalse(stream("POST", "/v1.41/events")); // not the route
    assertFalse(stream("POST", "/v1.41/build"));
  }

  @Test
  void startRestartAndUnpauseAreHeldCreateIsInspectedAndTheRestIsNot() {
    assertEquals(AfterSuccess.HOLD_FOR_FORWARDS, after("POST", "/v1.41/containers/web/start"));
    assertEquals(AfterSuccess.HOLD_FOR_FORWARDS, after("POST", "/v1.41/containers/" + ID + "/restart?t=1"));
    assertEquals(AfterSuccess.HOLD_FOR_FORWARDS, after("POST", "/containers/web/unpause"));
    assertEquals(AfterSuccess.INSPECT_CREATED, after("POST", "/v1.41/containers/create?name=web"));
    assertEquals(AfterSuccess.NOTHING, after("GET", "/v1.41/containers/web/start"));
    assertEquals(AfterSuccess.NOTHING, after("POST", "/v1.41/containers/web/stop"));
    assertEquals(AfterSuccess.NOTHING, after("POST", "/v1.41/containers/web/pause"));
    assertEquals(AfterSuccess.NOTHING, after("POST", "/v1.41/exec/9a8b/start"));
    assertEquals(AfterSuccess.NOTHING, after("POST", "/v1.41/networks/create"));
  }

  @Test
  void flagsAreReadAsTheEngineReadsThem() {
    assertTrue(DockerPaths.boolValue("a=1&follow=yes", "follow", false));
    assertTrue(DockerPaths.boolValue("follow=%20x", "follow", false));
    assertFalse(DockerPaths.boolValue("follow=No", "follow", true));
    assertFalse(DockerPaths.boolValue("follow=none&follow=1", "follow", true)); // the first value counts
    assertTrue(DockerPaths.boolValue("x=1", "follow", true));
    assertFalse(DockerPaths.boolValue(null, "follow", false));
  }

  private static boolean stream(String method, String target) {
    return DockerPaths.classify(method, target).opensStream();
  }

  private static AfterSuccess after(String method, String target) {
    return DockerPaths.classify(method, target).afterSuccess();
  }
}

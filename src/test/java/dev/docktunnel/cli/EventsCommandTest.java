package dev.docktunnel.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docktunnel.bus.Addresses;
import dev.docktunnel.config.ConfigLoader;
import dev.docktunnel.ssh.SshTargetResolver;
import dev.docktunnel.state.HostId;
import dev.docktunnel.state.HostState;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which daemon {@code docktunnel events} follows, what it says when there is none, and its lines. */
class EventsCommandTest {
  static final Instant T = Instant.parse("2026-12-01T12:00:00Z");
  @TempDir
  Path dir;

  /** The host id {@code run --host <host>} uses. */
  static String idOf(String host) {
    return HostId.of(SshTargetResolver.resolve(host, Path.of("/dev/null"))).value();
  }

  /** A state file for {@code host} (ssh://user@host:port), of a live daemon (this JVM's PID) unless stopped. */
  void writeState(String host, boolean running, Integer bridgePort) throws Exception {
    HostState state = new HostState(HostState.VERSION, host, ProcessHandle.current().pid(), running,
        running ? null : T, T, T, null, new HostState.Ssh("connected", null, T), List.of(), null, bridgePort);
    Files.writeString(dir.resolve(idOf(host) + ".state.json"), state.toJson().encodePrettily());
  }

  EventsCommandTarget find(String host) throws Exception {
    HostOptions options = new HostOptions();
    options.stateDir = dir.toString();
    options.sshConfig = "/dev/null";
    options.host = host;
    // a config file of the machine must not leak in: an empty one
    Path config = dir.resolve("docktunnel.json");
    if (!Files.exists(config)) {
      Files.writeString(config, "{}");
    }
    options.configFile = config;
    return EventsCommandTarget.find(options, ConfigLoader.forThisProcess());
  }

  EventsCommandTarget.NotFoundException notFound(String host) {
    return assertThrows(EventsCommandTarget.NotFoundException.class, () -> find(host));
  }

  @Test
  void theOnlyHostIsChosenWithoutHost() throws Exception {
    writeState("ssh://root@box:22", true, 40199);
    EventsCommandTarget target = find(null);
    assertEquals(40199, target.port());
    assertEquals("ssh://root@box:22", target.host());
    assertEquals(dir.resolve(idOf("ssh://root@box:22") + ".state.json"), target.stateFile());
  }

  @Test
  void severalHostsNeedHostAndTheErrorListsThem() throws Exception {
    writeState("ssh://root@a:22", true, 1001);
    writeState("ssh://root@b:22", true, 1002);
    EventsCommandTarget.NotFoundException e = notFound(null);
    assertTrue(e.usage());
    assertTrue(e.getMessage().contains("--host") && e.getMessage().contains("ssh://root@a:22 (" + idOf("ssh://root@a:22")
        + ")") && e.getMessage().contains("ssh://root@b:22"), e.getMessage());
    assertEquals(1002, find("ssh://root@b:22").port(), "--host as given to run");
    assertEquals(1001, find("root@a").port(), "the same target written another way");
    EventsCommandTarget.NotFoundException unknown = notFound("ssh://root@c:22");
    assertTrue(unknown.getMessage().contains("no state for") && unknown.getMessage().contains("has not run"),
        unknown.getMessage());
  }

  @Test
  void aStoppedDaemonOrOneWithoutBridgeSaysSo() throws Exception {
    writeState("ssh://root@a:22", false, 1001);
    EventsCommandTarget.NotFoundException stopped = notFound(null);
    assertTrue(stopped.getMessage().contains("not running"), stopped.getMessage());
    writeState("ssh://root@a:22", true, null);
    EventsCommandTarget.NotFoundException noPort = notFound(null);
    assertTrue(noPort.getMessage().contains("no bridgePort"), noPort.getMessage());
  }

  @Test
  void anEmptyStateDirSaysSo() throws Exception {
    assertTrue(notFound(null).getMessage().contains("no host state in " + dir), "empty dir");
  }

  @Test
  void anUnreachableBridgeExitsOneNamingPortAndStateFile() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort(); // closed again: nothing listens there now
    }
    StringWriter err = new StringWriter();
    int exit = new EventsCommand().follow(new EventsCommandTarget("root@a:22", dir.resolve("a.state.json"), port),
        new PrintWriter(new StringWriter()), new PrintWriter(err, true));
    assertEquals(ExitCodes.FAILED, exit);
    assertTrue(err.toString().contains("127.0.0.1:" + port) && err.toString().contains("a.state.json"),
        err.toString());
  }

  @Test
  void humanLinesGiveTimeAddressSeqAndGist() {
    EventsCommandLines lines = new EventsCommandLines(Clock.fixed(T, ZoneOffset.UTC));
    String forward = lines.line(Addresses.FORWARD_STATUS, new JsonObject().put("containerName", "web")
        .put("localPort", 8080).put("publishedPort", 80).put("protocol", "tcp").put("status", "conflict")
        .put("reason", "port taken").put("updatedAt", "2026-12-01T12:00:01Z").put("seq", 7));
    assertEquals("2026-12-01T12:00:01Z forward.status       #7      web 127.0.0.1:8080 -> 80/tcp conflict: "
        + "port taken", forward);
    String endpoint = lines.line(Addresses.ENDPOINT, new JsonObject().put("kind", "bridge")
        .put("address", "127.0.0.1").put("port", 1234).put("seq", 1));
    assertTrue(endpoint.startsWith("2026-12-01T12:00:00Z endpoint") && endpoint.endsWith(
        "bridge listening on 127.0.0.1:1234"), endpoint);
  }
}

package dev.docktunnel.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docktunnel.config.DocktunnelConfig.ConflictStrategy;
import dev.docktunnel.config.DocktunnelConfig.HostKeyChecking;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
  @TempDir
  Path dir;

  ConfigLoader loader() {
    return new ConfigLoader(Path.of("/home/dev"));
  }

  @Test
  void defaultsWithHostFromTheCommandLine() {
    DocktunnelConfig c = loader().load(null, new JsonObject().put("host", "ssh://me@box"));
    assertEquals("ssh://me@box", c.host());
    assertEquals(Path.of("/home/dev/.ssh/known_hosts"), c.knownHosts());
    assertEquals(Path.of("/home/dev/.docktunnel"), c.stateDir());
    assertEquals(HostKeyChecking.YES, c.strictHostKeyChecking());
    assertEquals("/var/run/docker.sock", c.remoteDockerSocket());
    assertEquals(List.of("127.0.0.1", "::1"), c.forwarding().bindAddresses());
    assertEquals(ConflictStrategy.FAIL, c.forwarding().conflictStrategy());
    assertEquals(Duration.ofSeconds(4), c.ssh().keepaliveInterval());
    assertEquals(2, c.ssh().keepaliveCountMax());
    assertEquals(Duration.ofSeconds(10), c.ssh().connectTimeout());
    assertFalse(c.ssh().waitForHost(), "the first connection fails fast unless told to wait");
    assertEquals(Duration.ofSeconds(15), c.forwarding().holdTimeout());
  }

  @Test
  void holdTimeoutFromTheFileAndItsBadValues() throws Exception {
    Path file = dir.resolve("h.json");
    Files.writeString(file, "{\"host\": \"h\", \"forwarding\": {\"holdTimeout\": \"2500ms\"}}");
    assertEquals(Duration.ofMillis(2500), loader().load(file, new JsonObject()).forwarding().holdTimeout());
    assertEquals("setting 'forwarding.holdTimeout' must be above zero",
        error("{\"host\":\"h\",\"forwarding\":{\"holdTimeout\":\"0s\"}}"));
    assertEquals("setting 'forwarding.holdTimeout' must be a duration like 500ms, 15s, 5m or 1h, not 15",
        error("{\"host\":\"h\",\"forwarding\":{\"holdTimeout\":15}}"));
    assertEquals("setting 'forwarding.holdTimeout' must be a duration like 500ms, 15s, 5m or 1h, not -1s",
        error("{\"host\":\"h\",\"forwarding\":{\"holdTimeout\":\"-1s\"}}"));
  }

  @Test
  void waitForHostFromFileAndCommandLine() throws Exception {
    Path file = dir.resolve("w.json");
    Files.writeString(file, "{\"host\": \"h\", \"ssh\": {\"waitForHost\": true}}");
    assertTrue(loader().load(file, new JsonObject()).ssh().waitForHost());
    JsonObject cli = new JsonObject().put("ssh", new JsonObject().put("waitForHost", true));
    assertTrue(loader().load(null, cli.put("host", "h")).ssh().waitForHost());
  }

  @Test
  void fileOverlaysDefaultsAndCommandLineWins() throws Exception {
    Path file = dir.resolve("c.json");
    Files.writeString(file, """
        {"host": "filehost", "remoteDockerSocket": "/run/user/1000/docker.sock",
         "ssh": {"keepaliveInterval": "7s"},
         "forwarding": {"conflictStrategy": "next-free", "exclude": ["22", "6000-6100"]}}""");
    DocktunnelConfig c = loader().load(file, new JsonObject().put("host", "clihost"));
    assertEquals("clihost", c.host());
    assertEquals("/run/user/1000/docker.sock", c.remoteDockerSocket());
    assertEquals(Duration.ofSeconds(7), c.ssh().keepaliveInterval());
    assertEquals(2, c.ssh().keepaliveCountMax(), "untouched siblings keep their defaults");
    assertEquals(ConflictStrategy.NEXT_FREE, c.forwarding().conflictStrategy());
    assertEquals(List.of(new PortRange(22, 22), new PortRange(6000, 6100)), c.forwarding().exclude());
  }

  String error(String fileJson) throws Exception {
    Path file = dir.resolve("bad.json");
    Files.writeString(file, fileJson);
    return assertThrows(ConfigException.class, () -> loader().load(file, new JsonObject())).getMessage();
  }

  @Test
  void badValuesNameTheSetting() throws Exception {
    assertTrue(error("{\"host\":\"h\",\"hots\":1}").contains("unknown setting 'hots'"));
    assertTrue(error("{\"host\":\"h\",\"ssh\":{\"keepalive\":\"1s\"}}").contains("'ssh.keepalive'"));
    assertTrue(error("{\"host\":\"h\",\"ssh\":{\"keepaliveInterval\":\"soon\"}}").contains("'ssh.keepaliveInterval'"));
    assertTrue(error("{\"host\":\"h\",\"ssh\":{\"waitForHost\":\"yes\"}}").contains("'ssh.waitForHost' must be true or false"));
    assertTrue(error("{\"host\":\"h\",\"strictHostKeyChecking\":\"no\"}").contains("'strictHostKeyChecking'"));
    assertTrue(error("{\"host\":\"h\",\"forwarding\":{\"bindAddresses\":[\"0.0.0.0\"]}}").contains("not a loopback"));
    assertTrue(error("{\"host\":\"h\",\"forwarding\":{\"include\":[\"70000\"]}}").contains("'forwarding.include'"));
    assertTrue(error("{\"host\":\"h\",\"forwarding\":{\"conflictStrategy\":\"wait\"}}").contains("'forwarding.conflictStrategy'"));
    assertTrue(error("{\"host\":\"h\",\"remoteDockerSocket\":\"docker.sock\"}").contains("'remoteDockerSocket'"));
    assertTrue(error("{}").contains("'host' is required"));
    assertTrue(error("not json").contains("is not a JSON object"));
  }

  @Test
  void missingFileIsNamed() {
    Path missing = dir.resolve("nope.json");
    String message = assertThrows(ConfigException.class, () -> loader().load(missing, new JsonObject())).getMessage();
    assertTrue(message.contains(missing.toString()), message);
  }

  @Test
  void identitiesAsAStringInTheFileIsAnErrorEvenWithIdentityOnTheCommandLine() throws Exception {
    Path file = dir.resolve("c.json");
    Files.writeString(file, "{\"host\": \"h\", \"identities\": \"~/.ssh/id_ed25519\"}");
    JsonObject cli = new JsonObject().put("identities", new JsonArray().add("/tmp/key"));
    String message = assertThrows(ConfigException.class, () -> loader().load(file, cli)).getMessage();
    assertTrue(message.contains("'identities' in " + file) && message.contains("list of strings"), message);
    Files.writeString(file, "{\"host\": \"h\", \"knownHosts\": 5}");
    message = assertThrows(ConfigException.class,
        () -> loader().load(file, new JsonObject().put("knownHosts", "/tmp/kh"))).getMessage();
    assertTrue(message.contains("'knownHosts' in " + file), message);
  }

  @Test
  void givenSshConfigMustExistWhileTheDefaultMayBeAbsent() throws Exception {
    JsonObject cli = new JsonObject().put("host", "h");
    assertEquals(Path.of("/home/dev/.ssh/config"), loader().load(null, cli).sshConfig(), "absent default is fine");
    Path missing = dir.resolve("nonexistent");
    String message = assertThrows(ConfigException.class,
        () -> loader().load(null, cli.copy().put("sshConfig", missing.toString()))).getMessage();
    assertEquals("setting 'sshConfig' (--ssh-config): " + missing + " does not exist (use /dev/null for no SSH config)",
        message);
    Path file = dir.resolve("c.json");
    Files.writeString(file, "{\"host\": \"h\", \"sshConfig\": \"" + missing + "\"}");
    assertThrows(ConfigException.class, () -> loader().load(file, new JsonObject()), "also from the file");
    assertEquals(Path.of("/dev/null"), loader().load(null, cli.copy().put("sshConfig", "/dev/null")).sshConfig());
    message = assertThrows(ConfigException.class,
        () -> loader().load(null, cli.copy().put("sshConfig", dir.toString()))).getMessage();
    assertTrue(message.contains("is a directory"), message);
  }

  @Test
  void knownHostsMayBeAbsentButNotADirectory() {
    JsonObject cli = new JsonObject().put("host", "h");
    Path absent = dir.resolve("known_hosts");
    assertEquals(absent, loader().load(null, cli.copy().put("knownHosts", absent.toString())).knownHosts());
    String message = assertThrows(ConfigException.class,
        () -> loader().load(null, cli.copy().put("knownHosts", dir.toString()))).getMessage();
    assertEquals("setting 'knownHosts' (--known-hosts): " + dir + " is a directory, not a file", message);
  }
}

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
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
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
    assertEquals(Duration.ofSeconds(5), c.docker().holdStart());
  }

  @Test
  void dockerHoldStartFromTheFileAndItsBadValues() throws Exception {
    Path file = dir.resolve("d.json");
    Files.writeString(file, "{\"host\": \"h\", \"docker\": {\"holdStart\": \"750ms\"}}");
    assertEquals(Duration.ofMillis(750), loader().load(file, new JsonObject()).docker().holdStart());
    assertEquals("setting 'docker.holdStart' must be above zero",
        error("{\"host\":\"h\",\"docker\":{\"holdStart\":\"0s\"}}"));
    assertEquals("setting 'docker.holdStart' must be a duration like 500ms, 15s, 5m or 1h, not 5",
        error("{\"host\":\"h\",\"docker\":{\"holdStart\":5}}"));
    assertTrue(error("{\"host\":\"h\",\"docker\":{\"holdstart\":\"5s\"}}").contains("holdstart"));
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
  void lifecycleDefaultsAreTheStaticProviderWithTheDocumentedTimings() {
    DocktunnelConfig.Lifecycle l = loader().load(null, new JsonObject().put("host", "h")).lifecycle();
    assertEquals("static", l.provider());
    assertEquals(Duration.ofMinutes(30), l.idleTimeout());
    assertEquals(Duration.ofSeconds(60), l.gracePeriod());
    assertEquals(Duration.ofHours(2), l.connectionTimeout());
    assertEquals(Duration.ofSeconds(120), l.wakeTimeout());
    assertEquals(DocktunnelConfig.Command.NONE, l.command());
    assertEquals(DocktunnelConfig.Hetzner.DEFAULT, l.hetzner());
    assertEquals(DocktunnelConfig.Lifecycle.DEFAULT, l, "the record's DEFAULT is the loader's defaults");
  }

  @Test
  void commandProviderFromTheFileNeedsStatusStartAndStop() throws Exception {
    Path file = dir.resolve("c.json");
    Files.writeString(file, "{\"host\":\"h\",\"lifecycle\":{\"provider\":\"command\",\"idleTimeout\":\"10m\","
        + "\"gracePeriod\":\"15m\",\"command\":{\"status\":\"box status\",\"start\":\" box start \","
        + "\"stop\":\"box stop\",\"timeout\":\"90s\"}}}");
    DocktunnelConfig.Lifecycle l = loader().load(file, new JsonObject()).lifecycle();
    assertEquals("command", l.provider());
    assertEquals(Duration.ofMinutes(10), l.idleTimeout());
    assertEquals(Duration.ofMinutes(15), l.gracePeriod(), "a grace period above the idle timeout is allowed");
    assertEquals(new DocktunnelConfig.Command("box status", "box start", "box stop", null, Duration.ofSeconds(90)),
        l.command());
    assertEquals(Duration.ofHours(2), l.connectionTimeout(), "settings not in the file keep their defaults");
    assertEquals("setting 'lifecycle.command.start' is required with lifecycle.provider 'command': "
        + "a shell command that starts the server",
        error("{\"host\":\"h\",\"lifecycle\":{\"provider\":\"command\",\"command\":{\"status\":\"s\",\"stop\":\"t\"}}}"));
    assertTrue(error("{\"host\":\"h\",\"lifecycle\":{\"provider\":\"command\",\"command\":{\"start\":\"s\",\"stop\":\"t\"}}}")
        .startsWith("setting 'lifecycle.command.status' is required"));
    assertTrue(error("{\"host\":\"h\",\"lifecycle\":{\"provider\":\"command\",\"command\":{\"status\":\"s\",\"start\":\"t\"}}}")
        .startsWith("setting 'lifecycle.command.stop' is required"));
    assertEquals("setting 'lifecycle.command.stop' must be a non-empty string or null, not the string \" \"",
        error("{\"host\":\"h\",\"lifecycle\":{\"command\":{\"stop\":\" \"}}}"));
    assertEquals("setting 'lifecycle.command.status' must be a non-empty string or null, not [\"box\",\"status\"]",
        error("{\"host\":\"h\",\"lifecycle\":{\"command\":{\"status\":[\"box\",\"status\"]}}}"),
        "a wrong type is an error whichever provider is chosen");
  }

  @Test
  void hetznerProviderNeedsItsSettingsAndAVolumeOrASnapshotRule() throws Exception {
    String base = "\"serverName\":\"box\",\"serverType\":\"cx22\",\"location\":\"fsn1\",\"sshKey\":\"me\"";
    Path file = dir.resolve("h.json");
    Files.writeString(file, "{\"host\":\"h\",\"lifecycle\":{\"provider\":\"hetzner\",\"hetzner\":{" + base
        + ",\"image\":\"docker-ce\",\"volume\":\"docker-data\",\"tokenFile\":\"~/.config/hcloud-token\","
        + "\"apiUrl\":\"http://127.0.0.1:8181/v1\",\"tokenEnv\":\"MY_TOKEN\"}}}");
    DocktunnelConfig.Hetzner h = loader().load(file, new JsonObject()).lifecycle().hetzner();
    assertEquals(new DocktunnelConfig.Hetzner("http://127.0.0.1:8181/v1", "MY_TOKEN",
        Path.of("/home/dev/.config/hcloud-token"), "box", "cx22", "fsn1", "docker-ce", "me", "docker-data", "volume"), h);

    String hetzner = "{\"host\":\"h\",\"lifecycle\":{\"provider\":\"hetzner\",\"hetzner\":{";
    Files.writeString(file, hetzner + base + ",\"keep\":\"snapshot\"}}}");
    DocktunnelConfig.Hetzner snapshot = loader().load(file, new JsonObject()).lifecycle().hetzner();
    assertEquals("snapshot", snapshot.keep());
    assertEquals(null, snapshot.image(), "with a snapshot rule the image is optional");
    assertEquals(null, snapshot.volume());

    assertEquals("setting 'lifecycle.hetzner.volume' is required with lifecycle.provider 'hetzner' and keep 'volume': "
        + "the volume holding /var/lib/docker", error(hetzner + base + ",\"image\":\"docker-ce\"}}}"));
    assertTrue(error(hetzner + base + ",\"volume\":\"v\"}}}").startsWith(
        "setting 'lifecycle.hetzner.image' is required with lifecycle.provider 'hetzner' and keep 'volume'"));
    for (String missing : List.of("serverName", "serverType", "location", "sshKey")) {
      String without = base.replaceAll("\"" + missing + "\":\"[^\"]*\",?", "").replaceAll(",$", "");
      assertTrue(error(hetzner + without + ",\"keep\":\"snapshot\"}}}").startsWith(
          "setting 'lifecycle.hetzner." + missing + "' is required with lifecycle.provider 'hetzner': "), missing);
    }
    assertEquals("setting 'lifecycle.hetzner.keep' must be 'volume' or 'snapshot', not 'disk'",
        error(hetzner + base + ",\"keep\":\"disk\"}}}"));
    assertEquals("setting 'lifecycle.hetzner.apiUrl' must be an https URL like https://api.hetzner.cloud/v1, "
        + "not 'api.hetzner.cloud'", error("{\"host\":\"h\",\"lifecycle\":{\"hetzner\":{\"apiUrl\":\"api.hetzner.cloud\"}}}"));
    assertEquals("setting 'lifecycle.hetzner.tokenEnv' must be an environment variable's name like HCLOUD_TOKEN, "
        + "not '$HCLOUD_TOKEN'", error("{\"host\":\"h\",\"lifecycle\":{\"hetzner\":{\"tokenEnv\":\"$HCLOUD_TOKEN\"}}}"));
    // Not chosen: what hetzner needs is not required, but a bad keep still fails.
    assertEquals("static", loader().load(null, new JsonObject().put("host", "h")).lifecycle().provider());
    assertTrue(error("{\"host\":\"h\",\"lifecycle\":{\"hetzner\":{\"keep\":\"disk\"}}}").contains("'lifecycle.hetzner.keep'"));
  }

  @Test
  void badLifecycleValuesNameTheSetting() throws Exception {
    assertEquals("setting 'lifecycle.provider' must be 'static', 'command' or 'hetzner', not 'aws'",
        error("{\"host\":\"h\",\"lifecycle\":{\"provider\":\"aws\"}}"));
    for (String key : List.of("idleTimeout", "gracePeriod", "connectionTimeout", "wakeTimeout")) {
      assertEquals("setting 'lifecycle." + key + "' must be above zero",
          error("{\"host\":\"h\",\"lifecycle\":{\"" + key + "\":\"0m\"}}"));
      assertEquals("setting 'lifecycle." + key + "' must be a duration like 500ms, 15s, 5m or 1h, not 30",
          error("{\"host\":\"h\",\"lifecycle\":{\"" + key + "\":30}}"));
    }
    assertEquals("setting 'lifecycle.command.timeout' must be above zero",
        error("{\"host\":\"h\",\"lifecycle\":{\"command\":{\"timeout\":\"0s\"}}}"));
    assertTrue(error("{\"host\":\"h\",\"lifecycle\":{\"idletimeout\":\"5m\"}}")
        .startsWith("unknown setting 'lifecycle.idletimeout' in "));
    assertTrue(error("{\"host\":\"h\",\"lifecycle\":{\"command\":{\"restart\":\"x\"}}}")
        .startsWith("unknown setting 'lifecycle.command.restart' in "));
    assertTrue(error("{\"host\":\"h\",\"lifecycle\":{\"hetzner\":{\"token\":\"x\"}}}")
        .startsWith("unknown setting 'lifecycle.hetzner.token' in "));
    assertTrue(error("{\"host\":\"h\",\"lifecycle\":{\"hetzner\":\"box\"}}")
        .startsWith("setting 'lifecycle.hetzner' in "));
    assertTrue(error("{\"host\":\"h\",\"lifecycle\":\"static\"}").startsWith("setting 'lifecycle' in "));
    for (String message : List.of(error("{\"host\":\"h\",\"lifecycle\":{\"provider\":\"command\"}}"),
        error("{\"host\":\"h\",\"lifecycle\":{\"provider\":\"hetzner\"}}"))) {
      assertFalse(message.contains("\n"), "one line: " + message);
    }
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
    assertEquals(Path.of("/home/dev/.ssh/config"), loader().load(null, cli.copy().put("sshConfig", "~/.ssh/config"))
        .sshConfig(), "the default named explicitly (the shipped file does) may be absent too");
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

  // --- which file: --config, ./conf/docktunnel.json, the XDG config home, none ---

  /** A loader whose home and working directory are temp dirs, with {@code env} as environment. */
  ConfigLoader lookup(Map<String, String> env) throws Exception {
    return new ConfigLoader(Files.createDirectories(dir.resolve("home")),
        Files.createDirectories(dir.resolve("work")), env);
  }

  Path write(String relative, String json) throws Exception {
    Path file = dir.resolve(relative);
    Files.createDirectories(file.getParent());
    return Files.writeString(file, json);
  }

  @Test
  void lookupTakesTheFirstThatExistsInTheDocumentedOrder() throws Exception {
    ConfigLoader loader = lookup(Map.of());
    assertEquals(Optional.empty(), loader.find(null), "nothing anywhere: built-in defaults");
    Path user = write("home/.config/docktunnel/docktunnel.json", "{\"host\": \"user\"}");
    assertEquals(Optional.of(user), loader.find(null), "the user's file, found from any working directory");
    Path working = write("work/conf/docktunnel.json", "{\"host\": \"working\"}");
    assertEquals(Optional.of(working), loader.find(null), "./conf/docktunnel.json before the user's file");
    Path explicit = write("elsewhere.json", "{\"host\": \"explicit\"}");
    assertEquals(Optional.of(explicit), loader.find(explicit), "--config before both");
    assertEquals("working", loader.load(loader.find(null).orElseThrow(), new JsonObject()).host(),
        "the first found is read alone");
  }

  @Test
  void xdgConfigHomeReplacesDotConfigUnlessEmptyOrRelative() throws Exception {
    Path user = write("home/.config/docktunnel/docktunnel.json", "{}");
    Path xdg = write("xdg/docktunnel/docktunnel.json", "{}");
    String xdgHome = dir.resolve("xdg").toString();
    assertEquals(Optional.of(xdg), lookup(Map.of("XDG_CONFIG_HOME", xdgHome)).find(null));
    assertEquals(Optional.of(user), lookup(Map.of("XDG_CONFIG_HOME", "")).find(null), "empty: the default");
    assertEquals(Optional.of(user), lookup(Map.of("XDG_CONFIG_HOME", "xdg")).find(null),
        "relative: invalid per the XDG spec, the default");
    Files.delete(xdg);
    assertEquals(Optional.empty(), lookup(Map.of("XDG_CONFIG_HOME", xdgHome)).find(null),
        "with XDG_CONFIG_HOME set, ~/.config is not looked at");
    assertEquals(List.of(dir.resolve("work/conf/docktunnel.json"), dir.resolve("xdg/docktunnel/docktunnel.json")),
        lookup(Map.of("XDG_CONFIG_HOME", xdgHome)).searchPath());
  }

  @Test
  void explicitConfigMustExistAndIsRelativeToTheWorkingDirectory() throws Exception {
    ConfigLoader loader = lookup(Map.of());
    write("home/.config/docktunnel/docktunnel.json", "{}");
    Path missing = dir.resolve("work/missing.json");
    String message = assertThrows(ConfigException.class, () -> loader.find(Path.of("missing.json"))).getMessage();
    assertEquals("config file " + missing + " (--config) does not exist", message,
        "a missing --config never falls back to another file");
    Path relative = write("work/mine.json", "{}");
    assertEquals(Optional.of(relative), loader.find(Path.of("mine.json")));
  }

  @Test
  void aFoundFileThatCannotBeUsedIsAnErrorNotSkipped() throws Exception {
    ConfigLoader loader = lookup(Map.of());
    write("home/.config/docktunnel/docktunnel.json", "{\"host\": \"user\"}");
    Path broken = dir.resolve("work/conf/docktunnel.json");
    Files.createDirectories(broken.getParent());
    Files.createSymbolicLink(broken, dir.resolve("gone.json"));
    assertEquals(Optional.of(broken), loader.find(null), "a dangling link is found, not passed over");
    String message = assertThrows(ConfigException.class, () -> loader.load(broken, new JsonObject())).getMessage();
    assertEquals("config file " + broken + " does not exist (it is a symbolic link to a missing file)", message);
    Files.delete(broken);
    Files.createDirectories(broken);
    message = assertThrows(ConfigException.class,
        () -> loader.load(loader.find(null).orElseThrow(), new JsonObject())).getMessage();
    assertEquals("config file " + broken + " is a directory, not a file", message);
  }

  // --- the shipped conf/docktunnel.json ---

  /** The repository's conf/, found from Maven's working directory (the project's base dir). */
  static final Path SHIPPED = Path.of("conf", "docktunnel.json");

  JsonObject shipped() throws Exception {
    assertTrue(Files.isRegularFile(SHIPPED), "shipped config not found at " + SHIPPED.toAbsolutePath());
    return new JsonObject(Files.readString(SHIPPED));
  }

  @Test
  void shippedConfigIsExactlyTheBuiltInDefaultsAndLoadsWithAHost() throws Exception {
    JsonObject shipped = shipped();
    ConfigLoader loader = loader();
    assertEquals(loader.defaults(), shipped, "every setting, at its built-in default");
    Path file = Files.writeString(dir.resolve("shipped.json"), shipped.encode());
    String message = assertThrows(ConfigException.class, () -> loader.load(file, new JsonObject())).getMessage();
    assertTrue(message.contains("'host' is required"), "no placeholder host: " + message);
    DocktunnelConfig fromFile = loader.load(file, new JsonObject().put("host", "ssh://me@box"));
    assertEquals(loader.load(null, new JsonObject().put("host", "ssh://me@box")), fromFile,
        "with --host, the shipped file runs exactly like no file");
  }

  @Test
  void everyShippedSettingHasItsRowInConfReadme() throws Exception {
    String table = Files.readString(SHIPPED.resolveSibling("README.md"));
    assertRows(table, "", shipped());
    assertRow(table, "host");
  }

  /** A row per setting, nested sections ({@code lifecycle.command.status}) too. */
  static void assertRows(String table, String prefix, JsonObject section) {
    for (String key : section.fieldNames()) {
      if (section.getValue(key) instanceof JsonObject nested) {
        assertRows(table, prefix + key + ".", nested);
      } else {
        assertRow(table, prefix + key);
      }
    }
  }

  static void assertRow(String table, String setting) {
    assertTrue(Pattern.compile("(?m)^\\| `" + Pattern.quote(setting) + "` \\|").matcher(table).find(),
        "conf/README.md has no row for '" + setting + "'");
  }
}

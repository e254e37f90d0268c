package dev.docktunnel.ssh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docktunnel.config.ConfigException;
import dev.docktunnel.config.ConfigLoader;
import dev.docktunnel.config.DocktunnelConfig;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SshPreflightTest {

  @TempDir
  Path dir;

  private DocktunnelConfig config(String host, String... identities) {
    JsonArray ids = new JsonArray();
    for (String id : identities) {
      ids.add(id);
    }
    return new ConfigLoader(dir).load(null, new JsonObject().put("host", host).put("identities", ids)
        .put("sshConfig", "/dev/null"));
  }

  @Test
  void goodHostAndPrivateKeyPass() throws Exception {
    Path key = TestKeys.writeOpenSsh(dir.resolve("id"), TestKeys.ed25519(), null);
    SshTarget target = SshPreflight.check(config("ssh://dev@10.0.0.2:2222", key.toString()));
    assertEquals("dev@10.0.0.2:2222", target.display());
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "ftp://dev@box|unsupported scheme 'ftp'",
      "ssh://dev@box:99999|port 99999 is out of range",
      "ssh://dev@box:22x|port '22x' is not a number",
      "ssh://|has no host name",
      "ssh://dev@|has no host name",
      "'dev @box'|contains white space",
      "box:22|looks like host:port",
      "ssh://dev@bo$x|'bo$x' is not a valid host name"})
  void badHostIsOneLineNamingTheSetting(String host, String problem) {
    String message = assertThrows(ConfigException.class, () -> SshPreflight.check(config(host))).getMessage();
    assertTrue(message.startsWith("setting 'host' (--host): ") && message.contains(problem), message);
    assertTrue(!message.contains("\n"), message);
  }

  @Test
  void namedKeyMustExistBeAFileAndBePrivate() throws Exception {
    Path missing = dir.resolve("nonexistent");
    assertEquals("setting 'identities' (--identity): private key file " + missing + " does not exist",
        assertThrows(ConfigException.class, () -> SshPreflight.check(config("box", missing.toString()))).getMessage());
    String message = assertThrows(ConfigException.class,
        () -> SshPreflight.check(config("box", dir.toString()))).getMessage();
    assertTrue(message.contains("is not a regular file"), message);
    Path open = TestKeys.chmod(TestKeys.writeOpenSsh(dir.resolve("id_open"), TestKeys.ed25519(), null), "rw-r--r--");
    message = assertThrows(ConfigException.class, () -> SshPreflight.check(config("box", open.toString()))).getMessage();
    assertTrue(message.startsWith("setting 'identities' (--identity): UNPROTECTED PRIVATE KEY FILE: permissions 0644 for "
        + open), message);
  }

  @Test
  void aliasIsResolvedThroughTheSshConfig() throws Exception {
    Path sshConfig = Files.writeString(dir.resolve("config"), "Host build\n  HostName 10.1.2.3\n  Port 0\n");
    DocktunnelConfig c = new ConfigLoader(dir).load(null,
        new JsonObject().put("host", "build").put("sshConfig", sshConfig.toString()));
    String message = assertThrows(ConfigException.class, () -> SshPreflight.check(c)).getMessage();
    assertTrue(message.startsWith("setting 'host' (--host): ") && message.contains(sshConfig.toString()), message);
  }
}

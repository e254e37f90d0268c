package dev.docktunnel.ssh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SshTargetResolverTest {

  @TempDir
  Path dir;

  private static final String ME = System.getProperty("user.name");

  private SshTarget resolve(String spec) {
    return SshTargetResolver.resolve(spec, dir.resolve("no-such-config"));
  }

  @Test
  void uriWithUserAndPort() {
    SshTarget t = resolve("ssh://root@203.0.113.7:2222");
    assertEquals(new SshTarget("203.0.113.7", 2222, "root", List.of(), "ssh://root@203.0.113.7:2222"), t);
    assertEquals("[203.0.113.7]:2222", t.knownHostsName());
    assertEquals("root@203.0.113.7:2222", t.display());
  }

  @Test
  void uriDefaultsToCurrentUserAndPort22() {
    SshTarget t = resolve("ssh://example.com");
    assertEquals("example.com", t.hostName());
    assertEquals(22, t.port());
    assertEquals(ME, t.user());
    assertEquals("example.com", t.knownHostsName());
  }

  @Test
  void uriWithTrailingSlashAndIpv6() {
    assertEquals("example.com", resolve("ssh://u@example.com/").hostName());
    SshTarget v6 = resolve("ssh://u@[2001:db8::1]:2200");
    assertEquals("2001:db8::1", v6.hostName());
    assertEquals(2200, v6.port());
    assertEquals("[2001:db8::1]:2200", v6.knownHostsName());
    assertEquals("u@[2001:db8::1]:2200", v6.display());
  }

  @Test
  void bareForms() {
    SshTarget userAtHost = resolve("deploy@box.internal");
    assertEquals("box.internal", userAtHost.hostName());
    assertEquals("deploy", userAtHost.user());
    assertEquals(22, userAtHost.port());
    SshTarget alias = resolve("devbox");
    assertEquals("devbox", alias.hostName());
    assertEquals(ME, alias.user());
    assertEquals("::1", resolve("::1").hostName());
  }

  @ParameterizedTest
  @ValueSource(strings = {"", " ", "ssh://", "ssh://@host", "ssh://host:0", "ssh://host:65536",
      "ssh://host:abc", "ssh://host:", "http://host", "ssh://host/path", "ssh://host?x=1",
      "ssh://u:secret@host", "host:2222", "user@", "@host", "ho st", " host", "ssh://[::1",
      "ssh://[nothex]:22", "ssh://a:b:c", "bad/host", "ssh://-host", "[::1]:22", "ssh://host:99999"})
  void badInputIsRefusedNamingTheValue(String spec) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> resolve(spec));
    assertTrue(e.getMessage().contains("'" + spec + "'") || spec.isBlank(), e.getMessage());
  }

  @Test
  void portOutOfRangeMessageSaysSo() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> resolve("ssh://host:70000"));
    assertTrue(e.getMessage().contains("70000"), e.getMessage());
  }

  @Test
  void sshConfigSuppliesHostNameUserPortAndIdentityFiles() throws Exception {
    Path config = Files.writeString(dir.resolve("config"), """
        Host devbox
          HostName 10.1.2.3
          User builder
          Port 2022
          IdentityFile ~/.ssh/devbox_key
          IdentityFile /opt/keys/%r@%h

        Host *
          User fallback
          IdentityFile ~/.ssh/everyone
        """);
    SshTarget t = SshTargetResolver.resolve("devbox", config);
    assertEquals("10.1.2.3", t.hostName());
    assertEquals("builder", t.user());
    assertEquals(2022, t.port());
    String home = System.getProperty("user.home");
    assertEquals(List.of(Path.of(home, ".ssh", "devbox_key"), Path.of("/opt/keys/builder@10.1.2.3"),
        Path.of(home, ".ssh", "everyone")), t.identityFiles());
    assertEquals("devbox", t.alias());
  }

  @Test
  void commandLineUserAndPortWinOverConfig() throws Exception {
    Path config = Files.writeString(dir.resolve("config"), """
        Host devbox
          HostName 10.1.2.3
          User builder
          Port 2022
        """);
    SshTarget t = SshTargetResolver.resolve("ssh://root@devbox:2200", config);
    assertEquals("10.1.2.3", t.hostName());
    assertEquals("root", t.user());
    assertEquals(2200, t.port());
  }

  @Test
  void wildcardOnlyMatchAppliesDefaults() throws Exception {
    Path config = Files.writeString(dir.resolve("config"), """
        Host *.example.com
          User web
        """);
    SshTarget t = SshTargetResolver.resolve("a.example.com", config);
    assertEquals("a.example.com", t.hostName());
    assertEquals("web", t.user());
    assertEquals(22, t.port());
    SshTarget other = SshTargetResolver.resolve("other.org", config);
    assertEquals(ME, other.user());
  }

  @Test
  void missingConfigFileMeansNoEntries() {
    SshTarget t = SshTargetResolver.resolve("u@h", dir.resolve("absent"));
    assertEquals(new SshTarget("h", 22, "u", List.of(), "u@h"), t);
  }

  @Test
  void badPortInConfigIsNamed() throws Exception {
    Path config = Files.writeString(dir.resolve("config"), """
        Host devbox
          Port nope
        """);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> SshTargetResolver.resolve("devbox", config));
    assertTrue(e.getMessage().contains(config.toString()), e.getMessage());
  }
}

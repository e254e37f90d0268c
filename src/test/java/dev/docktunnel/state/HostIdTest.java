package dev.docktunnel.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docktunnel.ssh.SshTarget;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class HostIdTest {

  private static SshTarget target(String user, String host, int port, String alias) {
    return new SshTarget(host, port, user, List.of(Path.of("/k")), alias);
  }

  @Test
  void readablePrefixThenEightHexOfTheCanonicalTarget() {
    HostId id = HostId.of(target("root", "build-box", 22, "build"));
    assertTrue(id.value().matches("root-build-box-22-[0-9a-f]{8}"), id.value());
  }

  @Test
  void stableForTheSameUserHostAndPortWhateverTheAliasOrKeys() {
    HostId a = HostId.of(target("root", "Build-Box", 22, "build"));
    HostId b = new HostId(HostId.of(new SshTarget("build-box", 22, "root", List.of(), "root@build-box")).value());
    assertEquals(a, b);
  }

  @Test
  void userPortAndHostEachChangeTheHash() {
    String base = hash(HostId.of(target("root", "h", 22, "h")));
    assertNotEquals(base, hash(HostId.of(target("admin", "h", 22, "h"))));
    assertNotEquals(base, hash(HostId.of(target("root", "h", 2222, "h"))));
    assertNotEquals(base, hash(HostId.of(target("root", "g", 22, "g"))));
  }

  @Test
  void prefixesThatSanitizeAlikeStayApartByTheHash() {
    HostId dots = HostId.of(target("a.b", "h", 22, "x"));
    HostId under = HostId.of(target("a_b", "h", 22, "x"));
    assertEquals("a-b-h-22-", dots.value().substring(0, 9));
    assertEquals("a-b-h-22-", under.value().substring(0, 9));
    assertNotEquals(dots, under);
  }

  @Test
  void sanitizedToLowerAlphanumericsAndDashes() {
    HostId id = HostId.of(target("Ünïcode_User", "fe80::1%eth0", 22, "x"));
    assertTrue(id.value().matches("[a-z0-9]([a-z0-9-]*[a-z0-9])?"), id.value());
    assertTrue(id.value().startsWith("n-code-user-fe80-1-eth0-22-"), id.value());
  }

  @Test
  void longTargetsAreBoundedAndKeepTheHash() {
    String host = "a".repeat(200) + ".example.com";
    HostId id = HostId.of(target("deploy", host, 22, "x"));
    assertTrue(id.value().length() <= HostId.MAX_LENGTH, id.value());
    assertTrue(id.value().matches("deploy-a+-[0-9a-f]{8}"), id.value());
    HostId other = HostId.of(target("deploy", "a".repeat(200) + ".example.org", 22, "x"));
    assertNotEquals(id, other);
  }

  @Test
  void rejectsInvalidValues() {
    assertThrows(IllegalArgumentException.class, () -> new HostId(""));
    assertThrows(IllegalArgumentException.class, () -> new HostId("../etc"));
    assertThrows(IllegalArgumentException.class, () -> new HostId("-x"));
    assertThrows(IllegalArgumentException.class, () -> new HostId("x".repeat(65)));
  }

  private static String hash(HostId id) {
    return id.value().substring(id.value().length() - 8);
  }
}

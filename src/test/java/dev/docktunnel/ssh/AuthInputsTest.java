package dev.docktunnel.ssh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuthInputsTest {

  @TempDir
  Path dir;

  @Test
  void unchangedInputsReadTheSame() throws Exception {
    Path key = TestKeys.writeOpenSsh(dir.resolve("id_ed25519"), TestKeys.ed25519(), null);
    assertEquals(AuthInputs.read(List.of(key), Optional.empty()), AuthInputs.read(List.of(key), Optional.empty()));
  }

  @Test
  void aKeyFileAppearingOrChangingIsAChange() throws Exception {
    Path key = dir.resolve("id_ed25519");
    AuthInputs missing = AuthInputs.read(List.of(key), Optional.empty());
    assertTrue(missing.entries().contains(key + " missing"), missing.toString());
    TestKeys.writeOpenSsh(key, TestKeys.ed25519(), null);
    AuthInputs written = AuthInputs.read(List.of(key), Optional.empty());
    assertNotEquals(missing, written);
    Files.setLastModifiedTime(key, FileTime.fromMillis(Files.getLastModifiedTime(key).toMillis() + 5_000));
    assertNotEquals(written, AuthInputs.read(List.of(key), Optional.empty()));
  }

  @Test
  void aKeyAddedToTheAgentIsAChange() throws Exception {
    try (FakeSshAgent agent = new FakeSshAgent(dir.resolve("agent.sock"))) {
      AuthInputs empty = AuthInputs.read(List.of(), Optional.of(agent.socket()));
      assertEquals(empty, AuthInputs.read(List.of(), Optional.of(agent.socket())));
      agent.add(TestKeys.ed25519(), "added later");
      assertNotEquals(empty, AuthInputs.read(List.of(), Optional.of(agent.socket())));
    }
  }

  @Test
  void anAgentThatIsGoneIsReportedNotThrown() {
    AuthInputs gone = AuthInputs.read(List.of(), Optional.of(dir.resolve("no-agent.sock")));
    assertTrue(gone.entries().get(gone.entries().size() - 1).contains("not usable"), gone.toString());
  }
}

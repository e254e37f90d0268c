package dev.docktunnel.ssh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdentityPlannerTest {

  @TempDir
  Path dir;

  @Test
  void ordersExplicitThenConfigThenDefaultsWithoutDuplicates() throws Exception {
    Path sshDir = Files.createDirectories(dir.resolve(".ssh"));
    Path explicit = TestKeys.writeOpenSsh(dir.resolve("explicit"), TestKeys.ed25519(), null);
    Path configured = TestKeys.writeOpenSsh(dir.resolve("configured"), TestKeys.ecdsa(), null);
    Path defaultEd = TestKeys.writeOpenSsh(sshDir.resolve("id_ed25519"), TestKeys.ed25519(), null);
    Path defaultRsa = TestKeys.writeOpenSsh(sshDir.resolve("id_rsa"), TestKeys.rsa(), null);
    Path agent = dir.resolve("agent.sock");
    IdentityPlanner planner = new IdentityPlanner(
        List.of(explicit, dir.resolve("missing-explicit")),
        List.of(configured, defaultRsa, dir.resolve("missing-configured")),
        sshDir, () -> Optional.of(agent), new KeyFileLoader(null));
    AuthPlan plan = planner.plan();
    assertEquals(List.of(explicit, configured, defaultRsa), plan.fileKeys().stream().map(AuthPlan.FileKey::file).toList());
    assertEquals(List.of(defaultEd), plan.defaultKeys().stream().map(AuthPlan.FileKey::file).toList());
    assertEquals(Optional.of(agent), plan.agentSocket());
    assertEquals(List.of("--identity " + dir.resolve("missing-explicit") + " does not exist"), plan.problems());
  }

  @Test
  void encryptedKeyIsPromptedOnceAndKeptForReconnects() throws Exception {
    KeyPair pair = TestKeys.ed25519();
    Path key = TestKeys.writeOpenSsh(dir.resolve("enc"), pair, "pw");
    AtomicInteger prompts = new AtomicInteger();
    IdentityPlanner planner = new IdentityPlanner(List.of(key), List.of(), null, Optional::empty,
        new KeyFileLoader((f, a) -> {
          prompts.incrementAndGet();
          return "pw".toCharArray();
        }));
    assertEquals(1, planner.plan().fileKeys().size());
    assertEquals(1, planner.plan().fileKeys().size());
    assertEquals(1, prompts.get());
  }

  @Test
  void failedPromptIsNotRepeatedOnLaterAttempts() throws Exception {
    Path key = TestKeys.writeOpenSsh(dir.resolve("enc"), TestKeys.ed25519(), "pw");
    AtomicInteger prompts = new AtomicInteger();
    IdentityPlanner planner = new IdentityPlanner(List.of(key), List.of(), null, Optional::empty,
        new KeyFileLoader((f, a) -> {
          prompts.incrementAndGet();
          return "bad".toCharArray();
        }));
    AuthPlan first = planner.plan();
    assertTrue(first.fileKeys().isEmpty());
    assertTrue(first.problems().get(0).contains("wrong passphrase"), first.problems().toString());
    AuthPlan second = planner.plan();
    assertEquals(KeyFileLoader.PASSPHRASE_ATTEMPTS, prompts.get());
    assertTrue(second.problems().get(0).contains("passphrase was not given earlier"), second.problems().toString());
  }

  @Test
  void encryptedKeyWithoutTerminalIsAProblemNotAFailure() throws Exception {
    Path key = TestKeys.writeOpenSsh(dir.resolve("enc"), TestKeys.ed25519(), "pw");
    Path plain = TestKeys.writeOpenSsh(dir.resolve("plain"), TestKeys.ed25519(), null);
    AuthPlan plan = new IdentityPlanner(List.of(key, plain), List.of(), null, Optional::empty, new KeyFileLoader(null)).plan();
    assertEquals(List.of(plain), plan.fileKeys().stream().map(AuthPlan.FileKey::file).toList());
    assertTrue(plan.problems().get(0).contains("is encrypted") && plan.problems().get(0).contains("ssh-agent"));
  }

  @Test
  void defaultKeyReadableByOthersIsSkippedNamingTheFile() throws Exception {
    Path sshDir = Files.createDirectories(dir.resolve(".ssh"));
    Path open = TestKeys.chmod(TestKeys.writeOpenSsh(sshDir.resolve("id_ed25519"), TestKeys.ed25519(), null), "rw-r--r--");
    Path fine = TestKeys.writeOpenSsh(sshDir.resolve("id_rsa"), TestKeys.rsa(), null);
    IdentityPlanner planner = new IdentityPlanner(List.of(), List.of(), sshDir, Optional::empty, new KeyFileLoader(null));
    AuthPlan plan = planner.plan();
    assertEquals(List.of(fine), plan.defaultKeys().stream().map(AuthPlan.FileKey::file).toList());
    assertEquals(1, plan.problems().size(), plan.problems().toString());
    assertTrue(plan.problems().get(0).startsWith("UNPROTECTED PRIVATE KEY FILE: permissions 0644 for " + open),
        plan.problems().get(0));
    // Loaded once while protected, then opened up: the cached key is not offered any more.
    TestKeys.ownerOnly(open);
    assertEquals(2, planner.plan().defaultKeys().size());
    TestKeys.chmod(open, "rw-rw----");
    assertEquals(List.of(fine), planner.plan().defaultKeys().stream().map(AuthPlan.FileKey::file).toList());
  }
}

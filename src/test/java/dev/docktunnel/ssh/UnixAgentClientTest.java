package dev.docktunnel.ssh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.signature.BuiltinSignatures;
import org.apache.sshd.common.signature.Signature;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UnixAgentClientTest {

  @TempDir
  Path dir;

  private static boolean verifies(String algorithm, PublicKey key, byte[] data, byte[] signature) throws Exception {
    Signature verifier = BuiltinSignatures.fromFactoryName(algorithm).create();
    verifier.initVerifier(null, key);
    verifier.update(null, data);
    return verifier.verify(null, signature);
  }

  @Test
  void listsIdentitiesWithComments() throws Exception {
    KeyPair ed = TestKeys.ed25519();
    KeyPair ec = TestKeys.ecdsa();
    try (FakeSshAgent agent = new FakeSshAgent(dir.resolve("agent.sock"));
        UnixAgentClient client = new UnixAgentClient(agent.socket())) {
      agent.add(ed, "ed@laptop");
      agent.add(ec, "ec@laptop");
      List<Map.Entry<PublicKey, String>> ids = client.getIdentities();
      assertEquals(2, ids.size());
      assertTrue(KeyUtils.compareKeys(ed.getPublic(), ids.get(0).getKey()));
      assertEquals("ed@laptop", ids.get(0).getValue());
      assertTrue(KeyUtils.compareKeys(ec.getPublic(), ids.get(1).getKey()));
      assertEquals("ec@laptop", ids.get(1).getValue());
    }
  }

  @Test
  void signsWithEd25519AndEcdsa() throws Exception {
    byte[] data = "session-id and request".getBytes(StandardCharsets.UTF_8);
    try (FakeSshAgent agent = new FakeSshAgent(dir.resolve("agent.sock"));
        UnixAgentClient client = new UnixAgentClient(agent.socket())) {
      for (KeyPair pair : List.of(TestKeys.ed25519(), TestKeys.ecdsa())) {
        agent.add(pair, "k");
        Map.Entry<String, byte[]> signed = client.sign(null, pair.getPublic(), null, data);
        assertEquals(KeyUtils.getKeyType(pair.getPublic()), signed.getKey());
        assertTrue(verifies(signed.getKey(), pair.getPublic(), data, signed.getValue()));
      }
      assertEquals(List.of(0, 0), agent.signFlags());
    }
  }

  @Test
  void asksForRsaSha2SignaturesWithTheProtocolFlags() throws Exception {
    KeyPair rsa = TestKeys.rsa();
    byte[] data = "data".getBytes(StandardCharsets.UTF_8);
    try (FakeSshAgent agent = new FakeSshAgent(dir.resolve("agent.sock"));
        UnixAgentClient client = new UnixAgentClient(agent.socket())) {
      agent.add(rsa, "rsa");
      Map.Entry<String, byte[]> sha512 = client.sign(null, rsa.getPublic(), "rsa-sha2-512", data);
      Map.Entry<String, byte[]> sha256 = client.sign(null, rsa.getPublic(), "rsa-sha2-256", data);
      assertEquals("rsa-sha2-512", sha512.getKey());
      assertEquals("rsa-sha2-256", sha256.getKey());
      assertTrue(verifies("rsa-sha2-512", rsa.getPublic(), data, sha512.getValue()));
      assertTrue(verifies("rsa-sha2-256", rsa.getPublic(), data, sha256.getValue()));
      assertEquals(List.of(4, 2), agent.signFlags());
    }
  }

  @Test
  void refusedSignatureNamesTheKey() throws Exception {
    KeyPair unknown = TestKeys.ed25519();
    try (FakeSshAgent agent = new FakeSshAgent(dir.resolve("agent.sock"));
        UnixAgentClient client = new UnixAgentClient(agent.socket())) {
      IOException e = assertThrows(IOException.class, () -> client.sign(null, unknown.getPublic(), null, new byte[] {1}));
      assertTrue(e.getMessage().contains(KeyUtils.getFingerPrint(unknown.getPublic())), e.getMessage());
    }
  }

  @Test
  void addsAndRemovesIdentities() throws Exception {
    KeyPair a = TestKeys.ed25519();
    KeyPair b = TestKeys.ecdsa();
    try (FakeSshAgent agent = new FakeSshAgent(dir.resolve("agent.sock"));
        UnixAgentClient client = new UnixAgentClient(agent.socket())) {
      client.addIdentity(a, "a");
      client.addIdentity(b, "b");
      assertEquals(2, client.getIdentities().size());
      client.removeIdentity(a.getPublic());
      assertEquals(1, client.getIdentities().size());
      assertThrows(IOException.class, () -> client.removeIdentity(a.getPublic()));
      client.removeAllIdentities();
      assertTrue(client.getIdentities().isEmpty());
    }
  }

  @Test
  void hungAgentFailsEachRequestWithinTheTimeoutNamingTheSocket() throws Exception {
    KeyPair ed = TestKeys.ed25519();
    Duration timeout = Duration.ofMillis(300);
    try (FakeSshAgent agent = new FakeSshAgent(dir.resolve("agent.sock"))) {
      agent.add(ed, "ed");
      agent.hang();
      UnixAgentClient client = new UnixAgentClient(agent.socket(), timeout);
      IOException list = assertTimeoutPreemptively(Duration.ofSeconds(10),
          () -> assertThrows(java.net.SocketTimeoutException.class, client::getIdentities));
      assertEquals("ssh-agent at " + agent.socket() + " did not answer SSH2_AGENTC_REQUEST_IDENTITIES within 300 ms; "
          + "it may be hung or waiting for a confirmation (check SSH_AUTH_SOCK)", list.getMessage());
      assertFalse(client.isOpen(), "a late reply must not answer the next request");
      UnixAgentClient second = new UnixAgentClient(agent.socket(), timeout);
      IOException sign = assertTimeoutPreemptively(Duration.ofSeconds(10),
          () -> assertThrows(IOException.class, () -> second.sign(null, ed.getPublic(), null, new byte[] {1})));
      assertTrue(sign.getMessage().contains("did not answer SSH2_AGENTC_SIGN_REQUEST within 300 ms"), sign.getMessage());
      second.close();
    }
  }

  @Test
  void defaultTimeoutIsFiveSeconds() {
    assertEquals(Duration.ofSeconds(5), UnixAgentClient.DEFAULT_TIMEOUT);
  }

  @Test
  void missingSocketIsAClearError() {
    Path missing = dir.resolve("nope.sock");
    IOException e = assertThrows(IOException.class, () -> new UnixAgentClient(missing));
    assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
    assertFalse(UnixAgentClient.socketFrom(missing.toString()).isPresent());
    assertFalse(UnixAgentClient.socketFrom(null).isPresent());
    assertFalse(UnixAgentClient.socketFrom("").isPresent());
  }

  /** Interoperability with OpenSSH's own agent, when it is installed. */
  @Test
  void worksWithOpenSshAgent() throws Exception {
    Path binary = Path.of("/usr/bin/ssh-agent");
    assumeTrue(Files.isExecutable(binary), "ssh-agent not installed");
    Path socket = dir.resolve("real-agent.sock");
    Process agent = new ProcessBuilder(binary.toString(), "-D", "-a", socket.toString())
        .redirectErrorStream(true).redirectOutput(dir.resolve("agent.log").toFile()).start();
    try {
      Instant deadline = Instant.now().plus(Duration.ofSeconds(10));
      while (!Files.exists(socket) && Instant.now().isBefore(deadline)) {
        assumeTrue(agent.isAlive(), "ssh-agent exited");
        TimeUnit.MILLISECONDS.sleep(20);
      }
      assumeTrue(Files.exists(socket), "ssh-agent did not create its socket");
      KeyPair rsa = TestKeys.rsa();
      KeyPair ed = TestKeys.ed25519();
      byte[] data = "real agent".getBytes(StandardCharsets.UTF_8);
      try (UnixAgentClient client = new UnixAgentClient(socket)) {
        client.addIdentity(rsa, "rsa-test");
        client.addIdentity(ed, "ed-test");
        assertEquals(2, client.getIdentities().size());
        Map.Entry<String, byte[]> sig = client.sign(null, rsa.getPublic(), "rsa-sha2-512", data);
        assertEquals("rsa-sha2-512", sig.getKey());
        assertTrue(verifies("rsa-sha2-512", rsa.getPublic(), data, sig.getValue()));
        Map.Entry<String, byte[]> edSig = client.sign(null, ed.getPublic(), null, data);
        assertTrue(verifies("ssh-ed25519", ed.getPublic(), data, edSig.getValue()));
        client.removeAllIdentities();
        assertTrue(client.getIdentities().isEmpty());
      }
    } finally {
      agent.destroy();
      agent.waitFor(5, TimeUnit.SECONDS);
    }
  }
}

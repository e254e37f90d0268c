package dev.docktunnel.ssh;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.docktunnel.config.DocktunnelConfig.HostKeyChecking;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.PublicKey;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HostKeyVerifierTest {

  @TempDir
  Path dir;

  private KeyPair hostKey;
  private KeyPair otherKey;
  private Path file;

  @BeforeEach
  void setUp() throws Exception {
    hostKey = TestKeys.ed25519();
    otherKey = TestKeys.ed25519();
    file = dir.resolve("known_hosts");
  }

  private static String line(String host, PublicKey key) {
    return host + " " + PublicKeyEntry.toString(key);
  }

  private HostKeyVerifier verifier(HostKeyChecking mode) {
    return new HostKeyVerifier(new KnownHosts(file), mode);
  }

  /** An OpenSSH hashed host name: |1|base64(salt)|base64(HMAC-SHA1(salt, name)). */
  private static String hashed(String name) throws Exception {
    byte[] salt = new byte[20];
    new java.security.SecureRandom().nextBytes(salt);
    Mac mac = Mac.getInstance("HmacSHA1");
    mac.init(new SecretKeySpec(salt, "HmacSHA1"));
    byte[] digest = mac.doFinal(name.getBytes(StandardCharsets.UTF_8));
    return "|1|" + Base64.getEncoder().encodeToString(salt) + "|" + Base64.getEncoder().encodeToString(digest);
  }

  @Test
  void unknownHostIsRefusedUnderYesWithFingerprintAndAdvice() {
    HostKeyRefusedException e = assertThrows(HostKeyRefusedException.class,
        () -> verifier(HostKeyChecking.YES).verify("box.example", 22, hostKey.getPublic()));
    String fingerprint = KeyUtils.getFingerPrint(hostKey.getPublic());
    assertTrue(fingerprint.startsWith("SHA256:"));
    assertEquals(HostKeyRefusedException.Reason.UNKNOWN, e.reason());
    assertEquals(fingerprint, e.fingerprint());
    assertEquals("ssh-ed25519", e.keyType());
    assertEquals("box.example", e.host());
    String m = e.getMessage();
    assertTrue(m.contains("box.example") && m.contains("ssh-ed25519") && m.contains(fingerprint), m);
    assertTrue(m.contains("ssh-keyscan -t ed25519 box.example >> " + file), m);
    assertTrue(m.contains("--strict-host-key-checking accept-new"), m);
    assertFalse(Files.exists(file), "YES never writes known_hosts");
  }

  @Test
  void unknownHostOnOtherPortNamesThePortInTheKeyscanAdvice() {
    HostKeyRefusedException e = assertThrows(HostKeyRefusedException.class,
        () -> verifier(HostKeyChecking.YES).verify("127.0.0.1", 2222, hostKey.getPublic()));
    assertEquals("[127.0.0.1]:2222", e.host());
    assertTrue(e.getMessage().contains("ssh-keyscan -p 2222 -t ed25519 127.0.0.1"), e.getMessage());
  }

  @Test
  void acceptNewRecordsTheHostInOpenSshFormatWithPrivatePermissions() throws Exception {
    Path nested = dir.resolve("fresh/.ssh/known_hosts");
    HostKeyVerifier v = new HostKeyVerifier(new KnownHosts(nested), HostKeyChecking.ACCEPT_NEW);
    v.verify("127.0.0.1", 2222, hostKey.getPublic());
    v.verify("Example.COM", 22, otherKey.getPublic());
    assertEquals(line("[127.0.0.1]:2222", hostKey.getPublic()) + "\n" + line("example.com", otherKey.getPublic()) + "\n",
        Files.readString(nested));
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(nested)));
    assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(nested.getParent())));
    // Now known: accepted without another line, also under YES.
    v.verify("127.0.0.1", 2222, hostKey.getPublic());
    new HostKeyVerifier(new KnownHosts(nested), HostKeyChecking.YES).verify("example.com", 22, otherKey.getPublic());
    assertEquals(2, Files.readAllLines(nested).size());
  }

  @Test
  void acceptNewAppendsAfterALastLineWithoutBreak() throws Exception {
    Files.writeString(file, "# my hosts\n" + line("other.example", otherKey.getPublic()));
    verifier(HostKeyChecking.ACCEPT_NEW).verify("box.example", 22, hostKey.getPublic());
    assertEquals(List.of("# my hosts", line("other.example", otherKey.getPublic()), line("box.example", hostKey.getPublic())),
        Files.readAllLines(file));
  }

  @Test
  void changedKeyIsRefusedUnderBothModesNamingTheLine() throws Exception {
    Files.writeString(file, "# comment\n" + line("[127.0.0.1]:2222", otherKey.getPublic()) + "\n");
    for (HostKeyChecking mode : HostKeyChecking.values()) {
      HostKeyRefusedException e = assertThrows(HostKeyRefusedException.class,
          () -> verifier(mode).verify("127.0.0.1", 2222, hostKey.getPublic()));
      assertEquals(HostKeyRefusedException.Reason.CHANGED, e.reason());
      String m = e.getMessage();
      assertTrue(m.contains("CHANGED") && m.contains("man-in-the-middle"), m);
      assertTrue(m.contains(KeyUtils.getFingerPrint(hostKey.getPublic())), m);
      assertTrue(m.contains(KeyUtils.getFingerPrint(otherKey.getPublic())), m);
      assertTrue(m.contains("remove the old line 2 from " + file), m);
      assertTrue(m.contains("ssh-keygen -R '[127.0.0.1]:2222' -f " + file), m);
    }
    assertEquals(2, Files.readAllLines(file).size(), "a changed key is never recorded");
  }

  @Test
  void portIsPartOfTheHostName() throws Exception {
    Files.writeString(file, line("[127.0.0.1]:2222", hostKey.getPublic()) + "\n" + line("10.0.0.1", hostKey.getPublic()) + "\n");
    HostKeyVerifier v = verifier(HostKeyChecking.YES);
    assertDoesNotThrow(() -> v.verify("127.0.0.1", 2222, hostKey.getPublic()));
    assertThrows(HostKeyRefusedException.class, () -> v.verify("127.0.0.1", 22, hostKey.getPublic()));
    assertDoesNotThrow(() -> v.verify("10.0.0.1", 22, hostKey.getPublic()));
    assertThrows(HostKeyRefusedException.class, () -> v.verify("10.0.0.1", 2222, hostKey.getPublic()));
  }

  @Test
  void hashedEntriesMatch() throws Exception {
    Files.writeString(file, line(hashed("[127.0.0.1]:2222"), hostKey.getPublic()) + "\n"
        + line(hashed("box.example"), hostKey.getPublic()) + "\n"
        + line(hashed("changed.example"), otherKey.getPublic()) + "\n");
    HostKeyVerifier v = verifier(HostKeyChecking.YES);
    assertDoesNotThrow(() -> v.verify("127.0.0.1", 2222, hostKey.getPublic()));
    assertDoesNotThrow(() -> v.verify("box.example", 22, hostKey.getPublic()));
    assertThrows(HostKeyRefusedException.class, () -> v.verify("box.example", 2222, hostKey.getPublic()));
    HostKeyRefusedException changed = assertThrows(HostKeyRefusedException.class,
        () -> verifier(HostKeyChecking.ACCEPT_NEW).verify("changed.example", 22, hostKey.getPublic()));
    assertEquals(HostKeyRefusedException.Reason.CHANGED, changed.reason());
    assertTrue(changed.getMessage().contains("line 3"), changed.getMessage());
  }

  @Test
  void filesHashedByOpenSshMatch() throws Exception {
    Path keygen = Path.of("/usr/bin/ssh-keygen");
    assumeTrue(Files.isExecutable(keygen), "ssh-keygen not installed");
    Files.writeString(file, line("[127.0.0.1]:2222", hostKey.getPublic()) + "\n" + line("box.example", hostKey.getPublic()) + "\n");
    Process p = new ProcessBuilder(keygen.toString(), "-H", "-f", file.toString()).redirectErrorStream(true).start();
    assertTrue(p.waitFor(20, TimeUnit.SECONDS) && p.exitValue() == 0, new String(p.getInputStream().readAllBytes()));
    assertTrue(Files.readString(file).startsWith("|1|"), "ssh-keygen -H hashed the file");
    HostKeyVerifier v = verifier(HostKeyChecking.YES);
    assertDoesNotThrow(() -> v.verify("127.0.0.1", 2222, hostKey.getPublic()));
    assertDoesNotThrow(() -> v.verify("box.example", 22, hostKey.getPublic()));
    assertThrows(HostKeyRefusedException.class, () -> v.verify("box.example", 22, otherKey.getPublic()));
  }

  @Test
  void fingerprintIsOpenSshs() throws Exception {
    Path keygen = Path.of("/usr/bin/ssh-keygen");
    assumeTrue(Files.isExecutable(keygen), "ssh-keygen not installed");
    Path pub = Files.writeString(dir.resolve("key.pub"), PublicKeyEntry.toString(hostKey.getPublic()) + "\n");
    Process p = new ProcessBuilder(keygen.toString(), "-lf", pub.toString()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(20, TimeUnit.SECONDS));
    assertTrue(out.contains(KeyUtils.getFingerPrint(hostKey.getPublic()) + " "), out);
  }

  @Test
  void revokedKeyIsRefused() throws Exception {
    Files.writeString(file, "@revoked * " + PublicKeyEntry.toString(hostKey.getPublic()) + "\n"
        + line("box.example", hostKey.getPublic()) + "\n");
    HostKeyRefusedException e = assertThrows(HostKeyRefusedException.class,
        () -> verifier(HostKeyChecking.ACCEPT_NEW).verify("box.example", 22, hostKey.getPublic()));
    assertEquals(HostKeyRefusedException.Reason.REVOKED, e.reason());
    assertTrue(e.getMessage().contains("@revoked") && e.getMessage().contains("line 1"), e.getMessage());
  }

  @Test
  void keyOfAnotherTypeIsUnknownNotChanged() throws Exception {
    KeyPair ecdsa = TestKeys.ecdsa();
    Files.writeString(file, line("box.example", hostKey.getPublic()) + "\n");
    KnownHosts.Verdict verdict = new KnownHosts(file).check("box.example", 22, ecdsa.getPublic());
    assertInstanceOf(KnownHosts.Unknown.class, verdict);
    assertEquals(java.util.Set.of("ssh-ed25519"), ((KnownHosts.Unknown) verdict).otherKeyTypes());
    HostKeyRefusedException e = assertThrows(HostKeyRefusedException.class,
        () -> verifier(HostKeyChecking.YES).verify("box.example", 22, ecdsa.getPublic()));
    assertTrue(e.getMessage().contains("it lists ssh-ed25519"), e.getMessage());
    assertEquals(List.of("ssh-ed25519"), new KnownHosts(file).knownKeyTypes("box.example", 22));
  }

  @Test
  void junkLinesMarkersAndPatternsFollowOpenSsh() throws Exception {
    Files.writeString(file, String.join("\n",
        "this is not a known_hosts line",
        "@cert-authority *.example " + PublicKeyEntry.toString(otherKey.getPublic()),
        "*.example,!bad.example " + PublicKeyEntry.toString(hostKey.getPublic()),
        ""));
    HostKeyVerifier v = verifier(HostKeyChecking.YES);
    assertDoesNotThrow(() -> v.verify("box.example", 22, hostKey.getPublic()));
    assertThrows(HostKeyRefusedException.class, () -> v.verify("bad.example", 22, hostKey.getPublic()));
  }

  @Test
  void lineThatIsNotUtf8IsSkippedWithAWarningAndTheRestStillCounts() throws Throwable {
    byte[] bad = "caf\u00e9.example ".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
    byte[] good = (line("box.example", hostKey.getPublic()) + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8);
    java.io.ByteArrayOutputStream content = new java.io.ByteArrayOutputStream();
    content.write(("# comment\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
    content.write(bad);
    content.write(PublicKeyEntry.toString(otherKey.getPublic()).getBytes(java.nio.charset.StandardCharsets.UTF_8));
    content.write('\n');
    content.write(good);
    Files.write(file, content.toByteArray());
    KnownHosts knownHosts = new KnownHosts(file);
    String log = StderrCapture.during(() -> {
      assertEquals(new KnownHosts.Trusted(3), knownHosts.check("box.example", 22, hostKey.getPublic()));
      assertEquals(List.of("ssh-ed25519"), knownHosts.knownKeyTypes("box.example", 22));
    });
    assertDoesNotThrow(() -> verifier(HostKeyChecking.YES).verify("box.example", 22, hostKey.getPublic()));
    String warning = "[WARN] KnownHosts - line 2 of " + file + " is not UTF-8 text; skipping it";
    assertTrue(log.contains(warning), log);
    assertEquals(log.indexOf(warning), log.lastIndexOf(warning), "one warning per instance, not one per lookup: " + log);
  }

  @Test
  void trustedLineWinsOverAnotherLineWithAnOldKey() throws Exception {
    Files.writeString(file, line("box.example", otherKey.getPublic()) + "\n" + line("box.example", hostKey.getPublic()) + "\n");
    assertInstanceOf(KnownHosts.Trusted.class, new KnownHosts(file).check("box.example", 22, hostKey.getPublic()));
  }

  @Test
  void knownKeyTypesOrderTheHostKeyAlgorithms() {
    List<String> names = SshClientFactory.signaturePreference(List.of("ssh-rsa", "ssh-ed25519")).stream()
        .map(f -> f.getName()).toList();
    assertEquals(List.of("rsa-sha2-512", "rsa-sha2-256", "ssh-rsa", "ssh-ed25519"), names.subList(0, 4));
    assertTrue(names.stream().noneMatch(n -> n.contains("-cert-")), names.toString());
  }
}

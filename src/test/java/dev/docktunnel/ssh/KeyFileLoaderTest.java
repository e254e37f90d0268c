package dev.docktunnel.ssh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class KeyFileLoaderTest {

  @TempDir
  Path dir;

  private final KeyFileLoader noTerminal = new KeyFileLoader(null);

  private static void assertSameKey(KeyPair expected, List<KeyPair> loaded) {
    assertEquals(1, loaded.size());
    assertTrue(KeyUtils.compareKeys(expected.getPublic(), loaded.get(0).getPublic()));
    assertTrue(KeyUtils.compareKeys(expected.getPrivate(), loaded.get(0).getPrivate()));
  }

  @Test
  void loadsOpenSshFormatKeysOfAllThreeTypes() throws Exception {
    for (KeyPair pair : List.of(TestKeys.ed25519(), TestKeys.ecdsa(), TestKeys.rsa())) {
      Path file = TestKeys.writeOpenSsh(dir.resolve("id_" + pair.getPublic().getAlgorithm()), pair, null);
      assertSameKey(pair, noTerminal.load(file));
    }
  }

  @Test
  void loadsPkcs8PemKeys() throws Exception {
    // The JDK's EC PKCS#8 encoding omits the public point, which MINA needs; ssh-keygen's
    // includes it (see loadsKeysWrittenBySshKeygen), so only RSA is written by Java here.
    KeyPair pair = TestKeys.rsa();
    Path file = TestKeys.writePkcs8Pem(dir.resolve("pem_rsa"), pair);
    assertSameKey(pair, noTerminal.load(file));
  }

  @Test
  void encryptedKeyWithoutTerminalSaysToUseTheAgent() throws Exception {
    Path file = TestKeys.writeOpenSsh(dir.resolve("id_enc"), TestKeys.ed25519(), "s3cret");
    KeyFileLoader.EncryptedKeyException e =
        assertThrows(KeyFileLoader.EncryptedKeyException.class, () -> noTerminal.load(file));
    assertTrue(e.getMessage().contains(file + " is encrypted"), e.getMessage());
    assertTrue(e.getMessage().contains("ssh-add " + file) && e.getMessage().contains("SSH_AUTH_SOCK"), e.getMessage());
    assertTrue(!e.getMessage().contains("s3cret"));
  }

  @Test
  void encryptedKeyIsDecryptedWithThePromptedPassphrase() throws Exception {
    KeyPair pair = TestKeys.ecdsa();
    Path file = TestKeys.writeOpenSsh(dir.resolve("id_enc"), pair, "s3cret");
    List<Integer> asked = new ArrayList<>();
    KeyFileLoader loader = new KeyFileLoader((f, attempt) -> {
      asked.add(attempt);
      return attempt == 0 ? "wrong".toCharArray() : "s3cret".toCharArray();
    });
    assertSameKey(pair, loader.load(file));
    assertEquals(List.of(0, 1), asked);
  }

  @Test
  void wrongPassphraseThreeTimesIsAnError() throws Exception {
    Path file = TestKeys.writeOpenSsh(dir.resolve("id_enc"), TestKeys.ed25519(), "s3cret");
    List<Integer> asked = new ArrayList<>();
    KeyFileLoader loader = new KeyFileLoader((f, attempt) -> {
      asked.add(attempt);
      return "nope".toCharArray();
    });
    IOException e = assertThrows(IOException.class, () -> loader.load(file));
    assertEquals(List.of(0, 1, 2), asked);
    assertTrue(e.getMessage().contains("wrong passphrase for private key " + file + " (3 attempts)"), e.getMessage());
  }

  @Test
  void emptyPassphraseIsAnError() throws Exception {
    Path file = TestKeys.writeOpenSsh(dir.resolve("id_enc"), TestKeys.ed25519(), "s3cret");
    IOException e = assertThrows(IOException.class, () -> new KeyFileLoader((f, a) -> new char[0]).load(file));
    assertTrue(e.getMessage().contains("no passphrase given"), e.getMessage());
  }

  @Test
  void missingAndNonKeyFilesAreNamed() throws Exception {
    Path missing = dir.resolve("absent");
    IOException e1 = assertThrows(IOException.class, () -> noTerminal.load(missing));
    assertTrue(e1.getMessage().contains(missing + " does not exist"), e1.getMessage());
    Path pub = TestKeys.ownerOnly(
        Files.writeString(dir.resolve("id.pub"), PublicKeyEntry.toString(TestKeys.ed25519().getPublic())));
    IOException e2 = assertThrows(IOException.class, () -> noTerminal.load(pub));
    assertTrue(e2.getMessage().contains(pub.toString()), e2.getMessage());
  }

  @ParameterizedTest
  @CsvSource({"rw-r--r--,0644", "rw-r-----,0640", "rw----r--,0604", "rw--w----,0620", "rwx--x---,0710"})
  void keyThatGroupOrOthersMayAccessIsRefusedAsOpenSshDoes(String permissions, String octal) throws Exception {
    Path file = TestKeys.chmod(TestKeys.writeOpenSsh(dir.resolve("id_open"), TestKeys.ed25519(), null), permissions);
    KeyFileLoader.UnprotectedKeyException e =
        assertThrows(KeyFileLoader.UnprotectedKeyException.class, () -> noTerminal.load(file));
    assertEquals("UNPROTECTED PRIVATE KEY FILE: permissions " + octal + " for " + file + " are too open; "
        + "a private key must not be accessible by group or others (chmod 600 " + file + ")", e.getMessage());
    assertThrows(KeyFileLoader.UnprotectedKeyException.class, () -> KeyFileLoader.checkUsable(file));
  }

  @Test
  void ownerOnlyKeysLoad() throws Exception {
    KeyPair pair = TestKeys.ed25519();
    Path file = TestKeys.writeOpenSsh(dir.resolve("id"), pair, null);
    for (String permissions : List.of("rw-------", "r--------")) {
      TestKeys.chmod(file, permissions);
      KeyFileLoader.checkUsable(file);
      assertSameKey(pair, noTerminal.load(file));
    }
  }

  @Test
  void checkUsableNamesMissingDirectoryAndUnreadableFiles() throws Exception {
    Path missing = dir.resolve("nonexistent");
    IOException e = assertThrows(IOException.class, () -> KeyFileLoader.checkUsable(missing));
    assertEquals("private key file " + missing + " does not exist", e.getMessage());
    e = assertThrows(IOException.class, () -> KeyFileLoader.checkUsable(dir));
    assertEquals("private key file " + dir + " is not a regular file", e.getMessage());
  }

  /** Keys written by OpenSSH's ssh-keygen, in its formats, when it is installed. */
  @ParameterizedTest
  @CsvSource({"ed25519,RFC4716,", "ecdsa,RFC4716,", "rsa,RFC4716,", "ecdsa,PEM,", "rsa,PEM,", "rsa,PKCS8,", "ecdsa,PKCS8,",
      "ed25519,RFC4716,pass phrase", "rsa,PEM,pass phrase", "ecdsa,PEM,pass phrase"})
  void loadsKeysWrittenBySshKeygen(String type, String format, String passphrase) throws Exception {
    Path keygen = Path.of("/usr/bin/ssh-keygen");
    assumeTrue(Files.isExecutable(keygen), "ssh-keygen not installed");
    Path file = dir.resolve("id_" + type + "_" + format);
    List<String> command = new ArrayList<>(List.of(keygen.toString(), "-q", "-a", "2", "-t", type, "-N",
        passphrase == null ? "" : passphrase, "-f", file.toString(), "-C", "test"));
    if (type.equals("rsa")) {
      command.addAll(List.of("-b", "2048"));
    }
    if (!format.equals("RFC4716")) {
      command.addAll(List.of("-m", format));
    }
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, new String(p.getInputStream().readAllBytes()));
    KeyFileLoader loader = passphrase == null ? noTerminal : new KeyFileLoader((f, a) -> passphrase.toCharArray());
    List<KeyPair> loaded = loader.load(file);
    String expectedPublic = Files.readString(Path.of(file + ".pub")).trim().split(" ")[1];
    assertEquals(1, loaded.size());
    assertEquals(expectedPublic, PublicKeyEntry.toString(loaded.get(0).getPublic()).split(" ")[1]);
    if (passphrase != null) {
      assertThrows(KeyFileLoader.EncryptedKeyException.class, () -> noTerminal.load(file));
    }
  }
}

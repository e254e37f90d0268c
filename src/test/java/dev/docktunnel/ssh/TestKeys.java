package dev.docktunnel.ssh;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.writer.openssh.OpenSSHKeyEncryptionContext;
import org.apache.sshd.common.config.keys.writer.openssh.OpenSSHKeyPairResourceWriter;

/** Key generation and files for tests. */
final class TestKeys {

  private TestKeys() {
  }

  static KeyPair ed25519() throws Exception {
    return KeyUtils.generateKeyPair("ssh-ed25519", 256);
  }

  static KeyPair ecdsa() throws Exception {
    return KeyUtils.generateKeyPair("ecdsa-sha2-nistp256", 256);
  }

  private static KeyPair rsa;

  /** One RSA pair per test run: generating them is slow and no test needs two. */
  static synchronized KeyPair rsa() throws Exception {
    if (rsa == null) {
      rsa = KeyUtils.generateKeyPair("ssh-rsa", 2048);
    }
    return rsa;
  }

  /** Writes {@code pair} as an OpenSSH private key file, encrypted when a passphrase is given. */
  static Path writeOpenSsh(Path file, KeyPair pair, String passphrase) throws Exception {
    OpenSSHKeyEncryptionContext encryption = null;
    if (passphrase != null) {
      encryption = new OpenSSHKeyEncryptionContext();
      encryption.setCipherName("AES");
      encryption.setCipherMode("CTR");
      encryption.setCipherType("256");
      encryption.setPassword(passphrase);
      // Few bcrypt rounds: the default 16 makes every decryption take a second.
      encryption.setKdfRounds(2);
    }
    try (OutputStream out = Files.newOutputStream(file)) {
      OpenSSHKeyPairResourceWriter.INSTANCE.writePrivateKey(pair, "test@docktunnel", encryption, out);
    }
    return ownerOnly(file);
  }

  /** Writes {@code pair} as an unencrypted PKCS#8 PEM file ({@code BEGIN PRIVATE KEY}). */
  static Path writePkcs8Pem(Path file, KeyPair pair) throws Exception {
    String body = java.util.Base64.getMimeEncoder(64, "\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII))
        .encodeToString(pair.getPrivate().getEncoded());
    Files.writeString(file, "-----BEGIN PRIVATE KEY-----\n" + body + "\n-----END PRIVATE KEY-----\n");
    return ownerOnly(file);
  }

  /** Mode 0600, as ssh-keygen writes private keys (others' access makes a key unusable). */
  static Path ownerOnly(Path file) throws java.io.IOException {
    return chmod(file, "rw-------");
  }

  static Path chmod(Path file, String permissions) throws java.io.IOException {
    Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString(permissions));
    return file;
  }
}

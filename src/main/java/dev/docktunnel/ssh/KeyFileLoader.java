package dev.docktunnel.ssh;

import java.io.Console;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.apache.sshd.common.NamedResource;
import org.apache.sshd.common.config.keys.FilePasswordProvider;
import org.apache.sshd.common.session.SessionContext;
import org.apache.sshd.common.util.io.resource.PathResource;
import org.apache.sshd.common.util.security.SecurityUtils;

/**
 * Reads private key files (ed25519, ecdsa, rsa; OpenSSH and PEM formats) through MINA's parsers.
 * An encrypted key is only decrypted when a passphrase prompt is available (a TTY); otherwise
 * loading fails with a message that says to use ssh-agent. Blocking: call from a worker thread.
 */
public final class KeyFileLoader {

  /** Asks the user for a key's passphrase. */
  @FunctionalInterface
  public interface PassphrasePrompt {
    /**
     * @param file the encrypted key
     * @param attempt 0 for the first question, then 1, 2 after a wrong passphrase
     * @return the passphrase, or null/empty when the user gave none
     */
    char[] ask(Path file, int attempt) throws IOException;

    /** A prompt on the process's terminal, or null when there is no terminal. */
    static PassphrasePrompt console() {
      Console console = System.console();
      if (console == null) {
        return null;
      }
      return (file, attempt) -> {
        if (attempt > 0) {
          console.printf("Bad passphrase, try again.%n");
        }
        return console.readPassword("Enter passphrase for key '%s': ", file);
      };
    }
  }

  /** Raised when a key is encrypted and nobody can be asked for its passphrase. */
  public static final class EncryptedKeyException extends IOException {
    private static final long serialVersionUID = 1L;

    EncryptedKeyException(String message) {
      super(message);
    }
  }

  /** Raised for a key file that group or others may access; OpenSSH ignores such keys too. */
  public static final class UnprotectedKeyException extends IOException {
    private static final long serialVersionUID = 1L;

    UnprotectedKeyException(String message) {
      super(message);
    }
  }

  /**
   * Checks what {@code docktunnel run} needs of a key file the user named, without reading the
   * key (that may prompt for a passphrase): it exists, is a readable regular file, and only its
   * owner may access it.
   *
   * @throws IOException naming the file and the problem
   */
  public static void checkUsable(Path file) throws IOException {
    if (!Files.exists(file)) {
      throw new IOException("private key file " + file + " does not exist");
    }
    if (!Files.isRegularFile(file)) {
      throw new IOException("private key file " + file + " is not a regular file");
    }
    if (!Files.isReadable(file)) {
      throw new IOException("private key file " + file + " is not readable (permission denied)");
    }
    checkProtected(file);
  }

  /**
   * OpenSSH's rule: a private key file that group or others may access at all (mode & 077) is
   * refused, since anyone else who could read it holds the key. Skipped where the file system
   * has no POSIX permissions.
   *
   * @throws UnprotectedKeyException with OpenSSH's words and the fix
   */
  public static void checkProtected(Path file) throws IOException {
    Set<PosixFilePermission> permissions;
    try {
      permissions = Files.getPosixFilePermissions(file);
    } catch (UnsupportedOperationException e) {
      return;
    } catch (NoSuchFileException e) {
      return; // reported by whoever reads it next, as missing
    }
    Set<PosixFilePermission> others = EnumSet.of(
        PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_EXECUTE,
        PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE);
    if (!Collections.disjoint(permissions, others)) {
      throw new UnprotectedKeyException("UNPROTECTED PRIVATE KEY FILE: permissions " + octal(permissions) + " for "
          + file + " are too open; a private key must not be accessible by group or others (chmod 600 " + file + ")");
    }
  }

  private static String octal(Set<PosixFilePermission> permissions) {
    int mode = 0;
    for (PosixFilePermission p : permissions) {
      mode |= 1 << (8 - p.ordinal());
    }
    return String.format("%04o", mode);
  }

  /** How many passphrases are tried per key, like OpenSSH's NumberOfPasswordPrompts. */
  static final int PASSPHRASE_ATTEMPTS = 3;

  private final PassphrasePrompt prompt;

  /** @param prompt where to ask for passphrases; null when there is no terminal */
  public KeyFileLoader(PassphrasePrompt prompt) {
    this.prompt = prompt;
  }

  /** Whether this loader can ask for passphrases. */
  public boolean canPrompt() {
    return prompt != null;
  }

  /**
   * Loads the key pairs in {@code file}.
   *
   * @throws EncryptedKeyException when the key is encrypted and there is no prompt
   * @throws UnprotectedKeyException when group or others have any permission on the file
   * @throws IOException with a message naming the file when it is missing, unreadable, not a
   *     private key, or the passphrase was wrong
   */
  public List<KeyPair> load(Path file) throws IOException {
    checkProtected(file);
    PathResource resource = new PathResource(file);
    PassphraseProvider passwords = new PassphraseProvider(file);
    try (InputStream in = Files.newInputStream(file)) {
      Iterable<KeyPair> pairs = SecurityUtils.loadKeyPairIdentities(null, resource, in, passwords);
      List<KeyPair> result = new ArrayList<>();
      if (pairs != null) {
        pairs.forEach(result::add);
      }
      if (result.isEmpty()) {
        throw new IOException("private key file " + file + " holds no key docktunnel can read "
            + "(expected an OpenSSH or PEM private key: ed25519, ecdsa or rsa)");
      }
      return result;
    } catch (EncryptedKeyException e) {
      throw e;
    } catch (NoSuchFileException e) {
      throw new IOException("private key file " + file + " does not exist", e);
    } catch (AccessDeniedException e) {
      throw new IOException("private key file " + file + " is not readable (permission denied)", e);
    } catch (IOException | GeneralSecurityException | RuntimeException e) {
      if (passwords.asked > 0) {
        throw new IOException("wrong passphrase for private key " + file + " (" + passwords.asked
            + (passwords.asked == 1 ? " attempt)" : " attempts)"), e);
      }
      throw new IOException("cannot load private key " + file + ": " + e.getMessage(), e);
    }
  }

  /** Bridges MINA's password callbacks to the prompt, with a bounded number of tries. */
  private final class PassphraseProvider implements FilePasswordProvider {
    private final Path file;
    private int asked;

    PassphraseProvider(Path file) {
      this.file = file;
    }

    @Override
    public String getPassword(SessionContext session, NamedResource resourceKey, int retryIndex)
        throws IOException {
      if (prompt == null) {
        throw new EncryptedKeyException("private key " + file + " is encrypted and no terminal is "
            + "available to ask for its passphrase; load it into ssh-agent (ssh-add " + file
            + ") and make sure SSH_AUTH_SOCK is set, or start docktunnel from a terminal");
      }
      char[] passphrase = prompt.ask(file, retryIndex);
      asked++;
      if (passphrase == null || passphrase.length == 0) {
        throw new EncryptedKeyException(
            "no passphrase given for encrypted private key " + file + "; load it into ssh-agent "
                + "(ssh-add " + file + ") instead");
      }
      // MINA's API takes a String; it lives only as long as this decode.
      return new String(passphrase);
    }

    @Override
    public ResourceDecodeResult handleDecodeAttemptResult(SessionContext session, NamedResource resourceKey,
        int retryIndex, String password, Exception err) {
      if (err == null) {
        return ResourceDecodeResult.TERMINATE;
      }
      return retryIndex + 1 < PASSPHRASE_ATTEMPTS ? ResourceDecodeResult.RETRY : ResourceDecodeResult.TERMINATE;
    }
  }
}

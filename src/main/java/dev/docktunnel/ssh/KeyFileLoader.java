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
import java.util.ArrayList;
import java.util.List;
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
   * @throws IOException with a message naming the file when it is missing, unreadable, not a
   *     private key, or the passphrase was wrong
   */
  public List<KeyPair> load(Path file) throws IOException {
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

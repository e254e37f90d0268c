package dev.docktunnel.ssh;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * What the SSH layer takes from the process environment; tests pass their own.
 *
 * @param sshDir where the default keys {@code id_ed25519}, {@code id_ecdsa}, {@code id_rsa} live
 *     (normally {@code ~/.ssh})
 * @param agentSocket the ssh-agent socket, asked on every attempt (empty: no agent)
 * @param passphrasePrompt where to ask for key passphrases; null when there is no terminal
 */
public record SshEnvironment(
    Path sshDir, Supplier<Optional<Path>> agentSocket, KeyFileLoader.PassphrasePrompt passphrasePrompt) {

  public SshEnvironment {
    Objects.requireNonNull(agentSocket, "agentSocket");
  }

  /**
   * The real environment: {@code ~/.ssh}, {@code $SSH_AUTH_SOCK}, and a passphrase prompt only
   * when {@code System.console()} exists.
   */
  public static SshEnvironment system() {
    return new SshEnvironment(
        Path.of(System.getProperty("user.home"), ".ssh"),
        () -> UnixAgentClient.socketFrom(System.getenv("SSH_AUTH_SOCK")),
        KeyFileLoader.PassphrasePrompt.console());
  }
}

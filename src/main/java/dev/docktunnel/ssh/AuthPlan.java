package dev.docktunnel.ssh;

import java.nio.file.Path;
import java.security.KeyPair;
import java.util.List;
import java.util.Optional;

/**
 * The keys one connection attempt offers, in order: key files (explicit {@code --identity} files,
 * then the SSH config's IdentityFile entries), then the ssh-agent's keys, then the default
 * {@code ~/.ssh/id_*} files. Agent keys are listed at authentication time, so a key added to the
 * agent meanwhile is used.
 *
 * @param fileKeys loaded keys from explicit and configured identity files, in order
 * @param agentSocket the ssh-agent socket to ask, if any
 * @param defaultKeys loaded keys from the default files that exist
 * @param problems why some configured keys could not be used (for the {@code auth_required}
 *     reason), never containing secrets
 */
public record AuthPlan(
    List<FileKey> fileKeys, Optional<Path> agentSocket, List<FileKey> defaultKeys, List<String> problems) {

  public AuthPlan {
    fileKeys = List.copyOf(fileKeys);
    defaultKeys = List.copyOf(defaultKeys);
    problems = List.copyOf(problems);
  }

  /** A loaded private key and the file it came from. */
  public record FileKey(Path file, KeyPair keyPair) {
  }
}

package dev.docktunnel.ssh;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * What authentication depends on, read from disk and the agent: the key files that would be
 * offered (and the directories holding them, so a new file shows), and the ssh-agent's socket
 * and its key list. While the session is {@code auth_required}, a change here triggers an
 * attempt at once, so {@code ssh-add} or a new key file is picked up in seconds. Polling rather
 * than a WatchService: the agent's key list has no file to watch, and a poll of a few paths
 * every couple of seconds costs nothing. Blocking: call on a worker.
 *
 * @param entries one line per input, e.g. {@code /home/u/.ssh/id_ed25519 1733050000000 411}
 */
record AuthInputs(List<String> entries) {

  AuthInputs {
    entries = List.copyOf(entries);
  }

  /**
   * Reads the inputs now.
   *
   * @param keyFiles the key files an attempt would try (explicit, IdentityFile, defaults)
   * @param agentSocket the agent socket, if any
   */
  static AuthInputs read(List<Path> keyFiles, Optional<Path> agentSocket) {
    Set<Path> paths = new LinkedHashSet<>();
    for (Path file : keyFiles) {
      Path absolute = file.toAbsolutePath().normalize();
      paths.add(absolute);
      if (absolute.getParent() != null) {
        paths.add(absolute.getParent());
      }
    }
    List<String> entries = new ArrayList<>();
    for (Path path : paths) {
      entries.add(describe(path));
    }
    if (agentSocket.isEmpty()) {
      entries.add("agent: none");
    } else {
      entries.add("agent " + describe(agentSocket.get()) + ": " + agentKeys(agentSocket.get()));
    }
    return new AuthInputs(entries);
  }

  private static String describe(Path path) {
    try {
      BasicFileAttributes attributes = Files.readAttributes(path, BasicFileAttributes.class);
      return path + " " + attributes.lastModifiedTime().toMillis() + " " + attributes.size();
    } catch (NoSuchFileException e) {
      return path + " missing";
    } catch (IOException e) {
      return path + " unreadable: " + e.getMessage();
    }
  }

  private static String agentKeys(Path socket) {
    try (UnixAgentClient agent = new UnixAgentClient(socket)) {
      List<String> keys = new ArrayList<>();
      for (Map.Entry<PublicKey, String> identity : agent.getIdentities()) {
        keys.add(OrderedPublicKeyAuth.describe(identity.getKey()));
      }
      return String.join(", ", keys);
    } catch (IOException e) {
      return "not usable (" + e.getMessage() + ")";
    }
  }
}

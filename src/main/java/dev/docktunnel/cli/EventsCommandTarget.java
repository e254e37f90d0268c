package dev.docktunnel.cli;

import dev.docktunnel.config.ConfigLoader;
import dev.docktunnel.ssh.SshTargetResolver;
import dev.docktunnel.state.HostId;
import dev.docktunnel.state.HostState;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Which daemon {@code docktunnel events} follows: a host's state file in the state dir, and the
 * bridge port recorded there.
 *
 * @param host the host as the state file names it ({@code user@host:port})
 * @param stateFile the file the port came from
 * @param port the daemon's TCP event-bus bridge port
 */
record EventsCommandTarget(String host, Path stateFile, int port) {
  private static final String SUFFIX = ".state.json";

  /** No usable daemon; {@code usage}: the command line must change (exit 2) rather than the daemon. */
  static final class NotFoundException extends Exception {
    private final boolean usage;

    NotFoundException(String message, boolean usage) {
      super(message);
      this.usage = usage;
    }

    boolean usage() {
      return usage;
    }
  }

  /**
   * Finds the state file for {@code host} in {@code stateDir} (default {@code ~/.docktunnel}):
   * without a host, the only one there. {@code host} matches the state file's host id, its {@code
   * host} field, or the target it resolves to through {@code ~/.ssh/config}, as {@code run} does.
   */
  static EventsCommandTarget find(String stateDir, String host) throws NotFoundException {
    ConfigLoader loader = ConfigLoader.forThisProcess();
    Path dir = loader.path(stateDir == null ? "~/.docktunnel" : stateDir).toAbsolutePath().normalize();
    List<Path> files = new ArrayList<>();
    try (Stream<Path> entries = Files.list(dir)) {
      entries.filter(p -> p.getFileName().toString().endsWith(SUFFIX)).sorted().forEach(files::add);
    } catch (NoSuchFileException e) {
      throw new NotFoundException("no state dir " + dir + ": no docktunnel has run with it (--state-dir?)", false);
    } catch (IOException e) {
      throw new NotFoundException("cannot list the state dir " + dir + ": " + e.getMessage(), false);
    }
    if (files.isEmpty()) {
      throw new NotFoundException("no host state in " + dir + ": start `docktunnel run` first", false);
    }
    Path chosen;
    if (host == null) {
      if (files.size() > 1) {
        throw new NotFoundException("the state dir " + dir + " holds " + files.size() + " hosts; choose one with "
            + "--host: " + String.join(", ", files.stream().map(EventsCommandTarget::describe).toList()), true);
      }
      chosen = files.get(0);
    } else {
      String resolvedId = resolvedId(host);
      chosen = files.stream().filter(f -> matches(f, host, resolvedId)).findFirst()
          .orElseThrow(() -> new NotFoundException("no state for host '" + host + "' in " + dir + "; it holds: "
              + String.join(", ", files.stream().map(EventsCommandTarget::describe).toList()), true));
    }
    HostState state = read(chosen);
    if (!state.running()) {
      throw new NotFoundException("the daemon for " + state.host() + " is not running (stopped at "
          + state.stoppedAt() + ", state file " + chosen + ")", false);
    }
    if (state.bridgePort() == null) {
      throw new NotFoundException("state file " + chosen + " records no bridgePort: the daemon for " + state.host()
          + " has not started its event bridge (yet)", false);
    }
    return new EventsCommandTarget(state.host(), chosen, state.bridgePort());
  }

  private static String idOf(Path file) {
    String name = file.getFileName().toString();
    return name.substring(0, name.length() - SUFFIX.length());
  }

  /** The host id {@code host} resolves to as {@code run --host} would, or null when it does not resolve. */
  private static String resolvedId(String host) {
    try {
      Path sshConfig = ConfigLoader.forThisProcess().path("~/.ssh/config");
      return HostId.of(SshTargetResolver.resolve(host, sshConfig)).value();
    } catch (RuntimeException e) {
      return null; // not a target we can resolve: only the literal matches count
    }
  }

  private static boolean matches(Path file, String host, String resolvedId) {
    if (idOf(file).equals(host) || idOf(file).equals(resolvedId)) {
      return true;
    }
    try {
      return read(file).host().equals(host);
    } catch (NotFoundException e) {
      return false;
    }
  }

  private static String describe(Path file) {
    try {
      return read(file).host() + " (" + idOf(file) + ")";
    } catch (NotFoundException e) {
      return idOf(file) + " (unreadable)";
    }
  }

  private static HostState read(Path file) throws NotFoundException {
    try {
      return HostState.fromJson(new JsonObject(Files.readString(file)));
    } catch (IOException | RuntimeException e) {
      throw new NotFoundException("cannot read state file " + file + ": " + e.getMessage(), false);
    }
  }
}

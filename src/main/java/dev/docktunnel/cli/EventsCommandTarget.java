package dev.docktunnel.cli;

import dev.docktunnel.config.ConfigException;
import dev.docktunnel.config.ConfigLoader;
import dev.docktunnel.state.HostState;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

/**
 * Which daemon {@code docktunnel events} follows: the host {@link HostOptions} selects (as {@code
 * status} and {@code stop} do; without {@code --host}, the only host in the state dir), and the
 * bridge port its state file records.
 *
 * @param host the host as the state file names it
 * @param stateFile the file the port came from
 * @param port the daemon's TCP event-bus bridge port
 */
record EventsCommandTarget(String host, Path stateFile, int port) {

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

  static EventsCommandTarget find(HostOptions options, ConfigLoader loader) throws NotFoundException {
    HostOptions.Selection selection;
    try {
      selection = options.select(loader);
    } catch (ConfigException e) {
      throw new NotFoundException(e.getMessage(), true);
    }
    List<HostOptions.KnownHost> hosts = selection.hosts();
    if (hosts.isEmpty()) {
      throw new NotFoundException("no host state in " + selection.stateDir() + ": start `docktunnel run` first "
          + "(or give --state-dir)", false);
    }
    if (hosts.size() > 1) {
      throw new NotFoundException("the state dir " + selection.stateDir() + " holds " + hosts.size()
          + " hosts; choose one with --host: " + String.join(", ", hosts.stream().map(EventsCommandTarget::describe)
          .toList()), true);
    }
    HostOptions.KnownHost chosen = hosts.get(0);
    HostState state;
    try {
      state = HostStatusReader.readStateFile(chosen.stateFile());
    } catch (NoSuchFileException e) {
      throw new NotFoundException("no state for " + chosen.label() + " in " + selection.stateDir() + " ("
          + chosen.stateFile().getFileName() + "): docktunnel has not run for it", false);
    } catch (IOException e) {
      throw new NotFoundException(e.getMessage(), false);
    }
    // The words status uses; a record that is only stale (its PID alive) may still be followed.
    Liveness liveness = Liveness.of(state, Instant.now(), HostStatusReader::pidAlive);
    if (!liveness.live() && liveness.reason().startsWith("not running")) {
      throw new NotFoundException("the daemon for " + state.host() + " is " + liveness.reason() + "; state file "
          + chosen.stateFile(), false);
    }
    if (state.bridgePort() == null) {
      throw new NotFoundException("state file " + chosen.stateFile() + " records no bridgePort: the daemon for "
          + state.host() + " has not started its event bridge (yet)", false);
    }
    return new EventsCommandTarget(state.host(), chosen.stateFile(), state.bridgePort());
  }

  private static String describe(HostOptions.KnownHost host) {
    try {
      return HostStatusReader.readStateFile(host.stateFile()).host() + " (" + host.id().value() + ")";
    } catch (IOException e) {
      return host.id().value() + " (unreadable)";
    }
  }
}

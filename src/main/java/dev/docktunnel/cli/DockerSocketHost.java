package dev.docktunnel.cli;

import dev.docktunnel.config.ConfigLoader;
import dev.docktunnel.config.ConfigException;
import dev.docktunnel.state.HostId;
import dev.docktunnel.state.HostState;
import dev.docktunnel.state.StateDir;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.function.LongPredicate;

/**
 * The one host {@code docker-env} and {@code context} point docker at: {@code --host}, or else
 * the only host with a state file in the state dir. Its Docker socket's path is stable whether
 * or not its daemon runs, so it is always given; the warning says when docker cannot use it now,
 * decided by {@link Liveness} from the state file as {@code status} decides it. Reads files only.
 *
 * @param id the host's id
 * @param host the host as the user gave it to {@code run}: {@code --host}, or the state file's
 *     {@code host} field (the host id when that file cannot be read)
 * @param socket the absolute path of its {@code docker.sock}
 * @param warning the one stderr line when its docktunnel is not running, stale or has no socket
 *     yet; null when docker can use the socket now
 */
record DockerSocketHost(HostId id, String host, Path socket, String warning) {

  /** Selects the host for {@code command} as given on this process's command line, now. */
  static DockerSocketHost select(String command, HostOptions options) {
    return select(command, options, options.select(ConfigLoader.forThisProcess()), Clock.systemUTC().instant(),
        HostStatusReader::pidAlive);
  }

  /**
   * Selects the host.
   *
   * @param command the command's name, for the hint in the errors
   * @throws ConfigException (exit 2) when no host is named and the state dir has none or several
   */
  static DockerSocketHost select(String command, HostOptions options, HostOptions.Selection selection, Instant now,
      LongPredicate pidAlive) {
    HostOptions.KnownHost known = selection.one(command);
    Path socket = StateDir.dockerSocketIn(selection.stateDir(), known.id());
    HostState state;
    try {
      state = HostStatusReader.readStateFile(known.stateFile());
    } catch (NoSuchFileException e) {
      String host = selection.named() ? options.host : known.id().value(); // a listed one's just went
      return new DockerSocketHost(known.id(), host, socket, "docktunnel: warning: docktunnel for " + host
          + " is not running (it has not run with state dir " + selection.stateDir() + "); start it with: "
          + hint("run", options, host));
    } catch (IOException e) {
      String host = selection.named() ? options.host : known.id().value();
      return new DockerSocketHost(known.id(), host, socket, "docktunnel: warning: cannot tell whether docktunnel "
          + "runs for " + host + ": " + e.getMessage() + "; see: "
          + hint("status", options, selection.named() ? host : null));
    }
    String host = selection.named() ? options.host : state.host();
    Liveness liveness = Liveness.of(state, now, pidAlive);
    String warning;
    if (!liveness.live()) {
      warning = "docktunnel: warning: docktunnel for " + host + " is " + liveness.reason() + "; "
          + (state.running() && pidAlive.test(state.pid()) ? "see: " + hint("status", options, host)
              : "start it with: " + hint("run", options, host));
    } else if (!Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
      warning = "docktunnel: warning: docktunnel for " + host + " runs (PID " + state.pid() + ") but its Docker "
          + "socket " + socket + " is not there: docker commands fail until it listens there";
    } else {
      warning = null;
    }
    return new DockerSocketHost(known.id(), host, socket, warning);
  }

  /** The {@code command} line for this host (none: null), with the options given here that it needs too. */
  static String hint(String command, HostOptions options, String host) {
    StringBuilder hint = new StringBuilder("docktunnel ").append(command);
    if (host != null) {
      hint.append(" --host ").append(ShellWords.quote(host));
    }
    if (options.configFile != null) {
      hint.append(" --config ").append(ShellWords.quote(options.configFile.toString()));
    }
    if (options.stateDir != null) {
      hint.append(" --state-dir ").append(ShellWords.quote(options.stateDir));
    }
    if (options.sshConfig != null) {
      hint.append(" --ssh-config ").append(ShellWords.quote(options.sshConfig));
    }
    return hint.toString();
  }
}

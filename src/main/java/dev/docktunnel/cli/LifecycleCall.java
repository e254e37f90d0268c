package dev.docktunnel.cli;

import dev.docktunnel.config.ConfigException;
import dev.docktunnel.config.ConfigLoader;
import dev.docktunnel.http.ApiToken;
import dev.docktunnel.state.HostState;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.time.Clock;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;

/**
 * What {@code extend} and {@code server} share: the one host (named, or the only one in the state
 * dir), its live daemon (decided from the state file as {@code status} decides it), one lifecycle
 * request over its HTTP API with the install's token, and every way that fails as one line with
 * its exit code. Only a live daemon's port gets the token: a stale file's port may be anyone's.
 */
final class LifecycleCall {

  /** The daemon's answer, for the host as it was given to {@code run}. */
  record Answer(String host, JsonObject body) {
  }

  /** Why the request was not answered: the one line to print (without the "docktunnel: ") and the exit code. */
  static final class Failed extends Exception {
    private static final long serialVersionUID = 1L;
    final int exitCode;

    Failed(int exitCode, String message) {
      super(message);
      this.exitCode = exitCode;
    }
  }

  private LifecycleCall() {
  }

  /**
   * Sends the request to the selected host's daemon.
   *
   * @param command the command's name as typed ({@code extend}, {@code server status}), for hints
   * @param body a POST's JSON body, or null
   */
  static Answer call(String command, HostOptions options, String method, String path, JsonObject body)
      throws Failed, InterruptedException {
    HostOptions.Selection selection;
    HostOptions.KnownHost known;
    try {
      selection = options.select(ConfigLoader.forThisProcess());
      known = selection.one(command);
    } catch (ConfigException e) {
      throw new Failed(ExitCodes.USAGE, e.getMessage());
    }
    HostState state;
    try {
      state = HostStatusReader.readStateFile(known.stateFile());
    } catch (NoSuchFileException e) {
      throw new Failed(ExitCodes.FAILED, "docktunnel for host " + known.label() + " is not running (it has not run "
          + "with state dir " + selection.stateDir() + "); start it with: "
          + DockerSocketHost.hint("run", options, selection.named() ? options.host : known.label()));
    } catch (IOException e) {
      throw new Failed(ExitCodes.FAILED, "cannot tell whether docktunnel runs for host " + known.label() + ": "
          + e.getMessage());
    }
    String host = state.host();
    Liveness liveness = Liveness.of(state, Clock.systemUTC().instant(), HostStatusReader::pidAlive);
    if (!liveness.live()) {
      boolean stuck = state.running() && HostStatusReader.pidAlive(state.pid());
      throw new Failed(ExitCodes.FAILED, "docktunnel for host " + host + " is " + liveness.reason() + "; "
          + (stuck ? "see: " + DockerSocketHost.hint("status", options, host)
              : "start it with: " + DockerSocketHost.hint("run", options, host)));
    }
    if (state.httpPort() == null) {
      throw new Failed(ExitCodes.FAILED, "docktunnel for host " + host + " runs (PID " + state.pid()
          + ") but its HTTP API is not listening yet (no port in its state file); try again in a moment");
    }
    ApiToken token = null; // a GET changes nothing and needs none
    if (!method.equals("GET")) {
      try {
        token = ApiToken.read(selection.stateDir());
      } catch (IOException e) {
        throw new Failed(ExitCodes.FAILED, "host " + host + ": " + e.getMessage());
      }
    }
    try {
      return new Answer(host, new DaemonClient().lifecycle(state.httpPort(), token, method, path, body));
    } catch (DaemonClient.ErrorAnswer e) {
      throw new Failed(ExitCodes.FAILED, "host " + host + ": " + e.getMessage() + " (" + method + " " + path
          + " answered " + e.status + ")");
    } catch (IOException e) {
      throw new Failed(ExitCodes.FAILED, "host " + host + ": docktunnel (PID " + state.pid() + ") did not answer: "
          + e.getMessage());
    }
  }

  /** An ISO time from an answer, to the second; the text as it came when it is not one. */
  static String time(String iso) {
    try {
      return Instant.parse(iso).truncatedTo(ChronoUnit.SECONDS).toString();
    } catch (DateTimeParseException e) {
      return iso;
    }
  }
}

package dev.docktunnel.cli;

import dev.docktunnel.config.ConfigException;
import dev.docktunnel.config.ConfigLoader;
import dev.docktunnel.http.ApiToken;
import dev.docktunnel.state.HostState;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code docktunnel stop}: asks a running daemon to stop ({@code POST /stop} with the install's
 * token) and waits until its process is gone and its state file says {@code running: false}.
 * When the HTTP API does not answer, the recorded PID gets SIGTERM (the daemon's graceful stop
 * too), but only once it is proven to be that host's docktunnel ({@link DaemonProcess}).
 */
@Command(name = "stop", mixinStandardHelpOptions = true,
    description = "Stop the running docktunnel of a host (without --host: every one running with this state dir), "
        + "cleanly, and wait until it is gone.",
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
        "0:stopped, or it was not running",
        "1:could not stop it (the message says why), or --host names a host with no state file",
        "2:bad command line or config value"})
public final class StopCommand implements Callable<Integer> {
  /** How long a daemon gets to stop (its own graceful stop is bounded at 10 s). */
  static final Duration STOP_WAIT = Duration.ofSeconds(15);
  private static final Duration POLL = Duration.ofMillis(100);

  @Spec
  CommandSpec spec;

  @Mixin
  HostOptions hostOptions;

  @Override
  public Integer call() {
    PrintWriter err = spec.commandLine().getErr();
    HostOptions.Selection selection;
    try {
      selection = hostOptions.select(ConfigLoader.forThisProcess());
    } catch (ConfigException e) {
      err.println("docktunnel: " + e.getMessage());
      return ExitCodes.USAGE;
    }
    DaemonClient client = new DaemonClient();
    int exit = ExitCodes.OK;
    int running = 0;
    try {
      for (HostOptions.KnownHost host : selection.hosts()) {
        Outcome outcome = stop(host, selection, client);
        if (outcome != Outcome.NOT_RUNNING) {
          running++;
        }
        if (outcome == Outcome.FAILED) {
          exit = ExitCodes.FAILED;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return ExitCodes.FAILED;
    }
    if (!selection.named() && running == 0) {
      spec.commandLine().getOut().println("docktunnel: nothing to stop: no docktunnel is running with state dir "
          + selection.stateDir() + " (" + selection.hosts().size() + " host(s) there)");
    }
    return exit;
  }

  private enum Outcome { STOPPED, NOT_RUNNING, FAILED }

  private Outcome stop(HostOptions.KnownHost host, HostOptions.Selection selection, DaemonClient client)
      throws InterruptedException {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    HostState state;
    try {
      state = HostStatusReader.readStateFile(host.stateFile());
    } catch (NoSuchFileException e) {
      err.println("docktunnel: no state for host " + host.label() + " in " + selection.stateDir() + " (looked for "
          + host.stateFile().getFileName() + "): docktunnel has not run for it with this state dir; nothing to stop");
      return Outcome.FAILED;
    } catch (IOException e) {
      err.println("docktunnel: cannot stop host " + host.label() + ": " + e.getMessage());
      return Outcome.FAILED;
    }
    Liveness liveness = Liveness.of(state, Clock.systemUTC().instant(), HostStatusReader::pidAlive);
    Optional<String> notOurs = liveness.live() ? Optional.empty() : DaemonProcess.whyNotOurs(state, host.lockFile());
    if (notOurs.isPresent()) {
      // Stopped cleanly, killed, or its PID now someone else's: nothing of ours runs.
      if (selection.named()) {
        out.println("docktunnel: host " + state.host() + " is " + liveness.reason() + "; nothing to stop");
      }
      return Outcome.NOT_RUNNING;
    }
    long started = System.nanoTime();
    String how;
    if (!state.running()) {
      how = "it was stopping already";
    } else {
      // Only a live daemon's port gets the token: a stale file's port may be anyone's by now.
      String unanswered = liveness.live() ? askToStop(state, selection.stateDir(), client)
          : "its state file is " + liveness.reason();
      if (unanswered == null) {
        how = "asked over HTTP (POST /stop)";
      } else {
        Optional<String> why = DaemonProcess.whyNotOurs(state, host.lockFile());
        if (why.isPresent()) {
          err.println("docktunnel: cannot stop host " + state.host() + ": " + unanswered
              + "; and no SIGTERM to PID " + state.pid() + ": " + why.get());
          return Outcome.FAILED;
        }
        boolean sent = ProcessHandle.of(state.pid()).map(ProcessHandle::destroy).orElse(false);
        if (!sent) {
          err.println("docktunnel: cannot stop host " + state.host() + ": " + unanswered + "; and SIGTERM to PID "
              + state.pid() + " was not delivered (not permitted, or it just ended)");
          return Outcome.FAILED;
        }
        how = "sent SIGTERM to PID " + state.pid() + ", since " + unanswered;
      }
    }
    return awaitStopped(host, state, how, started);
  }

  /** {@code POST /stop}: null once the daemon accepted (202), else why not. */
  private static String askToStop(HostState state, Path stateDir, DaemonClient client) throws InterruptedException {
    if (state.httpPort() == null) {
      return "its state file records no HTTP port";
    }
    try {
      ApiToken token = ApiToken.read(stateDir);
      int code = client.requestStop(state.httpPort(), token);
      return code == 202 ? null : DaemonClient.uri(state.httpPort(), "/stop") + " answered " + code;
    } catch (IOException e) {
      return e.getMessage();
    }
  }

  /** Waits, bounded, until the PID is gone and the state file says it stopped. */
  private Outcome awaitStopped(HostOptions.KnownHost host, HostState state, String how, long started)
      throws InterruptedException {
    long deadline = started + STOP_WAIT.toNanos();
    while (HostStatusReader.pidAlive(state.pid())) {
      if (System.nanoTime() - deadline > 0) {
        spec.commandLine().getErr().println("docktunnel: host " + state.host() + " (PID " + state.pid()
            + ") did not stop within " + STOP_WAIT.toSeconds() + " s; " + how);
        return Outcome.FAILED;
      }
      Thread.sleep(POLL.toMillis()); // polling a process that is not our child, bounded by the deadline
    }
    String seconds = String.format(Locale.ROOT, "%.1f", (System.nanoTime() - started) / 1e9);
    try {
      HostState last = HostStatusReader.readStateFile(host.stateFile());
      if (last.running()) {
        spec.commandLine().getErr().println("docktunnel: host " + state.host() + ": PID " + state.pid() + " ended ("
            + how + ") but did not mark its state file stopped: it did not stop cleanly");
        return Outcome.FAILED;
      }
    } catch (IOException e) {
      spec.commandLine().getErr().println("docktunnel: host " + state.host() + ": PID " + state.pid()
          + " ended, but its state file cannot be read: " + e.getMessage());
      return Outcome.FAILED;
    }
    spec.commandLine().getOut().println("docktunnel: stopped host " + state.host() + " (PID " + state.pid() + ") in "
        + seconds + " s; " + how);
    return Outcome.STOPPED;
  }
}

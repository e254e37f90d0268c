package dev.docktunnel.cli;

import dev.docktunnel.config.ConfigException;
import dev.docktunnel.config.ConfigLoader;
import dev.docktunnel.state.HostId;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code docktunnel status}: each host's session and forwards, asked of its running daemon
 * ({@code GET /status}), else read from its state file with a warning that it is stale or not
 * running.
 */
@Command(name = "status", mixinStandardHelpOptions = true,
    description = "Show the SSH session and the forwards of each host: from the running docktunnel, else from its "
        + "last state file (with a warning that it is stale or not running).",
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
        "0:every host shown is running",
        "1:a host is not running or its state is stale (shown from its state file), or there is no host",
        "2:bad command line or config value"})
public final class StatusCommand implements Callable<Integer> {
  /** The terminal bell, rung when a host's idle countdown begins. */
  static final String BELL = "\u0007";
  /** How often {@code --watch} asks. */
  static final Duration WATCH_INTERVAL = Duration.ofSeconds(1);
  /** Home, clear screen. */
  private static final String CLEAR_SCREEN = "\033[H\033[2J";

  @Spec
  CommandSpec spec;

  @Mixin
  HostOptions hostOptions;

  @Option(names = "--json",
      description = "print each host's status document (schema 1, the same as GET /status) as one line of JSON")
  boolean json;

  @Option(names = "--watch",
      description = "keep showing the status, asked every second: the table redrawn, or with --json a new line per "
          + "host whenever its document changed; Ctrl-C ends it (exit 0)")
  boolean watch;

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
    HostStatusReader reader =
        new HostStatusReader(new DaemonClient()::status, Clock.systemUTC(), HostStatusReader::pidAlive);
    try {
      return watch ? watch(selection, reader) : once(selection, reader);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return ExitCodes.FAILED;
    }
  }

  private int once(HostOptions.Selection selection, HostStatusReader reader) throws InterruptedException {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    List<HostStatus> statuses;
    try {
      statuses = read(selection, reader);
    } catch (IOException e) {
      err.println("docktunnel: setting 'stateDir' (--state-dir): " + e.getMessage());
      return ExitCodes.FAILED;
    }
    if (statuses.isEmpty()) {
      err.println(noHosts(selection));
      return ExitCodes.FAILED;
    }
    out.print(json ? jsonLines(statuses) : tables(statuses, Clock.systemUTC()));
    out.flush();
    statuses.stream().filter(s -> s.warning() != null).forEach(s -> err.println(s.warning()));
    err.flush();
    return statuses.stream().allMatch(HostStatus::live) ? ExitCodes.OK : ExitCodes.FAILED;
  }

  /**
   * Until Ctrl-C: every {@link #WATCH_INTERVAL}, the table again (on a terminal: redrawn in place,
   * every time, since durations tick; else only when a document changed), or with {@code --json}
   * one line per host whose document changed. Warnings are printed when they change.
   */
  private int watch(HostOptions.Selection selection, HostStatusReader reader) throws InterruptedException {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    boolean terminal = System.console() != null;
    Object printing = new Object();
    // Ctrl-C (SIGINT) and SIGTERM are the way out, and a requested end: exit 0, not 130/143.
    // Runtime.halt from the hook (System.exit would block in one), once a line in progress is out.
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      synchronized (printing) {
        out.flush();
        err.flush();
      }
      Runtime.getRuntime().halt(ExitCodes.OK);
    }, "docktunnel-status-end"));
    Map<HostId, JsonObject> shown = new HashMap<>();
    Set<String> warned = Set.of();
    boolean first = true;
    while (true) {
      List<HostStatus> statuses;
      Set<String> warnings = new LinkedHashSet<>();
      try {
        statuses = read(selection, reader);
      } catch (IOException e) {
        statuses = List.of();
        warnings.add("docktunnel: setting 'stateDir' (--state-dir): " + e.getMessage());
      }
      if (statuses.isEmpty() && warnings.isEmpty()) {
        warnings.add(noHosts(selection) + "; watching for one (Ctrl-C to end)");
      }
      statuses.stream().filter(s -> s.warning() != null).forEach(s -> warnings.add(s.warning()));
      synchronized (printing) {
        boolean bell = !json && statuses.stream().anyMatch(s -> s.document() != null
            && StatusTable.countdownBegan(shown.get(s.host().id()), changeKey(s.document())));
        List<HostStatus> changed = changed(statuses, shown);
        if (bell) {
          out.print(BELL); // the idle countdown began: a person may want to extend it
        }
        if (json) {
          out.print(jsonLines(changed));
        } else if (terminal) {
          out.print(CLEAR_SCREEN);
          out.print(tables(statuses, Clock.systemUTC()));
        } else if (!changed.isEmpty() || first) {
          out.print((first ? "" : "\n") + tables(statuses, Clock.systemUTC()));
        }
        if (out.checkError()) {
          return ExitCodes.OK; // the reader went away (a closed pipe): nothing left to show
        }
        if (!warnings.equals(warned) || (terminal && !json)) {
          warnings.forEach(err::println);
          err.flush();
        }
      }
      warned = warnings;
      first = false;
      Thread.sleep(WATCH_INTERVAL.toMillis()); // the poll interval, not a wait for an event
    }
  }

  /** The hosts whose document differs from the one shown last; {@code shown} is updated. */
  static List<HostStatus> changed(List<HostStatus> statuses, Map<HostId, JsonObject> shown) {
    List<HostStatus> changed = new ArrayList<>();
    for (HostStatus s : statuses) {
      if (s.document() == null) {
        continue;
      }
      JsonObject key = changeKey(s.document());
      if (!key.equals(shown.get(s.host().id()))) {
        shown.put(s.host().id(), key);
        changed.add(s);
      }
    }
    return changed;
  }

  /**
   * What counts as a change: the document without {@code seq} and the top-level {@code updatedAt},
   * which move with every heartbeat or fact even when nothing a reader sees changed.
   */
  static JsonObject changeKey(JsonObject document) {
    JsonObject key = document.copy();
    key.remove("seq");
    key.remove("updatedAt");
    return key;
  }

  private static List<HostStatus> read(HostOptions.Selection selection, HostStatusReader reader)
      throws IOException, InterruptedException {
    List<HostStatus> statuses = new ArrayList<>();
    for (HostOptions.KnownHost host : selection.current()) {
      statuses.add(reader.read(host));
    }
    return statuses;
  }

  /** One compact JSON document per line (JSON Lines), in host order. */
  static String jsonLines(List<HostStatus> statuses) {
    StringBuilder out = new StringBuilder();
    statuses.stream().filter(s -> s.document() != null).forEach(s -> out.append(s.document().encode()).append('\n'));
    return out.toString();
  }

  /** Each host's table, a blank line between hosts. */
  static String tables(List<HostStatus> statuses, Clock clock) {
    StringBuilder out = new StringBuilder();
    for (HostStatus s : statuses) {
      if (s.state() == null) {
        continue;
      }
      if (out.length() > 0) {
        out.append('\n');
      }
      out.append(StatusTable.render(s.state(), s.notRunning(), clock.instant()));
    }
    return out.toString();
  }

  static String noHosts(HostOptions.Selection selection) {
    return "docktunnel: no host found: no <host-id>.state.json in state dir " + selection.stateDir()
        + " (start one with 'docktunnel run --host ...', or name the state dir with --state-dir)";
  }
}

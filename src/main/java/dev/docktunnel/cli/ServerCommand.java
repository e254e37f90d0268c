package dev.docktunnel.cli;

import dev.docktunnel.http.HttpApiVerticle;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code docktunnel server start|stop|status}: a person's say over the remote server, through the
 * running daemon's lifecycle ({@code POST /server/start}, {@code POST /server/stop} with the
 * token, {@code GET /server}). Each prints the lifecycle's state and reason after the request: a
 * start or stop is decided and begun, not finished ({@code status --watch} follows it).
 */
@Command(name = "server", mixinStandardHelpOptions = true,
    description = "Start, stop or show the remote server through its running docktunnel (the lifecycle's provider).",
    subcommands = {ServerCommand.Start.class, ServerCommand.Stop.class, ServerCommand.Status.class},
    exitCodeListHeading = ServerCommand.EXIT_HEADING,
    exitCodeList = {ServerCommand.OK, ServerCommand.FAILED, ServerCommand.USAGE})
public final class ServerCommand {
  static final String EXIT_HEADING = "%nExit codes:%n";
  static final String OK = "0:done; the lifecycle's state is printed";
  static final String FAILED = "1:its docktunnel is not running, or the lifecycle refused or failed "
      + "(the message says why)";
  static final String USAGE = "2:bad command line or config value, or no --host and not exactly one host "
      + "in the state dir";

  /** What the three share: the host options, the request, the line printed. */
  abstract static class Action implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    HostOptions hostOptions;

    @Option(names = "--json", description = "print the lifecycle's status as JSON")
    boolean json;

    private final String method;
    private final String path;

    Action(String method, String path) {
      this.method = method;
      this.path = path;
    }

    String method() {
      return method;
    }

    String path() {
      return path;
    }

    @Override
    public Integer call() throws InterruptedException {
      PrintWriter out = spec.commandLine().getOut();
      LifecycleCall.Answer answer;
      try {
        answer = LifecycleCall.call("server " + spec.name(), hostOptions, method(), path(), null);
      } catch (LifecycleCall.Failed e) {
        spec.commandLine().getErr().println("docktunnel: " + e.getMessage());
        return e.exitCode;
      }
      out.println(json ? answer.body().encode() : line(answer.host(), answer.body()));
      return ExitCodes.OK;
    }
  }

  /**
   * One line of the lifecycle status: {@code docktunnel: host H: server running (provider
   * command) since T: reason; idle stop at T}.
   */
  static String line(String host, JsonObject status) {
    StringBuilder line = new StringBuilder("docktunnel: host ").append(host).append(": server ")
        .append(status.getValue("state") instanceof String state ? state : "(no state)");
    if (status.getValue("provider") instanceof String provider) {
      line.append(" (provider ").append(provider).append(')');
    }
    if (status.getValue("since") instanceof String since) {
      line.append(" since ").append(LifecycleCall.time(since));
    }
    if (status.getValue("reason") instanceof String reason && !reason.isBlank()) {
      line.append(": ").append(reason);
    }
    if (status.getValue("stopAt") instanceof String stopAt) {
      line.append("; idle stop at ").append(LifecycleCall.time(stopAt));
    }
    return line.toString();
  }

  @Command(name = "start", mixinStandardHelpOptions = true,
      description = "Start the server now (the provider's start), e.g. before you need it.",
      exitCodeListHeading = EXIT_HEADING, exitCodeList = {OK, FAILED, USAGE})
  static final class Start extends Action {
    Start() {
      super("POST", HttpApiVerticle.SERVER_PATH + "/start");
    }
  }

  @Command(name = "stop", mixinStandardHelpOptions = true,
      description = "Stop the server now (the provider's stop), without waiting for the idle timeout.",
      exitCodeListHeading = EXIT_HEADING, exitCodeList = {OK, FAILED, USAGE})
  static final class Stop extends Action {
    Stop() {
      super("POST", HttpApiVerticle.SERVER_PATH + "/stop");
    }
  }

  @Command(name = "status", mixinStandardHelpOptions = true,
      description = "Show the lifecycle's state, its reason and the idle stop's deadline.",
      exitCodeListHeading = EXIT_HEADING, exitCodeList = {OK, FAILED, USAGE})
  static final class Status extends Action {
    Status() {
      super("GET", HttpApiVerticle.SERVER_PATH);
    }
  }
}

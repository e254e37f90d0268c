package dev.docktunnel.cli;

import dev.docktunnel.config.DurationText;
import dev.docktunnel.http.HttpApiVerticle;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code docktunnel extend [DURATION]}: pushes the idle stop's deadline of a running daemon
 * ({@code POST /lifecycle/extend} with the token); without DURATION by the idle timeout, which
 * the daemon knows. Prints the new deadline.
 */
@Command(name = "extend", mixinStandardHelpOptions = true,
    description = {"Push back the idle stop of a host's server: no stop before DURATION from now "
        + "(default: the daemon's lifecycle.idleTimeout). Cancels a running idle-warning countdown.",
        "Without --host: the only host in the state dir."},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
        "0:extended; the new deadline is printed",
        "1:its docktunnel is not running, or it did not extend (the message says why)",
        "2:bad command line, DURATION or config value, or no --host and not exactly one host in the state dir"})
public final class ExtendCommand implements Callable<Integer> {

  @Spec
  CommandSpec spec;

  @Mixin
  HostOptions hostOptions;

  @Parameters(index = "0", arity = "0..1", paramLabel = "DURATION",
      description = "how long from now no idle stop may happen, like 90s, 30m or 2h (default: the idle timeout)")
  String duration;

  @Option(names = "--json", description = "print the daemon's answer as JSON ({stopAt, state})")
  boolean json;

  @Override
  public Integer call() throws InterruptedException {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    JsonObject body = new JsonObject();
    if (duration != null) {
      try {
        Duration d = DurationText.parsePositive(duration);
        body.put("duration", DurationText.format(d));
      } catch (IllegalArgumentException e) {
        err.println("docktunnel: DURATION " + e.getMessage());
        return ExitCodes.USAGE;
      }
    }
    LifecycleCall.Answer answer;
    try {
      answer = LifecycleCall.call("extend", hostOptions, "POST", HttpApiVerticle.EXTEND_PATH, body);
    } catch (LifecycleCall.Failed e) {
      err.println("docktunnel: " + e.getMessage());
      return e.exitCode;
    }
    if (json) {
      out.println(answer.body().encode());
      return ExitCodes.OK;
    }
    String by = duration == null ? "by the idle timeout" : "by " + body.getString("duration");
    String stopAt = answer.body().getString("stopAt");
    String state = answer.body().getString("state");
    out.println("docktunnel: host " + answer.host() + ": extended " + by + "; "
        + (stopAt == null ? "no idle stop is due now" : "no idle stop before " + LifecycleCall.time(stopAt))
        + (state == null ? "" : " (state " + state + ")"));
    return ExitCodes.OK;
  }
}

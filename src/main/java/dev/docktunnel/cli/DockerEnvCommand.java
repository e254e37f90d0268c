package dev.docktunnel.cli;

import dev.docktunnel.config.ConfigException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code docktunnel docker-env}: the shell line that points docker at a host's local Docker
 * socket, for {@code eval "$(docktunnel docker-env)"}. Only that line goes to stdout; a host whose
 * docktunnel does not run now still gets it (the path is stable), with a warning on stderr.
 */
@Command(name = "docker-env", mixinStandardHelpOptions = true,
    description = {"Print the shell line that points docker at a host's local Docker socket, for: "
        + "eval \"$(docktunnel docker-env)\".",
        "The line: export DOCKER_HOST=unix://<state-dir>/<host-id>/docker.sock. Without --host: the only host in "
            + "the state dir. A host whose docktunnel is not running still gets the line, with a warning on stderr."},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
        "0:printed (a warning on stderr when its docktunnel is not running now)",
        "2:bad command line or config value, or no --host and not exactly one host in the state dir"})
public final class DockerEnvCommand implements Callable<Integer> {

  @Spec
  CommandSpec spec;

  @Mixin
  HostOptions hostOptions;

  @Option(names = "--unset", description = "print 'unset DOCKER_HOST' instead: docker's own default again")
  boolean unset;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (unset) {
      out.println("unset DOCKER_HOST");
      out.flush();
      return ExitCodes.OK;
    }
    DockerSocketHost target;
    try {
      target = DockerSocketHost.select(spec.name(), hostOptions);
    } catch (ConfigException e) {
      err.println("docktunnel: " + e.getMessage());
      return ExitCodes.USAGE;
    }
    out.println(exportLine(target.socket()));
    out.flush();
    if (target.warning() != null) {
      err.println(target.warning());
      err.flush();
    }
    return ExitCodes.OK;
  }

  /** {@code export DOCKER_HOST=unix://<socket>}, the value quoted when the shell needs it. */
  static String exportLine(Path socket) {
    return "export DOCKER_HOST=" + ShellWords.quote("unix://" + socket);
  }
}

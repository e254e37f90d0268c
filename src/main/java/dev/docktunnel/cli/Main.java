package dev.docktunnel.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code docktunnel} command. Exit codes are listed in {@link ExitCodes} and README. */
@Command(name = "docktunnel",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = "Makes a remote Docker host feel local: its published ports on your loopback, over SSH.",
    subcommands = {RunCommand.class, StatusCommand.class, StopCommand.class, EventsCommand.class,
        DockerEnvCommand.class, ContextCommand.class, ExtendCommand.class, ServerCommand.class,
        CommandLine.HelpCommand.class},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
        "0:stopped normally",
        "1:failed while running (see the last log line)",
        "2:bad command line or config value; nothing was started",
        "3:could not connect: host key refused, authentication failed, or host unreachable"})
public final class Main {

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /** The configured picocli parser; tests call {@code execute} on it. */
  public static CommandLine commandLine() {
    return commandLine(CommandLine.defaultFactory());
  }

  /** The parser with the commands made by {@code factory}: tests give a command its environment this way. */
  static CommandLine commandLine(CommandLine.IFactory factory) {
    CommandLine cli = new CommandLine(new Main(), factory);
    cli.setExitCodeExceptionMapper(ExitCodes::forException);
    // One clear line for a bad option, then the usage hint.
    cli.setParameterExceptionHandler((ex, strings) -> {
      CommandLine c = ex.getCommandLine();
      c.getErr().println("docktunnel: " + ex.getMessage());
      c.getErr().println("Try '" + c.getCommandSpec().qualifiedName() + " --help'.");
      return ExitCodes.USAGE;
    });
    return cli;
  }
}

package dev.docktunnel.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import picocli.CommandLine;

/** One in-process run of the {@code docktunnel} command line, with its output. */
record CliRun(int exit, String out, String err) {

  static CliRun of(String... args) {
    return of(CommandLine.defaultFactory(), args);
  }

  /** A run whose commands {@code factory} makes (e.g. one given its environment). */
  static CliRun of(CommandLine.IFactory factory, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = Main.commandLine(factory);
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    int exit = cli.execute(args);
    return new CliRun(exit, out.toString(), err.toString());
  }

  @Override
  public String toString() {
    return "exit " + exit + "\nstdout:\n" + out + "\nstderr:\n" + err;
  }
}

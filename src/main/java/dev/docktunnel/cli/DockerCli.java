package dev.docktunnel.cli;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;

/**
 * Runs the docker CLI as a child process: with the environment given (so a test can point it at
 * its own {@code DOCKER_CONFIG}), stdin empty, stdout and stderr captured, bounded in time (a
 * child still running then is killed, with its own children). Blocking: for the CLI commands.
 */
final class DockerCli {
  /** Captured per stream; docker's answers to the context commands are a few lines. */
  private static final int MAX_CAPTURE = 64 * 1024;
  private static final File NO_INPUT = new File("/dev/null");

  /** One run's exit code and output (each at most {@link #MAX_CAPTURE} bytes, as text). */
  record Result(int exit, String out, String err) {
    /** Stderr on one line (else stdout, for a tool that writes its errors there), for a message. */
    String message() {
      String text = err.isBlank() ? out : err;
      String line = text.strip().lines().map(String::strip).filter(l -> !l.isEmpty())
          .collect(Collectors.joining("; "));
      return line.isEmpty() ? "(no output)" : line;
    }
  }

  private final String binary;
  private final Map<String, String> environment;
  private final Duration timeout;

  /**
   * @param binary the docker binary: a path, or a name looked up on this process's PATH
   * @param environment the child's whole environment
   * @param timeout how long one run may take
   */
  DockerCli(String binary, Map<String, String> environment, Duration timeout) {
    this.binary = Objects.requireNonNull(binary, "binary");
    this.environment = Map.copyOf(environment);
    this.timeout = Objects.requireNonNull(timeout, "timeout");
  }

  String binary() {
    return binary;
  }

  /** The command line as a shell would take it, for messages. */
  String describe(List<String> args) {
    List<String> words = new ArrayList<>();
    words.add(binary);
    words.addAll(args);
    return words.stream().map(ShellWords::quote).collect(Collectors.joining(" "));
  }

  /**
   * Runs {@code docker args...} to its end.
   *
   * @throws DockerCliException naming the command, when it cannot be started or does not end in
   *     time
   */
  Result run(List<String> args) throws InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(binary);
    command.addAll(args);
    ProcessBuilder builder = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(NO_INPUT));
    builder.environment().clear();
    builder.environment().putAll(environment);
    Process process;
    try {
      process = builder.start();
    } catch (IOException e) {
      throw new DockerCliException("cannot run docker '" + binary + "' (" + e.getMessage() + "): install the docker "
          + "CLI, or set " + ContextCommand.DOCKER_BINARY_ENV + " to its path");
    }
    FutureTask<String> out = capture(process.getInputStream(), "stdout");
    FutureTask<String> err = capture(process.getErrorStream(), "stderr");
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
      throw new DockerCliException(describe(args) + " did not finish within " + timeout.toMillis()
          + " ms; killed it");
    }
    return new Result(process.exitValue(), collect(out, describe(args)), collect(err, describe(args)));
  }

  /** Reads a stream to its end on its own thread, so a full pipe never stalls the child. */
  private static FutureTask<String> capture(InputStream stream, String name) {
    FutureTask<String> task = new FutureTask<>(() -> {
      try (InputStream in = stream) {
        byte[] kept = in.readNBytes(MAX_CAPTURE);
        in.transferTo(OutputStream.nullOutputStream());
        return new String(kept, StandardCharsets.UTF_8);
      }
    });
    Thread thread = new Thread(task, "docker-cli-" + name);
    thread.setDaemon(true);
    thread.start();
    return task;
  }

  /** The child ended; its output ends with it, unless a grandchild still holds the pipe. */
  private String collect(FutureTask<String> task, String what) throws InterruptedException {
    try {
      return task.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw new DockerCliException("cannot read the output of " + what + ": " + e.getCause());
    } catch (TimeoutException e) {
      throw new DockerCliException(what + " ended but its output stayed open for " + timeout.toMillis() + " ms");
    }
  }

  /** The docker CLI could not be run to its end; the message names the command and why. */
  static final class DockerCliException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    DockerCliException(String message) {
      super(message);
    }
  }
}

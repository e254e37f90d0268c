package dev.docktunnel.dockerapi;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * The user's machine in the docker CLI tests: a shell environment whose {@code DOCKER_HOST}
 * is the socket under test, with a private {@code DOCKER_CONFIG} and {@code HOME}, and the
 * Debian tools on {@code PATH} ({@code docker} is docker.io's /usr/bin/docker, never the
 * second client in /usr/local). The environment is built from scratch, so nothing of this
 * machine's own (DOCKER_CONTEXT, a user config) leaks in.
 *
 * <p>Every command is a child process bounded by a timeout with its output captured; a failure
 * names the command, how it ended and its stderr. Commands may run under a prefix (e.g.
 * {@code nsenter --net=...}, when the "user" sits on the engine's own machine). {@link #close()}
 * kills what is still running of the processes this machine started, by handle.
 */
final class UserMachine implements AutoCloseable {
  static final String PATH = "/usr/sbin:/usr/bin:/sbin:/bin";
  static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(60);

  private final List<String> prefix;
  private final Map<String, String> env = new LinkedHashMap<>();
  private final Path scratch;
  private final List<Process> started = new CopyOnWriteArrayList<>();
  private final AtomicInteger outputs = new AtomicInteger();

  /**
   * @param dockerHost the {@code DOCKER_HOST} every command gets
   * @param prefix put before every command (empty: run on this host as is)
   * @param scratch a private folder for the CLI config, HOME and captured output
   */
  UserMachine(String dockerHost, List<String> prefix, Path scratch) throws IOException {
    this.prefix = List.copyOf(prefix);
    this.scratch = scratch;
    Path home = Files.createDirectories(scratch.resolve("home"));
    Path dockerConfig = Files.createDirectories(scratch.resolve("docker-config"));
    Files.createDirectories(scratch.resolve("output"));
    env.put("PATH", PATH);
    env.put("HOME", home.toString());
    env.put("DOCKER_HOST", dockerHost);
    env.put("DOCKER_CONFIG", dockerConfig.toString());
    env.put("SHELL", "/bin/sh"); // what script(1) runs its -c command with
    env.put("LANG", "C.UTF-8"); // docker-compose (python) wants a UTF-8 locale
  }

  String dockerHost() {
    return env.get("DOCKER_HOST");
  }

  /** One finished (or killed) command. {@code stdout} is raw bytes: some tests compare binary output. */
  record Result(List<String> command, int exit, byte[] stdout, String stderr, Duration elapsed, boolean timedOut) {
    boolean ok() {
      return !timedOut && exit == 0;
    }

    String out() {
      return new String(stdout, StandardCharsets.UTF_8);
    }

    Result orThrow() {
      if (!ok()) {
        throw new AssertionError(describe());
      }
      return this;
    }

    /** The command, how it ended, and the tails of what it printed. */
    String describe() {
      String how = timedOut ? "timed out after " + elapsed.toMillis() + " ms and was killed"
          : "exited with " + exit + " after " + elapsed.toMillis() + " ms";
      return "`" + String.join(" ", command) + "` " + how + "\n--- stderr ---\n" + tail(stderr, 3000)
          + "\n--- stdout ---\n" + tail(out(), 1500);
    }
  }

  /** Runs {@code command} with stdin from /dev/null. */
  Result run(Duration timeout, String... command) {
    return run(timeout, null, command);
  }

  /**
   * Runs {@code command} to its end or {@code timeout}. With {@code stdin} the bytes go in through a
   * pipe that is closed after them (like {@code printf ... | command}); without, stdin is /dev/null.
   */
  Result run(Duration timeout, byte[] stdin, String... command) {
    List<String> full = full(command);
    int n = outputs.incrementAndGet();
    Path out = scratch.resolve("output").resolve(n + ".out");
    Path err = scratch.resolve("output").resolve(n + ".err");
    ProcessBuilder builder = builder(full).redirectOutput(out.toFile()).redirectError(err.toFile());
    if (stdin == null) {
      builder.redirectInput(Path.of("/dev/null").toFile());
    }
    long begin = System.nanoTime();
    Process process = start(builder, full);
    if (stdin != null) {
      Thread writer = new Thread(() -> {
        try (OutputStream in = process.getOutputStream()) {
          in.write(stdin);
        } catch (IOException ignored) {
          // the command ended without reading all of it: its exit code and stderr tell why
        }
      }, "stdin of " + command[0]);
      writer.setDaemon(true);
      writer.start();
    }
    boolean finished = waitFor(process, timeout);
    if (!finished) {
      killTree(process);
      waitFor(process, Duration.ofSeconds(5));
    }
    Duration elapsed = Duration.ofNanos(System.nanoTime() - begin);
    try {
      Result result = new Result(full, finished ? process.exitValue() : -1, Files.readAllBytes(out),
          Files.readString(err), elapsed, !finished);
      Files.delete(out);
      Files.delete(err);
      return result;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@code docker args...} within {@link #COMMAND_TIMEOUT}; its stdout, or an AssertionError naming it. */
  String docker(String... args) {
    String[] command = new String[args.length + 1];
    command[0] = "docker";
    System.arraycopy(args, 0, command, 1, args.length);
    return run(COMMAND_TIMEOUT, command).orThrow().out();
  }

  /** {@code sh -c line}: a line exactly as the user would type it. */
  Result sh(Duration timeout, String line) {
    return run(timeout, "sh", "-c", line);
  }

  /** Starts {@code command} with stdin a pipe this test writes to and stdout collected as it comes. */
  Live start(String... command) {
    List<String> full = full(command);
    int n = outputs.incrementAndGet();
    Path err = scratch.resolve("output").resolve(n + ".err");
    Process process = start(builder(full).redirectError(err.toFile()), full);
    return new Live(full, process, err);
  }

  /** A command still running: write its stdin, wait (bounded) for what it prints, end it. */
  final class Live {
    private final List<String> command;
    private final Process process;
    private final Path stderr;
    private final ByteArrayOutputStream output = new ByteArrayOutputStream();
    private final Thread reader;

    private Live(List<String> command, Process process, Path stderr) {
      this.command = command;
      this.process = process;
      this.stderr = stderr;
      this.reader = new Thread(this::read, "stdout of " + command.get(0));
      reader.setDaemon(true);
      reader.start();
    }

    private void read() {
      byte[] chunk = new byte[8192];
      try (InputStream in = process.getInputStream()) {
        for (int n = in.read(chunk); n >= 0; n = in.read(chunk)) {
          synchronized (output) {
            output.write(chunk, 0, n);
            output.notifyAll();
          }
        }
      } catch (IOException ignored) {
        // the stream closed under us when the process was killed: keep what came
      }
    }

    /** Everything it printed so far. */
    String output() {
      synchronized (output) {
        return output.toString(StandardCharsets.UTF_8);
      }
    }

    /** Waits until the output so far satisfies {@code wanted}; fails naming {@code what} after {@code timeout}. */
    String awaitOutput(String what, Predicate<String> wanted, Duration timeout) throws InterruptedException {
      long deadline = System.nanoTime() + timeout.toNanos();
      synchronized (output) {
        while (true) {
          String text = output.toString(StandardCharsets.UTF_8);
          if (wanted.test(text)) {
            return text;
          }
          long left = deadline - System.nanoTime();
          if (left <= 0) {
            throw new AssertionError("`" + String.join(" ", command) + "` did not print " + what + " within "
                + timeout.toSeconds() + " s (" + (process.isAlive() ? "still running" : "exited with "
                + process.exitValue()) + ")\n--- stdout ---\n" + tail(text, 1500) + "\n--- stderr ---\n"
                + tail(stderrText(), 3000));
          }
          output.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
        }
      }
    }

    /** Writes {@code text} to its stdin at once. */
    void send(String text) throws IOException {
      OutputStream in = process.getOutputStream();
      in.write(text.getBytes(StandardCharsets.UTF_8));
      in.flush();
    }

    boolean isAlive() {
      return process.isAlive();
    }

    /** Waits for its end; its exit code, or an AssertionError naming it after {@code timeout}. */
    int awaitExit(Duration timeout) throws InterruptedException {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new AssertionError("`" + String.join(" ", command) + "` did not end within " + timeout.toSeconds()
            + " s\n--- stdout ---\n" + tail(output(), 1500) + "\n--- stderr ---\n" + tail(stderrText(), 3000));
      }
      reader.join(TimeUnit.SECONDS.toMillis(5)); // the rest of its output
      return process.exitValue();
    }

    /** Kills it (and what it started) and waits, bounded, for it to go. */
    void kill() throws InterruptedException {
      killTree(process);
      process.waitFor(10, TimeUnit.SECONDS);
    }

    String stderrText() {
      try {
        return Files.readString(stderr);
      } catch (IOException e) {
        return "(stderr unreadable: " + e + ")";
      }
    }

    String describe() {
      return "`" + String.join(" ", command) + "`\n--- stdout ---\n" + tail(output(), 1500) + "\n--- stderr ---\n"
          + tail(stderrText(), 3000);
    }
  }

  /** Kills every process this machine started that still runs. */
  @Override
  public void close() {
    for (Process process : started) {
      if (process.isAlive()) {
        killTree(process);
        waitFor(process, Duration.ofSeconds(10));
      }
    }
    started.clear();
  }

  private List<String> full(String... command) {
    List<String> full = new ArrayList<>(prefix);
    full.addAll(List.of(command));
    return full;
  }

  private ProcessBuilder builder(List<String> command) {
    ProcessBuilder builder = new ProcessBuilder(command).directory(scratch.toFile());
    builder.environment().clear();
    builder.environment().putAll(env);
    return builder;
  }

  private Process start(ProcessBuilder builder, List<String> command) {
    try {
      Process process = builder.start();
      started.removeIf(p -> !p.isAlive());
      started.add(process);
      return process;
    } catch (IOException e) {
      throw new AssertionError("cannot start `" + String.join(" ", command) + "`: " + e.getMessage(), e);
    }
  }

  private static boolean waitFor(Process process, Duration timeout) {
    try {
      return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      killTree(process);
      throw new AssertionError("interrupted while waiting for " + process.info().commandLine().orElse("a command"), e);
    }
  }

  /** SIGKILL to our own child and its descendants (listed once, before any dies), by handle. */
  private static void killTree(Process process) {
    List<ProcessHandle> descendants = process.descendants().toList();
    process.destroyForcibly();
    descendants.forEach(ProcessHandle::destroyForcibly);
  }

  static String tail(String text, int maxChars) {
    return text.length() <= maxChars ? text : "..." + text.substring(text.length() - maxChars);
  }
}

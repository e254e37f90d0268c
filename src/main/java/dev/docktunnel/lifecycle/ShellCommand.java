package dev.docktunnel.lifecycle;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One {@code sh -c} command of a provider, run to its end on the calling (worker) thread: stdin
 * empty, this process's environment plus the given variables, each line of stdout and stderr
 * logged at INFO under the setting's name as it comes (never the command text or the
 * environment, which may hold secrets), the last lines kept for the result and for messages, and
 * bounded by a timeout after which the command and every process it started are killed.
 */
final class ShellCommand {
  /** Lines kept per stream (and of both together) for results and messages. */
  static final int TAIL_LINES = 50;
  /** A longer line is cut (and the rest of it dropped), so a line without an end cannot grow us. */
  static final int MAX_LINE_CHARS = 1024;
  /** Lines logged per run; a command that prints more has the rest only counted. */
  static final int MAX_LOGGED_LINES = 1000;
  /** Lines of output quoted in a failure message (the log has the rest). */
  static final int MESSAGE_LINES = 5;
  /** How long a killed process tree may take to go. */
  static final Duration KILL_WAIT = Duration.ofSeconds(5);
  /** How long the output may stay open after the command ended (a background process holding it). */
  static final Duration OUTPUT_GRACE = Duration.ofSeconds(2);

  private static final Logger LOG = LoggerFactory.getLogger(ShellCommand.class);
  private static final File NO_INPUT = new File("/dev/null");

  /**
   * The end of one run.
   *
   * @param setting the command's setting name, e.g. {@code lifecycle.command.start}
   * @param exit the exit code
   * @param stdout the last {@link #TAIL_LINES} lines of stdout
   * @param stderr the last {@link #TAIL_LINES} lines of stderr
   */
  record Result(String setting, int exit, List<String> stdout, List<String> stderr) {
    Result {
      stdout = List.copyOf(stdout);
      stderr = List.copyOf(stderr);
    }

    /** This result, or a failure naming the exit code and the last output when it is not 0. */
    Result requireSuccess() {
      if (exit != 0) {
        throw new ProviderException(setting + " exited with " + exit + "; " + lastOutput(stdout, stderr));
      }
      return this;
    }

    /** The last line of stdout that is not blank, stripped, or null when there is none. */
    String lastStdoutLine() {
      for (int i = stdout.size() - 1; i >= 0; i--) {
        if (!stdout.get(i).isBlank()) {
          return stdout.get(i).strip();
        }
      }
      return null;
    }
  }

  private final String setting;
  private final String command;
  private final Map<String, String> environment;
  private final Duration timeout;

  /**
   * @param setting the name in log lines and messages (the setting that holds the command)
   * @param command the shell command
   * @param environment variables added to this process's environment
   * @param timeout how long the command may run
   */
  ShellCommand(String setting, String command, Map<String, String> environment, Duration timeout) {
    this.setting = Objects.requireNonNull(setting, "setting");
    this.command = Objects.requireNonNull(command, "command");
    this.environment = Map.copyOf(environment);
    this.timeout = Objects.requireNonNull(timeout, "timeout");
  }

  /**
   * Runs the command. Blocking: at most the timeout plus {@link #KILL_WAIT} and twice
   * {@link #OUTPUT_GRACE}.
   *
   * @param onStdoutLine sees each stdout line in order (on a reader thread), e.g. to find a
   *     marked line anywhere in the output
   * @return the exit code and the last output; a non-zero exit is a result, not a failure
   * @throws ProviderException when the command cannot be started, runs past the timeout (it was
   *     killed) or the wait is interrupted (it was killed)
   */
  Result run(Consumer<String> onStdoutLine) {
    ProcessBuilder builder = new ProcessBuilder("sh", "-c", command)
        .redirectInput(ProcessBuilder.Redirect.from(NO_INPUT));
    builder.environment().putAll(environment);
    long started = System.nanoTime();
    Process process;
    try {
      process = builder.start();
    } catch (IOException e) {
      throw new ProviderException("cannot run " + setting + " with sh: " + e.getMessage(), e);
    }
    LOG.info("{}: started (pid {}, timeout {})", setting, process.pid(), seconds(timeout));
    Output output = new Output();
    Thread out = output.reader(process.getInputStream(), false, onStdoutLine);
    Thread err = output.reader(process.getErrorStream(), true, line -> { });
    try {
      if (!process.waitFor(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
        int killed = killTree(process);
        awaitOutput(out, err);
        throw new ProviderException(setting + " did not finish within " + seconds(timeout) + "; killed it"
            + (killed > 0 ? " and the " + killed + " processes it started" : "") + "; "
            + lastOutput(output.stdout(), output.stderr()));
      }
      // The JDK closes a dead child's streams itself, except while a read waits on them: then a
      // background process that kept them open would hold us until it ends.
      if (!awaitOutput(out, err)) {
        LOG.warn("{}: exited, but a process it started still holds its output open; not waiting for it "
            + "(send that process's output elsewhere, e.g. > /dev/null 2>&1)", setting);
      }
    } catch (InterruptedException e) {
      killTree(process);
      Thread.currentThread().interrupt();
      throw new ProviderException(setting + " was interrupted (docktunnel is stopping); killed it", e);
    }
    output.logSkipped();
    Duration took = Duration.ofNanos(System.nanoTime() - started);
    LOG.info("{}: exited with {} after {}", setting, process.exitValue(), seconds(took));
    return new Result(setting, process.exitValue(), output.stdout(), output.stderr());
  }

  /**
   * Kills the command's process tree, children first (a snapshot of all levels, taken while the
   * parents still live, so no grandchild is orphaned out of sight), then the command itself.
   *
   * @return how many processes the command had started
   */
  private int killTree(Process process) {
    Set<ProcessHandle> killed = new HashSet<>();
    // A process forking between the snapshot and its own kill leaves new children: look again.
    for (int round = 0; round < 3; round++) {
      List<ProcessHandle> tree = process.descendants().toList();
      if (tree.isEmpty()) {
        break;
      }
      tree.forEach(ProcessHandle::destroyForcibly);
      killed.addAll(tree);
    }
    process.destroyForcibly();
    long deadline = System.nanoTime() + KILL_WAIT.toNanos();
    try {
      process.waitFor(KILL_WAIT.toNanos(), TimeUnit.NANOSECONDS);
      for (ProcessHandle handle : killed) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          break;
        }
        handle.onExit().get(left, TimeUnit.NANOSECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      // Still alive: named below.
    }
    List<Long> alive = killed.stream().filter(ProcessHandle::isAlive).map(ProcessHandle::pid).toList();
    if (process.isAlive() || !alive.isEmpty()) {
      // Java counts a zombie as alive: a process killed but not yet reaped by its new parent is named too.
      LOG.warn("{}: killed, but not gone (or not reaped) after {}: pid {}{}", setting, seconds(KILL_WAIT),
          process.pid(), alive.isEmpty() ? "" : " and " + alive);
    }
    return killed.size();
  }

  /** Waits for both streams to end; false when something still holds them after the grace. */
  private static boolean awaitOutput(Thread out, Thread err) throws InterruptedException {
    long deadline = System.nanoTime() + OUTPUT_GRACE.toNanos();
    for (Thread reader : List.of(out, err)) {
      long left = deadline - System.nanoTime();
      if (left > 0) {
        TimeUnit.NANOSECONDS.timedJoin(reader, left);
      }
    }
    return !out.isAlive() && !err.isAlive();
  }

  /**
   * {@code stderr: a | b; stdout: c}: the last {@link #MESSAGE_LINES} non-blank lines of each
   * stream (the streams are read apart, so their order between each other is unknown).
   */
  static String lastOutput(List<String> stdout, List<String> stderr) {
    String err = last(stderr);
    String out = last(stdout);
    if (err.isEmpty() && out.isEmpty()) {
      return "no output";
    }
    return (err.isEmpty() ? "" : "stderr: " + err) + (err.isEmpty() || out.isEmpty() ? "" : "; ")
        + (out.isEmpty() ? "" : "stdout: " + out);
  }

  private static String last(List<String> lines) {
    List<String> shown = lines.stream().filter(line -> !line.isBlank()).map(String::strip).toList();
    return String.join(" | ", shown.subList(Math.max(0, shown.size() - MESSAGE_LINES), shown.size()));
  }

  /** {@code 1.5 s}: durations in log lines and messages. */
  static String seconds(Duration duration) {
    long millis = duration.toMillis();
    return millis % 1000 == 0 ? millis / 1000 + " s" : String.format(Locale.ROOT, "%.1f s", millis / 1000.0);
  }

  /** Both streams' lines: the tails, and the log's line budget. Lines arrive on two reader threads. */
  private final class Output {
    private final ArrayDeque<String> stdout = new ArrayDeque<>();
    private final ArrayDeque<String> stderr = new ArrayDeque<>();
    private final AtomicInteger logged = new AtomicInteger();

    Thread reader(InputStream stream, boolean stderr, Consumer<String> onLine) {
      String name = "provider-" + setting + (stderr ? "-stderr" : "-stdout");
      Thread thread = new Thread(() -> read(stream, stderr, onLine), name);
      thread.setDaemon(true);
      thread.start();
      return thread;
    }

    private void read(InputStream stream, boolean stderr, Consumer<String> onLine) {
      try (Reader in = new InputStreamReader(stream, StandardCharsets.UTF_8)) {
        char[] buffer = new char[8192];
        StringBuilder line = new StringBuilder();
        boolean cut = false;
        int n;
        while ((n = in.read(buffer)) >= 0) {
          for (int i = 0; i < n; i++) {
            char c = buffer[i];
            if (c == '\n') {
              line(line, cut, stderr, onLine);
              line.setLength(0);
              cut = false;
            } else if (line.length() < MAX_LINE_CHARS) {
              line.append(c);
            } else {
              cut = true;
            }
          }
        }
        if (line.length() > 0) {
          line(line, cut, stderr, onLine);
        }
      } catch (IOException e) {
        LOG.warn("{}: cannot read its {}: {}", setting, stderr ? "stderr" : "stdout", e.toString());
      }
    }

    private void line(StringBuilder raw, boolean cut, boolean stderr, Consumer<String> onLine) {
      int end = raw.length();
      if (end > 0 && raw.charAt(end - 1) == '\r') {
        end--;
      }
      String line = raw.substring(0, end) + (cut ? " [cut at " + MAX_LINE_CHARS + " characters]" : "");
      if (logged.incrementAndGet() <= MAX_LOGGED_LINES) {
        LOG.info(stderr ? "{} (stderr): {}" : "{}: {}", setting, line);
      }
      synchronized (this) {
        keep(stderr ? this.stderr : stdout, line);
      }
      if (!stderr) {
        onLine.accept(line);
      }
    }

    private void keep(ArrayDeque<String> tail, String line) {
      if (tail.size() == TAIL_LINES) {
        tail.removeFirst();
      }
      tail.addLast(line);
    }

    synchronized List<String> stdout() {
      return new ArrayList<>(stdout);
    }

    synchronized List<String> stderr() {
      return new ArrayList<>(stderr);
    }

    void logSkipped() {
      int skipped = logged.get() - MAX_LOGGED_LINES;
      if (skipped > 0) {
        LOG.info("{}: {} more lines of output not logged", setting, skipped);
      }
    }
  }
}

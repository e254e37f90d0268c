package dev.docktunnel.lifecycle;

import dev.docktunnel.config.ConfigException;
import dev.docktunnel.config.DocktunnelConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * The user's own shell commands start and stop the server (DevPod's provider contract as the
 * model): {@code lifecycle.command.status}, {@code .start}, {@code .stop} and {@code .destroy},
 * each run as {@code sh -c <command>} in the {@value #WORKER_POOL} worker pool.
 *
 * <p>Each command gets docktunnel's environment plus the {@code DOCKTUNNEL_*} variables of
 * {@link ProviderHost#environment()}, stdin empty, and {@code lifecycle.command.timeout}; on the
 * timeout it and every process it started are killed. Its output is logged line by line at INFO
 * under the setting's name. A non-zero exit or a timeout fails the call with the setting, the exit
 * code or the timeout, and the last lines of output.
 *
 * <ul>
 *   <li>{@code status}: the last non-blank line of stdout is {@code Running}, {@code Stopped} or
 *       {@code NotFound}, in any case, surrounding blanks ignored; anything else fails, quoting
 *       the line. Lines before it (and stderr) are free for the script's own words.
 *   <li>{@code start}: a stdout line {@code address: host[:port]} ({@code address:} in any case)
 *       gives the server's new address, the last such line if there are several; no such line
 *       means the address is unchanged; an address that does not parse fails the start. Later
 *       commands see the new address in {@code DOCKTUNNEL_SSH_HOST} / {@code _PORT}.
 *   <li>{@code stop}: stops the server.
 *   <li>{@code destroy}: deletes it; when not set (or blank), a destroy runs the stop command.
 * </ul>
 *
 * <p>The caller logs and counts a failed call; this class logs the commands' output and ends.
 */
public final class CommandProvider implements ServerProvider {

  /** The {@code lifecycle.provider} value. */
  public static final String NAME = "command";
  /** The worker pool the commands run in, shared by the command providers of one Vert.x. */
  public static final String WORKER_POOL = "docktunnel-provider-command";

  private static final String SETTING = "lifecycle.command.";
  private static final int POOL_SIZE = 2;
  private static final String ADDRESS_PREFIX = "address:";
  private static final Pattern ADDRESS_LINE = Pattern.compile("\\s*address:.*", Pattern.CASE_INSENSITIVE);

  private final DocktunnelConfig.Command config;
  private final WorkerExecutor worker;
  /** The host as the commands see it; a start that printed an address moves it. Written by workers. */
  private final AtomicReference<ProviderHost> host;

  /**
   * @param vertx runs the commands in its {@value #WORKER_POOL} worker pool
   * @param config the commands; {@code status}, {@code start} and {@code stop} must be set and
   *     the timeout positive
   * @param host what the commands' {@code DOCKTUNNEL_*} variables say
   * @throws ConfigException naming the setting that is missing or wrong
   */
  public CommandProvider(Vertx vertx, DocktunnelConfig.Command config, ProviderHost host) {
    Objects.requireNonNull(vertx, "vertx");
    Objects.requireNonNull(host, "host");
    validate(config);
    this.config = config;
    this.host = new AtomicReference<>(host);
    // Past this, Vert.x warns of a blocked worker; a run ends within the timeout plus the kill's waits.
    long maxRun = config.timeout().plus(ShellCommand.KILL_WAIT).plus(ShellCommand.OUTPUT_GRACE.multipliedBy(2))
        .plusSeconds(5).toMillis();
    this.worker = vertx.createSharedWorkerExecutor(WORKER_POOL, POOL_SIZE, maxRun, TimeUnit.MILLISECONDS);
  }

  /**
   * Checks the settings the command provider needs, for the config loader as well.
   *
   * @throws ConfigException naming the setting that is missing or wrong
   */
  public static void validate(DocktunnelConfig.Command config) {
    if (config == null) {
      throw new ConfigException("lifecycle.provider is command, but lifecycle.command is not set: it needs "
          + "lifecycle.command.status, lifecycle.command.start and lifecycle.command.stop");
    }
    requireCommand("status", config.status());
    requireCommand("start", config.start());
    requireCommand("stop", config.stop());
    Duration timeout = config.timeout();
    if (timeout == null || timeout.isNegative() || timeout.isZero()) {
      throw new ConfigException(SETTING + "timeout must be a positive duration (was " + timeout + ")");
    }
  }

  private static void requireCommand(String name, String command) {
    if (command == null || command.isBlank()) {
      throw new ConfigException("lifecycle.provider is command, but " + SETTING + name + " is not set: it needs "
          + "lifecycle.command.status, lifecycle.command.start and lifecycle.command.stop (destroy is optional)");
    }
  }

  @Override
  public String name() {
    return NAME;
  }

  /** The host as the next command sees it (moved by a start that printed an address). */
  public ProviderHost host() {
    return host.get();
  }

  @Override
  public Future<ServerStatus> status() {
    return run("status", config.status(), line -> { }).map(CommandProvider::parseStatus);
  }

  @Override
  public Future<StartResult> start() {
    AtomicReference<String> addressLine = new AtomicReference<>();
    Consumer<String> watch = line -> {
      if (ADDRESS_LINE.matcher(line).matches()) {
        addressLine.set(line.strip());
      }
    };
    return worker.executeBlocking(() -> {
      new ShellCommand(SETTING + "start", config.start(), host.get().environment(), config.timeout()).run(watch)
          .requireSuccess();
      StartResult result = startResult(addressLine.get());
      result.address().ifPresent(address -> host.updateAndGet(current -> current.at(address)));
      return result;
    }, false);
  }

  @Override
  public Future<Void> stop() {
    return run("stop", config.stop(), line -> { }).mapEmpty();
  }

  /** The destroy command, or the stop command when none is set. */
  @Override
  public Future<Void> destroy() {
    if (config.destroy() == null || config.destroy().isBlank()) {
      return stop();
    }
    return run("destroy", config.destroy(), line -> { }).mapEmpty();
  }

  /**
   * Releases this provider's hold on the worker pool (the pool ends with the last one). A
   * provider made in a verticle is also released when that verticle is undeployed.
   */
  public Future<Void> close() {
    return worker.close();
  }

  private Future<ShellCommand.Result> run(String name, String command, Consumer<String> onStdoutLine) {
    return worker.executeBlocking(
        () -> new ShellCommand(SETTING + name, command, host.get().environment(), config.timeout()).run(onStdoutLine)
            .requireSuccess(),
        false);
  }

  /** The status rule (see the class comment); pure. */
  static ServerStatus parseStatus(ShellCommand.Result result) {
    String last = result.lastStdoutLine();
    if (last == null) {
      throw new ProviderException(result.setting() + " printed nothing on stdout; expected Running, Stopped or "
          + "NotFound on its last line; " + ShellCommand.lastOutput(result.stdout(), result.stderr()));
    }
    String detail = result.setting() + " printed " + last;
    return switch (last.toLowerCase(Locale.ROOT)) {
      case "running" -> ServerStatus.running(detail);
      case "stopped" -> ServerStatus.stopped(detail);
      case "notfound" -> ServerStatus.notFound(detail);
      default -> throw new ProviderException(result.setting() + " printed '" + last + "' on its last line; expected "
          + "Running, Stopped or NotFound");
    };
  }

  /** The address rule (see the class comment): {@code line} is the last {@code address:} line, or null; pure. */
  static StartResult startResult(String line) {
    if (line == null) {
      return StartResult.unchanged();
    }
    String text = line.strip().substring(ADDRESS_PREFIX.length());
    try {
      return StartResult.at(ServerAddress.parse(text));
    } catch (IllegalArgumentException e) {
      throw new ProviderException(SETTING + "start printed '" + line + "', but " + e.getMessage(), e);
    }
  }

}

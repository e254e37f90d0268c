package dev.docktunnel.cli;

import dev.docktunnel.cli.DockerCli.DockerCliException;
import dev.docktunnel.config.ConfigException;
import dev.docktunnel.state.HostId;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code docktunnel context}: creates, or updates when it exists, the docker context {@code
 * docktunnel-<host>} whose endpoint is the host's local Docker socket, by running the docker CLI
 * ({@code docker context inspect}, then {@code create} or {@code update}). The docker binary is
 * {@value #DOCKER_BINARY_ENV} from the environment, else {@code docker} on PATH; the child gets
 * this command's environment, which tests inject (an environment cannot be changed in process).
 */
@Command(name = "context", mixinStandardHelpOptions = true,
    description = {"Create (or update) the docker context docktunnel-<host> pointing at the host's local Docker "
        + "socket; then: docker --context docktunnel-<host> ps, or docker context use docktunnel-<host>.",
        "<host> is --host as given (an ssh:// prefix dropped, every run of characters other than letters, digits "
            + "and _ . + - made one '-'); without --host: the only host in the state dir, named by the host its "
            + "state file records. The docker binary: $" + ContextCommand.DOCKER_BINARY_ENV
            + ", else docker on PATH."},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
        "0:the context was created or updated (a warning on stderr when its docktunnel is not running now)",
        "1:docker could not be run, or failed (its message is shown)",
        "2:bad command line or config value, or no --host and not exactly one host in the state dir"})
public final class ContextCommand implements Callable<Integer> {
  /** The environment variable naming the docker binary (a path, or a name on PATH). */
  static final String DOCKER_BINARY_ENV = "DOCKTUNNEL_DOCKER";
  /** How long one docker command may take; the context commands only touch local files. */
  static final Duration DOCKER_TIMEOUT = Duration.ofSeconds(15);
  static final String CONTEXT_PREFIX = "docktunnel-";
  /** Runs of what docker context names do not allow (they match ^[a-zA-Z0-9][a-zA-Z0-9_.+-]+$). */
  private static final Pattern EDGE_DASHES = Pattern.compile("^-+|-+$");
  private static final Pattern NOT_ALLOWED = Pattern.compile("[^a-zA-Z0-9_.+-]+");
  private static final String SSH_SCHEME = "ssh://";

  @Spec
  CommandSpec spec;

  @Mixin
  HostOptions hostOptions;

  private final Map<String, String> environment;

  public ContextCommand() {
    this(System.getenv());
  }

  /** With the environment the docker binary is chosen from and its child runs with. */
  ContextCommand(Map<String, String> environment) {
    this.environment = Map.copyOf(environment);
  }

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    DockerSocketHost target;
    try {
      target = DockerSocketHost.select(spec.name(), hostOptions);
    } catch (ConfigException e) {
      err.println("docktunnel: " + e.getMessage());
      return ExitCodes.USAGE;
    }
    String endpoint;
    try {
      endpoint = dockerEndpoint(target.socket());
    } catch (IllegalArgumentException e) {
      err.println("docktunnel: " + e.getMessage());
      return ExitCodes.USAGE;
    }
    String name = contextName(target.host(), target.id());
    String binary = environment.getOrDefault(DOCKER_BINARY_ENV, "");
    DockerCli docker = new DockerCli(binary.isBlank() ? "docker" : binary, environment, DOCKER_TIMEOUT);
    boolean existed;
    try {
      existed = docker.run(List.of("context", "inspect", name)).exit() == 0;
      List<String> args = List.of("context", existed ? "update" : "create", name,
          "--description", "docktunnel: " + target.host(), "--docker", endpoint);
      DockerCli.Result result = docker.run(args);
      if (result.exit() != 0) {
        err.println("docktunnel: " + docker.describe(args) + " failed (exit " + result.exit() + "): "
            + result.message());
        return ExitCodes.FAILED;
      }
    } catch (DockerCliException e) {
      err.println("docktunnel: " + e.getMessage());
      return ExitCodes.FAILED;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return ExitCodes.FAILED;
    }
    out.println("docker context " + name + " " + (existed ? "updated" : "created") + " (unix://" + target.socket()
        + "); use it with: docker --context " + name + " ps, or docker context use " + name);
    out.flush();
    if (target.warning() != null) {
      err.println(target.warning());
      err.flush();
    }
    return ExitCodes.OK;
  }

  /**
   * {@code docktunnel-<host>}: the host as given to {@code run}, without an {@code ssh://} prefix,
   * each run of characters a docker context name does not allow made one {@code -}, and {@code -}
   * trimmed from both ends; the host id when nothing is left. Deterministic, so the same {@code
   * --host} always names the same context; hosts differing only in such characters share one.
   */
  static String contextName(String host, HostId id) {
    Objects.requireNonNull(host, "host");
    String readable = host.regionMatches(true, 0, SSH_SCHEME, 0, SSH_SCHEME.length())
        ? host.substring(SSH_SCHEME.length()) : host;
    readable = trimDashes(NOT_ALLOWED.matcher(readable).replaceAll("-"));
    return CONTEXT_PREFIX + (readable.isEmpty() ? id.value() : readable);
  }

  private static String trimDashes(String text) {
    return EDGE_DASHES.matcher(text).replaceAll("");
  }

  /**
   * The {@code --docker} value {@code host=unix://<socket>}. Docker reads a value with one
   * {@code =} as is, and one with more as a CSV record: so a path with {@code =} is CSV-quoted. A
   * double quote cannot be carried either way (docker strips it at the ends, or the record
   * doubles it), so such a path is refused.
   *
   * @throws IllegalArgumentException naming the path, for a double quote or a line break in it
   */
  static String dockerEndpoint(Path socket) {
    String value = "host=unix://" + socket;
    if (value.indexOf('"') >= 0 || value.indexOf('\n') >= 0 || value.indexOf('\r') >= 0) {
      throw new IllegalArgumentException("the Docker socket path " + socket + " has a double quote or a line break, "
          + "which docker's --docker option cannot carry; use a state dir without one (--state-dir)");
    }
    return value.indexOf('=') == value.lastIndexOf('=') ? value : "\"" + value + "\"";
  }
}

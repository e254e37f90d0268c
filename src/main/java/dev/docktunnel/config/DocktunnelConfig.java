package dev.docktunnel.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Everything docktunnel runs with, validated. Built by {@link ConfigLoader} from built-in
 * defaults, the config file and the command line (command line wins).
 *
 * @param host the remote host as given: {@code ssh://[user@]host[:port]} or an alias from the
 *     SSH config file
 * @param identities private key files to offer, in order (empty: the SSH config's
 *     IdentityFile entries, then the ssh-agent, then the default ~/.ssh/id_* files)
 * @param knownHosts the known_hosts file host keys are verified against
 * @param sshConfig the OpenSSH client config file consulted for HostName, User, Port, IdentityFile
 * @param strictHostKeyChecking {@code yes} or {@code accept-new}, with OpenSSH's meaning
 * @param remoteDockerSocket the Docker engine's Unix socket path on the remote host
 * @param stateDir where state files, the lock and the local sockets live
 * @param ssh connection tuning
 * @param forwarding which published ports are forwarded and how
 * @param httpPort the HTTP API's port on 127.0.0.1; 0: any free port (recorded in the state file)
 * @param bridgePort the TCP event-bus bridge's port on 127.0.0.1; 0: any free port (recorded too)
 * @param docker the local Docker API socket's settings
 * @param lifecycle the idle lifecycle: when the server is stopped and how it is woken
 */
public record DocktunnelConfig(
    String host,
    List<Path> identities,
    Path knownHosts,
    Path sshConfig,
    HostKeyChecking strictHostKeyChecking,
    String remoteDockerSocket,
    Path stateDir,
    Ssh ssh,
    Forwarding forwarding,
    int httpPort,
    int bridgePort,
    Docker docker,
    Lifecycle lifecycle) {

  /** The same config for another host. */
  public DocktunnelConfig withHost(String otherHost) {
    return new DocktunnelConfig(otherHost, identities, knownHosts, sshConfig, strictHostKeyChecking,
        remoteDockerSocket, stateDir, ssh, forwarding, httpPort, bridgePort, docker, lifecycle);
  }

  /** How unknown host keys are treated; changed keys are always refused. */
  public enum HostKeyChecking {
    /** Refuse unknown and changed keys. */
    YES("yes"),
    /** Trust an unknown key on first use and record it; refuse changed keys. */
    ACCEPT_NEW("accept-new");

    private final String text;

    HostKeyChecking(String text) {
      this.text = text;
    }

    public String text() {
      return text;
    }

    /** Parses the OpenSSH spelling; null when it is not one we support. */
    public static HostKeyChecking parse(String value) {
      for (HostKeyChecking mode : values()) {
        if (mode.text.equals(value)) {
          return mode;
        }
      }
      return null;
    }
  }

  /**
   * SSH session tuning.
   *
   * @param connectTimeout TCP connect plus key exchange plus authentication
   * @param keepaliveInterval like OpenSSH's ServerAliveInterval
   * @param keepaliveCountMax unanswered keepalives before the session is declared dead
   * @param reconnectMinDelay first backoff step after a lost session
   * @param reconnectMaxDelay backoff ceiling
   * @param progressTimeout how long reconnecting may go without progress before the state is
   *     {@code failed} (retries go on, at the maximum backoff)
   * @param ptySession keep one PTY session open so OpenSSH's sshd sets TCP_NODELAY
   * @param waitForHost until the first connection succeeds, keep retrying (service use) instead
   *     of failing fast on an unreachable host or refused authentication
   */
  public record Ssh(
      Duration connectTimeout,
      Duration keepaliveInterval,
      int keepaliveCountMax,
      Duration reconnectMinDelay,
      Duration reconnectMaxDelay,
      Duration progressTimeout,
      boolean ptySession,
      boolean waitForHost) {
  }

  /** What to do when a forward's local port is taken. */
  public enum ConflictStrategy {
    /** The forward reports {@code conflict}; others are unaffected. */
    FAIL("fail"),
    /** Bind the next free port above it and report the mapping. */
    NEXT_FREE("next-free");

    private final String text;

    ConflictStrategy(String text) {
      this.text = text;
    }

    public String text() {
      return text;
    }

    public static ConflictStrategy parse(String value) {
      for (ConflictStrategy s : values()) {
        if (s.text.equals(value)) {
          return s;
        }
      }
      return null;
    }
  }

  /**
   * Forwarding rules.
   *
   * @param bindAddresses local addresses each forward listens on (loopback only)
   * @param include published port ranges to forward (empty: all)
   * @param exclude published port ranges never forwarded
   * @param conflictStrategy what a taken local port does
   * @param holdTimeout how long a new local connection waits for the SSH session while it is
   *     connecting or reconnecting before it is reset
   */
  public record Forwarding(
      List<String> bindAddresses,
      List<PortRange> include,
      List<PortRange> exclude,
      ConflictStrategy conflictStrategy,
      Duration holdTimeout) {

    /** The default of {@code forwarding.holdTimeout}. */
    public static final Duration DEFAULT_HOLD_TIMEOUT = Duration.ofSeconds(15);

    /** Forwarding rules with the default hold timeout. */
    public Forwarding(List<String> bindAddresses, List<PortRange> include, List<PortRange> exclude,
        ConflictStrategy conflictStrategy) {
      this(bindAddresses, include, exclude, conflictStrategy, DEFAULT_HOLD_TIMEOUT);
    }
  }

  /**
   * The local Docker API socket.
   *
   * @param holdStart how long a successful {@code POST /containers/{id}/start} (restart,
   *     unpause) is held back from the client until that container's forwards are active or in
   *     conflict; on timeout it passes and the forward's status says why
   */
  public record Docker(Duration holdStart) {
    /** The default of {@code docker.holdStart}. */
    public static final Duration DEFAULT_HOLD_START = Duration.ofSeconds(5);
    public static final Docker DEFAULT = new Docker(DEFAULT_HOLD_START);
  }

  /**
   * The idle lifecycle, from the {@code lifecycle} settings.
   *
   * @param provider {@code static}, {@code command} or {@code hetzner}
   * @param idleTimeout how long without activity before the stop's warning
   * @param gracePeriod how long the warning lasts before the stop
   * @param connectionTimeout an open connection without bytes counts as activity this long
   * @param wakeTimeout how long a client that woke the server is held for it
   * @param command the {@code command} provider's shell commands
   * @param hetzner the {@code hetzner} provider's settings
   */
  public record Lifecycle(String provider, Duration idleTimeout, Duration gracePeriod, Duration connectionTimeout,
      Duration wakeTimeout, Command command, Hetzner hetzner) {
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofMinutes(30);
    public static final Duration DEFAULT_GRACE_PERIOD = Duration.ofSeconds(60);
    public static final Duration DEFAULT_CONNECTION_TIMEOUT = Duration.ofHours(2);
    public static final Duration DEFAULT_WAKE_TIMEOUT = Duration.ofSeconds(120);
    /** The {@code static} provider with the default timings: the server is always there. */
    public static final Lifecycle DEFAULT = new Lifecycle("static", DEFAULT_IDLE_TIMEOUT, DEFAULT_GRACE_PERIOD,
        DEFAULT_CONNECTION_TIMEOUT, DEFAULT_WAKE_TIMEOUT, Command.NONE, Hetzner.DEFAULT);
  }

  /**
   * The {@code command} provider: {@code sh -c} commands, each bounded by {@code timeout}.
   *
   * @param status prints {@code Running}, {@code Stopped} or {@code NotFound}
   * @param start starts the server; may print a new address
   * @param stop stops it
   * @param destroy deletes it (null: not supported, a stop is used)
   * @param timeout each command's bound; one that takes longer is killed and fails
   */
  public record Command(String status, String start, String stop, String destroy, Duration timeout) {
    /** The default of {@code lifecycle.command.timeout}. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);
    /** No commands (the default). */
    public static final Command NONE = new Command(null, null, null, null, DEFAULT_TIMEOUT);
  }

  /**
   * The {@code hetzner} provider (Hetzner Cloud API).
   *
   * @param apiUrl the API's base URL ({@code https://api.hetzner.cloud/v1}; a stand-in in tests)
   * @param tokenEnv the environment variable holding the API token
   * @param tokenFile a 0600 file holding the token, used when the variable is unset (may be null)
   * @param serverName the server's name (found by name, created with it)
   * @param serverType e.g. {@code cx22}
   * @param location e.g. {@code fsn1}
   * @param image the image to create from when there is no snapshot, e.g. {@code docker-ce}
   * @param sshKey the name of the SSH key (as registered in the project) the server gets
   * @param volume the volume holding {@code /var/lib/docker}, kept across delete and create
   * @param keep {@code volume} (attach the volume) or {@code snapshot} (snapshot before delete)
   */
  public record Hetzner(String apiUrl, String tokenEnv, Path tokenFile, String serverName, String serverType,
      String location, String image, String sshKey, String volume, String keep) {
    /** The default of {@code lifecycle.hetzner.apiUrl}. */
    public static final String DEFAULT_API_URL = "https://api.hetzner.cloud/v1";
    /** The defaults: the public API, the token in {@code HCLOUD_TOKEN}, keep a volume; nothing named yet. */
    public static final Hetzner DEFAULT = new Hetzner(DEFAULT_API_URL, "HCLOUD_TOKEN", null, null, null, null, null,
        null, null, "volume");
  }
}

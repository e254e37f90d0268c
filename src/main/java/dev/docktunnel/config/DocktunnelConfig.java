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
    Docker docker) {

  /** The same config for another host. */
  public DocktunnelConfig withHost(String otherHost) {
    return new DocktunnelConfig(otherHost, identities, knownHosts, sshConfig, strictHostKeyChecking,
        remoteDockerSocket, stateDir, ssh, forwarding, httpPort, bridgePort, docker);
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
}

package dev.docktunnel.ssh;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * Where the SSH session goes, after the user's input and the OpenSSH client config were
 * applied.
 *
 * @param hostName the host to connect to (the config's HostName when the alias had one)
 * @param port the TCP port, 1..65535
 * @param user the remote user name
 * @param identityFiles the config's IdentityFile entries for this host, already expanded, in
 *     order (they need not exist)
 * @param alias the host exactly as the user gave it ({@code ssh://...}, {@code user@host} or an
 *     alias)
 */
public record SshTarget(String hostName, int port, String user, List<Path> identityFiles, String alias) {

  /** The port OpenSSH leaves out of known_hosts host names. */
  public static final int DEFAULT_PORT = 22;

  public SshTarget {
    Objects.requireNonNull(hostName, "hostName");
    Objects.requireNonNull(user, "user");
    Objects.requireNonNull(alias, "alias");
    if (hostName.isBlank()) {
      throw new IllegalArgumentException("SSH host name is empty (from '" + alias + "')");
    }
    if (user.isBlank()) {
      throw new IllegalArgumentException("SSH user name is empty (from '" + alias + "')");
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException(
          "SSH port " + port + " is out of range 1-65535 (from '" + alias + "')");
    }
    identityFiles = List.copyOf(identityFiles);
  }

  /**
   * The host name as OpenSSH writes it in known_hosts: lower-cased, and {@code [host]:port} when
   * the port is not 22.
   */
  public String knownHostsName() {
    String host = hostName.toLowerCase(Locale.ROOT);
    return port == DEFAULT_PORT ? host : "[" + host + "]:" + port;
  }

  /** {@code user@host:port} for log lines and messages. */
  public String display() {
    String host = hostName.indexOf(':') >= 0 ? "[" + hostName + "]" : hostName;
    return user + "@" + host + ":" + port;
  }
}

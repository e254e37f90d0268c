package dev.docktunnel.lifecycle;

import dev.docktunnel.ssh.SshTarget;
import dev.docktunnel.state.HostId;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The remote host as a provider's commands see it: what the user gave, its id in the state dir,
 * and where the SSH session goes. {@link #environment()} is what {@link CommandProvider} adds to
 * each command's environment.
 *
 * @param host the host exactly as the user gave it ({@code ssh://user@box}, an alias, ...)
 * @param hostId the host's id (the name of its files in the state dir)
 * @param sshHost the host name the session connects to (after the SSH config)
 * @param sshPort the SSH port
 * @param sshUser the remote user
 * @param stateDir the state dir ({@code ~/.docktunnel} by default)
 */
public record ProviderHost(String host, HostId hostId, String sshHost, int sshPort, String sshUser, Path stateDir) {

  public static final String HOST = "DOCKTUNNEL_HOST";
  public static final String HOST_ID = "DOCKTUNNEL_HOST_ID";
  public static final String SSH_HOST = "DOCKTUNNEL_SSH_HOST";
  public static final String SSH_PORT = "DOCKTUNNEL_SSH_PORT";
  public static final String SSH_USER = "DOCKTUNNEL_SSH_USER";
  public static final String STATE_DIR = "DOCKTUNNEL_STATE_DIR";

  public ProviderHost {
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(hostId, "hostId");
    Objects.requireNonNull(sshHost, "sshHost");
    Objects.requireNonNull(sshUser, "sshUser");
    Objects.requireNonNull(stateDir, "stateDir");
    if (sshPort < 1 || sshPort > 65535) {
      throw new IllegalArgumentException("SSH port " + sshPort + " is out of range 1-65535");
    }
  }

  /** The host of a resolved target: {@code host} is the target's alias (the user's words). */
  public static ProviderHost of(SshTarget target, HostId hostId, Path stateDir) {
    return new ProviderHost(target.alias(), hostId, target.hostName(), target.port(), target.user(), stateDir);
  }

  /** The same host at a new address (after a start that printed one); the port kept when it has none. */
  public ProviderHost at(ServerAddress address) {
    return new ProviderHost(host, hostId, address.host(), address.port().orElse(sshPort), sshUser, stateDir);
  }

  /** The {@code DOCKTUNNEL_*} variables, in a fixed order. */
  public Map<String, String> environment() {
    Map<String, String> env = new LinkedHashMap<>();
    env.put(HOST, host);
    env.put(HOST_ID, hostId.value());
    env.put(SSH_HOST, sshHost);
    env.put(SSH_PORT, Integer.toString(sshPort));
    env.put(SSH_USER, sshUser);
    env.put(STATE_DIR, stateDir.toString());
    return env;
  }
}

package dev.docktunnel.cli;

import dev.docktunnel.config.ConfigException;
import dev.docktunnel.config.ConfigLoader;
import dev.docktunnel.config.DocktunnelConfig;
import dev.docktunnel.ssh.SshTarget;
import dev.docktunnel.ssh.SshTargetResolver;
import dev.docktunnel.state.HostId;
import dev.docktunnel.state.StateDir;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.Option;

/**
 * The options {@code status}, {@code stop}, {@code docker-env}, {@code context}, {@code extend} and
 * {@code server} share to find
 * a host's files: {@code --host} resolves exactly as {@code run} resolves it (the SSH config, then
 * {@link HostId}), so both name the same {@code <host-id>.state.json}; without it, every host with
 * a state file in the state dir. The state dir comes from the config like {@code run}'s.
 */
final class HostOptions {

  @Option(names = "--host", paramLabel = "HOST",
      description = "the host as given to run: ssh://[user@]host[:port] or an alias from ~/.ssh/config; "
          + "default: every host with a state file in the state dir (docker-env, context, extend, server: "
          + "the only one)")
  String host;

  @Option(names = "--state-dir", paramLabel = "DIR",
      description = "where docktunnel keeps its state (default ~/.docktunnel; setting: stateDir)")
  String stateDir;

  @Option(names = "--ssh-config", paramLabel = "FILE",
      description = "OpenSSH client config --host is resolved with (default ~/.ssh/config)")
  String sshConfig;

  @Option(names = "--config", paramLabel = "FILE",
      description = "config file, found as run finds it; its stateDir and sshConfig are used")
  Path configFile;

  /** One host's files in the state dir; {@code label} is {@code user@host:port} when known. */
  record KnownHost(HostId id, Path stateFile, Path lockFile, String label) {
  }

  /**
   * What was selected.
   *
   * @param stateDir the state dir searched
   * @param named true when {@code --host} named the one host
   * @param hosts the named host, or every host with a state file (possibly none)
   */
  record Selection(Path stateDir, boolean named, List<KnownHost> hosts) {
    /** The hosts now: the named one, or the state dir listed again (hosts come and go while watching). */
    List<KnownHost> current() throws IOException {
      return named ? hosts : list(stateDir);
    }

    /**
     * The one host a single-host command ({@code docker-env}, {@code extend}, {@code server}) is
     * about: the named one, or the only one in the state dir.
     *
     * @param command the command's name, for the hint in the errors
     * @throws ConfigException (exit 2) when no host is named and the state dir has none or several
     */
    KnownHost one(String command) {
      if (!named && hosts.size() != 1) {
        throw new ConfigException(hosts.isEmpty()
            ? "no host found: no <host-id>.state.json in state dir " + stateDir + "; name the host with "
                + "--host (docktunnel " + command + " --host HOST), or the state dir with --state-dir"
            : hosts.size() + " hosts in state dir " + stateDir + ": " + String.join(", ", labels(hosts))
                + "; name one with --host (docktunnel " + command + " --host HOST)");
      }
      return hosts.get(0);
    }
  }

  /** The hosts as {@code run} was given them (from their state files; the id when unreadable). */
  private static List<String> labels(List<KnownHost> hosts) {
    List<String> labels = new ArrayList<>();
    for (KnownHost h : hosts) {
      try {
        labels.add(HostStatusReader.readStateFile(h.stateFile()).host() + " (" + h.id().value() + ")");
      } catch (IOException e) {
        labels.add(h.id().value());
      }
    }
    return labels;
  }

  /**
   * Finds the hosts. Reads files only: nothing is created.
   *
   * @throws ConfigException naming the setting or option, for a bad value or an unlistable dir
   */
  Selection select(ConfigLoader loader) {
    JsonObject overrides = new JsonObject();
    if (stateDir != null) {
      overrides.put("stateDir", stateDir);
    }
    if (sshConfig != null) {
      overrides.put("sshConfig", sshConfig);
    }
    Optional<Path> file = loader.find(configFile);
    if (host != null) {
      overrides.put("host", host);
      DocktunnelConfig config = loader.load(file.orElse(null), overrides);
      SshTarget target;
      try {
        target = SshTargetResolver.resolve(config.host(), config.sshConfig());
      } catch (IllegalArgumentException e) {
        throw new ConfigException("setting 'host' (--host): " + e.getMessage());
      }
      Path dir = absolute(config.stateDir());
      HostId id = HostId.of(target);
      return new Selection(dir, true, List.of(
          new KnownHost(id, StateDir.stateFileIn(dir, id), StateDir.lockFileIn(dir, id), target.display())));
    }
    Path dir = absolute(loader.stateDir(file.orElse(null), overrides));
    try {
      return new Selection(dir, false, list(dir));
    } catch (IOException e) {
      throw new ConfigException("setting 'stateDir' (--state-dir): " + e.getMessage());
    }
  }

  private static List<KnownHost> list(Path dir) throws IOException {
    List<KnownHost> hosts = new ArrayList<>();
    for (HostId id : StateDir.hostsIn(dir)) {
      hosts.add(new KnownHost(id, StateDir.stateFileIn(dir, id), StateDir.lockFileIn(dir, id), id.value()));
    }
    return hosts;
  }

  private static Path absolute(Path dir) {
    return dir.toAbsolutePath().normalize();
  }
}

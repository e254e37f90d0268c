package dev.docktunnel.cli;

import dev.docktunnel.Docktunnel;
import dev.docktunnel.config.ConfigException;
import dev.docktunnel.config.ConfigLoader;
import dev.docktunnel.config.DocktunnelConfig;
import dev.docktunnel.ssh.SshPreflight;
import dev.docktunnel.ssh.SshTarget;
import dev.docktunnel.state.HostClaim;
import dev.docktunnel.state.StateDir;
import java.io.IOException;
import java.time.Clock;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code docktunnel run}: connect, watch containers, forward their published ports. */
@Command(name = "run", mixinStandardHelpOptions = true,
    description = "Connect to the remote Docker host and forward every published container port to loopback.")
public final class RunCommand implements Callable<Integer> {
  // No static logger: the first logger fixes slf4j-simple's settings, and --log-level and
  // --log-file must be applied before that (LogSettings).

  @Spec
  CommandSpec spec;

  @Option(names = "--host", paramLabel = "HOST",
      description = "ssh://[user@]host[:port] or an alias from ~/.ssh/config (setting: host)")
  String host;

  @Option(names = "--identity", paramLabel = "FILE",
      description = "private key file to offer; repeatable (setting: identities)")
  List<String> identities;

  @Option(names = "--known-hosts", paramLabel = "FILE",
      description = "known_hosts file host keys are checked against (default ~/.ssh/known_hosts)")
  String knownHosts;

  @Option(names = "--strict-host-key-checking", paramLabel = "yes|accept-new",
      description = "yes: refuse unknown and changed host keys (default); accept-new: trust a new host once")
  String strictHostKeyChecking;

  @Option(names = "--remote-docker-socket", paramLabel = "PATH",
      description = "Docker engine socket on the remote host (default /var/run/docker.sock)")
  String remoteDockerSocket;

  @Option(names = "--state-dir", paramLabel = "DIR",
      description = "where docktunnel keeps its state (default ~/.docktunnel)")
  String stateDir;

  @Option(names = "--ssh-config", paramLabel = "FILE",
      description = "OpenSSH client config for HostName, User, Port, IdentityFile (default ~/.ssh/config)")
  String sshConfig;

  @Option(names = "--wait",
      description = "keep retrying until the host answers and accepts a key, instead of exiting 3 on the first "
          + "failure (for service use; setting: ssh.waitForHost)")
  boolean waitForHost;

  @Option(names = "--http-port", paramLabel = "PORT",
      description = "port of the HTTP API (health, status, metrics) on 127.0.0.1; 0: any free port, recorded in "
          + "the state file (default 0; setting: http.port)")
  Integer httpPort;

  @Option(names = "--bridge-port", paramLabel = "PORT",
      description = "port of the TCP event-bus bridge on 127.0.0.1; 0: any free port, recorded in the state file "
          + "(default 0; setting: bridge.port)")
  Integer bridgePort;

  @Option(names = "--log-level", paramLabel = "LEVEL",
      description = "error, warn, info (default), debug or trace; libraries keep theirs (Apache MINA SSHD: error)")
  String logLevel;

  @Option(names = "--log-file", paramLabel = "FILE",
      description = "append the log to FILE (created 0600) instead of stderr")
  Path logFile;

  @Option(names = "--config", paramLabel = "FILE",
      description = "config file; without it the first that exists of ./conf/docktunnel.json, "
          + "$XDG_CONFIG_HOME/docktunnel/docktunnel.json (default ~/.config/docktunnel/docktunnel.json), "
          + "else built-in defaults; options given here win")
  Path configFile;

  @Override
  public Integer call() {
    try {
      LogSettings.apply(logLevel, logFile);
    } catch (ConfigException e) {
      spec.commandLine().getErr().println("docktunnel: " + e.getMessage());
      return ExitCodes.USAGE;
    }
    Logger log = LoggerFactory.getLogger(RunCommand.class);
    DocktunnelConfig config;
    SshTarget target;
    ConfigLoader loader = ConfigLoader.forThisProcess();
    Optional<Path> file;
    try {
      file = loader.find(configFile);
      config = loader.load(file.orElse(null), overrides());
      // Everything is checked before anything starts: a bad value is one line and exit 2.
      target = SshPreflight.check(config);
    } catch (ConfigException e) {
      spec.commandLine().getErr().println("docktunnel: " + e.getMessage());
      return ExitCodes.USAGE;
    }
    HostClaim claim;
    try {
      claim = HostClaim.claim(config.stateDir(), target, Clock.systemUTC());
    } catch (HostClaim.AlreadyServedException e) {
      spec.commandLine().getErr().println("docktunnel: " + e.getMessage());
      return ExitCodes.FAILED;
    } catch (StateDir.StateDirException e) {
      spec.commandLine().getErr().println("docktunnel: setting 'stateDir' (--state-dir): " + e.getMessage());
      return ExitCodes.USAGE;
    } catch (IOException e) {
      spec.commandLine().getErr().println("docktunnel: " + e.getMessage());
      return ExitCodes.FAILED;
    }
    // Which file was read (or that none was) is the first thing to check when a setting surprises;
    // logged only once everything is valid, so a bad value stays the one line above.
    if (file.isPresent()) {
      log.info("config file {}", file.get());
    } else {
      log.info("no config file (looked for {}); built-in defaults", loader.searchPath());
    }
    return Docktunnel.runUntilStopped(config, claim);
  }

  /** The options given, in config-file form, so they overlay the file. */
  JsonObject overrides() {
    JsonObject o = new JsonObject();
    putIfSet(o, "host", host);
    if (identities != null) {
      o.put("identities", new JsonArray(List.copyOf(identities)));
    }
    putIfSet(o, "knownHosts", knownHosts);
    putIfSet(o, "strictHostKeyChecking", strictHostKeyChecking);
    putIfSet(o, "remoteDockerSocket", remoteDockerSocket);
    putIfSet(o, "stateDir", stateDir);
    putIfSet(o, "sshConfig", sshConfig);
    if (waitForHost) {
      o.put("ssh", new JsonObject().put("waitForHost", true));
    }
    if (httpPort != null) {
      o.put("http", new JsonObject().put("port", httpPort));
    }
    if (bridgePort != null) {
      o.put("bridge", new JsonObject().put("port", bridgePort));
    }
    return o;
  }

  private static void putIfSet(JsonObject o, String key, String value) {
    if (value != null) {
      o.put(key, value);
    }
  }
}

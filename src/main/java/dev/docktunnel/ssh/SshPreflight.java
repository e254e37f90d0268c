package dev.docktunnel.ssh;

import dev.docktunnel.config.ConfigException;
import dev.docktunnel.config.DocktunnelConfig;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The SSH settings checked before anything starts, so that {@code docktunnel run} reports a
 * typo as one line and exit 2 instead of after the verticles are up: the host parses and
 * resolves against the SSH config file, and every key the user named is a usable, private file.
 * Reads files (the SSH config, key file attributes): call it before Vert.x, or on a worker.
 */
public final class SshPreflight {

  private SshPreflight() {
  }

  /**
   * @return the target the session will connect to
   * @throws ConfigException naming the setting and what is wrong with it
   */
  public static SshTarget check(DocktunnelConfig config) {
    SshTarget target;
    try {
      target = SshTargetResolver.resolve(config.host(), config.sshConfig());
    } catch (IllegalArgumentException e) {
      throw new ConfigException("setting 'host' (--host): " + e.getMessage());
    }
    for (Path identity : config.identities()) {
      try {
        KeyFileLoader.checkUsable(identity);
      } catch (IOException e) {
        throw new ConfigException("setting 'identities' (--identity): " + e.getMessage());
      }
    }
    return target;
  }
}

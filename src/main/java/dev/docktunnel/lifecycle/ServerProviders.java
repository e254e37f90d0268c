package dev.docktunnel.lifecycle;

import dev.docktunnel.config.DocktunnelConfig;
import dev.docktunnel.ssh.SshTarget;
import dev.docktunnel.ssh.SshTargetResolver;
import dev.docktunnel.state.HostId;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

/** Makes the provider {@code lifecycle.provider} names. */
public final class ServerProviders {
  private ServerProviders() {
  }

  /**
   * The provider for {@code config}; fails with an {@link IllegalArgumentException} naming the
   * setting when its settings are incomplete or wrong (the start then exits 2).
   */
  public static Future<ServerProvider> forConfig(Vertx vertx, DocktunnelConfig config) {
    DocktunnelConfig.Lifecycle lifecycle = config.lifecycle();
    return switch (lifecycle.provider()) {
      case StaticProvider.NAME -> Future.succeededFuture(new StaticProvider());
      case HetznerProvider.NAME -> vertx.executeBlocking(() -> new HetznerProvider(vertx, lifecycle.hetzner()));
      case CommandProvider.NAME -> vertx.executeBlocking(() -> {
        // Reads the SSH config: what the commands are told about the host.
        SshTarget target = SshTargetResolver.resolve(config.host(), config.sshConfig());
        return new CommandProvider(vertx, lifecycle.command(), ProviderHost.of(target, HostId.of(target),
            config.stateDir()));
      });
      default -> Future.failedFuture(new IllegalArgumentException("setting 'lifecycle.provider': '"
          + lifecycle.provider() + "' is not one of static, command, hetzner"));
    };
  }
}

package dev.docktunnel.ssh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docktunnel.config.DocktunnelConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.core.CoreModuleProperties;
import org.junit.jupiter.api.Test;

class SshClientFactoryTest {

  private final SshClient client = SshClientFactory.create(
      new DocktunnelConfig.Ssh(Duration.ofSeconds(7), Duration.ofSeconds(15), 4, Duration.ofSeconds(1),
          Duration.ofSeconds(30), Duration.ofMinutes(5), true, false),
      new HostKeyVerifier(new KnownHosts(Path.of("/nonexistent/known_hosts")), DocktunnelConfig.HostKeyChecking.YES));

  @Test
  void prefersAesGcmThenMinasDefaults() {
    List<String> names = client.getCipherFactories().stream().map(f -> f.getName()).toList();
    assertEquals(List.of("aes128-gcm@openssh.com", "aes256-gcm@openssh.com"), names.subList(0, 2));
    assertTrue(names.contains("chacha20-poly1305@openssh.com") && names.contains("aes128-ctr"), names.toString());
  }

  @Test
  void aesGcmStaysWithTheJdksProvider() {
    assertEquals("SunJCE", SshClientFactory.aesGcmProvider());
  }

  @Test
  void keepaliveIdleTimeoutAndSocketOptions() {
    assertEquals(Duration.ZERO, CoreModuleProperties.HEARTBEAT_INTERVAL.getRequired(client),
        "keepalive probes are the session verticle's (LinkLiveness), not MINA's heartbeat");
    assertEquals(Duration.ZERO, CoreModuleProperties.IDLE_TIMEOUT.getRequired(client));
    assertEquals(Duration.ofSeconds(7), CoreModuleProperties.AUTH_TIMEOUT.getRequired(client));
    assertEquals(true, CoreModuleProperties.TCP_NODELAY.getRequired(client));
    assertInstanceOf(MeteredNio2Transport.class, client.getIoServiceFactoryFactory());
  }

  @Test
  void verifierAndKeySourcesAreOurs() {
    assertInstanceOf(HostKeyVerifier.class, client.getServerKeyVerifier());
    assertEquals(1, client.getUserAuthFactories().size());
    assertInstanceOf(OrderedPublicKeyAuth.Factory.class, client.getUserAuthFactories().get(0));
    assertTrue(client.getChannelFactories().isEmpty(), "no server-initiated channels accepted");
    assertEquals(null, client.getAgentFactory());
  }
}

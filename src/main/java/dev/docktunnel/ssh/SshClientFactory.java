package dev.docktunnel.ssh;

import dev.docktunnel.config.DocktunnelConfig;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.apache.sshd.client.ClientBuilder;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.config.hosts.HostConfigEntryResolver;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.BaseBuilder;
import org.apache.sshd.common.NamedFactory;
import org.apache.sshd.common.cipher.BuiltinCiphers;
import org.apache.sshd.common.cipher.Cipher;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.keyprovider.KeyIdentityProvider;
import org.apache.sshd.common.session.Session;
import org.apache.sshd.common.session.SessionListener;
import org.apache.sshd.common.signature.BuiltinSignatures;
import org.apache.sshd.common.signature.Signature;
import org.apache.sshd.common.util.security.SecurityUtils;
import org.apache.sshd.core.CoreModuleProperties;

/**
 * Builds the MINA {@link SshClient} docktunnel uses: our host key verifier, our key order,
 * AES-GCM first, no idle timeout, TCP_NODELAY, the NIO2 transport with a byte meter (for our own
 * keepalive, see {@link LinkLiveness}), and no
 * acceptance of server-initiated channels (we never ask for remote forwarding).
 */
public final class SshClientFactory {

  /** The global request OpenSSH's own ServerAliveInterval sends; any reply proves liveness. */
  public static final String KEEPALIVE_REQUEST = "keepalive@openssh.com";
  /** The JCE transformation behind {@code aes*-gcm@openssh.com}. */
  static final String AES_GCM = "AES/GCM/NoPadding";

  private SshClientFactory() {
  }

  /**
   * Creates a configured, not yet started client.
   *
   * @param tuning timeouts and keepalive
   * @param verifier the host key verifier (never accept-all)
   */
  public static SshClient create(DocktunnelConfig.Ssh tuning, HostKeyVerifier verifier) {
    SshClient client = ClientBuilder.builder()
        .serverKeyVerifier(verifier)
        // Targets are resolved by SshTargetResolver; MINA must not re-read ~/.ssh/config.
        .hostConfigEntryResolver(HostConfigEntryResolver.EMPTY)
        .build();
    client.setIoServiceFactoryFactory(new MeteredNio2Transport());
    client.setCipherFactories(cipherPreference());
    client.setSignatureFactories(signaturePreference(List.of()));
    client.setUserAuthFactories(List.of(new OrderedPublicKeyAuth.Factory()));
    // Keys come only from the AuthPlan; no implicit ~/.ssh scan, no agent factory.
    client.setKeyIdentityProvider(KeyIdentityProvider.EMPTY_KEYS_PROVIDER);
    client.setAgentFactory(null);
    // We never request remote port forwarding, so accept no forwarded-tcpip channels.
    client.setChannelFactories(List.of());

    client.addSessionListener(new CloseReasonRecorder());

    // Keepalive probes are ours (LinkLiveness, driven by SshSessionVerticle): they also notice a
    // dead link with data in flight and after a wake from sleep. MINA's heartbeat stays off.
    CoreModuleProperties.HEARTBEAT_INTERVAL.set(client, Duration.ZERO);
    // MINA closes sessions idle for 10 minutes by default; an idle daemon must stay connected.
    CoreModuleProperties.IDLE_TIMEOUT.set(client, Duration.ZERO);
    CoreModuleProperties.NIO2_READ_TIMEOUT.set(client, Duration.ZERO);
    CoreModuleProperties.IO_CONNECT_TIMEOUT.set(client, tuning.connectTimeout());
    CoreModuleProperties.AUTH_TIMEOUT.set(client, tuning.connectTimeout());
    CoreModuleProperties.TCP_NODELAY.set(client, true);
    CoreModuleProperties.SOCKET_KEEPALIVE.set(client, true);
    return client;
  }

  /**
   * Keeps the first error or the peer's disconnect message in the attempt's report, so "session
   * lost" can say why (session attributes are cleared on close, the report is not).
   */
  private static final class CloseReasonRecorder implements SessionListener {
    @Override
    public void sessionException(Session session, Throwable t) {
      record(session, t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage());
    }

    @Override
    public void sessionDisconnect(Session session, int reason, String msg, String language, boolean initiator) {
      if (!initiator) {
        record(session, "server disconnected: " + msg);
      }
    }

    private static void record(Session session, String why) {
      if (session instanceof ClientSession client && client.getConnectionContext() != null) {
        AttemptReport report = client.getConnectionContext().getAttribute(AttemptReport.KEY);
        if (report != null) {
          report.closeReason(why);
        }
      }
    }
  }

  /**
   * aes128-gcm and aes256-gcm first (hardware AES through the JCE is several times faster than
   * chacha20-poly1305 in Java), then the rest of MINA's defaults in their order.
   */
  static List<NamedFactory<Cipher>> cipherPreference() {
    List<BuiltinCiphers> order = new ArrayList<>(List.of(BuiltinCiphers.aes128gcm, BuiltinCiphers.aes256gcm));
    for (BuiltinCiphers cipher : BaseBuilder.DEFAULT_CIPHERS_PREFERENCE) {
      if (!order.contains(cipher)) {
        order.add(cipher);
      }
    }
    List<NamedFactory<Cipher>> factories = new ArrayList<>();
    for (BuiltinCiphers cipher : order) {
      if (cipher.isSupported()) {
        factories.add(cipher);
      }
    }
    return factories;
  }

  /**
   * MINA's default signature algorithms without host/user certificates (we verify plain keys
   * against known_hosts), with the algorithms for {@code knownKeyTypes} first so the server
   * presents a key known_hosts already lists, as OpenSSH orders HostKeyAlgorithms.
   */
  static List<NamedFactory<Signature>> signaturePreference(Collection<String> knownKeyTypes) {
    List<BuiltinSignatures> plain = new ArrayList<>();
    for (BuiltinSignatures signature : ClientBuilder.DEFAULT_SIGNATURE_PREFERENCE) {
      if (!signature.getName().contains("-cert-")) {
        plain.add(signature);
      }
    }
    List<BuiltinSignatures> order = new ArrayList<>();
    for (String keyType : knownKeyTypes) {
      Set<String> names = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
      names.add(keyType);
      names.addAll(KeyUtils.getAllEquivalentKeyTypes(keyType));
      for (BuiltinSignatures signature : plain) {
        if (names.contains(signature.getName()) && !order.contains(signature)) {
          order.add(signature);
        }
      }
    }
    for (BuiltinSignatures signature : plain) {
      if (!order.contains(signature)) {
        order.add(signature);
      }
    }
    List<NamedFactory<Signature>> factories = new ArrayList<>();
    for (BuiltinSignatures signature : order) {
      if (signature.isSupported()) {
        factories.add(signature);
      }
    }
    return factories;
  }

  /**
   * The JCE provider that implements AES-GCM for MINA. Should be the JDK's SunJCE: the ed25519
   * provider must not take over ciphers.
   */
  public static String aesGcmProvider() {
    try {
      return SecurityUtils.getCipher(AES_GCM).getProvider().getName();
    } catch (GeneralSecurityException e) {
      return "unavailable (" + e.getMessage() + ")";
    }
  }
}

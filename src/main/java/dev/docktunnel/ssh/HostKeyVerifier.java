package dev.docktunnel.ssh;

import dev.docktunnel.config.DocktunnelConfig.HostKeyChecking;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.file.Path;
import java.security.PublicKey;
import java.util.Locale;
import java.util.Objects;
import org.apache.sshd.client.config.hosts.KnownHostHashValue;
import org.apache.sshd.client.keyverifier.ServerKeyVerifier;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.AttributeRepository;
import org.apache.sshd.common.AttributeRepository.AttributeKey;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.OpenSshCertificate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Verifies server host keys against a known_hosts file with OpenSSH's
 * {@code StrictHostKeyChecking} semantics, replacing MINA's default that accepts every key:
 * {@code yes} refuses unknown and changed keys; {@code accept-new} trusts an unknown host on first
 * use, records it, and refuses changed keys. There is no "accept all".
 *
 * <p>MINA only learns "false" from a verifier; the reason is kept in the attempt's report on the
 * connection context (session attributes are cleared when the session closes) so the caller can
 * show it. Runs on a MINA thread during key exchange, before any authentication request is sent.
 */
public final class HostKeyVerifier implements ServerKeyVerifier {

  /**
   * Connection-context attribute naming the target, so the key is checked against the host
   * name the user meant rather than the resolved address.
   */
  public static final AttributeKey<SshTarget> TARGET = new AttributeKey<>();

  private static final Logger LOG = LoggerFactory.getLogger(HostKeyVerifier.class);

  private final KnownHosts knownHosts;
  private final HostKeyChecking mode;

  /**
   * @param knownHosts the known_hosts file to check and, under {@code accept-new}, record in
   * @param mode {@code yes} or {@code accept-new}
   */
  public HostKeyVerifier(KnownHosts knownHosts, HostKeyChecking mode) {
    this.knownHosts = Objects.requireNonNull(knownHosts, "knownHosts");
    this.mode = Objects.requireNonNull(mode, "mode");
  }

  /** The known_hosts file in use. */
  public KnownHosts knownHosts() {
    return knownHosts;
  }

  @Override
  public boolean verifyServerKey(ClientSession session, SocketAddress remoteAddress, PublicKey serverKey) {
    String host;
    int port;
    AttributeRepository context = session.getConnectionContext();
    SshTarget target = context == null ? null : context.getAttribute(TARGET);
    if (target != null) {
      host = target.hostName();
      port = target.port();
    } else if (remoteAddress instanceof InetSocketAddress inet) {
      host = inet.getHostString();
      port = inet.getPort();
    } else {
      record(context, new HostKeyRefusedException(HostKeyRefusedException.Reason.UNKNOWN,
          String.valueOf(remoteAddress), KeyUtils.getKeyType(serverKey), KeyUtils.getFingerPrint(serverKey),
          "Host key verification failed: cannot tell which host " + remoteAddress + " is"));
      return false;
    }
    try {
      verify(host, port, serverKey);
      return true;
    } catch (HostKeyRefusedException e) {
      record(context, e);
      return false;
    }
  }

  private static void record(AttributeRepository context, HostKeyRefusedException e) {
    AttemptReport report = context == null ? null : context.getAttribute(AttemptReport.KEY);
    if (report != null) {
      report.refused(e);
    } else {
      LOG.error(e.getMessage());
    }
  }

  /**
   * Checks {@code key} for {@code host}:{@code port}; under {@code accept-new} records an unknown
   * host.
   *
   * @throws HostKeyRefusedException when the key must not be trusted; its message is for the user
   */
  public void verify(String host, int port, PublicKey key) throws HostKeyRefusedException {
    // A host certificate is checked by its plain key; we do not implement @cert-authority.
    PublicKey plain = key instanceof OpenSshCertificate cert ? cert.getCertPubKey() : key;
    String name = entryName(host, port);
    String keyType = KeyUtils.getKeyType(plain);
    String fingerprint = KeyUtils.getFingerPrint(plain);
    KnownHosts.Verdict verdict;
    try {
      verdict = knownHosts.check(host, port, plain);
    } catch (IOException e) {
      throw new HostKeyRefusedException(HostKeyRefusedException.Reason.UNREADABLE, name, keyType, fingerprint,
          "Host key verification failed for " + name + ": cannot read known_hosts file "
              + knownHosts.file() + " (" + e.getMessage() + "), so its " + keyType + " key "
              + fingerprint + " cannot be verified. Fix the file's permissions or pass "
              + "--known-hosts FILE.");
    }
    if (verdict instanceof KnownHosts.Trusted) {
      return;
    }
    if (verdict instanceof KnownHosts.Revoked revoked) {
      throw new HostKeyRefusedException(HostKeyRefusedException.Reason.REVOKED, name, keyType, fingerprint,
          "Host key verification failed: the " + keyType + " key " + fingerprint + " offered by "
              + name + " is marked @revoked in " + knownHosts.file() + " line " + revoked.line()
              + ". Refusing to connect; ask the host's administrator for its current key.");
    }
    if (verdict instanceof KnownHosts.Changed changed) {
      throw new HostKeyRefusedException(HostKeyRefusedException.Reason.CHANGED, name, keyType, fingerprint,
          "Host key verification failed: the host key of " + name + " has CHANGED. Someone could "
              + "be eavesdropping on you right now (man-in-the-middle attack), or the host key was "
              + "just replaced. The server offered a " + keyType + " key with fingerprint "
              + fingerprint + "; " + knownHosts.file() + " line " + changed.line() + " holds "
              + KeyUtils.getFingerPrint(changed.knownKey()) + ". If you know the change is "
              + "legitimate, remove the old line " + changed.line() + " from " + knownHosts.file()
              + " (ssh-keygen -R '" + name + "' -f " + knownHosts.file() + ") and connect again.");
    }
    KnownHosts.Unknown unknown = (KnownHosts.Unknown) verdict;
    if (mode == HostKeyChecking.ACCEPT_NEW) {
      try {
        String line = knownHosts.append(host, port, plain);
        LOG.warn("Permanently added {} ({} {}) to the list of known hosts in {}: {}",
            name, keyType, fingerprint, knownHosts.file(), abbreviate(line));
      } catch (IOException e) {
        // OpenSSH goes on when it cannot write the file; the key was accepted by policy.
        LOG.warn("Accepted new host key {} {} for {} but could not record it in {}: {}",
            keyType, fingerprint, name, knownHosts.file(), e.toString());
      }
      return;
    }
    String others = unknown.otherKeyTypes().isEmpty()
        ? name + " is not in known_hosts file " + knownHosts.file()
        : "no " + keyType + " key is known for " + name + " in " + knownHosts.file()
            + " (it lists " + String.join(", ", unknown.otherKeyTypes()) + ")";
    throw new HostKeyRefusedException(HostKeyRefusedException.Reason.UNKNOWN, name, keyType, fingerprint,
        "Host key verification failed: " + others + ". The server offered a " + keyType
            + " key with fingerprint " + fingerprint + ". If that fingerprint is right (compare "
            + "it with `ssh-keygen -lf` on the host), add the key with `"
            + keyscanCommand(host, port, keyType, knownHosts.file())
            + "` or run once with --strict-host-key-checking accept-new.");
  }

  /** The host as OpenSSH writes it in known_hosts: {@code host}, or {@code [host]:port}. */
  static String entryName(String host, int port) {
    return KnownHostHashValue.createHostPattern(host.toLowerCase(Locale.ROOT), port);
  }

  /** The ssh-keyscan command line that fetches this host's key of this type into the file. */
  static String keyscanCommand(String host, int port, String keyType, Path file) {
    String type;
    if (keyType.startsWith("ecdsa-")) {
      type = "ecdsa";
    } else if (keyType.startsWith("ssh-")) {
      type = keyType.substring(4);
    } else {
      type = keyType;
    }
    return "ssh-keyscan " + (port == SshTarget.DEFAULT_PORT ? "" : "-p " + port + " ")
        + "-t " + type + " " + host + " >> " + file;
  }

  private static String abbreviate(String line) {
    return line.length() <= 80 ? line : line.substring(0, 77) + "...";
  }
}

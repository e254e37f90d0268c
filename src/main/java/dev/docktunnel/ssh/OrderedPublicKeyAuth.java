package dev.docktunnel.ssh;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import org.apache.sshd.client.auth.pubkey.KeyAgentIdentity;
import org.apache.sshd.client.auth.pubkey.KeyPairIdentity;
import org.apache.sshd.client.auth.pubkey.PublicKeyIdentity;
import org.apache.sshd.client.auth.pubkey.UserAuthPublicKey;
import org.apache.sshd.client.auth.pubkey.UserAuthPublicKeyFactory;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.AttributeRepository;
import org.apache.sshd.common.AttributeRepository.AttributeKey;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.signature.SignatureFactoriesManager;
import org.apache.sshd.common.util.buffer.Buffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Public-key authentication that offers keys in docktunnel's order (key files, then ssh-agent
 * keys, then default key files) instead of MINA's (agent first, then the client's key provider).
 * The keys come from the {@link AuthPlan} on the connection context; what was offered and what
 * went wrong is collected in the {@link AttemptReport} there, for the {@code auth_required} reason.
 */
final class OrderedPublicKeyAuth extends UserAuthPublicKey {

  /** Connection-context attribute: the keys to offer. */
  static final AttributeKey<AuthPlan> PLAN = new AttributeKey<>();

  private static final Logger LOG = LoggerFactory.getLogger(OrderedPublicKeyAuth.class);

  OrderedPublicKeyAuth() {
    super(null);
  }

  /** Makes one {@link OrderedPublicKeyAuth} per authentication. */
  static final class Factory extends UserAuthPublicKeyFactory {
    @Override
    public UserAuthPublicKey createUserAuth(ClientSession session) {
      return new OrderedPublicKeyAuth();
    }
  }

  @Override
  public void signalAuthMethodSuccess(ClientSession session, String service, Buffer buffer) throws Exception {
    PublicKeyIdentity used = current;
    AttemptReport report = reportOf(session);
    if (used != null && report != null) {
      PublicKey key = used.getKeyIdentity().getPublic();
      report.accepted(describe(key) + (used instanceof KeyAgentIdentity ? " from ssh-agent" : ""));
    }
    super.signalAuthMethodSuccess(session, service, buffer);
  }

  private static AttemptReport reportOf(ClientSession session) {
    AttributeRepository context = session.getConnectionContext();
    return context == null ? null : context.getAttribute(AttemptReport.KEY);
  }

  static String describe(PublicKey key) {
    return KeyUtils.getKeyType(key) + " " + KeyUtils.getFingerPrint(key);
  }

  @Override
  protected Iterator<PublicKeyIdentity> createPublicKeyIterator(ClientSession session,
      SignatureFactoriesManager manager) {
    AttributeRepository context = session.getConnectionContext();
    AuthPlan plan = context == null ? null : context.getAttribute(PLAN);
    AttemptReport report = reportOf(session);
    if (plan == null) {
      plan = new AuthPlan(List.of(), Optional.empty(), List.of(), List.of());
    }
    if (report == null) {
      report = new AttemptReport();
    }
    plan.problems().forEach(report::problem);
    return new PlanIterator(session, manager, plan, report);
  }

  /** Walks the plan lazily; the agent is only contacted when the file keys ran out. */
  private static final class PlanIterator implements Iterator<PublicKeyIdentity>, Closeable {
    private final ClientSession session;
    private final SignatureFactoriesManager signatures;
    private final AuthPlan plan;
    private final AttemptReport report;
    private final List<PublicKey> offeredKeys = new ArrayList<>();
    private final List<PublicKeyIdentity> pending = new ArrayList<>();
    private int stage;
    private UnixAgentClient agent;

    PlanIterator(ClientSession session, SignatureFactoriesManager signatures, AuthPlan plan, AttemptReport report) {
      this.session = session;
      this.signatures = signatures;
      this.plan = plan;
      this.report = report;
    }

    @Override
    public boolean hasNext() {
      while (pending.isEmpty() && stage < 3) {
        switch (stage++) {
          case 0 -> plan.fileKeys().forEach(k -> addFileKey(k.file(), k.keyPair()));
          case 1 -> addAgentKeys();
          default -> plan.defaultKeys().forEach(k -> addFileKey(k.file(), k.keyPair()));
        }
      }
      return !pending.isEmpty();
    }

    @Override
    public PublicKeyIdentity next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      return pending.remove(0);
    }

    private boolean firstOffer(PublicKey key) {
      for (PublicKey seen : offeredKeys) {
        if (KeyUtils.compareKeys(seen, key)) {
          return false;
        }
      }
      offeredKeys.add(key);
      return true;
    }

    private void addFileKey(Path file, KeyPair pair) {
      if (firstOffer(pair.getPublic())) {
        pending.add(new KeyPairIdentity(signatures, session, pair));
        report.offered(describe(pair.getPublic()) + " (" + file + ")");
      }
    }

    private void addAgentKeys() {
      if (plan.agentSocket().isEmpty()) {
        return;
      }
      Path socket = plan.agentSocket().get();
      try {
        agent = new UnixAgentClient(socket);
        for (Map.Entry<PublicKey, String> identity : agent.getIdentities()) {
          if (firstOffer(identity.getKey())) {
            pending.add(new KeyAgentIdentity(agent, identity.getKey(), identity.getValue()));
            report.offered(describe(identity.getKey()) + " (ssh-agent: " + identity.getValue() + ")");
          }
        }
      } catch (IOException e) {
        LOG.debug("ssh-agent not usable: {}", e.getMessage());
        report.problem("ssh-agent not usable: " + e.getMessage());
      }
    }

    @Override
    public void close() throws IOException {
      if (agent != null) {
        agent.close();
        agent = null;
      }
    }
  }
}

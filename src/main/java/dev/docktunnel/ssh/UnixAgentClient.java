package dev.docktunnel.ssh;

import java.io.EOFException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.net.SocketTimeoutException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPrivateCrtKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import net.i2p.crypto.eddsa.EdDSAPrivateKey;
import net.i2p.crypto.eddsa.EdDSAPublicKey;
import org.apache.sshd.agent.SshAgent;
import org.apache.sshd.agent.SshAgentConstants;
import org.apache.sshd.agent.SshAgentKeyConstraint;
import org.apache.sshd.common.SshException;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.keyprovider.KeyPairProvider;
import org.apache.sshd.common.session.SessionContext;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.common.util.buffer.ByteArrayBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An ssh-agent client over a Unix-domain socket using only the JDK
 * ({@link SocketChannel#open(java.net.ProtocolFamily)} with {@link StandardProtocolFamily#UNIX}),
 * because MINA's own agent client needs the native APR library. Speaks the OpenSSH agent
 * protocol: list identities, sign (with the {@code rsa-sha2-256}/{@code rsa-sha2-512} flags),
 * add and remove identities.
 *
 * <p>One connection per instance; requests are serialized. Calls block (at most the timeout,
 * {@link #DEFAULT_TIMEOUT} unless given), so use it from MINA's authentication threads or a
 * worker, never from an event loop.
 */
public final class UnixAgentClient implements SshAgent {

  /** Flag asking the agent for an {@code rsa-sha2-256} signature. */
  static final int SSH_AGENT_RSA_SHA2_256 = 2;
  /** Flag asking the agent for an {@code rsa-sha2-512} signature. */
  static final int SSH_AGENT_RSA_SHA2_512 = 4;
  /** OpenSSH's agent refuses messages above 256 KiB; so do we. */
  static final int MAX_MESSAGE = 256 * 1024;

  private static final Logger LOG = LoggerFactory.getLogger(UnixAgentClient.class);

  /**
   * How long connecting, and each request and its reply, may take. The client runs on MINA's
   * authentication threads: a hung agent must fail the attempt, not hold that thread for good.
   */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);

  private final Path socketPath;
  private final Duration timeout;
  // Non-blocking, driven through the selector: SocketChannel reads have no timeout otherwise.
  private final SocketChannel channel;
  private final Selector selector;

  /**
   * Connects to the agent, with {@link #DEFAULT_TIMEOUT}.
   *
   * @param socketPath the agent's socket, usually {@code $SSH_AUTH_SOCK}
   * @throws IOException when nothing listens there; the message names the path
   */
  public UnixAgentClient(Path socketPath) throws IOException {
    this(socketPath, DEFAULT_TIMEOUT);
  }

  /**
   * Connects to the agent.
   *
   * @param socketPath the agent's socket, usually {@code $SSH_AUTH_SOCK}
   * @param timeout how long the connect, and later each request with its reply, may take
   * @throws IOException when nothing listens there or it does not accept in time; the message
   *     names the path
   */
  public UnixAgentClient(Path socketPath, Duration timeout) throws IOException {
    this.socketPath = Objects.requireNonNull(socketPath, "socketPath");
    this.timeout = Objects.requireNonNull(timeout, "timeout");
    SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
    Selector sel = null;
    try {
      ch.configureBlocking(false);
      sel = Selector.open();
      long deadline = System.nanoTime() + timeout.toNanos();
      if (!ch.connect(UnixDomainSocketAddress.of(socketPath))) {
        await(sel, ch, SelectionKey.OP_CONNECT, deadline, "accept the connection");
        ch.finishConnect();
      }
    } catch (IOException e) {
      ch.close();
      if (sel != null) {
        sel.close();
      }
      if (e instanceof SocketTimeoutException) {
        throw e;
      }
      throw new IOException("cannot connect to ssh-agent at " + socketPath + ": " + e.getMessage(), e);
    }
    this.channel = ch;
    this.selector = sel;
  }

  /**
   * The agent socket named by {@code SSH_AUTH_SOCK}, when set and present.
   *
   * @param value the variable's value (null when unset)
   */
  public static Optional<Path> socketFrom(String value) {
    if (value == null || value.isBlank()) {
      return Optional.empty();
    }
    Path path = Path.of(value);
    return Files.exists(path) ? Optional.of(path) : Optional.empty();
  }

  /** The socket this client talks to. */
  public Path socketPath() {
    return socketPath;
  }

  @Override
  public List<Map.Entry<PublicKey, String>> getIdentities() throws IOException {
    Buffer reply = request(message(SshAgentConstants.SSH2_AGENTC_REQUEST_IDENTITIES));
    expect(reply, SshAgentConstants.SSH2_AGENT_IDENTITIES_ANSWER, "list identities");
    long count = reply.getUInt();
    if (count > 2048) {
      throw new SshException("ssh-agent at " + socketPath + " claims " + count + " identities");
    }
    List<Map.Entry<PublicKey, String>> identities = new ArrayList<>((int) count);
    for (long i = 0; i < count; i++) {
      byte[] blob = reply.getBytes();
      String comment = reply.getString();
      try {
        PublicKey key = new ByteArrayBuffer(blob).getRawPublicKey();
        if (key != null) {
          identities.add(Map.entry(key, comment));
        }
      } catch (IOException | RuntimeException e) {
        // Key types MINA cannot parse (e.g. from hardware tokens) are skipped, like OpenSSH
        // skips keys it cannot use.
        LOG.debug("skipping ssh-agent identity '{}' of an unsupported type: {}", comment, e.getMessage());
      }
    }
    return identities;
  }

  @Override
  public Map.Entry<String, byte[]> sign(SessionContext session, PublicKey key, String algo, byte[] data)
      throws IOException {
    String keyType = KeyUtils.getKeyType(key);
    String algorithm = algo == null || algo.isEmpty() ? keyType : algo;
    if (!KeyUtils.getCanonicalKeyType(algorithm).equals(keyType)) {
      throw new IllegalArgumentException(
          "signature algorithm " + algorithm + " does not apply to a " + keyType + " key");
    }
    int flags = switch (algorithm) {
      case KeyUtils.RSA_SHA256_KEY_TYPE_ALIAS, KeyUtils.RSA_SHA256_CERT_TYPE_ALIAS -> SSH_AGENT_RSA_SHA2_256;
      case KeyUtils.RSA_SHA512_KEY_TYPE_ALIAS, KeyUtils.RSA_SHA512_CERT_TYPE_ALIAS -> SSH_AGENT_RSA_SHA2_512;
      default -> 0;
    };
    Buffer request = message(SshAgentConstants.SSH2_AGENTC_SIGN_REQUEST);
    request.putPublicKey(key);
    request.putBytes(data);
    request.putUInt(flags);
    Buffer reply = request(request);
    int type = reply.getUByte();
    if (type != SshAgentConstants.SSH2_AGENT_SIGN_RESPONSE) {
      throw new SshException("ssh-agent at " + socketPath + " refused to sign with " + keyType + " key "
          + KeyUtils.getFingerPrint(key) + " (" + SshAgentConstants.getCommandMessageName(type)
          + "); is the agent locked or waiting for a confirmation?");
    }
    Buffer signature = new ByteArrayBuffer(reply.getBytes());
    String signedWith = signature.getString();
    byte[] bytes = signature.getBytes();
    return Map.entry(signedWith, bytes);
  }

  @Override
  public void addIdentity(KeyPair key, String comment, SshAgentKeyConstraint... constraints) throws IOException {
    boolean constrained = constraints != null && constraints.length > 0;
    Buffer request = message(constrained
        ? SshAgentConstants.SSH2_AGENTC_ADD_ID_CONSTRAINED
        : SshAgentConstants.SSH2_AGENTC_ADD_IDENTITY);
    putPrivateKey(request, key);
    request.putString(comment == null ? "" : comment);
    if (constrained) {
      for (SshAgentKeyConstraint constraint : constraints) {
        constraint.put(request);
      }
    }
    expectSuccess(request(request), "add " + KeyUtils.getKeyType(key) + " identity");
  }

  @Override
  public void removeIdentity(PublicKey key) throws IOException {
    Buffer request = message(SshAgentConstants.SSH2_AGENTC_REMOVE_IDENTITY);
    request.putPublicKey(key);
    expectSuccess(request(request), "remove identity " + KeyUtils.getFingerPrint(key));
  }

  @Override
  public void removeAllIdentities() throws IOException {
    expectSuccess(request(message(SshAgentConstants.SSH2_AGENTC_REMOVE_ALL_IDENTITIES)),
        "remove all identities");
  }

  @Override
  public boolean isOpen() {
    return channel.isOpen();
  }

  @Override
  public void close() throws IOException {
    try {
      channel.close();
    } finally {
      selector.close();
    }
  }

  @Override
  public String toString() {
    return "ssh-agent at " + socketPath;
  }

  /**
   * Writes a key pair in the agent protocol's format (draft-miller-ssh-agent, "Adding keys").
   * MINA's {@code Buffer.putKeyPair} orders RSA fields differently and cannot write ed25519
   * keys of the net.i2p provider, so this is done here.
   */
  static void putPrivateKey(Buffer buffer, KeyPair pair) throws SshException {
    PublicKey publicKey = pair.getPublic();
    PrivateKey privateKey = pair.getPrivate();
    if (privateKey instanceof RSAPrivateCrtKey rsa) {
      buffer.putString(KeyPairProvider.SSH_RSA);
      buffer.putMPInt(rsa.getModulus());
      buffer.putMPInt(rsa.getPublicExponent());
      buffer.putMPInt(rsa.getPrivateExponent());
      buffer.putMPInt(rsa.getCrtCoefficient());
      buffer.putMPInt(rsa.getPrimeP());
      buffer.putMPInt(rsa.getPrimeQ());
    } else if (publicKey instanceof ECPublicKey && privateKey instanceof ECPrivateKey) {
      // Key type, curve name, public point, private scalar: MINA's layout is the protocol's.
      buffer.putKeyPair(pair);
    } else if (publicKey instanceof EdDSAPublicKey edPublic && privateKey instanceof EdDSAPrivateKey edPrivate) {
      byte[] publicBytes = edPublic.getAbyte();
      byte[] seed = edPrivate.getSeed();
      byte[] secret = new byte[seed.length + publicBytes.length];
      System.arraycopy(seed, 0, secret, 0, seed.length);
      System.arraycopy(publicBytes, 0, secret, seed.length, publicBytes.length);
      buffer.putString(KeyPairProvider.SSH_ED25519);
      buffer.putBytes(publicBytes);
      buffer.putBytes(secret);
      java.util.Arrays.fill(secret, (byte) 0);
    } else {
      throw new SshException("cannot add a " + KeyUtils.getKeyType(publicKey) + " key ("
          + privateKey.getClass().getName() + ") to ssh-agent: only rsa, ecdsa and ed25519 are supported");
    }
  }

  private static Buffer message(byte type) {
    Buffer buffer = new ByteArrayBuffer();
    buffer.putByte(type);
    return buffer;
  }

  private void expect(Buffer reply, byte wanted, String what) throws SshException {
    int type = reply.getUByte();
    if (type != wanted) {
      throw new SshException("ssh-agent at " + socketPath + " failed to " + what + ": got "
          + SshAgentConstants.getCommandMessageName(type));
    }
  }

  private void expectSuccess(Buffer reply, String what) throws SshException {
    expect(reply, SshAgentConstants.SSH_AGENT_SUCCESS, what);
  }

  /**
   * Sends one framed message (uint32 length, payload) and reads the framed reply, all within the
   * timeout. A timeout closes the connection: a late reply would answer the next request.
   */
  private synchronized Buffer request(Buffer payload) throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    String what = SshAgentConstants.getCommandMessageName(payload.array()[payload.rpos()] & 0xFF);
    try {
      byte[] body = payload.getCompactData();
      ByteBuffer out = ByteBuffer.allocate(4 + body.length);
      out.putInt(body.length).put(body).flip();
      while (out.hasRemaining()) {
        if (channel.write(out) == 0) {
          await(selector, channel, SelectionKey.OP_WRITE, deadline, "take the " + what + " request");
        }
      }
      ByteBuffer lengthBytes = ByteBuffer.allocate(4);
      readFully(lengthBytes, deadline, what);
      int length = lengthBytes.flip().getInt();
      if (length <= 0 || length > MAX_MESSAGE) {
        throw new SshException("ssh-agent at " + socketPath + " sent a reply of bad length " + length);
      }
      ByteBuffer in = ByteBuffer.allocate(length);
      readFully(in, deadline, what);
      return new ByteArrayBuffer(in.array());
    } catch (SocketTimeoutException e) {
      channel.close();
      throw e;
    }
  }

  private void readFully(ByteBuffer buffer, long deadline, String what) throws IOException {
    while (buffer.hasRemaining()) {
      int n = channel.read(buffer);
      if (n < 0) {
        throw new EOFException("ssh-agent at " + socketPath + " closed the connection mid-reply");
      }
      if (n == 0) {
        await(selector, channel, SelectionKey.OP_READ, deadline, "answer " + what);
      }
    }
  }

  /** Waits until {@code channel} is ready for {@code op}, or fails at {@code deadline}. */
  private void await(Selector sel, SocketChannel ch, int op, long deadline, String what) throws IOException {
    SelectionKey key = ch.register(sel, op);
    try {
      while (true) {
        long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        if (left <= 0) {
          throw new SocketTimeoutException("ssh-agent at " + socketPath + " did not " + what + " within "
              + timeout.toMillis() + " ms; it may be hung or waiting for a confirmation (check SSH_AUTH_SOCK)");
        }
        if (sel.select(left) > 0) {
          sel.selectedKeys().clear();
          if ((key.readyOps() & op) != 0) {
            return;
          }
        }
      }
    } finally {
      key.interestOps(0);
    }
  }
}

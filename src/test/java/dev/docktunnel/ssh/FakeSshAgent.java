package dev.docktunnel.ssh;

import java.io.IOException;
import java.math.BigInteger;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.PublicKey;
import java.security.spec.RSAPrivateCrtKeySpec;
import java.security.spec.RSAPublicKeySpec;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import net.i2p.crypto.eddsa.EdDSAPrivateKey;
import net.i2p.crypto.eddsa.EdDSAPublicKey;
import net.i2p.crypto.eddsa.spec.EdDSANamedCurveTable;
import net.i2p.crypto.eddsa.spec.EdDSAPrivateKeySpec;
import net.i2p.crypto.eddsa.spec.EdDSAPublicKeySpec;
import org.apache.sshd.agent.SshAgentConstants;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.signature.BuiltinSignatures;
import org.apache.sshd.common.signature.Signature;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.common.util.buffer.ByteArrayBuffer;

/**
 * An in-process ssh-agent on a Unix socket for tests: holds keys in memory and answers the
 * OpenSSH agent protocol (list, sign with the RSA SHA-2 flags, add, remove, remove all).
 */
final class FakeSshAgent implements AutoCloseable {

  private record Identity(KeyPair pair, String comment) {
  }

  private final Path socket;
  private final ServerSocketChannel server;
  private final List<Identity> identities = new CopyOnWriteArrayList<>();
  private final List<Integer> signFlags = new CopyOnWriteArrayList<>();
  private final AtomicInteger connections = new AtomicInteger();
  private final Thread acceptor;
  private volatile boolean hanging;

  FakeSshAgent(Path socket) throws IOException {
    this.socket = socket;
    server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    server.bind(UnixDomainSocketAddress.of(socket));
    acceptor = new Thread(this::acceptLoop, "fake-ssh-agent");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  Path socket() {
    return socket;
  }

  void add(KeyPair pair, String comment) {
    identities.add(new Identity(pair, comment));
  }

  /** The flags of every sign request, in order. */
  List<Integer> signFlags() {
    return List.copyOf(signFlags);
  }

  /** From now on requests are read and never answered, like an agent stuck on a prompt. */
  void hang() {
    hanging = true;
  }

  int connections() {
    return connections.get();
  }

  private void acceptLoop() {
    while (server.isOpen()) {
      try {
        SocketChannel client = server.accept();
        connections.incrementAndGet();
        Thread worker = new Thread(() -> serve(client), "fake-ssh-agent-conn");
        worker.setDaemon(true);
        worker.start();
      } catch (IOException e) {
        return;
      }
    }
  }

  private void serve(SocketChannel client) {
    try (client) {
      while (true) {
        ByteBuffer length = ByteBuffer.allocate(4);
        if (!readFully(client, length)) {
          return;
        }
        ByteBuffer body = ByteBuffer.allocate(length.flip().getInt());
        if (!readFully(client, body)) {
          return;
        }
        if (hanging) {
          continue;
        }
        byte[] reply = handle(new ByteArrayBuffer(body.array()));
        ByteBuffer out = ByteBuffer.allocate(4 + reply.length);
        out.putInt(reply.length).put(reply).flip();
        while (out.hasRemaining()) {
          client.write(out);
        }
      }
    } catch (Exception e) {
      // Connection ends with the test.
    }
  }

  private static boolean readFully(SocketChannel channel, ByteBuffer buffer) throws IOException {
    while (buffer.hasRemaining()) {
      if (channel.read(buffer) < 0) {
        return false;
      }
    }
    return true;
  }

  private byte[] handle(Buffer request) throws Exception {
    int type = request.getUByte();
    Buffer reply = new ByteArrayBuffer();
    switch (type) {
      case SshAgentConstants.SSH2_AGENTC_REQUEST_IDENTITIES -> {
        reply.putByte(SshAgentConstants.SSH2_AGENT_IDENTITIES_ANSWER);
        reply.putUInt(identities.size());
        for (Identity identity : identities) {
          reply.putPublicKey(identity.pair().getPublic());
          reply.putString(identity.comment());
        }
      }
      case SshAgentConstants.SSH2_AGENTC_SIGN_REQUEST -> {
        PublicKey key = new ByteArrayBuffer(request.getBytes()).getRawPublicKey();
        byte[] data = request.getBytes();
        int flags = (int) request.getUInt();
        signFlags.add(flags);
        Identity identity = find(key);
        if (identity == null) {
          reply.putByte(SshAgentConstants.SSH_AGENT_FAILURE);
          break;
        }
        String algorithm = KeyUtils.getKeyType(key);
        if (KeyUtils.RSA_ALGORITHM.equals(key.getAlgorithm())) {
          algorithm = (flags & 4) != 0 ? "rsa-sha2-512" : (flags & 2) != 0 ? "rsa-sha2-256" : "ssh-rsa";
        }
        Signature signer = BuiltinSignatures.fromFactoryName(algorithm).create();
        signer.initSigner(null, identity.pair().getPrivate());
        signer.update(null, data);
        Buffer blob = new ByteArrayBuffer();
        blob.putString(algorithm);
        blob.putBytes(signer.sign(null));
        reply.putByte(SshAgentConstants.SSH2_AGENT_SIGN_RESPONSE);
        reply.putBytes(blob.getCompactData());
      }
      case SshAgentConstants.SSH2_AGENTC_ADD_IDENTITY -> {
        KeyPair pair = readPrivateKey(request);
        identities.add(new Identity(pair, request.getString()));
        reply.putByte(SshAgentConstants.SSH_AGENT_SUCCESS);
      }
      case SshAgentConstants.SSH2_AGENTC_REMOVE_IDENTITY -> {
        Identity identity = find(new ByteArrayBuffer(request.getBytes()).getRawPublicKey());
        reply.putByte(identity != null && identities.remove(identity)
            ? SshAgentConstants.SSH_AGENT_SUCCESS : SshAgentConstants.SSH_AGENT_FAILURE);
      }
      case SshAgentConstants.SSH2_AGENTC_REMOVE_ALL_IDENTITIES -> {
        identities.clear();
        reply.putByte(SshAgentConstants.SSH_AGENT_SUCCESS);
      }
      default -> reply.putByte(SshAgentConstants.SSH_AGENT_FAILURE);
    }
    return reply.getCompactData();
  }

  /** Parses a key pair in the agent protocol's "add identity" format. */
  private static KeyPair readPrivateKey(Buffer request) throws Exception {
    String type = request.getString();
    switch (type) {
      case "ssh-rsa" -> {
        BigInteger n = request.getMPInt();
        BigInteger e = request.getMPInt();
        BigInteger d = request.getMPInt();
        BigInteger iqmp = request.getMPInt();
        BigInteger p = request.getMPInt();
        BigInteger q = request.getMPInt();
        KeyFactory factory = KeyFactory.getInstance("RSA");
        return new KeyPair(factory.generatePublic(new RSAPublicKeySpec(n, e)),
            factory.generatePrivate(new RSAPrivateCrtKeySpec(n, e, d, p, q,
                d.mod(p.subtract(BigInteger.ONE)), d.mod(q.subtract(BigInteger.ONE)), iqmp)));
      }
      case "ssh-ed25519" -> {
        request.getBytes();
        byte[] secret = request.getBytes();
        EdDSAPrivateKeySpec spec = new EdDSAPrivateKeySpec(Arrays.copyOf(secret, 32),
            EdDSANamedCurveTable.getByName(EdDSANamedCurveTable.ED_25519));
        return new KeyPair(new EdDSAPublicKey(new EdDSAPublicKeySpec(spec.getA(), spec.getParams())),
            new EdDSAPrivateKey(spec));
      }
      default -> {
        request.rpos(request.rpos() - 4 - type.length());
        return request.getKeyPair();
      }
    }
  }

  private Identity find(PublicKey key) {
    for (Identity identity : identities) {
      if (KeyUtils.compareKeys(identity.pair().getPublic(), key)) {
        return identity;
      }
    }
    return null;
  }

  @Override
  public void close() throws IOException {
    server.close();
    Files.deleteIfExists(socket);
  }
}

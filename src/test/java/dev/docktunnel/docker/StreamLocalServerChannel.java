package dev.docktunnel.docker;

import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.sshd.client.future.DefaultOpenFuture;
import org.apache.sshd.client.future.OpenFuture;
import org.apache.sshd.common.SshConstants;
import org.apache.sshd.common.channel.Channel;
import org.apache.sshd.common.channel.ChannelFactory;
import org.apache.sshd.common.channel.ChannelOutputStream;
import org.apache.sshd.common.channel.exception.SshChannelOpenException;
import org.apache.sshd.common.session.Session;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.common.util.io.IoUtils;
import org.apache.sshd.server.channel.AbstractServerChannel;

/**
 * Test-only server side of {@code direct-streamlocal@openssh.com} for MINA's in-process sshd
 * (which has none): connects to the requested Unix socket and pipes bytes both ways, with
 * OpenSSH's half-close behaviour — the socket's EOF becomes SSH_MSG_CHANNEL_EOF, and the channel
 * is closed only once both directions ended.
 */
final class StreamLocalServerChannel extends AbstractServerChannel {
  /** Registers this channel type on an {@code SshServer}. */
  static final class Factory implements ChannelFactory {
    /** Socket paths asked for, in order. */
    final List<String> requestedPaths = new CopyOnWriteArrayList<>();

    @Override
    public String getName() {
      return DirectStreamLocalChannel.TYPE;
    }

    @Override
    public Channel createChannel(Session session) {
      return new StreamLocalServerChannel(requestedPaths);
    }
  }

  private final List<String> requestedPaths;
  private SocketChannel socket;
  private ChannelOutputStream toClient;
  private volatile boolean socketEof;
  private volatile boolean clientEof;

  private StreamLocalServerChannel(List<String> requestedPaths) {
    super("", Collections.emptyList(), null);
    this.requestedPaths = requestedPaths;
  }

  @Override
  protected OpenFuture doInit(Buffer buffer) {
    String path = buffer.getString();
    buffer.getString(); // reserved
    buffer.getUInt(); // reserved
    requestedPaths.add(path);
    DefaultOpenFuture opened = new DefaultOpenFuture(this, futureLock);
    try {
      socket = SocketChannel.open(UnixDomainSocketAddress.of(path));
    } catch (IOException e) {
      SshChannelOpenException refused = new SshChannelOpenException(getChannelId(),
          SshConstants.SSH_OPEN_CONNECT_FAILED, "connect failed: " + e.getMessage(), e);
      signalChannelOpenFailure(refused);
      opened.setException(refused);
      return opened;
    }
    addCloseFutureListener(f -> IoUtils.closeQuietly(socket));
    toClient = new ChannelOutputStream(this, getRemoteWindow(), log,
        SshConstants.SSH_MSG_CHANNEL_DATA, true);
    // The connection service sends OPEN_CONFIRMATION on this signal; data only after it.
    signalChannelOpenSuccess();
    opened.setOpened();
    Thread pump = new Thread(this::pumpSocketToClient, "streamlocal-pump-" + getChannelId());
    pump.setDaemon(true);
    pump.start();
    return opened;
  }

  private void pumpSocketToClient() {
    ByteBuffer buf = ByteBuffer.allocate(16 * 1024);
    try {
      while (socket.read(buf) >= 0) {
        toClient.write(buf.array(), 0, buf.position());
        toClient.flush();
        buf.clear();
      }
      sendEof();
      socketEof = true;
      closeWhenBothEnded();
    } catch (IOException e) {
      if (!isClosing()) {
        close(false);
      }
    }
  }

  @Override
  protected void doWriteData(byte[] data, int off, long len) throws IOException {
    ByteBuffer buf = ByteBuffer.wrap(data, off, (int) len);
    while (buf.hasRemaining()) {
      socket.write(buf);
    }
    getLocalWindow().release(len);
  }

  @Override
  protected void doWriteExtendedData(byte[] data, int off, long len) {
    throw new UnsupportedOperationException("no extended data on a stream-local channel");
  }

  @Override
  public void handleEof() throws IOException {
    super.handleEof();
    clientEof = true;
    socket.shutdownOutput();
    closeWhenBothEnded();
  }

  private void closeWhenBothEnded() {
    if (clientEof && socketEof) {
      close(false);
    }
  }
}

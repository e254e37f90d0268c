package dev.docktunnel.docker;

import java.io.IOException;
import java.util.Objects;
import org.apache.sshd.client.channel.AsyncCapableClientChannel;
import org.apache.sshd.client.future.DefaultOpenFuture;
import org.apache.sshd.client.future.OpenFuture;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.SshConstants;
import org.apache.sshd.common.SshException;
import org.apache.sshd.common.channel.LocalWindow;
import org.apache.sshd.common.session.ConnectionService;
import org.apache.sshd.common.session.Session;
import org.apache.sshd.common.util.buffer.Buffer;

/**
 * An OpenSSH {@code direct-streamlocal@openssh.com} channel: a byte stream to a Unix-domain
 * socket on the remote host (here: the Docker engine's API socket). MINA SSHD 2.x has no client
 * channel of this type; the wire format is OpenSSH's PROTOCOL §2.4: channel type, sender channel,
 * initial window, max packet, then {@code string socket path, string reserved, uint32 reserved}.
 *
 * <p>The channel always uses async streaming: write with {@link #getAsyncIn()}, read with
 * {@link SshChannels#read} on {@link #getAsyncOut()}. A remote EOF completes a pending read (see
 * {@link SshChannels#completePendingReadOnEof}). The remote sshd must allow it
 * ({@code AllowStreamLocalForwarding yes}, the default) and the user must be able to open the
 * socket.
 */
public class DirectStreamLocalChannel extends AsyncCapableClientChannel {
  /** The SSH channel type name. */
  public static final String TYPE = "direct-streamlocal@openssh.com";

  private final String socketPath;

  /** A new, unregistered channel; prefer {@link #create(ClientSession, String)}. */
  public DirectStreamLocalChannel(String socketPath) {
    super(TYPE, false);
    this.socketPath = Objects.requireNonNull(socketPath, "socketPath");
    setStreaming(Streaming.Async);
  }

  /**
   * Creates a channel to {@code socketPath} and registers it on the session's connection service
   * (as {@code AbstractClientSession.createDirectTcpipChannel} does for TCP); call {@link #open()}
   * next.
   *
   * @throws IOException when the session is closing or has no connection service
   */
  public static DirectStreamLocalChannel create(ClientSession session, String socketPath)
      throws IOException {
    ConnectionService service;
    try {
      service = session.getService(ConnectionService.class);
    } catch (IllegalStateException e) {
      throw new SshException("SSH session has no connection service (not authenticated yet?)", e);
    }
    DirectStreamLocalChannel channel = new DirectStreamLocalChannel(socketPath);
    service.registerChannel(channel);
    return channel;
  }

  /** The remote socket this channel connects to. */
  public String socketPath() {
    return socketPath;
  }

  @Override
  public synchronized OpenFuture open() throws IOException {
    if (closeFuture.isClosed()) {
      throw new SshException("Session has been closed");
    }
    openFuture = new DefaultOpenFuture(socketPath, futureLock);
    Session session = getSession();
    LocalWindow window = getLocalWindow();
    Buffer buffer = session.createBuffer(SshConstants.SSH_MSG_CHANNEL_OPEN,
        TYPE.length() + socketPath.length() * 3 + 32);
    buffer.putString(TYPE);
    buffer.putUInt(getChannelId());
    buffer.putUInt(window.getSize());
    buffer.putUInt(window.getPacketSize());
    putTarget(buffer, socketPath);
    writePacket(buffer);
    return openFuture;
  }

  /** The type-specific fields of the channel-open request for {@code socketPath}. */
  public static void putTarget(Buffer open, String socketPath) {
    open.putString(socketPath);
    open.putString(""); // reserved
    open.putUInt(0); // reserved
  }

  @Override
  public void handleEof() throws IOException {
    super.handleEof();
    SshChannels.completePendingReadOnEof(this);
  }
}

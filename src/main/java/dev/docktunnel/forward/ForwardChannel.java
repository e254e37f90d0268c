package dev.docktunnel.forward;

import dev.docktunnel.docker.DirectStreamLocalChannel;
import io.netty.buffer.ByteBuf;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import org.apache.sshd.client.channel.AsyncCapableClientChannel;
import org.apache.sshd.client.channel.ClientChannel;
import org.apache.sshd.client.future.DefaultOpenFuture;
import org.apache.sshd.client.future.OpenFuture;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.SshConstants;
import org.apache.sshd.common.SshException;
import org.apache.sshd.common.channel.LocalWindow;
import org.apache.sshd.common.io.IoWriteFuture;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.common.util.buffer.ByteArrayBuffer;
import org.apache.sshd.common.util.threads.ThreadUtils;
import org.apache.sshd.common.session.ConnectionService;

/**
 * A {@code direct-tcpip} channel to a {@link ForwardTarget}, or a
 * {@code direct-streamlocal@openssh.com} channel to a {@link RemoteSocket}, that hands data
 * straight to a {@link Receiver} and takes outgoing data packet by packet, bypassing MINA's
 * async streams.
 *
 * <p>Why: MINA's async output stream waits for each 32 KiB packet's socket write before it
 * encrypts the next, and its async input stream copies every byte twice (into its backlog, out
 * of it, plus compaction). Here the caller writes several packets ahead within the remote window
 * (each encrypted on the caller's thread), and received data is copied once, into the local
 * socket's buffer; the local window is released only when the local write completed, so the
 * remote is throttled by the local reader (MINA's ChannelToPortHandler does the same).
 */
final class ForwardChannel extends AsyncCapableClientChannel {
  private static final String DIRECT_TCPIP = "direct-tcpip";

  /** What the remote sends, called on MINA's I/O threads in arrival order. */
  interface Receiver {
    /** {@code data} is MINA's decode buffer: copy what is needed before returning. */
    void data(byte[] data, int offset, int length);

    void eof();

    /** The remote window grew: more can be written. */
    void windowExpanded();
  }

  /** For channels that only prove a port answers and are closed at once. */
  static final Receiver DISCARD = new Receiver() {
    @Override
    public void data(byte[] data, int offset, int length) {
    }

    @Override
    public void eof() {
    }

    @Override
    public void windowExpanded() {
    }
  };

  private final Receiver receiver;
  private final RemoteEnd remote;
  /** The local client's address, sent with a {@code direct-tcpip} open as its originator. */
  private final InetSocketAddress originator;
  /**
   * Orders our DATA and EOF packets against the peer's CLOSE. OpenSSH drops the whole session
   * on a DATA or EOF for a channel it has closed, so once its CLOSE arrived nothing more may be
   * queued behind our CLOSE reply, even by a writer on another thread.
   */
  private final Object writeLock = new Object();
  private boolean peerClosed;
  /** Set under {@link #writeLock} when the channel starts closing, before its CLOSE is written. */
  private boolean closing;
  /** DATA and EOF packets handed to the session and not yet written to the socket. */
  private int writesInFlight;
  /** The close to carry out once {@link #writesInFlight} drops to zero, or null. */
  private Runnable afterWrites;

  private ForwardChannel(InetSocketAddress originator, RemoteEnd remote, Receiver receiver) {
    super(remote instanceof RemoteSocket ? DirectStreamLocalChannel.TYPE : DIRECT_TCPIP, false);
    this.originator = originator;
    this.remote = remote;
    this.receiver = receiver;
    // Async mode keeps MINA from starting stream pumps; its async streams stay unused.
    setStreaming(ClientChannel.Streaming.Async);
  }

  /**
   * Creates and registers the channel on the session; {@link #open()} sends the request.
   *
   * @param originator the local client, for {@code direct-tcpip} (unused for a socket)
   */
  static ForwardChannel create(ClientSession session, InetSocketAddress originator, RemoteEnd remote,
      Receiver receiver) throws IOException {
    ForwardChannel channel = new ForwardChannel(originator, remote, receiver);
    session.getService(ConnectionService.class).registerChannel(channel);
    return channel;
  }

  /** Sends the channel-open request (RFC 4254 §7.2, or OpenSSH's PROTOCOL §2.4 for a socket). */
  @Override
  public synchronized OpenFuture open() throws IOException {
    if (closeFuture.isClosed()) {
      throw new SshException("Session has been closed");
    }
    openFuture = new DefaultOpenFuture(remote, futureLock);
    LocalWindow window = getLocalWindow();
    Buffer request = getSession().createBuffer(SshConstants.SSH_MSG_CHANNEL_OPEN, 128);
    request.putString(getChannelType());
    request.putUInt(getChannelId());
    request.putUInt(window.getSize());
    request.putUInt(window.getPacketSize());
    if (remote instanceof ForwardTarget target) {
      request.putString(target.host());
      request.putUInt(target.port());
      request.putString(originator.getAddress().getHostAddress());
      request.putUInt(originator.getPort());
    } else {
      DirectStreamLocalChannel.putTarget(request, ((RemoteSocket) remote).path());
    }
    writePacket(request);
    return openFuture;
  }

  /**
   * Sends one CHANNEL_DATA packet with the next {@code length} bytes of {@code source}. The
   * caller has checked the packet size and consumed {@code length} of the remote window.
   */
  IoWriteFuture writeData(ByteBuf source, int length) throws IOException {
    // A reused array when the payload fits one (OpenSSH's 32 KiB packets), else MINA's own buffer.
    byte[] reused = length <= PacketArrays.MAX_PAYLOAD ? PacketArrays.take() : null;
    Buffer packet = reused != null
        ? getSession().prepareBuffer(SshConstants.SSH_MSG_CHANNEL_DATA, new ByteArrayBuffer(reused, 0, 0, false))
        : getSession().createBuffer(SshConstants.SSH_MSG_CHANNEL_DATA, length + 12);
    packet.putUInt(getRecipient());
    packet.putUInt(length);
    packet.ensureCapacity(length);
    source.readBytes(packet.array(), packet.wpos(), length);
    packet.wpos(packet.wpos() + length);
    synchronized (writeLock) {
      if (peerClosed || closing) {
        if (reused != null) {
          PacketArrays.give(reused);
        }
        throw new EOFException(peerClosed ? "the remote closed the channel" : "the channel is closing");
      }
      if (reused != null) {
        // Encrypted in place and written from this array: it is free again once the write ended.
        IoWriteFuture written = tracked(ThreadUtils.runAsInternal(packet, this::writePacket));
        written.addListener(done -> PacketArrays.give(reused));
        return written;
      }
      // As MINA's own forwarder does: marked internal, the write is queued during a key exchange
      // instead of blocking this thread until it ends. Blocked here, it would hold writeLock,
      // which MINA's reader thread needs for the peer's CLOSE, so the key exchange (read by that
      // thread) could never end: every forward stalled. The in-flight bound of the caller keeps
      // the queue small.
      return tracked(ThreadUtils.runAsInternal(packet, this::writePacket));
    }
  }

  /** Sends EOF, queued behind the data packets already written; nothing once the channel closes. */
  void writeEof() throws IOException {
    synchronized (writeLock) {
      if (!peerClosed && !closing) {
        tracked(sendEof());
      }
    }
  }

  /** Gives {@code bytes} back to the remote's window (a WINDOW_ADJUST when due); nothing once closing. */
  void releaseWindow(long bytes) throws IOException {
    synchronized (writeLock) {
      if (!peerClosed && !closing) {
        getLocalWindow().release(bytes);
      }
    }
  }

  /** Whether the remote closed the channel (so writes end quietly, not as failures). */
  boolean closedByPeer() {
    synchronized (writeLock) {
      return peerClosed;
    }
  }

  /**
   * Closes with CHANNEL_CLOSE once every DATA and EOF handed to the session is on the wire (see
   * {@link #handleClose}); nothing is written from now on.
   */
  void closeGracefully() {
    synchronized (writeLock) {
      closing = true;
      if (writesInFlight > 0) {
        if (afterWrites == null) {
          afterWrites = () -> close(false);
        }
        return;
      }
    }
    close(false);
  }

  /** Counts a DATA or EOF write until it is on the wire. Called under {@link #writeLock}. */
  private IoWriteFuture tracked(IoWriteFuture write) {
    writesInFlight++;
    write.addListener(done -> written());
    return write;
  }

  private void written() {
    Runnable then;
    synchronized (writeLock) {
      writesInFlight--;
      if (writesInFlight > 0 || afterWrites == null) {
        return;
      }
      then = afterWrites;
      afterWrites = null;
    }
    then.run();
  }

  /** Marks the channel as closing before MINA writes its CLOSE, whoever closes it (MINA on a fault too). */
  @Override
  protected void preClose() {
    synchronized (writeLock) {
      closing = true;
    }
    super.preClose();
  }

  /**
   * The peer's CLOSE. OpenSSH frees the channel when our CLOSE answers it, and drops the whole
   * session for any DATA, EOF or WINDOW_ADJUST that arrives for it after ("data packet referred to
   * nonexistent channel"). Ordering our writes before the answer is not enough: during a key
   * exchange MINA queues channel data and can still write the CLOSE ahead of that queue (seen in
   * sshd's log under RekeyIT#channelClosesRacingWritersAcrossRekeys, about 1 run in 3). So the
   * answer waits until every write handed to the session is on the wire, and none is accepted
   * after the CLOSE came.
   */
  @Override
  public void handleClose() throws IOException {
    synchronized (writeLock) {
      peerClosed = true;
      if (writesInFlight > 0) {
        afterWrites = this::answerClose; // replaces a close of ours: the answer closes too
        return;
      }
    }
    super.handleClose();
  }

  private void answerClose() {
    try {
      super.handleClose();
    } catch (IOException | RuntimeException e) {
      close(true); // the session is going: nothing more to say on this channel
    }
  }

  @Override
  protected void doWriteData(byte[] data, int off, long len) {
    if (!isClosing()) {
      receiver.data(data, off, (int) len);
    }
  }

  @Override
  public void handleEof() throws IOException {
    super.handleEof();
    receiver.eof();
  }

  @Override
  public void handleWindowAdjust(Buffer buffer) throws IOException {
    super.handleWindowAdjust(buffer);
    receiver.windowExpanded();
  }
}

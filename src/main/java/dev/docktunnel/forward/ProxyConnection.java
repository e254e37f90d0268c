package dev.docktunnel.forward;

import dev.docktunnel.ssh.SessionProvider;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.SocketChannel;
import java.io.IOException;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.channel.RemoteWindow;
import org.apache.sshd.common.io.IoWriteFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One local connection piped through one SSH {@code direct-tcpip} channel.
 *
 * <p>Both directions are pipelined and bounded, so neither side waits for the other's round
 * trip and no buffer grows without limit:
 * <ul>
 *   <li>local → SSH: packets are written ahead up to {@link #SSH_IN_FLIGHT_LIMIT} bytes and
 *       within the remote window; Netty keeps reading into a backlog of at most
 *       {@link #LOCAL_BACKLOG_LIMIT} and pauses above it;
 *   <li>SSH → local: each packet is copied once into a socket buffer and written; its bytes go
 *       back to the SSH window only when the local write completed, so the remote sender is
 *       throttled by the local reader, never by memory.
 * </ul>
 * Half-close is passed on both ways: local FIN becomes SSH EOF after the backlog is sent, SSH
 * EOF becomes a local shutdownOutput after the pending writes. All state lives on the
 * connection's Netty event loop; MINA callbacks hop onto it.
 */
final class ProxyConnection extends ChannelInboundHandlerAdapter implements ForwardChannel.Receiver {
  private static final Logger LOG = LoggerFactory.getLogger(ProxyConnection.class);
  /** Local bytes read ahead while SSH cannot take them; reading pauses above this. */
  private static final int LOCAL_BACKLOG_LIMIT = 256 * 1024;
  /** Bytes handed to the SSH session whose socket write has not completed yet. */
  private static final int SSH_IN_FLIGHT_LIMIT = 512 * 1024;
  /** How long a graceful SSH channel close may take before it is forced. */
  private static final long CLOSE_FALLBACK_SECONDS = 5;

  private final SessionProvider sessions;
  private final ForwardTarget target;
  private final ForwardCounters counters;
  private final ConnectionLog log;
  private String peer = "?";
  private long connBytesOut;
  private long connBytesIn;

  private SocketChannel local;
  private ForwardChannel ssh;
  private boolean sshOpen;
  private boolean localEof;
  private boolean eofSent;
  private boolean remoteEof;
  private boolean closed;

  private CompositeByteBuf backlog;
  private int sshBytesInFlight;
  private int localWritesInFlight;
  private boolean flushScheduled;

  ProxyConnection(SessionProvider sessions, ForwardTarget target, ForwardCounters counters, ConnectionLog log) {
    this.sessions = sessions;
    this.target = target;
    this.counters = counters;
    this.log = log;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    local = (SocketChannel) ctx.channel();
    backlog = ctx.alloc().compositeBuffer(64);
    counters.openConnections.incrementAndGet();
    counters.connectionsTotal.increment();
    peer = String.valueOf(local.remoteAddress());
    log.connection("opened", peer, 0, 0);
    Optional<ClientSession> session = sessions.current();
    if (session.isEmpty()) {
      fail("no SSH session (connecting or reconnecting)", null);
      return;
    }
    try {
      ssh = ForwardChannel.create(session.get(), local.remoteAddress(), target, this);
      ssh.open().addListener(opened -> local.eventLoop().execute(() -> {
        if (!opened.isOpened()) {
          fail("SSH channel to " + target + " refused", opened.getException());
        } else if (closed) {
          closeSsh();
        } else {
          ssh.addCloseFutureListener(f -> local.eventLoop().execute(this::maybeClose));
          sshOpen = true;
          pumpToSsh();
        }
      }));
    } catch (IOException | RuntimeException e) {
      fail("could not open an SSH channel to " + target, e);
    }
  }

  // ---- local -> SSH

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    backlog.addComponent(true, (ByteBuf) msg);
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    pumpToSsh();
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof ChannelInputShutdownEvent) {
      localEof = true;
      pumpToSsh();
      maybeClose();
    } else {
      ctx.fireUserEventTriggered(evt);
    }
  }

  /**
   * Writes as many packets as the remote window and the in-flight bound allow, then the EOF
   * once everything read before the local FIN is out, and reads on while there is room.
   */
  private void pumpToSsh() {
    if (!sshOpen || closed) {
      return;
    }
    RemoteWindow window = ssh.getRemoteWindow();
    while (backlog.isReadable() && sshBytesInFlight < SSH_IN_FLIGHT_LIMIT) {
      int n = (int) Math.min(backlog.readableBytes(), Math.min(window.getPacketSize(), window.getSize()));
      if (n <= 0) {
        break; // windowExpanded() pumps again
      }
      window.consume(n);
      IoWriteFuture written;
      try {
        written = ssh.writeData(backlog, n);
      } catch (IOException | RuntimeException e) {
        sshWriteFailed(e);
        return;
      }
      sshBytesInFlight += n;
      counters.bytesOut.add(n);
      connBytesOut += n;
      written.addListener(w -> local.eventLoop().execute(() -> {
        sshBytesInFlight -= n;
        if (w.isWritten()) {
          pumpToSsh();
        } else {
          sshWriteFailed(w.getException());
        }
      }));
    }
    backlog.discardReadComponents();
    if (localEof && !backlog.isReadable() && !eofSent) {
      eofSent = true;
      try {
        ssh.writeEof();
      } catch (IOException e) {
        fail("SSH EOF failed", e);
        return;
      }
    }
    if (!localEof && backlog.readableBytes() < LOCAL_BACKLOG_LIMIT) {
      local.read();
    }
  }

  /** The remote closing while the client still sends is normal (a server hanging up); else a failure. */
  private void sshWriteFailed(Throwable cause) {
    if (ssh.closedByPeer()) {
      local.close();
    } else {
      fail("SSH write failed", cause);
    }
  }

  @Override
  public void windowExpanded() {
    local.eventLoop().execute(this::pumpToSsh);
  }

  // ---- SSH -> local (called on MINA's threads)

  @Override
  public void data(byte[] data, int offset, int length) {
    ByteBuf copy = local.alloc().directBuffer(length).writeBytes(data, offset, length);
    local.eventLoop().execute(() -> writeLocal(copy));
  }

  @Override
  public void eof() {
    local.eventLoop().execute(() -> {
      remoteEof = true;
      if (localWritesInFlight == 0) {
        shutdownLocalOutput();
      }
    });
  }

  private void writeLocal(ByteBuf data) {
    if (closed) {
      data.release();
      return;
    }
    int n = data.readableBytes();
    counters.bytesIn.add(n);
    connBytesIn += n;
    localWritesInFlight++;
    local.write(data).addListener(w -> {
      localWritesInFlight--;
      if (!w.isSuccess()) {
        // The client went away (reset, closed): this connection ends, nothing failed.
        LOG.debug("local write to {} failed: {}", peer, w.cause().toString());
        local.close();
        return;
      }
      try {
        ssh.getLocalWindow().release(n);
      } catch (IOException | RuntimeException e) {
        fail("SSH window update failed", e);
        return;
      }
      if (remoteEof && localWritesInFlight == 0) {
        shutdownLocalOutput();
      }
    });
    // One flush for all packets that arrived together: tasks queued behind this one are writes.
    if (!flushScheduled) {
      flushScheduled = true;
      local.eventLoop().execute(() -> {
        flushScheduled = false;
        local.flush();
      });
    }
  }

  /** Passes the remote EOF on; Netty's shutdownOutput drops unflushed writes, so only when none. */
  private void shutdownLocalOutput() {
    if (!closed && local.isActive() && !local.isOutputShutdown()) {
      local.shutdownOutput().addListener(f -> maybeClose());
    } else {
      maybeClose();
    }
  }

  /**
   * Closes the local side once nothing more can flow: the remote's data is all written and its
   * EOF passed on, and either our EOF went out too or the channel is gone.
   */
  private void maybeClose() {
    if (!closed && remoteEof && localWritesInFlight == 0 && (eofSent || ssh == null || ssh.isClosing())) {
      local.close();
    }
  }

  // ---- endings

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    // A reset or error on one local connection ends only this connection.
    LOG.debug("connection to {} failed: {}", target, cause.toString());
    ctx.close();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (!closed) {
      closed = true;
      counters.openConnections.decrementAndGet();
      log.connection("closed", peer, connBytesIn, connBytesOut);
    }
    backlog.release();
    closeSsh();
  }

  private void fail(String what, Throwable cause) {
    if (closed) {
      return; // already ended; later callbacks of the same ending say nothing new
    }
    counters.connectionsFailed.increment();
    LOG.warn("forward to {}: {}{}", target, what, cause == null ? "" : ": " + cause.getMessage());
    local.close();
  }

  /**
   * Closes the SSH channel with CHANNEL_CLOSE ({@code close(false)}; MINA's immediate close
   * does not send it), forcing it if the peer does not answer in time.
   */
  private void closeSsh() {
    ForwardChannel channel = ssh;
    if (channel == null || channel.isClosed()) {
      return;
    }
    channel.close(false);
    local.eventLoop().schedule(() -> {
      if (!channel.isClosed()) {
        channel.close(true);
      }
    }, CLOSE_FALLBACK_SECONDS, TimeUnit.SECONDS);
  }
}

package dev.docktunnel.forward;

import dev.docktunnel.docker.SshChannels;
import dev.docktunnel.ssh.SessionProvider;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.SocketChannel;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.sshd.client.channel.ClientChannel;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.io.IoReadFuture;
import org.apache.sshd.common.io.IoWriteFuture;
import org.apache.sshd.common.util.buffer.ByteArrayBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One local connection piped through one SSH {@code direct-tcpip} channel.
 *
 * <p>Flow control both ways, with no unbounded buffer: the next local read is requested only
 * after the previous chunk was accepted by the SSH channel (which waits for the remote window),
 * and the next SSH read is issued only after the previous chunk was written to the local socket
 * (MINA releases the SSH window on read, so the remote is throttled by the local reader).
 * Half-close is passed on both ways: local FIN becomes SSH EOF, SSH EOF becomes a local
 * shutdownOutput. All close decisions run on the connection's Netty event loop.
 */
final class ProxyConnection extends ChannelInboundHandlerAdapter {
  private static final Logger LOG = LoggerFactory.getLogger(ProxyConnection.class);
  /** Largest chunk taken from the SSH channel per read. */
  private static final int REMOTE_READ_CHUNK = 64 * 1024;
  /** How long a graceful SSH channel close may take before it is forced. */
  private static final long CLOSE_FALLBACK_SECONDS = 5;

  private final SessionProvider sessions;
  private final ForwardTarget target;
  private final ForwardCounters counters;
  private final ConnectionLog log;
  private String peer = "?";
  /** This connection's bytes; each written by one thread only (Netty's loop, MINA's reader). */
  private long connBytesOut;
  private volatile long connBytesIn;

  private SocketChannel local;
  private ForwardChannel ssh;
  /** Local data read but not yet handed to SSH; at most one read batch. */
  private ByteBuf pendingOut;
  private boolean sshOpen;
  private boolean writingToSsh;
  private boolean localEof;
  private boolean remoteEof;
  private boolean closed;
  /** Reused for local-to-SSH writes: only one is in flight and MINA copies it into packets. */
  private byte[] outArray = new byte[0];
  private final byte[] inArray = new byte[REMOTE_READ_CHUNK];
  private final ByteArrayBuffer inBuffer = new ByteArrayBuffer(inArray, 0, 0);

  ProxyConnection(SessionProvider sessions, ForwardTarget target, ForwardCounters counters, ConnectionLog log) {
    this.sessions = sessions;
    this.target = target;
    this.counters = counters;
    this.log = log;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    local = (SocketChannel) ctx.channel();
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
      InetSocketAddress peer = local.remoteAddress();
      ssh = ForwardChannel.create(session.get(), peer, target);
      ssh.open().addListener(opened -> local.eventLoop().execute(() -> {
        if (!opened.isOpened()) {
          fail("SSH channel to " + target + " refused", opened.getException());
          return;
        }
        if (closed) {
          closeSsh();
          return;
        }
        ssh.addCloseFutureListener(f -> local.eventLoop().execute(this::maybeClose));
        sshOpen = true;
        readRemote();
        pumpLocal();
      }));
    } catch (IOException | RuntimeException e) {
      fail("could not open an SSH channel to " + target, e);
    }
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    ByteBuf buf = (ByteBuf) msg;
    if (pendingOut == null) {
      pendingOut = buf;
    } else {
      pendingOut = Unpooled.wrappedBuffer(pendingOut, buf);
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    writeToSsh();
  }

  /** Hands the batch read so far to the SSH channel; the next local read waits for it. */
  private void writeToSsh() {
    if (pendingOut == null || writingToSsh || closed || !sshOpen) {
      return;
    }
    int n = pendingOut.readableBytes();
    if (outArray.length < n) {
      outArray = new byte[n];
    }
    pendingOut.readBytes(outArray, 0, n);
    pendingOut.release();
    pendingOut = null;
    counters.bytesOut.add(n);
    connBytesOut += n;
    writingToSsh = true;
    IoWriteFuture written;
    try {
      written = ssh.getAsyncIn().writeBuffer(new ByteArrayBuffer(outArray, 0, n));
    } catch (IOException | RuntimeException e) {
      fail("SSH write failed", e);
      return;
    }
    written.addListener(w -> local.eventLoop().execute(() -> {
      writingToSsh = false;
      if (w.isWritten()) {
        pumpLocal();
      } else {
        fail("SSH write failed", w.getException());
      }
    }));
  }

  /** The SSH side can take more: send what is waiting, else the EOF, else read on. */
  private void pumpLocal() {
    if (pendingOut != null) {
      // Netty reads what is left on EOF (RDHUP) even without a read request.
      writeToSsh();
    } else if (localEof) {
      sendEofToRemote();
    } else {
      local.read();
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof ChannelInputShutdownEvent) {
      localEof = true;
      if (sshOpen && !writingToSsh) {
        pumpLocal();
      }
      maybeClose();
    } else {
      ctx.fireUserEventTriggered(evt);
    }
  }

  private void sendEofToRemote() {
    if (sshOpen && !closed) {
      // Graceful close of the channel's output stream flushes pending data, then sends EOF.
      ssh.getAsyncIn().close(false);
    }
  }

  /** Reads the next chunk from SSH; called again only after that chunk was written locally. */
  private void readRemote() {
    inBuffer.clear();
    IoReadFuture read;
    try {
      read = SshChannels.read(ssh.getAsyncOut(), inBuffer);
    } catch (RuntimeException e) {
      local.eventLoop().execute(() -> fail("SSH read failed", e));
      return;
    }
    read.addListener(r -> {
      Throwable error = r.getException();
      if (error != null && !(error instanceof java.io.EOFException)) {
        local.eventLoop().execute(() -> fail("SSH read failed", error));
        return;
      }
      int n = error == null ? r.getRead() : -1;
      if (n < 0) {
        local.eventLoop().execute(this::onRemoteEof);
        return;
      }
      counters.bytesIn.add(n);
      connBytesIn += n;
      local.writeAndFlush(Unpooled.wrappedBuffer(inArray, 0, n)).addListener(w -> {
        if (w.isSuccess()) {
          readRemote();
        } else {
          local.eventLoop().execute(() -> fail("local write failed", w.cause()));
        }
      });
    });
  }

  private void onRemoteEof() {
    remoteEof = true;
    if (!closed && local.isActive() && !local.isOutputShutdown()) {
      local.shutdownOutput().addListener(f -> maybeClose());
    } else {
      maybeClose();
    }
  }

  /** Closes the local side once nothing more can flow: both EOFs, or remote EOF and channel gone. */
  private void maybeClose() {
    if (closed) {
      return;
    }
    // A closing SSH channel always ends the SSH read with EOF once its buffer is drained, so
    // remoteEof is the one signal that everything from the remote reached the local socket.
    if (remoteEof && (localEof || ssh == null || ssh.isClosing())) {
      local.close();
    }
  }

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
    if (pendingOut != null) {
      pendingOut.release();
      pendingOut = null;
    }
    closeSsh();
  }

  private void fail(String what, Throwable cause) {
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

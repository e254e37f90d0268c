package dev.docktunnel.forward;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelException;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelPromise;
import io.netty.channel.FileRegion;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.nio.AbstractNioByteChannel;
import io.netty.channel.nio.NioIoOps;
import io.netty.channel.socket.DuplexChannel;
import java.io.IOException;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * A Unix-domain stream socket (a JDK {@link SocketChannel} of {@link StandardProtocolFamily#UNIX})
 * as a Netty NIO channel that can be half-closed like TCP: with
 * {@link io.netty.channel.ChannelOption#ALLOW_HALF_CLOSURE} the peer's FIN (its
 * {@code shutdown(SHUT_WR)}) fires {@link io.netty.channel.socket.ChannelInputShutdownEvent} and
 * the channel stays open for the reply, then a later read fires
 * {@link io.netty.channel.socket.ChannelInputShutdownReadComplete}.
 *
 * <p>Why not Netty's own {@code NioDomainSocketChannel} (4.2.17, final): {@link
 * AbstractNioByteChannel} honours half-closure only when the config is a
 * {@link io.netty.channel.socket.SocketChannelConfig} ({@code isAllowHalfClosure} begins with
 * {@code instanceof SocketChannelConfig}, per {@code javap -c}), and that channel's config is a
 * {@code DefaultChannelConfig} implementing {@code DuplexChannelConfig} only. So its
 * ALLOW_HALF_CLOSURE is ignored (ServerBootstrap even logs it as an unknown option for that
 * channel) and the peer's FIN closes the channel, cutting any reply still being written: the
 * case of {@code echo hi | docker exec -i c cat}, whose stdin EOF comes before "hi". Pinned by {@code
 * UnixStreamChannelTest#nettysDomainSocketChannelCutsTheReplyAtTheFin}. Epoll's domain socket is
 * out for the reason in {@link ForwardProxy}'s constructor. Here the config is a {@link
 * UnixStreamChannelConfig}; the read loop, the events and the end of input are
 * {@link AbstractNioByteChannel}'s, unchanged.
 *
 * <p>Unix sockets have no reset: SO_LINGER is accepted and ignored by Linux, a close is a plain
 * EOF to the peer unless our receive queue still holds unread bytes (then the peer's next read
 * fails with "Connection reset").
 *
 * <p>State is Netty's: everything but the volatile shutdown flags is touched on the event loop.
 */
public final class UnixStreamChannel extends AbstractNioByteChannel implements DuplexChannel {
  /** Bytes offered to one gathering write; a partial write means the socket buffer is full. */
  private static final long MAX_BYTES_PER_WRITE = 1 << 20;
  private static final int MAX_BUFFERS_PER_WRITE = 1024;

  private final UnixStreamChannelConfig config;
  private volatile boolean inputShutdown;
  private volatile boolean outputShutdown;

  /** An unconnected client socket, for {@link io.netty.bootstrap.Bootstrap#connect}. */
  public UnixStreamChannel() {
    this(null, openUnixSocket());
  }

  /** Wraps an open or connected UNIX-family socket. */
  public UnixStreamChannel(SocketChannel socket) {
    this(null, socket);
  }

  /** An accepted connection of {@code parent}. */
  UnixStreamChannel(Channel parent, SocketChannel socket) {
    super(parent, requireUnix(socket));
    this.config = new UnixStreamChannelConfig(this, socket);
  }

  private static SocketChannel openUnixSocket() {
    try {
      return SocketChannel.open(StandardProtocolFamily.UNIX);
    } catch (IOException e) {
      throw new ChannelException("could not open a Unix-domain socket", e);
    }
  }

  private static SocketChannel requireUnix(SocketChannel socket) {
    // A JDK SocketChannel is INET, INET6 or UNIX, and only the INET ones have TCP_NODELAY (an
    // unconnected UNIX socket has no address to tell it by).
    if (socket.supportedOptions().contains(StandardSocketOptions.TCP_NODELAY)) {
      throw new IllegalArgumentException("UnixStreamChannel wraps a UNIX-family SocketChannel, not a TCP one");
    }
    return socket;
  }

  @Override
  public UnixStreamChannelConfig config() {
    return config;
  }

  @Override
  protected SocketChannel javaChannel() {
    return (SocketChannel) super.javaChannel();
  }

  @Override
  public boolean isActive() {
    SocketChannel ch = javaChannel();
    return ch.isOpen() && ch.isConnected();
  }

  @Override
  public UnixDomainSocketAddress localAddress() {
    return (UnixDomainSocketAddress) super.localAddress();
  }

  /** The peer's address: an empty path for a client that did not bind (the usual case). */
  @Override
  public UnixDomainSocketAddress remoteAddress() {
    return (UnixDomainSocketAddress) super.remoteAddress();
  }

  @Override
  protected SocketAddress localAddress0() {
    try {
      return javaChannel().getLocalAddress();
    } catch (IOException e) {
      return null; // closed: Netty reports no address then
    }
  }

  @Override
  protected SocketAddress remoteAddress0() {
    try {
      return javaChannel().getRemoteAddress();
    } catch (IOException e) {
      return null;
    }
  }

  // --- half-closure -------------------------------------------------------------------------

  @Override
  public boolean isInputShutdown() {
    return inputShutdown || !isActive();
  }

  @Override
  protected boolean isInputShutdown0() {
    return isInputShutdown();
  }

  @Override
  public boolean isOutputShutdown() {
    return outputShutdown || !isActive();
  }

  @Override
  public boolean isShutdown() {
    return (inputShutdown && outputShutdown) || !isActive();
  }

  /** Called by Netty's {@code shutdownOutput} once pending writes are failed or flushed away. */
  @Override
  protected void doShutdownOutput() throws Exception {
    javaChannel().shutdownOutput();
    outputShutdown = true;
  }

  /**
   * Sends our FIN; the peer reads EOF and can still write to us. Writes not yet flushed are
   * failed (Netty's rule), so call it once the last write completed.
   */
  @Override
  public ChannelFuture shutdownOutput() {
    return shutdownOutput(newPromise());
  }

  @Override
  public ChannelFuture shutdownOutput(ChannelPromise promise) {
    onLoop(() -> ((AbstractUnsafe) unsafe()).shutdownOutput(promise));
    return promise;
  }

  /**
   * Stops reading. On a Unix socket this also ends the peer's sending side: its next write fails
   * with a broken pipe (unlike TCP, where SHUT_RD goes unnoticed by the peer).
   */
  @Override
  public ChannelFuture shutdownInput() {
    return shutdownInput(newPromise());
  }

  @Override
  public ChannelFuture shutdownInput(ChannelPromise promise) {
    onLoop(() -> {
      try {
        javaChannel().shutdownInput();
        inputShutdown = true;
        promise.setSuccess();
      } catch (IOException | RuntimeException e) {
        promise.setFailure(e);
      }
    });
    return promise;
  }

  @Override
  public ChannelFuture shutdown() {
    return shutdown(newPromise());
  }

  /** Output first (so pending writes are failed by Netty's rule), then input. */
  @Override
  public ChannelFuture shutdown(ChannelPromise promise) {
    shutdownOutput().addListener(output -> shutdownInput().addListener(input -> {
      Throwable failed = output.cause() != null ? output.cause() : input.cause();
      if (failed == null) {
        promise.trySuccess();
      } else {
        promise.tryFailure(failed);
      }
    }));
    return promise;
  }

  private void onLoop(Runnable task) {
    if (eventLoop().inEventLoop()) {
      task.run();
    } else {
      eventLoop().execute(task);
    }
  }

  // --- connect, bind, close ------------------------------------------------------------------

  @Override
  protected void doBind(SocketAddress local) throws Exception {
    javaChannel().bind(requireUnixAddress(local));
  }

  @Override
  protected boolean doConnect(SocketAddress remote, SocketAddress local) throws Exception {
    if (local != null) {
      doBind(local);
    }
    boolean ok = false;
    try {
      boolean connected = javaChannel().connect(requireUnixAddress(remote));
      if (!connected) {
        addAndSubmit(NioIoOps.CONNECT); // finished in doFinishConnect
      }
      ok = true;
      return connected;
    } finally {
      if (!ok) {
        doClose();
      }
    }
  }

  @Override
  protected void doFinishConnect() throws Exception {
    if (!javaChannel().finishConnect()) {
      throw new IOException("connect to " + remoteAddress0() + " still pending after the selector said it was done");
    }
  }

  private static UnixDomainSocketAddress requireUnixAddress(SocketAddress address) {
    if (address instanceof UnixDomainSocketAddress) {
      return (UnixDomainSocketAddress) address;
    }
    throw new IllegalArgumentException("a Unix-domain socket needs a UnixDomainSocketAddress, not " + address);
  }

  @Override
  protected void doDisconnect() throws Exception {
    doClose();
  }

  @Override
  protected void doClose() throws Exception {
    super.doClose();
    javaChannel().close();
  }

  // --- reads and writes ----------------------------------------------------------------------

  @Override
  protected int doReadBytes(ByteBuf buf) throws Exception {
    RecvByteBufAllocator.Handle handle = unsafe().recvBufAllocHandle();
    handle.attemptedBytesRead(buf.writableBytes());
    return buf.writeBytes(javaChannel(), handle.attemptedBytesRead());
  }

  @Override
  protected int doWriteBytes(ByteBuf buf) throws Exception {
    return buf.readBytes(javaChannel(), buf.readableBytes());
  }

  @Override
  protected long doWriteFileRegion(FileRegion region) throws Exception {
    return region.transferTo(javaChannel(), region.transferred());
  }

  /**
   * Gathering writes of the flushed buffers; anything else (a {@link FileRegion}) goes through
   * {@link AbstractNioByteChannel}'s one-message write. A short write means the socket buffer is
   * full: wait for OP_WRITE instead of spinning.
   */
  @Override
  protected void doWrite(ChannelOutboundBuffer in) throws Exception {
    SocketChannel ch = javaChannel();
    int spins = config.getWriteSpinCount();
    while (spins > 0) {
      if (in.isEmpty()) {
        clearOpWrite();
        return;
      }
      ByteBuffer[] buffers = in.nioBuffers(MAX_BUFFERS_PER_WRITE, MAX_BYTES_PER_WRITE);
      int count = in.nioBufferCount();
      if (count == 0) {
        spins -= doWrite0(in);
        continue;
      }
      long attempted = in.nioBufferSize();
      long written = count == 1 ? ch.write(buffers[0]) : ch.write(buffers, 0, count);
      if (written > 0) {
        in.removeBytes(written);
      }
      if (written < attempted) {
        incompleteWrite(true);
        return;
      }
      spins--;
    }
    if (in.isEmpty()) {
      clearOpWrite();
      return;
    }
    // Spun out with data left (true: a one-message write saw a full buffer): try again later.
    incompleteWrite(spins < 0);
  }

  /** Sets a JDK socket option, failing as Netty's configs do. */
  static <T> void setSocketOption(SocketChannel ch, java.net.SocketOption<T> option, T value) {
    try {
      ch.setOption(option, value);
    } catch (IOException e) {
      throw new ChannelException("could not set " + option.name() + " on a Unix-domain socket", e);
    }
  }

  static <T> T socketOption(SocketChannel ch, java.net.SocketOption<T> option) {
    try {
      return ch.getOption(option);
    } catch (IOException e) {
      throw new ChannelException("could not read " + option.name() + " of a Unix-domain socket", e);
    }
  }

  /** Lets the config cancel a pending read when auto-read is switched off, as NIO's TCP does. */
  void autoReadCleared() {
    clearReadPending();
  }
}

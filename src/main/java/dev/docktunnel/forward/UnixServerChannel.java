package dev.docktunnel.forward;

import io.netty.channel.ChannelException;
import io.netty.channel.ChannelMetadata;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.DefaultChannelConfig;
import io.netty.channel.ServerChannel;
import io.netty.channel.nio.AbstractNioMessageChannel;
import io.netty.channel.nio.NioIoOps;
import io.netty.util.NetUtil;
import java.io.IOException;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.Map;

/**
 * A listening Unix-domain socket for Netty's NIO transport; accepted connections are
 * {@link UnixStreamChannel}s, so {@code childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)}
 * really half-closes. Use with {@link io.netty.bootstrap.ServerBootstrap#channel} on a group of
 * {@code NioIoHandler}s and bind a {@link UnixDomainSocketAddress};
 * {@link ChannelOption#SO_BACKLOG} sets the accept queue.
 *
 * <p>The socket file belongs to the caller: binding fails ("Address already in use") when the
 * path exists, and closing leaves the file. The caller already has to decide what a stale file
 * is and set the file's mode; deleting here as well could remove a file that someone else
 * bound since, so one owner does both.
 */
public final class UnixServerChannel extends AbstractNioMessageChannel implements ServerChannel {
  private static final ChannelMetadata METADATA = new ChannelMetadata(false, 16);

  private final Config config = new Config();

  public UnixServerChannel() {
    super(null, openUnixServerSocket(), NioIoOps.ACCEPT);
  }

  private static ServerSocketChannel openUnixServerSocket() {
    try {
      return ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    } catch (IOException e) {
      throw new ChannelException("could not open a Unix-domain server socket", e);
    }
  }

  @Override
  public DefaultChannelConfig config() {
    return config;
  }

  @Override
  public ChannelMetadata metadata() {
    return METADATA;
  }

  @Override
  protected ServerSocketChannel javaChannel() {
    return (ServerSocketChannel) super.javaChannel();
  }

  @Override
  public boolean isActive() {
    return isOpen() && localAddress0() != null;
  }

  @Override
  public UnixDomainSocketAddress localAddress() {
    return (UnixDomainSocketAddress) super.localAddress();
  }

  @Override
  public UnixDomainSocketAddress remoteAddress() {
    return null;
  }

  @Override
  protected SocketAddress localAddress0() {
    try {
      return javaChannel().getLocalAddress(); // null until bound
    } catch (IOException e) {
      return null; // closed
    }
  }

  @Override
  protected SocketAddress remoteAddress0() {
    return null;
  }

  @Override
  protected void doBind(SocketAddress local) throws Exception {
    if (!(local instanceof UnixDomainSocketAddress)) {
      throw new IllegalArgumentException("UnixServerChannel binds a UnixDomainSocketAddress, not " + local);
    }
    javaChannel().bind(local, config.backlog);
  }

  /**
   * Accepts one connection. A failed accept (say, out of file descriptors) propagates: Netty
   * fires it down the pipeline, and ServerBootstrap's acceptor pauses accepting for a second.
   */
  @Override
  protected int doReadMessages(List<Object> accepted) throws Exception {
    SocketChannel socket = javaChannel().accept();
    if (socket == null) {
      return 0;
    }
    try {
      accepted.add(new UnixStreamChannel(this, socket));
      return 1;
    } catch (RuntimeException e) {
      socket.close();
      throw e;
    }
  }

  @Override
  protected void doClose() throws Exception {
    javaChannel().close();
  }

  @Override
  protected boolean doConnect(SocketAddress remote, SocketAddress local) {
    throw new UnsupportedOperationException("a server channel does not connect");
  }

  @Override
  protected void doFinishConnect() {
    throw new UnsupportedOperationException("a server channel does not connect");
  }

  @Override
  protected void doDisconnect() {
    throw new UnsupportedOperationException("a server channel does not disconnect");
  }

  @Override
  protected boolean doWriteMessage(Object msg, ChannelOutboundBuffer in) {
    throw new UnsupportedOperationException("a server channel does not write");
  }

  @Override
  protected Object filterOutboundMessage(Object msg) {
    throw new UnsupportedOperationException("a server channel does not write");
  }

  /** {@link ChannelOption#SO_BACKLOG} on top of Netty's common settings; read at bind. */
  private final class Config extends DefaultChannelConfig {
    private volatile int backlog = NetUtil.SOMAXCONN;

    Config() {
      super(UnixServerChannel.this);
    }

    @Override
    public Map<ChannelOption<?>, Object> getOptions() {
      return getOptions(super.getOptions(), ChannelOption.SO_BACKLOG);
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T getOption(ChannelOption<T> option) {
      if (option == ChannelOption.SO_BACKLOG) {
        return (T) Integer.valueOf(backlog);
      }
      return super.getOption(option);
    }

    @Override
    public <T> boolean setOption(ChannelOption<T> option, T value) {
      validate(option, value);
      if (option == ChannelOption.SO_BACKLOG) {
        int requested = (Integer) value;
        if (requested < 0) {
          throw new IllegalArgumentException("SO_BACKLOG must be 0 or more, not " + requested);
        }
        backlog = requested;
        return true;
      }
      return super.setOption(option, value);
    }
  }
}

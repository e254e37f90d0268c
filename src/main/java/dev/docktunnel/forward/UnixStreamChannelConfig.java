package dev.docktunnel.forward;

import static io.netty.channel.ChannelOption.ALLOW_HALF_CLOSURE;
import static io.netty.channel.ChannelOption.IP_TOS;
import static io.netty.channel.ChannelOption.SO_KEEPALIVE;
import static io.netty.channel.ChannelOption.SO_LINGER;
import static io.netty.channel.ChannelOption.SO_RCVBUF;
import static io.netty.channel.ChannelOption.SO_REUSEADDR;
import static io.netty.channel.ChannelOption.SO_SNDBUF;
import static io.netty.channel.ChannelOption.TCP_NODELAY;

import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelOption;
import io.netty.channel.DefaultChannelConfig;
import io.netty.channel.MessageSizeEstimator;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.SocketChannelConfig;
import java.net.StandardSocketOptions;
import java.nio.channels.SocketChannel;
import java.util.Map;

/**
 * The config of a {@link UnixStreamChannel}. It is a {@link SocketChannelConfig} for one reason:
 * Netty's NIO read loop honours {@link ChannelOption#ALLOW_HALF_CLOSURE} only on such a config.
 *
 * <p>Real on a Unix socket: ALLOW_HALF_CLOSURE, SO_SNDBUF, SO_RCVBUF (Linux doubles what is set
 * and reports the doubled value), SO_LINGER (passed to the socket, but Linux ignores it there:
 * a close never resets). The TCP-only settings are explicit:
 * <ul>
 *   <li>TCP_NODELAY reads {@code true} and any value is accepted: a Unix socket never delays a
 *       write, so a bootstrap shared with TCP may set it;
 *   <li>SO_KEEPALIVE, SO_REUSEADDR ({@code false}) and IP_TOS ({@code 0}) accept only that value;
 *       anything else throws {@link UnsupportedOperationException}, as there is no such thing here;
 *   <li>{@link #setPerformancePreferences} does nothing (it does nothing on NIO's TCP either).
 * </ul>
 */
public final class UnixStreamChannelConfig extends DefaultChannelConfig implements SocketChannelConfig {
  private final UnixStreamChannel unixChannel;
  private final SocketChannel socket;
  private volatile boolean allowHalfClosure;

  UnixStreamChannelConfig(UnixStreamChannel channel, SocketChannel socket) {
    super(channel);
    this.unixChannel = channel;
    this.socket = socket;
  }

  @Override
  public Map<ChannelOption<?>, Object> getOptions() {
    return getOptions(super.getOptions(), ALLOW_HALF_CLOSURE, SO_SNDBUF, SO_RCVBUF, SO_LINGER, TCP_NODELAY,
        SO_KEEPALIVE, SO_REUSEADDR, IP_TOS);
  }

  @Override
  @SuppressWarnings("unchecked")
  public <T> T getOption(ChannelOption<T> option) {
    if (option == ALLOW_HALF_CLOSURE) {
      return (T) Boolean.valueOf(isAllowHalfClosure());
    } else if (option == SO_SNDBUF) {
      return (T) Integer.valueOf(getSendBufferSize());
    } else if (option == SO_RCVBUF) {
      return (T) Integer.valueOf(getReceiveBufferSize());
    } else if (option == SO_LINGER) {
      return (T) Integer.valueOf(getSoLinger());
    } else if (option == TCP_NODELAY) {
      return (T) Boolean.valueOf(isTcpNoDelay());
    } else if (option == SO_KEEPALIVE) {
      return (T) Boolean.valueOf(isKeepAlive());
    } else if (option == SO_REUSEADDR) {
      return (T) Boolean.valueOf(isReuseAddress());
    } else if (option == IP_TOS) {
      return (T) Integer.valueOf(getTrafficClass());
    }
    return super.getOption(option);
  }

  @Override
  public <T> boolean setOption(ChannelOption<T> option, T value) {
    validate(option, value);
    if (option == ALLOW_HALF_CLOSURE) {
      setAllowHalfClosure((Boolean) value);
    } else if (option == SO_SNDBUF) {
      setSendBufferSize((Integer) value);
    } else if (option == SO_RCVBUF) {
      setReceiveBufferSize((Integer) value);
    } else if (option == SO_LINGER) {
      setSoLinger((Integer) value);
    } else if (option == TCP_NODELAY) {
      setTcpNoDelay((Boolean) value);
    } else if (option == SO_KEEPALIVE) {
      setKeepAlive((Boolean) value);
    } else if (option == SO_REUSEADDR) {
      setReuseAddress((Boolean) value);
    } else if (option == IP_TOS) {
      setTrafficClass((Integer) value);
    } else {
      return super.setOption(option, value);
    }
    return true;
  }

  @Override
  public boolean isAllowHalfClosure() {
    return allowHalfClosure;
  }

  @Override
  public UnixStreamChannelConfig setAllowHalfClosure(boolean allowHalfClosure) {
    this.allowHalfClosure = allowHalfClosure;
    return this;
  }

  @Override
  public int getSendBufferSize() {
    return UnixStreamChannel.socketOption(socket, StandardSocketOptions.SO_SNDBUF);
  }

  @Override
  public UnixStreamChannelConfig setSendBufferSize(int bytes) {
    UnixStreamChannel.setSocketOption(socket, StandardSocketOptions.SO_SNDBUF, bytes);
    return this;
  }

  @Override
  public int getReceiveBufferSize() {
    return UnixStreamChannel.socketOption(socket, StandardSocketOptions.SO_RCVBUF);
  }

  @Override
  public UnixStreamChannelConfig setReceiveBufferSize(int bytes) {
    UnixStreamChannel.setSocketOption(socket, StandardSocketOptions.SO_RCVBUF, bytes);
    return this;
  }

  @Override
  public int getSoLinger() {
    return UnixStreamChannel.socketOption(socket, StandardSocketOptions.SO_LINGER);
  }

  /** Accepted for a bootstrap shared with TCP; Linux ignores it on Unix sockets (no reset). */
  @Override
  public UnixStreamChannelConfig setSoLinger(int seconds) {
    UnixStreamChannel.setSocketOption(socket, StandardSocketOptions.SO_LINGER, seconds);
    return this;
  }

  /** Always true: a Unix socket sends each write at once. */
  @Override
  public boolean isTcpNoDelay() {
    return true;
  }

  /** Does nothing: there is no Nagle delay to switch off or on. */
  @Override
  public UnixStreamChannelConfig setTcpNoDelay(boolean tcpNoDelay) {
    return this;
  }

  @Override
  public boolean isKeepAlive() {
    return false;
  }

  @Override
  public UnixStreamChannelConfig setKeepAlive(boolean keepAlive) {
    if (keepAlive) {
      throw notOnUnix("SO_KEEPALIVE");
    }
    return this;
  }

  @Override
  public boolean isReuseAddress() {
    return false;
  }

  @Override
  public UnixStreamChannelConfig setReuseAddress(boolean reuseAddress) {
    if (reuseAddress) {
      throw notOnUnix("SO_REUSEADDR");
    }
    return this;
  }

  @Override
  public int getTrafficClass() {
    return 0;
  }

  @Override
  public UnixStreamChannelConfig setTrafficClass(int trafficClass) {
    if (trafficClass != 0) {
      throw notOnUnix("IP_TOS");
    }
    return this;
  }

  @Override
  public UnixStreamChannelConfig setPerformancePreferences(int connectionTime, int latency, int bandwidth) {
    return this;
  }

  private static UnsupportedOperationException notOnUnix(String option) {
    return new UnsupportedOperationException(option + " has no meaning on a Unix-domain socket");
  }

  @Override
  protected void autoReadCleared() {
    unixChannel.autoReadCleared();
  }

  // Netty's setters, returning this type as SocketChannelConfig requires.

  @Override
  public UnixStreamChannelConfig setConnectTimeoutMillis(int connectTimeoutMillis) {
    super.setConnectTimeoutMillis(connectTimeoutMillis);
    return this;
  }

  @Override
  @Deprecated
  public UnixStreamChannelConfig setMaxMessagesPerRead(int maxMessagesPerRead) {
    super.setMaxMessagesPerRead(maxMessagesPerRead);
    return this;
  }

  @Override
  public UnixStreamChannelConfig setWriteSpinCount(int writeSpinCount) {
    super.setWriteSpinCount(writeSpinCount);
    return this;
  }

  @Override
  public UnixStreamChannelConfig setAllocator(ByteBufAllocator allocator) {
    super.setAllocator(allocator);
    return this;
  }

  @Override
  public UnixStreamChannelConfig setRecvByteBufAllocator(RecvByteBufAllocator allocator) {
    super.setRecvByteBufAllocator(allocator);
    return this;
  }

  @Override
  public UnixStreamChannelConfig setAutoRead(boolean autoRead) {
    super.setAutoRead(autoRead);
    return this;
  }

  @Override
  public UnixStreamChannelConfig setAutoClose(boolean autoClose) {
    super.setAutoClose(autoClose);
    return this;
  }

  @Override
  public UnixStreamChannelConfig setMessageSizeEstimator(MessageSizeEstimator estimator) {
    super.setMessageSizeEstimator(estimator);
    return this;
  }

  @Override
  public UnixStreamChannelConfig setWriteBufferWaterMark(WriteBufferWaterMark writeBufferWaterMark) {
    super.setWriteBufferWaterMark(writeBufferWaterMark);
    return this;
  }
}

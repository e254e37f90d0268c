package dev.docktunnel.forward;

import dev.docktunnel.ssh.SessionProvider;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import dev.docktunnel.config.DocktunnelConfig.Forwarding;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The local side of the data path: binds local listeners (TCP for forwards, a Unix socket for
 * the local Docker socket) and, per accepted connection, opens an SSH channel to the listener's
 * {@link RemoteEnd} and pipes both ways ({@link ProxyConnection}).
 *
 * <p>Netty directly rather than a Vert.x NetServer: we need half-close (Vert.x closes on FIN)
 * and read-after-write-completed flow control on both sides.
 */
public final class ForwardProxy {
  /** How many connections one proxy holds at most by default; beyond it they are refused at once. */
  public static final int HOLD_LIMIT = 1024;
  /** The pool's page and chunk: 8 KiB pages, 8 KiB << 7 = 1 MiB chunks. */
  private static final int POOL_PAGE_SIZE = 8192;
  private static final int POOL_MAX_ORDER = 7;
  /**
   * Buffers of 8–32 KiB each I/O thread keeps for reuse (Netty's default is 64); MINA's threads,
   * which allocate the packet copies, keep none (they take from the arenas).
   */
  private static final int POOL_NORMAL_CACHE = 16;

  private final SessionProvider sessions;
  private final WakeOnDemand wake;
  private final ConnectionHold hold;
  private final EventLoopGroup group;
  /**
   * Pooled buffers for this proxy's sockets and the SSH packets copied to them. Netty's default
   * (adaptive) allocator pools nothing above 16.5 KiB in a JVM with less than 512 MiB of heap (its
   * low-memory mode, which -Xmx64m is), so every 64 KiB socket read and every 32 KiB packet was a
   * new zeroed direct buffer with a Cleaner, freed only by a GC (a full one once direct memory ran
   * out). One arena per I/O thread and 1 MiB chunks keep the footprint near what is in flight.
   */
  private final ByteBufAllocator allocator;
  /** Set once docktunnel stops: connection endings from then on are expected, not faults. */
  private volatile boolean stopping;

  /** A proxy holding connections for the default {@code forwarding.holdTimeout}. */
  public ForwardProxy(SessionProvider sessions, int ioThreads) {
    this(sessions, WakeOnDemand.ALWAYS_RUNNING, ioThreads, Forwarding.DEFAULT_HOLD_TIMEOUT,
        HOLD_LIMIT);
  }

  /** A proxy for a server that is always there, holding at most {@code holdLimit} connections for {@code holdTimeout}. */
  public ForwardProxy(SessionProvider sessions, int ioThreads, Duration holdTimeout, int holdLimit) {
    this(sessions, WakeOnDemand.ALWAYS_RUNNING, ioThreads, holdTimeout, holdLimit);
  }

  /**
   * @param sessions where each connection gets its SSH session
   * @param wake where a connection that finds the server stopped asks for it
   * @param ioThreads Netty I/O threads for the local side (the SSH side runs on MINA's threads)
   * @param holdTimeout how long a connection accepted while there is no session waits for one
   * @param holdLimit how many connections wait for the session (or the server) at once; more are
   *     refused at once
   */
  public ForwardProxy(SessionProvider sessions, WakeOnDemand wake, int ioThreads, Duration holdTimeout,
      int holdLimit) {
    this.sessions = sessions;
    this.wake = wake;
    this.hold = new ConnectionHold(holdTimeout, holdLimit);
    // NIO, not epoll: with half-closure allowed, Netty 4.2.18's epoll transport drops a socket
    // from epoll once the client's FIN clears its read interest, then fails the EPOLLOUT it needs
    // when the reply outgrows the socket buffer, cutting the reply's tail. Pinned by
    // ForwardProxyTest#wholeReplyArrivesAfterTheClientsFinAndAPause: a transport may return only
    // if that test passes on it.
    this.group = new MultiThreadIoEventLoopGroup(ioThreads, NioIoHandler.newFactory());
    this.allocator = new PooledByteBufAllocator(true, 0, ioThreads, POOL_PAGE_SIZE, POOL_MAX_ORDER,
        PooledByteBufAllocator.defaultSmallCacheSize(), POOL_NORMAL_CACHE, false);
  }

  /**
   * Starts listening on {@code local} (an {@link InetSocketAddress} or a
   * {@link UnixDomainSocketAddress}); each accepted connection is forwarded to {@code target} as
   * seen from the remote sshd, watched by a tap from {@code taps}. The returned future completes
   * once bound (or failed).
   */
  public ChannelFuture listen(SocketAddress local, RemoteEnd target, ConnectionTap.Factory taps,
      ForwardCounters counters, ChannelGroup connections, ConnectionLog log) {
    ServerBootstrap bootstrap = new ServerBootstrap()
        .group(group)
        .option(ChannelOption.SO_BACKLOG, 1024)
        // Reads are requested one at a time, after the previous chunk reached the SSH channel.
        .childOption(ChannelOption.AUTO_READ, false)
        .childOption(ChannelOption.ALLOCATOR, allocator)
        .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
        .childHandler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            connections.add(ch);
            ch.pipeline().addLast(new ProxyConnection(sessions, wake, hold, target, taps, counters, log, () -> stopping));
          }
        });
    if (local instanceof UnixDomainSocketAddress) {
      bootstrap.channel(UnixServerChannel.class);
    } else {
      bootstrap.channel(NioServerSocketChannel.class).childOption(ChannelOption.TCP_NODELAY, true);
    }
    return bootstrap.bind(local);
  }

  /** {@link #listen(SocketAddress, RemoteEnd, ConnectionTap.Factory, ...)} for a forward: nothing tapped. */
  ChannelFuture listen(InetSocketAddress local, ForwardTarget target, ForwardCounters counters,
      ChannelGroup connections, ConnectionLog log) {
    return listen(local, target, ConnectionTap.NONE, counters, connections, log);
  }

  /** How many connections wait for the SSH session now. Any thread. */
  int held() {
    return hold.held();
  }

  /**
   * Ends a local connection with a reset (RST, through SO_LINGER 0) rather than a FIN, so a
   * client reading to EOF cannot take a cut stream for a complete one. A Unix socket has no
   * reset: it is closed, and its HTTP client sees the response cut short. Any thread.
   */
  public static void reset(Channel connection) {
    connection.eventLoop().execute(() -> {
      if (connection.isOpen()) {
        if (connection instanceof SocketChannel) {
          connection.config().setOption(ChannelOption.SO_LINGER, 0);
        }
        connection.close();
      }
    });
  }

  /** Closes a listener; connections already accepted go on until they end. */
  public static ChannelFuture unlisten(Channel listener) {
    return listener.close();
  }

  /**
   * Marks the proxy as stopping: connections cut from now on (the session closes with
   * docktunnel) end quietly rather than as failures.
   */
  public void stopping() {
    stopping = true;
  }

  /** Stops the I/O threads; the future completes once they are gone. */
  public Future<Void> close() {
    stopping = true;
    Promise<Void> stopped = Promise.promise();
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).addListener(f -> stopped.complete());
    return stopped.future();
  }
}

package dev.docktunnel.forward;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.DefaultFileRegion;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.ChannelInputShutdownReadComplete;
import io.netty.channel.socket.DuplexChannel;
import io.netty.channel.socket.nio.NioServerDomainSocketChannel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link UnixServerChannel} and {@link UnixStreamChannel} over real socket files: half-close
 * both ways with replies larger than the socket buffers, endings, concurrency and the backlog,
 * addresses, settings. Plain JDK clients unless the Netty client is what is tested.
 */
class UnixStreamChannelTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(20);
  /** The client is busy for this long after its FIN: part of the scenario, not a wait. */
  private static final Duration PAUSE = Duration.ofMillis(200);
  private static final byte[] REQUEST = "GET".getBytes();

  private static final EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
  private static final ExecutorService threads = Executors.newCachedThreadPool();
  private static final ScheduledExecutorService watchdog = Executors.newSingleThreadScheduledExecutor();

  @TempDir
  Path dir;
  private final List<Channel> servers = new ArrayList<>();
  private final BlockingQueue<Seen> accepted = new LinkedBlockingQueue<>();
  private final List<Channel> children = new CopyOnWriteArrayList<>();

  @AfterEach
  void closeServers() {
    servers.forEach(s -> s.close().awaitUninterruptibly(TIMEOUT.toMillis()));
    children.forEach(c -> c.close().awaitUninterruptibly(TIMEOUT.toMillis()));
  }

  @AfterAll
  static void stop() throws Exception {
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS);
    threads.shutdownNow();
    watchdog.shutdownNow();
  }

  /**
   * The case that breaks: the client sends its request, half-closes and pauses; the server
   * answers only after the FIN, with far more than the socket buffers hold. The whole reply must
   * arrive, byte-exact, then EOF; the server sees the FIN as input shutdown with its channel open.
   */
  @Test
  void wholeReplyArrivesAfterTheClientsFinAndAPause() throws Exception {
    Path socket = dir.resolve("eof.sock");
    byte[] reply = Streams.random(8 << 20, 7);
    // Odd rounds write the reply as 1000-byte slices: many buffers per gathering write, and
    // short writes that end inside a buffer.
    int[] round = {0};
    serve(socket, UnixServerChannel.class, false, true, () -> new ReplyOnEof(reply, round[0]++ % 2 == 0 ? reply.length : 1000));
    for (int i = 0; i < 6; i++) {
      byte[] back = requestThenPauseAndRead(socket, REQUEST, PAUSE);
      assertEquals(reply.length, back.length, "reply length of connection " + i);
      assertArrayEquals(Streams.sha256(reply), Streams.sha256(back), "reply digest of connection " + i);
      Seen seen = next();
      assertEquals("active=true input=true output=false", await(seen.inputShutdown, "input shutdown"));
      assertEquals(REQUEST.length, seen.bytesRead.get());
      await(seen.readComplete, "input shutdown read complete");
      await(seen.inactive, "channel inactive after both directions ended");
      assertEquals(List.of(), seen.errors);
    }
  }

  /** The reply is already being written when the FIN comes (docker exec -i with stdin EOF). */
  @Test
  void replyRacingTheFinArrivesWhole() throws Exception {
    Path socket = dir.resolve("race.sock");
    byte[] reply = Streams.random(8 << 20, 8);
    serve(socket, UnixServerChannel.class, true, true, () -> new ReplyOnRequest(REQUEST.length, reply));
    byte[] back = requestThenPauseAndRead(socket, REQUEST, PAUSE);
    assertEquals(reply.length, back.length);
    assertArrayEquals(Streams.sha256(reply), Streams.sha256(back));
    Seen seen = next();
    await(seen.inputShutdown, "input shutdown");
    await(seen.replyWritten, "reply written");
  }

  /**
   * Why {@link UnixStreamChannel} exists: Netty 4.2.17's own domain socket channel, told to
   * allow half-closure, still closes on the FIN and cuts the reply. If this starts failing, Netty
   * fixed it and our channel may go.
   */
  @Test
  void nettysDomainSocketChannelCutsTheReplyAtTheFin() throws Exception {
    Path socket = dir.resolve("netty.sock");
    byte[] reply = Streams.random(8 << 20, 9);
    serve(socket, NioServerDomainSocketChannel.class, true, true, () -> new ReplyOnRequest(REQUEST.length, reply));
    byte[] back = requestThenPauseAndRead(socket, REQUEST, PAUSE);
    Seen seen = next();
    await(seen.inactive, "channel inactive");
    assertTrue(back.length < reply.length, "Netty's channel delivered the whole reply: " + back.length + " bytes");
    assertFalse(seen.inputShutdown.isDone(), "Netty's channel reported an input shutdown");
    assertTrue(seen.replyWritten.isCompletedExceptionally(), "the cut reply's write did not fail");
  }

  /** Our FIN gives the client EOF; the client still writes, and we still read it all. */
  @Test
  void serverShutdownOutputGivesTheClientEofWhileTheClientStillWrites() throws Exception {
    Path socket = dir.resolve("greet.sock");
    serve(socket, UnixServerChannel.class, false, true, GreetThenHalfClose::new);
    byte[] upload = Streams.random(4 << 20, 10);
    try (SocketChannel client = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
      assertEquals("hello", new String(bounded(client, "the greeting and EOF", () -> readToEof(client))));
      Seen seen = next();
      assertEquals("active=true input=false output=true shutdown=false", await(seen.outputShutdown, "output shutdown"));
      CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> {
        try {
          writeAll(client, upload);
          client.shutdownOutput();
        } catch (IOException e) {
          throw new IllegalStateException("upload failed", e);
        }
      }, threads);
      assertEquals("active=true input=true output=true shutdown=true", await(seen.inputShutdown, "input shutdown"));
      await(sent, "upload");
      assertEquals(upload.length, seen.bytesRead.get());
      assertArrayEquals(Streams.sha256(upload), seen.digest.get());
      await(seen.inactive, "channel inactive");
    }
  }

  /** Without half-closure the peer's close (or FIN) ends the channel at once. */
  @Test
  void peersCloseWithoutHalfClosureFiresChannelInactive() throws Exception {
    Path socket = dir.resolve("close.sock");
    serve(socket, UnixServerChannel.class, true, false, Reader::new);
    try (SocketChannel client = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
      writeAll(client, REQUEST);
    }
    Seen seen = next();
    await(seen.inactive, "channel inactive");
    assertFalse(seen.inputShutdown.isDone());
    assertEquals(REQUEST.length, seen.bytesRead.get());
  }

  /**
   * With half-closure the peer's close first reads as its FIN; our next write then fails as the
   * client gone (a broken pipe, which {@link LocalSocketErrors} knows) and the channel ends.
   */
  @Test
  void writeAfterThePeersCloseFailsAsClientGoneAndEndsTheChannel() throws Exception {
    Path socket = dir.resolve("gone.sock");
    serve(socket, UnixServerChannel.class, true, true, () -> new ReplyOnEof(Streams.random(1024, 11)));
    try (SocketChannel client = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
      writeAll(client, REQUEST);
    }
    Seen seen = next();
    await(seen.inputShutdown, "input shutdown");
    Throwable failed = awaitFailure(seen.replyWritten, "the reply's write");
    assertTrue(LocalSocketErrors.isClientGone(failed), "not seen as the client gone: " + failed);
    await(seen.inactive, "channel inactive");
  }

  /**
   * The client closes with our bytes unread in its buffer, the nearest a Unix socket has to a
   * reset, while we still owe it more than the buffers hold: the channel ends by itself, and
   * what it reports is the client gone.
   */
  @Test
  void abruptCloseWhileTheServerWritesEndsTheChannel() throws Exception {
    Path socket = dir.resolve("abrupt.sock");
    serve(socket, UnixServerChannel.class, true, true, () -> new ReplyOnRequest(REQUEST.length, Streams.random(8 << 20, 12)));
    try (SocketChannel client = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
      writeAll(client, REQUEST);
      bounded(client, "the first reply bytes", () -> client.read(ByteBuffer.allocate(1)));
    }
    Seen seen = next();
    await(seen.inactive, "channel inactive");
    Throwable failed = awaitFailure(seen.replyWritten, "the reply's write");
    assertTrue(LocalSocketErrors.isClientGone(failed), "not seen as the client gone: " + failed);
    for (Throwable error : seen.errors) {
      assertTrue(LocalSocketErrors.isClientGone(error), "not seen as the client gone: " + error);
    }
  }

  /**
   * The same abrupt close on an idle connection: the read fails with "Connection reset", which
   * the handler sees (ProxyConnection ends the connection on it).
   */
  @Test
  void abruptCloseOfAnIdleConnectionIsSeenAsAReset() throws Exception {
    Path socket = dir.resolve("idle.sock");
    serve(socket, UnixServerChannel.class, true, true, () -> new ReplyOnRequest(REQUEST.length, "unread".getBytes()));
    try (SocketChannel client = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
      writeAll(client, REQUEST);
      Seen seen = next();
      await(seen.replyWritten, "the reply written");
      client.close(); // "unread" is still in the client's buffer
      Throwable reset = await(seen.firstError, "an error from the reset");
      assertInstanceOf(SocketException.class, reset);
      assertTrue(LocalSocketErrors.isClientGone(reset), "not seen as the client gone: " + reset);
    }
  }

  /** 32 clients at once, connected before the server accepts any, all echoed byte-exact. */
  @Test
  void manyConcurrentConnectionsAreAllServed() throws Exception {
    Path socket = dir.resolve("many.sock");
    Channel server = new ServerBootstrap().group(group).channel(UnixServerChannel.class)
        .option(ChannelOption.SO_BACKLOG, 64)
        .option(ChannelOption.AUTO_READ, false) // not accepting yet: the connects queue
        .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
        .childOption(ChannelOption.AUTO_READ, false)
        .childHandler(initializer(Echo::new))
        .bind(UnixDomainSocketAddress.of(socket)).sync().channel();
    servers.add(server);
    List<SocketChannel> clients = new ArrayList<>();
    try {
      for (int i = 0; i < 32; i++) {
        clients.add(SocketChannel.open(UnixDomainSocketAddress.of(socket)));
      }
      server.config().setAutoRead(true);
      List<CompletableFuture<Void>> streams = new ArrayList<>();
      for (int i = 0; i < clients.size(); i++) {
        SocketChannel client = clients.get(i);
        byte[] data = Streams.random(512 * 1024, 100 + i);
        int n = i;
        streams.add(CompletableFuture.runAsync(() -> {
          try {
            CompletableFuture<byte[]> back = CompletableFuture.supplyAsync(() -> {
              try {
                return bounded(client, "echo of client " + n, () -> readToEof(client));
              } catch (IOException e) {
                throw new IllegalStateException(e);
              }
            }, threads);
            writeAll(client, data);
            client.shutdownOutput();
            assertArrayEquals(Streams.sha256(data), Streams.sha256(back.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)),
                "echo of client " + n);
          } catch (Exception e) {
            throw new IllegalStateException("client " + n + ": " + e, e);
          }
        }, threads));
      }
      CompletableFuture.allOf(streams.toArray(CompletableFuture[]::new)).get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } finally {
      for (SocketChannel client : clients) {
        client.close();
      }
    }
    assertEquals(32, accepted.size());
  }

  /**
   * SO_BACKLOG reaches the socket: with nothing accepted, Linux queues backlog + 1 connects
   * and refuses the next non-blocking one with EAGAIN (Go's docker CLI fails then, it does not
   * wait), and all queued ones are served once the server accepts.
   */
  @Test
  void backlogBoundsTheAcceptQueue() throws Exception {
    Path socket = dir.resolve("backlog.sock");
    Channel server = new ServerBootstrap().group(group).channel(UnixServerChannel.class)
        .option(ChannelOption.SO_BACKLOG, 3)
        .option(ChannelOption.AUTO_READ, false)
        .childHandler(initializer(Reader::new))
        .bind(UnixDomainSocketAddress.of(socket)).sync().channel();
    servers.add(server);
    assertEquals(3, server.config().getOption(ChannelOption.SO_BACKLOG));
    List<SocketChannel> clients = new ArrayList<>();
    try {
      IOException refused = null;
      for (int i = 0; i < 8 && refused == null; i++) {
        SocketChannel client = SocketChannel.open(StandardProtocolFamily.UNIX);
        client.configureBlocking(false);
        try {
          assertTrue(client.connect(UnixDomainSocketAddress.of(socket)), "a Unix connect is queued or refused, not pending");
          clients.add(client);
        } catch (IOException e) {
          refused = e;
          client.close();
        }
      }
      assertEquals(4, clients.size(), "connects queued with SO_BACKLOG 3");
      assertTrue(String.valueOf(refused).contains("Resource temporarily unavailable"), "refused with " + refused);
      server.config().setAutoRead(true);
      for (int i = 0; i < 4; i++) {
        await(next().active, "connection " + i + " accepted");
      }
    } finally {
      for (SocketChannel client : clients) {
        client.close();
      }
    }
  }

  /**
   * Our shutdownInput on a Unix socket also ends the peer's sending side (unlike TCP's SHUT_RD):
   * the client's next write fails with a broken pipe, while it still reads what we send.
   */
  @Test
  void shutdownInputEndsThePeersSending() throws Exception {
    Path socket = dir.resolve("shutin.sock");
    CompletableFuture<String> shut = new CompletableFuture<>();
    serve(socket, UnixServerChannel.class, true, true, () -> new Reader() {
      @Override
      public void channelActive(ChannelHandlerContext ctx) {
        super.channelActive(ctx);
        UnixStreamChannel ch = (UnixStreamChannel) ctx.channel();
        ch.shutdownInput().addListener(f -> {
          shut.complete("ok=" + f.isSuccess() + " " + state(ch));
          reply(ctx, "still here".getBytes());
        });
      }
    });
    try (SocketChannel client = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
      assertEquals("ok=true active=true input=true output=false", await(shut, "shutdownInput"));
      IOException refused = assertThrows(IOException.class, () -> writeAll(client, REQUEST));
      assertTrue(LocalSocketErrors.isClientGone(refused), "not a broken pipe: " + refused);
      assertEquals("still here", new String(bounded(client, "the reply and EOF", () -> readToEof(client))));
    }
  }

  /** A file region goes out whole (FileChannel.transferTo onto the socket). */
  @Test
  void aFileRegionIsSentWhole() throws Exception {
    Path socket = dir.resolve("file.sock");
    Path file = dir.resolve("payload");
    byte[] payload = Streams.random(3 << 20, 14);
    Files.write(file, payload);
    serve(socket, UnixServerChannel.class, true, true, () -> new SendFile(file));
    try (SocketChannel client = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
      byte[] back = bounded(client, "the file and EOF", () -> readToEof(client));
      assertArrayEquals(Streams.sha256(payload), Streams.sha256(back));
    }
    await(next().replyWritten, "the file region written");
  }

  /** Our channel as a client: connect, send, half-close, read the whole reply after our FIN. */
  @Test
  void nettyClientHalfClosesToo() throws Exception {
    Path socket = dir.resolve("client.sock");
    byte[] reply = Streams.random(8 << 20, 13);
    serve(socket, UnixServerChannel.class, false, true, () -> new ReplyOnEof(reply));
    Received received = new Received();
    Channel client = new Bootstrap().group(group).channel(UnixStreamChannel.class)
        .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
        .handler(received)
        .connect(UnixDomainSocketAddress.of(socket)).sync().channel();
    try {
      assertInstanceOf(UnixStreamChannel.class, client);
      client.writeAndFlush(Unpooled.wrappedBuffer(REQUEST)).sync();
      UnixStreamChannel unix = (UnixStreamChannel) client;
      unix.shutdownOutput().sync();
      assertTrue(unix.isOutputShutdown());
      assertFalse(unix.isInputShutdown());
      byte[] back = await(received.all, "the whole reply");
      assertArrayEquals(Streams.sha256(reply), Streams.sha256(back));
      assertTrue(unix.isShutdown());
      assertTrue(unix.isActive(), "half-closed both ways, not closed");
    } finally {
      client.close().sync();
    }
    assertFalse(client.isActive());
  }

  @Test
  void addressesAreUnixPathsAndTheSocketFileIsTheCallers() throws Exception {
    Path socket = dir.resolve("addr.sock");
    Channel server = serve(socket, UnixServerChannel.class, true, true, Reader::new);
    assertEquals(UnixDomainSocketAddress.of(socket), server.localAddress());
    try (SocketChannel client = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
      Channel child = await(next().active, "accepted");
      assertEquals(UnixDomainSocketAddress.of(socket), child.localAddress());
      assertEquals(UnixDomainSocketAddress.of(""), child.remoteAddress(), "an unbound client has no path");
    }

    BindException taken = assertThrows(BindException.class, () -> new ServerBootstrap().group(group)
        .channel(UnixServerChannel.class).childHandler(new Reader())
        .bind(UnixDomainSocketAddress.of(socket)).sync());
    assertTrue(taken.getMessage().contains("Address already in use"), taken.getMessage());

    server.close().sync();
    assertTrue(Files.exists(socket), "closing the server removed the socket file");

    IllegalArgumentException notUnix = assertThrows(IllegalArgumentException.class, () -> new ServerBootstrap()
        .group(group).channel(UnixServerChannel.class).childHandler(new Reader())
        .bind(new InetSocketAddress("127.0.0.1", 0)).sync());
    assertTrue(notUnix.getMessage().contains("UnixDomainSocketAddress"), notUnix.getMessage());
  }

  @Test
  void settingsAreRealOrExplicitlyNotOnUnix() throws Exception {
    try (SocketChannel socket = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      UnixStreamChannelConfig config = new UnixStreamChannel(socket).config();
      assertFalse(config.getOption(ChannelOption.ALLOW_HALF_CLOSURE));
      assertTrue(config.setOption(ChannelOption.ALLOW_HALF_CLOSURE, true));
      assertTrue(config.isAllowHalfClosure());

      int before = config.getSendBufferSize();
      config.setOption(ChannelOption.SO_SNDBUF, before * 4);
      assertTrue(config.getOption(ChannelOption.SO_SNDBUF) >= before * 4, "SO_SNDBUF not applied");
      config.setOption(ChannelOption.SO_RCVBUF, 1 << 20);
      assertTrue(config.getReceiveBufferSize() >= 1 << 20, "SO_RCVBUF not applied");
      assertTrue(config.setOption(ChannelOption.SO_LINGER, 0));
      assertEquals(0, config.getSoLinger());

      assertTrue(config.setOption(ChannelOption.TCP_NODELAY, false));
      assertTrue(config.getOption(ChannelOption.TCP_NODELAY), "a Unix socket never delays");
      assertTrue(config.setOption(ChannelOption.SO_KEEPALIVE, false));
      assertThrows(UnsupportedOperationException.class, () -> config.setOption(ChannelOption.SO_KEEPALIVE, true));
      assertThrows(UnsupportedOperationException.class, () -> config.setOption(ChannelOption.IP_TOS, 0x10));
      assertThrows(UnsupportedOperationException.class, () -> config.setOption(ChannelOption.SO_REUSEADDR, true));
      assertTrue(config.getOptions().containsKey(ChannelOption.SO_SNDBUF));
    }
    try (SocketChannel tcp = SocketChannel.open()) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new UnixStreamChannel(tcp));
      assertTrue(e.getMessage().contains("UNIX-family"), e.getMessage());
    }
  }

  // --- servers and what they saw ---------------------------------------------------------------

  private Channel serve(Path socket, Class<? extends ServerChannel> type, boolean autoRead, boolean halfClosure,
      Supplier<ChannelHandler> handler) throws InterruptedException {
    Channel server = new ServerBootstrap().group(group).channel(type)
        .option(ChannelOption.SO_BACKLOG, 64)
        .childOption(ChannelOption.ALLOW_HALF_CLOSURE, halfClosure)
        .childOption(ChannelOption.AUTO_READ, autoRead)
        .childHandler(initializer(handler))
        .bind(UnixDomainSocketAddress.of(socket)).sync().channel();
    servers.add(server);
    return server;
  }

  private static ChannelInitializer<Channel> initializer(Supplier<ChannelHandler> handler) {
    return new ChannelInitializer<>() {
      @Override
      protected void initChannel(Channel ch) {
        ch.pipeline().addLast(handler.get());
      }
    };
  }

  private Seen next() throws InterruptedException {
    Seen seen = accepted.poll(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    if (seen == null) {
      fail("no connection accepted within " + TIMEOUT);
    }
    return seen;
  }

  /** What one accepted connection went through, as seen on its event loop. */
  static final class Seen {
    final CompletableFuture<Channel> active = new CompletableFuture<>();
    final CompletableFuture<String> inputShutdown = new CompletableFuture<>();
    final CompletableFuture<Void> readComplete = new CompletableFuture<>();
    final CompletableFuture<String> outputShutdown = new CompletableFuture<>();
    final CompletableFuture<Void> replyWritten = new CompletableFuture<>();
    final CompletableFuture<Void> inactive = new CompletableFuture<>();
    final CompletableFuture<Throwable> firstError = new CompletableFuture<>();
    final CompletableFuture<byte[]> digest = new CompletableFuture<>();
    final List<Throwable> errors = new CopyOnWriteArrayList<>();
    final AtomicLong bytesRead = new AtomicLong();
  }

  /** Reads everything (asking for each read when auto-read is off) and records the events. */
  class Reader extends ChannelInboundHandlerAdapter {
    final Seen seen = new Seen();
    private final MessageDigest sha256 = sha256();

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      children.add(ctx.channel());
      accepted.add(seen);
      seen.active.complete(ctx.channel());
      ctx.read();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ByteBuf buf = (ByteBuf) msg;
      seen.bytesRead.addAndGet(buf.readableBytes());
      sha256.update(buf.nioBuffer());
      buf.release();
      received(ctx);
    }

    void received(ChannelHandlerContext ctx) {
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      if (!((DuplexChannel) ctx.channel()).isInputShutdown()) {
        ctx.read();
      }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof ChannelInputShutdownEvent) {
        seen.inputShutdown.complete(state(ctx.channel()));
        seen.digest.complete(sha256.digest());
        ctx.read(); // for the read-complete event
        inputEnded(ctx);
      } else if (evt instanceof ChannelInputShutdownReadComplete) {
        seen.readComplete.complete(null);
      }
    }

    void inputEnded(ChannelHandlerContext ctx) {
    }

    String state(Channel ch) {
      DuplexChannel duplex = (DuplexChannel) ch;
      return "active=" + ch.isActive() + " input=" + duplex.isInputShutdown() + " output=" + duplex.isOutputShutdown();
    }

    /** Writes {@code reply}, then sends our FIN; closes once the peer's FIN came too. */
    void reply(ChannelHandlerContext ctx, byte[] reply) {
      reply(ctx, reply, reply.length);
    }

    /** The same, written as slices of {@code slice} bytes and flushed once. */
    void reply(ChannelHandlerContext ctx, byte[] reply, int slice) {
      ChannelFuture last = null;
      for (int off = 0; off < reply.length; off += slice) {
        last = ctx.write(Unpooled.wrappedBuffer(reply, off, Math.min(slice, reply.length - off)));
      }
      ctx.flush();
      then(ctx, last);
    }

    /** After {@code last} (the reply's last write), sends our FIN; closes once the peer's came too. */
    void then(ChannelHandlerContext ctx, ChannelFuture last) {
      last.addListener((ChannelFutureListener) written -> {
        if (!written.isSuccess()) {
          seen.replyWritten.completeExceptionally(written.cause());
          return;
        }
        seen.replyWritten.complete(null);
        ((DuplexChannel) written.channel()).shutdownOutput().addListener(shut -> {
          seen.outputShutdown.complete(state(ctx.channel()));
          seen.inputShutdown.thenRun(ctx::close);
        });
      });
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      seen.errors.add(cause);
      seen.firstError.complete(cause);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      seen.inactive.complete(null);
    }
  }

  /** Answers once the peer's FIN came, like a server reading the request to EOF. */
  class ReplyOnEof extends Reader {
    private final byte[] reply;
    private final int slice;

    ReplyOnEof(byte[] reply) {
      this(reply, reply.length);
    }

    ReplyOnEof(byte[] reply, int slice) {
      this.reply = reply;
      this.slice = slice;
    }

    @Override
    void inputEnded(ChannelHandlerContext ctx) {
      reply(ctx, reply, slice);
    }
  }

  /** Sends a file as a {@link DefaultFileRegion} on connect, then half-closes. */
  class SendFile extends Reader {
    private final Path file;

    SendFile(Path file) {
      this.file = file;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      super.channelActive(ctx);
      then(ctx, ctx.writeAndFlush(new DefaultFileRegion(file.toFile(), 0, file.toFile().length())));
    }
  }

  /** Answers as soon as the request is in, racing the peer's FIN. */
  class ReplyOnRequest extends Reader {
    private final int requestLength;
    private final byte[] reply;
    private boolean replied;

    ReplyOnRequest(int requestLength, byte[] reply) {
      this.requestLength = requestLength;
      this.reply = reply;
    }

    @Override
    void received(ChannelHandlerContext ctx) {
      if (!replied && seen.bytesRead.get() >= requestLength) {
        replied = true;
        reply(ctx, reply);
      }
    }
  }

  /** Says hello and half-closes at once, then reads the client's upload to its EOF. */
  class GreetThenHalfClose extends Reader {
    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      super.channelActive(ctx);
      reply(ctx, "hello".getBytes());
    }

    @Override
    String state(Channel ch) {
      return super.state(ch) + " shutdown=" + ((DuplexChannel) ch).isShutdown();
    }
  }

  /** Echoes with backpressure (reads again once the write completed) and passes the FIN on. */
  class Echo extends Reader {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ctx.writeAndFlush(msg).addListener((ChannelFutureListener) written -> {
        if (written.isSuccess()) {
          ctx.read();
        } else {
          seen.errors.add(written.cause());
          ctx.close();
        }
      });
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      // the next read is asked for when the write completed
    }

    @Override
    void inputEnded(ChannelHandlerContext ctx) {
      ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener((ChannelFutureListener) flushed ->
          ((DuplexChannel) ctx.channel()).shutdownOutput().addListener(shut -> ctx.close()));
    }
  }

  /** A client handler collecting the reply until the server's FIN. */
  static final class Received extends ChannelInboundHandlerAdapter {
    final CompletableFuture<byte[]> all = new CompletableFuture<>();
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ByteBuf buf = (ByteBuf) msg;
      byte[] chunk = new byte[buf.readableBytes()];
      buf.readBytes(chunk);
      buf.release();
      bytes.writeBytes(chunk);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof ChannelInputShutdownEvent) {
        all.complete(bytes.toByteArray());
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      all.completeExceptionally(cause);
    }
  }

  // --- JDK clients, every blocking call bounded -------------------------------------------------

  interface IoCall<T> {
    T call() throws IOException;
  }

  /** Runs a blocking call on {@code client}; closes the client if it takes longer than TIMEOUT. */
  static <T> T bounded(SocketChannel client, String what, IoCall<T> call) throws IOException {
    ScheduledFuture<?> cut = watchdog.schedule(() -> {
      try {
        client.close();
      } catch (IOException e) {
        // closing only to unblock the call
      }
    }, TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    try {
      return call.call();
    } catch (AsynchronousCloseException e) {
      throw new AssertionError(what + ": nothing within " + TIMEOUT, e);
    } finally {
      cut.cancel(false);
    }
  }

  static byte[] requestThenPauseAndRead(Path socket, byte[] request, Duration pause) throws Exception {
    try (SocketChannel client = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
      writeAll(client, request);
      client.shutdownOutput();
      Thread.sleep(pause.toMillis()); // part of the scenario: the client is busy, not reading
      return bounded(client, "the reply and EOF", () -> readToEof(client));
    }
  }

  static void writeAll(SocketChannel client, byte[] data) throws IOException {
    ByteBuffer buf = ByteBuffer.wrap(data);
    bounded(client, "a write", () -> {
      while (buf.hasRemaining()) {
        client.write(buf);
      }
      return null;
    });
  }

  static byte[] readToEof(SocketChannel client) throws IOException {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
    while (client.read(buf) >= 0) {
      all.write(buf.array(), 0, buf.position());
      buf.clear();
    }
    return all.toByteArray();
  }

  static <T> T await(CompletableFuture<T> future, String what) throws Exception {
    try {
      return future.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new AssertionError(what + ": not within " + TIMEOUT, e);
    }
  }

  static Throwable awaitFailure(CompletableFuture<?> future, String what) throws Exception {
    try {
      future.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      throw new AssertionError(what + " succeeded");
    } catch (java.util.concurrent.ExecutionException e) {
      return e.getCause();
    } catch (java.util.concurrent.TimeoutException e) {
      throw new AssertionError(what + ": no outcome within " + TIMEOUT, e);
    }
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}

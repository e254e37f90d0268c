package dev.docktunnel.forward;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.Channel;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.io.IOException;
import java.lang.ref.WeakReference;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.sshd.common.channel.ChannelListener;
import org.apache.sshd.common.session.ConnectionService;
import org.apache.sshd.common.session.helpers.AbstractConnectionService;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The proxy against an in-process MINA sshd and plain socket servers: data integrity,
 * concurrency, local half-close, counters, failure isolation. Remote half-close needs OpenSSH
 * (MINA's server closes the whole channel on the target's FIN), so it is tested on the testbed.
 */
class ForwardProxyTest {
  private static final Duration TIMEOUT = InProcessSsh.TIMEOUT;

  @TempDir
  static Path tmp;
  static InProcessSsh ssh;
  static ForwardProxy proxy;
  static final ExecutorService threads = Executors.newCachedThreadPool();

  @BeforeAll
  static void start() throws Exception {
    ssh = new InProcessSsh(tmp);
    proxy = new ForwardProxy(ssh.sessions(), 2);
  }

  @AfterAll
  static void stop() throws Exception {
    proxy.close().await(10, TimeUnit.SECONDS);
    threads.shutdownNow();
    ssh.close();
  }

  static int listen(int remotePort, ForwardCounters counters) throws Exception {
    Channel listener = proxy.listen(new InetSocketAddress("127.0.0.1", 0),
        new ForwardTarget("127.0.0.1", remotePort), counters,
        new DefaultChannelGroup(GlobalEventExecutor.INSTANCE), (e, p, i, o) -> { }).sync().channel();
    return ((InetSocketAddress) listener.localAddress()).getPort();
  }

  /**
   * The client sends a request, half-closes, and reads only after a pause, while the server owes
   * it far more than a socket buffer: the proxy must write the whole reply after the client's FIN.
   * Netty 4.2.18's epoll transport lost the tail here (the fd left epoll once the FIN cleared its
   * read interest, so the later EPOLLOUT registration failed with ENOENT); the proxy uses NIO for
   * that reason, and this test decides whether another transport may come back.
   */
  @Test
  void wholeReplyArrivesAfterTheClientsFinAndAPause() throws Exception {
    byte[] reply = Streams.random(8 << 20, 7);
    ForwardCounters counters = new ForwardCounters();
    int port = listen(ssh.serve(s -> {
      try {
        s.getInputStream().readAllBytes();
        s.getOutputStream().write(reply);
      } catch (IOException e) {
        // peer went away: the client's assertion says what was lost
      }
    }), counters);
    for (int i = 0; i < 10; i++) {
      byte[] back = Streams.requestThenPauseAndRead(port, "GET".getBytes(), Duration.ofMillis(200), TIMEOUT);
      assertEquals(reply.length, back.length, "reply length of connection " + i);
      assertArrayEquals(Streams.sha256(reply), Streams.sha256(back), "reply digest of connection " + i);
    }
    assertEquals(0, counters.connectionsFailed());
  }

  /**
   * A tap holds the stream to the client at a byte offset: the client gets exactly the bytes
   * before it (the rest waits, also past the remote's EOF), then all of it once the tap lets go,
   * byte-exact and in order; the tap saw every byte both ways. (The held bytes keep their SSH
   * window, so what is held stays under MINA's 2 MiB window here.)
   */
  @Test
  void aTapHoldsTheClientsStreamAtAnOffsetUntilItLetsGo() throws Exception {
    byte[] reply = Streams.random(1_500_000, 11);
    int holdAt = 1_000_000;
    CompletableFuture<Runnable> letGo = new CompletableFuture<>();
    long[] seen = new long[2]; // written on the connection's loop only
    long[] limit = {holdAt};
    CompletableFuture<Long> clientBytesSeen = new CompletableFuture<>();
    ConnectionTap.Factory taps = (local, limitRaised) -> new ConnectionTap() {
      @Override
      public void fromClient(io.netty.buffer.ByteBuf bytes) {
        seen[0] += bytes.readableBytes();
      }

      @Override
      public void fromRemote(io.netty.buffer.ByteBuf bytes) {
        seen[1] += bytes.readableBytes();
        if (seen[1] == reply.length) {
          letGo.complete(() -> local.eventLoop().execute(() -> {
            limit[0] = Long.MAX_VALUE;
            limitRaised.run(); // on the connection's loop, as the tap contract says
          }));
        }
      }

      @Override
      public long clientLimit() {
        return limit[0];
      }

      @Override
      public void closed() {
        clientBytesSeen.complete(seen[0]);
      }
    };
    int remote = ssh.serve(s -> {
      try {
        s.getInputStream().readNBytes(3);
        s.getOutputStream().write(reply);
        s.shutdownOutput();
        s.getInputStream().readAllBytes();
      } catch (IOException e) {
        // peer went away: the client's assertion says what was lost
      }
    });
    Channel listener = proxy.listen(new InetSocketAddress("127.0.0.1", 0), new ForwardTarget("127.0.0.1", remote),
        taps, new ForwardCounters(), new DefaultChannelGroup(GlobalEventExecutor.INSTANCE), (e, p, i, o) -> { })
        .sync().channel();
    try (Socket client = new Socket("127.0.0.1", ((InetSocketAddress) listener.localAddress()).getPort())) {
      client.setSoTimeout((int) TIMEOUT.toMillis());
      client.getOutputStream().write("GET".getBytes());
      byte[] before = client.getInputStream().readNBytes(holdAt);
      assertArrayEquals(java.util.Arrays.copyOf(reply, holdAt), before);
      // The whole reply reached the proxy (and its EOF): still nothing past the offset may arrive.
      Runnable release = letGo.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      client.setSoTimeout(300);
      assertThrows(java.net.SocketTimeoutException.class, () -> client.getInputStream().read(),
          "a byte past the hold arrived");
      client.setSoTimeout((int) TIMEOUT.toMillis());
      release.run();
      byte[] rest = client.getInputStream().readAllBytes();
      assertArrayEquals(java.util.Arrays.copyOfRange(reply, holdAt, reply.length), rest);
    } finally {
      ForwardProxy.unlisten(listener);
    }
    assertEquals(3, clientBytesSeen.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS));
  }

  /**
   * Key exchanges forced back to back while streams write and remote closes race them. MINA
   * holds channel-data writes of non-MINA threads during a key exchange; a writer that held a
   * lock the reader thread needed (for the peer's CLOSE) then stopped the key exchange, and with
   * it every forward, for good.
   */
  @Test
  void keyExchangesRacingWritersAndClosesNeverStall() throws Exception {
    int echo = ssh.serve(InProcessSsh::echo);
    int hangsUp = ssh.serve(s -> {
      try {
        s.getInputStream().readNBytes(256 * 1024);
      } catch (IOException e) {
        // peer went away
      }
    });
    int echoPort = listen(echo, new ForwardCounters());
    int hangUpPort = listen(hangsUp, new ForwardCounters());
    var rekeying = new java.util.concurrent.atomic.AtomicBoolean(true);
    CompletableFuture<Void> rekeys = CompletableFuture.runAsync(() -> {
      while (rekeying.get()) {
        try {
          ssh.session.reExchangeKeys().await(TIMEOUT);
        } catch (IOException e) {
          throw new IllegalStateException("key exchange failed", e);
        }
      }
    }, threads);
    try {
      for (int round = 0; round < 3; round++) {
        List<CompletableFuture<Void>> streams = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
          byte[] data = Streams.random(2 << 20, round * 100 + i);
          streams.add(CompletableFuture.runAsync(() -> {
            try {
              byte[] back = Streams.roundTrip(echoPort, data, TIMEOUT, threads);
              assertArrayEquals(Streams.sha256(data), Streams.sha256(back), "echoed stream differs");
            } catch (Exception e) {
              throw new IllegalStateException(e);
            }
          }, threads));
          streams.add(CompletableFuture.runAsync(() -> Streams.sendUntilRefused(hangUpPort, data, TIMEOUT), threads));
        }
        CompletableFuture.allOf(streams.toArray(CompletableFuture[]::new)).get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      }
    } finally {
      rekeying.set(false);
    }
    rekeys.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    assertTrue(ssh.session.isOpen());
  }

  /**
   * The session dies under an idle and a busy connection: both are reset, never ended with a
   * FIN that would pass a cut stream off as complete.
   */
  @Test
  void lostSessionResetsIdleAndBusyConnections(@TempDir Path dir) throws Exception {
    try (InProcessSsh own = new InProcessSsh(dir)) {
      ForwardProxy ownProxy = new ForwardProxy(own.sessions(), 1);
      try {
        ForwardCounters counters = new ForwardCounters();
        int quiet = own.serve(s -> {
          try {
            s.getInputStream().read(); // holds the connection open, sending nothing
          } catch (IOException e) {
            // ended by the session's loss
          }
        });
        byte[] chunk = Streams.random(64 * 1024, 3);
        int endless = own.serve(s -> {
          try {
            while (true) {
              s.getOutputStream().write(chunk);
            }
          } catch (IOException e) {
            // ended by the session's loss
          }
        });
        int quietPort = ((InetSocketAddress) ownProxy.listen(new InetSocketAddress("127.0.0.1", 0),
            new ForwardTarget("127.0.0.1", quiet), counters, new DefaultChannelGroup(GlobalEventExecutor.INSTANCE),
            (e, p, i, o) -> { }).sync().channel().localAddress()).getPort();
        int busyPort = ((InetSocketAddress) ownProxy.listen(new InetSocketAddress("127.0.0.1", 0),
            new ForwardTarget("127.0.0.1", endless), counters, new DefaultChannelGroup(GlobalEventExecutor.INSTANCE),
            (e, p, i, o) -> { }).sync().channel().localAddress()).getPort();
        try (Socket idle = new Socket("127.0.0.1", quietPort); Socket busy = new Socket("127.0.0.1", busyPort)) {
          idle.setSoTimeout((int) TIMEOUT.toMillis());
          busy.setSoTimeout((int) TIMEOUT.toMillis());
          busy.getInputStream().readNBytes(1 << 20); // data flows
          while (counters.openConnections() < 2) {
            Thread.onSpinWait(); // both connections reached the proxy (bounded by the read below)
          }
          own.session.close(true);
          assertThrows(SocketException.class, () -> idle.getInputStream().read(), "idle connection reset");
          assertThrows(SocketException.class, () -> {
            byte[] sink = new byte[65536];
            while (busy.getInputStream().read(sink) >= 0) {
              // drain what was already on its way
            }
          }, "busy connection reset, never a clean EOF");
        }
        assertEquals(2, counters.connectionsFailed());
      } finally {
        ownProxy.close().await(10, TimeUnit.SECONDS);
      }
    }
  }

  /**
   * Every channel of a closed connection leaves the session and the heap: a daemon serves
   * millions of short connections. A 5 s fallback timer per closed channel once kept each one
   * (with its futures, windows and buffers) for those 5 s: at a thousand connections a second,
   * thousands of dead channels that grew the heap, and would have exhausted it at a higher rate.
   */
  @Test
  void shortConnectionsLeaveNoChannelBehind() throws Exception {
    AbstractConnectionService service = (AbstractConnectionService) ssh.session.getService(ConnectionService.class);
    int before = service.getChannels().size();
    List<WeakReference<org.apache.sshd.common.channel.Channel>> opened = new CopyOnWriteArrayList<>();
    ChannelListener watcher = new ChannelListener() {
      @Override
      public void channelInitialized(org.apache.sshd.common.channel.Channel channel) {
        opened.add(new WeakReference<>(channel));
      }
    };
    ssh.session.addChannelListener(watcher);
    try {
      int port = listen(ssh.serve(InProcessSsh::echo), new ForwardCounters());
      for (int i = 0; i < 300; i++) {
        byte[] request = ("ping " + i).getBytes();
        assertArrayEquals(request, Streams.roundTrip(port, request, TIMEOUT, threads));
      }
      long deadline = System.nanoTime() + TIMEOUT.toNanos();
      while (service.getChannels().size() > before && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertEquals(before, service.getChannels().size(),
          "channels still registered after their connections closed: " + service.getChannels());
    } finally {
      ssh.session.removeChannelListener(watcher);
    }
    assertEquals(300, opened.size());
    // Well inside the old timer's 5 s: the channels closed last are collectable at once.
    for (int gc = 0; gc < 5 && opened.stream().anyMatch(ref -> ref.get() != null); gc++) {
      System.gc();
    }
    assertEquals(0, opened.stream().filter(ref -> ref.get() != null).count(),
        "closed channels still reachable from something");
  }

  @Test
  void echoes32MiBIntactAndCountsBytes() throws Exception {
    ForwardCounters counters = new ForwardCounters();
    int port = listen(ssh.serve(InProcessSsh::echo), counters);
    byte[] data = Streams.random(32 << 20, 1);
    byte[] back = Streams.roundTrip(port, data, TIMEOUT, threads);
    assertEquals(data.length, back.length);
    assertArrayEquals(Streams.sha256(data), Streams.sha256(back));
    assertEquals(data.length, counters.bytesOut());
    assertEquals(data.length, counters.bytesIn());
    assertEquals(1, counters.connectionsTotal());
  }

  @Test
  void sixteenConcurrentStreamsStayApart() throws Exception {
    int port = listen(ssh.serve(InProcessSsh::echo), new ForwardCounters());
    List<CompletableFuture<Boolean>> results = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      byte[] data = Streams.random(2 << 20, 100 + i);
      results.add(CompletableFuture.supplyAsync(() -> {
        try {
          return MessageDigest.isEqual(Streams.sha256(data), Streams.sha256(Streams.roundTrip(port, data, TIMEOUT, threads)));
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }, threads));
    }
    for (CompletableFuture<Boolean> r : results) {
      assertTrue(r.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS));
    }
  }

  @Test
  void localHalfCloseStillGetsTheWholeReply() throws Exception {
    // The server answers only after it saw EOF, then closes: the request's FIN must reach it.
    int port = listen(ssh.serve(s -> {
      try {
        byte[] request = s.getInputStream().readAllBytes();
        s.getOutputStream().write(("got " + request.length).getBytes());
      } catch (IOException e) {
        // peer went away
      }
    }), new ForwardCounters());
    assertEquals("got 5", new String(Streams.roundTrip(port, "hello".getBytes(), TIMEOUT, threads)));
  }

  @Test
  void refusedRemotePortClosesOnlyThatConnection() throws Exception {
    ForwardCounters counters = new ForwardCounters();
    int port = listen(InProcessSsh.deadPort(), counters);
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout((int) TIMEOUT.toMillis());
      // Reset, not a clean EOF: the client must not take "nothing" for the service's answer.
      assertThrows(SocketException.class, () -> s.getInputStream().read());
    }
    assertEquals(1, counters.connectionsFailed());
    // The session is unharmed: another forward still works.
    int good = listen(ssh.serve(InProcessSsh::echo), new ForwardCounters());
    assertEquals("ok", new String(Streams.roundTrip(good, "ok".getBytes(), TIMEOUT, threads)));
    assertTrue(ssh.session.isOpen());
  }
}

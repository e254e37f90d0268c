package dev.docktunnel.forward;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import dev.docktunnel.ssh.SessionProvider;
import dev.docktunnel.ssh.SessionWaiters;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.apache.sshd.client.session.ClientSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Connections accepted while there is no SSH session: held, then served once the session is up,
 * or reset at the hold timeout or beyond the hold limit; a client leaving while held just ends.
 * And connections that find the server stopped (the lifecycle's gate closed): they ask for it,
 * are held until it runs and the session is up, and are served byte-exact; a failed or late start
 * ends them with a reset, or with the tap's answer (the Docker socket's HTTP error).
 */
class HeldConnectionTest {
  private static final Duration TIMEOUT = InProcessSsh.TIMEOUT;

  @TempDir
  static Path tmp;
  static InProcessSsh ssh;
  static final ExecutorService threads = Executors.newCachedThreadPool();

  @BeforeAll
  static void start() throws Exception {
    ssh = new InProcessSsh(tmp);
  }

  @AfterAll
  static void stop() throws Exception {
    threads.shutdownNow();
    ssh.close();
  }

  /** A provider whose session comes up only when the test says so, like a reconnect. */
  static final class LateSession implements SessionProvider {
    private final SessionWaiters waiters = new SessionWaiters();
    private volatile ClientSession session;
    final AtomicInteger wakes = new AtomicInteger();

    @Override
    public Optional<ClientSession> current() {
      return Optional.ofNullable(session);
    }

    @Override
    public void wake() {
      wakes.incrementAndGet();
    }

    @Override
    public Runnable whenConnected(java.util.function.Consumer<ClientSession> waiter) {
      Runnable withdraw = waiters.add(waiter);
      current().ifPresent(waiters::connected);
      return withdraw;
    }

    void arrive(ClientSession up) {
      session = up;
      waiters.connected(up);
    }

    int waiting() {
      return waiters.size();
    }
  }

  /** What a test does with a proxy listening for the stream server: its port and counters. */
  @FunctionalInterface
  interface ProxyUse {
    void run(ForwardProxy proxy, int port, ForwardCounters counters) throws Exception;
  }

  /** A proxy on 127.0.0.1 to an echo server behind the in-process sshd, closed after {@code use}. */
  static void withProxy(SessionProvider sessions, WakeOnDemand wake, ConnectionTap.Factory taps, ProxyUse use)
      throws Exception {
    ForwardProxy proxy = new ForwardProxy(sessions, wake, 1, TIMEOUT, 16);
    try {
      ForwardCounters counters = new ForwardCounters();
      int port = ((InetSocketAddress) proxy.listen(new InetSocketAddress("127.0.0.1", 0),
          new ForwardTarget("127.0.0.1", ssh.serve(InProcessSsh::echo)), taps, counters,
          new DefaultChannelGroup(GlobalEventExecutor.INSTANCE), (e, p, i, o) -> { }).sync().channel()
          .localAddress()).getPort();
      use.run(proxy, port, counters);
    } finally {
      proxy.close().await(10, TimeUnit.SECONDS);
    }
  }

  static int listen(ForwardProxy proxy, int remotePort, ForwardCounters counters) throws Exception {
    return ((InetSocketAddress) proxy.listen(new InetSocketAddress("127.0.0.1", 0),
        new ForwardTarget("127.0.0.1", remotePort), counters, new DefaultChannelGroup(GlobalEventExecutor.INSTANCE),
        (e, p, i, o) -> { }).sync().channel().localAddress()).getPort();
  }

  /** A lifecycle stand-in: the gate is open or closed, and each wake waits for the test's answer. */
  static final class FakeWake implements WakeOnDemand {
    volatile boolean open;
    final AtomicInteger entries = new AtomicInteger();
    final List<String> whys = new CopyOnWriteArrayList<>();
    final List<Promise<Void>> wakes = new CopyOnWriteArrayList<>();
    final Duration timeout;

    FakeWake(boolean open, Duration timeout) {
      this.open = open;
      this.timeout = timeout;
    }

    @Override
    public boolean enter() {
      if (open) {
        entries.incrementAndGet();
      }
      return open;
    }

    @Override
    public Future<Void> wake(String why) {
      whys.add(why);
      Promise<Void> promise = Promise.promise();
      wakes.add(promise);
      return promise.future();
    }

    @Override
    public Duration timeout() {
      return timeout;
    }
  }

  /** {@link Streams#roundTrip} on another thread: the client waits while the test goes on. */
  static CompletableFuture<byte[]> roundTripLater(int port, byte[] data) {
    return CompletableFuture.supplyAsync(() -> {
      try {
        return Streams.roundTrip(port, data, TIMEOUT, threads);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }, threads);
  }

  static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        fail("not within " + TIMEOUT + ": " + what);
      }
      Thread.sleep(10);
    }
  }

  @Test
  void heldConnectionIsServedByteExactOnceTheSessionIsUp() throws Exception {
    LateSession sessions = new LateSession();
    ForwardProxy proxy = new ForwardProxy(sessions, 1, TIMEOUT, 16);
    try {
      ForwardCounters counters = new ForwardCounters();
      int port = listen(proxy, ssh.serve(InProcessSsh::echo), counters);
      // More than the held read-ahead, so the rest waits in the socket buffers and the client's writes.
      byte[] data = Streams.random(4 << 20, 11);
      CompletableFuture<byte[]> back = roundTripLater(port, data);
      await("the connection is held", () -> proxy.held() == 1 && sessions.waiting() == 1);
      assertEquals(1, sessions.wakes.get(), "a held connection asks for the session at once");
      assertFalse(back.isDone(), "nothing is served without a session");
      sessions.arrive(ssh.session);
      byte[] reply = back.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      assertEquals(data.length, reply.length);
      assertArrayEquals(Streams.sha256(data), Streams.sha256(reply));
      assertEquals(0, proxy.held());
      assertEquals(0, sessions.waiting());
      assertEquals(0, counters.connectionsFailed());
      assertEquals(data.length, counters.bytesOut());
    } finally {
      proxy.close().await(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void requestHalfClosedWhileHeldIsServedOnceTheSessionIsUp() throws Exception {
    LateSession sessions = new LateSession();
    ForwardProxy proxy = new ForwardProxy(sessions, 1, TIMEOUT, 16);
    try {
      ForwardCounters counters = new ForwardCounters();
      // The server answers only after it saw EOF: the FIN that came while held must reach it.
      int port = listen(proxy, ssh.serve(s -> {
        try {
          byte[] request = s.getInputStream().readAllBytes();
          s.getOutputStream().write(("got " + new String(request)).getBytes());
        } catch (java.io.IOException e) {
          // peer went away: the client's assertion says what was lost
        }
      }), counters);
      try (Socket s = new Socket("127.0.0.1", port)) {
        s.setSoTimeout((int) TIMEOUT.toMillis());
        s.getOutputStream().write("hello".getBytes());
        s.shutdownOutput();
        await("the connection is held", () -> proxy.held() == 1);
        sessions.arrive(ssh.session);
        assertEquals("got hello", new String(s.getInputStream().readAllBytes()));
      }
      assertEquals(0, counters.connectionsFailed());
    } finally {
      proxy.close().await(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void holdTimeoutResetsTheConnectionAsACountedFailure() throws Exception {
    LateSession sessions = new LateSession();
    ForwardProxy proxy = new ForwardProxy(sessions, 1, Duration.ofMillis(300), 16);
    try {
      ForwardCounters counters = new ForwardCounters();
      int port = listen(proxy, ssh.serve(InProcessSsh::echo), counters);
      try (Socket s = new Socket("127.0.0.1", port)) {
        s.setSoTimeout((int) TIMEOUT.toMillis());
        s.getOutputStream().write("hello".getBytes());
        // A reset, never a clean EOF; a read timeout (not a SocketException) would fail this.
        assertThrows(SocketException.class, () -> s.getInputStream().read());
      }
      await("the failure is counted", () -> counters.connectionsFailed() == 1);
      assertEquals(0, proxy.held());
      assertEquals(0, sessions.waiting(), "a timed-out connection leaves no waiter behind");
      await("the connection is gone", () -> counters.openConnections() == 0);
    } finally {
      proxy.close().await(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void clientResettingWhileHeldJustEnds() throws Exception {
    LateSession sessions = new LateSession();
    ForwardProxy proxy = new ForwardProxy(sessions, 1, TIMEOUT, 16);
    try {
      ForwardCounters counters = new ForwardCounters();
      int port = listen(proxy, ssh.serve(InProcessSsh::echo), counters);
      Socket s = new Socket("127.0.0.1", port);
      await("the connection is held", () -> proxy.held() == 1);
      s.setSoLinger(true, 0);
      s.close(); // RST: the client gave up
      await("the held connection ended", () -> proxy.held() == 0 && counters.openConnections() == 0);
      assertEquals(0, sessions.waiting(), "a connection gone while held leaves no waiter behind");
      assertEquals(0, counters.connectionsFailed(), "the client leaving is no failure");
      // The session arriving later finds nothing to serve, and the proxy still serves new ones.
      sessions.arrive(ssh.session);
      assertEquals("ok", new String(Streams.roundTrip(port, "ok".getBytes(), TIMEOUT, threads)));
      assertEquals(0, counters.connectionsFailed());
    } finally {
      proxy.close().await(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void beyondTheHoldLimitAConnectionIsResetAtOnce() throws Exception {
    LateSession sessions = new LateSession();
    ForwardProxy proxy = new ForwardProxy(sessions, 1, TIMEOUT, 1);
    try {
      ForwardCounters counters = new ForwardCounters();
      int port = listen(proxy, ssh.serve(InProcessSsh::echo), counters);
      try (Socket first = new Socket("127.0.0.1", port)) {
        await("the first connection is held", () -> proxy.held() == 1);
        try (Socket second = new Socket("127.0.0.1", port)) {
          // The read timeout is a third of the hold timeout: only an immediate reset passes.
          second.setSoTimeout((int) TIMEOUT.toMillis() / 3);
          assertThrows(SocketException.class, () -> second.getInputStream().read());
        }
        await("the refused one is counted", () -> counters.connectionsFailed() == 1);
        assertEquals(1, proxy.held(), "the first one is still held");
        first.setSoTimeout((int) TIMEOUT.toMillis());
        sessions.arrive(ssh.session);
        first.getOutputStream().write("still here".getBytes());
        first.shutdownOutput();
        assertEquals("still here", new String(first.getInputStream().readAllBytes()));
      }
      assertEquals(1, counters.connectionsFailed());
    } finally {
      proxy.close().await(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void aConnectionWhileStoppedWakesTheServerAndIsServedByteExactOnceTheSessionIsUp() throws Exception {
    LateSession sessions = new LateSession();
    FakeWake wake = new FakeWake(false, TIMEOUT);
    withProxy(sessions, wake, ConnectionTap.NONE, (proxy, port, counters) -> {
      byte[] data = Streams.random(4 << 20, 12); // far more than the held read-ahead
      CompletableFuture<byte[]> back = roundTripLater(port, data);
      await("the wake is asked for", () -> wake.wakes.size() == 1 && proxy.held() == 1);
      assertTrue(wake.whys.get(0).contains("127.0.0.1:" + port), "the wake names the port: " + wake.whys);
      assertEquals(0, wake.entries.get(), "a connection refused by the gate is not counted as entered");
      assertEquals(0, sessions.waiting(), "no waiting for a session before the server runs");
      wake.wakes.get(0).complete();
      await("then it waits for the session", () -> sessions.waiting() == 1);
      assertFalse(back.isDone());
      sessions.arrive(ssh.session);
      byte[] reply = back.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      assertArrayEquals(Streams.sha256(data), Streams.sha256(reply));
      assertEquals(0, counters.connectionsFailed());
      assertEquals(0, proxy.held());
    });
  }

  @Test
  void whileTheServerRunsEveryConnectionEntersAndNoneWakes() throws Exception {
    FakeWake wake = new FakeWake(true, TIMEOUT);
    withProxy(ssh.sessions(), wake, ConnectionTap.NONE, (proxy, port, counters) -> {
      for (int i = 0; i < 3; i++) {
        assertEquals("ok" + i, new String(Streams.roundTrip(port, ("ok" + i).getBytes(), TIMEOUT, threads)));
      }
      assertEquals(3, wake.entries.get());
      assertTrue(wake.wakes.isEmpty());
    });
  }

  @Test
  void aFailedStartResetsTheHeldClientAsACountedFailure() throws Exception {
    LateSession sessions = new LateSession();
    FakeWake wake = new FakeWake(false, TIMEOUT);
    withProxy(sessions, wake, ConnectionTap.NONE, (proxy, port, counters) -> {
      try (Socket s = new Socket("127.0.0.1", port)) {
        s.setSoTimeout((int) TIMEOUT.toMillis());
        s.getOutputStream().write("hello".getBytes());
        await("the wake is asked for", () -> wake.wakes.size() == 1);
        wake.wakes.get(0).fail("the start command exited 3");
        assertThrows(SocketException.class, () -> s.getInputStream().read());
      }
      await("the failure is counted", () -> counters.connectionsFailed() == 1);
      assertEquals(0, proxy.held());
      assertEquals(0, sessions.waiting());
    });
  }

  @Test
  void aStartSlowerThanTheWakeTimeoutResetsTheClientAtTheTimeout() throws Exception {
    LateSession sessions = new LateSession();
    FakeWake wake = new FakeWake(false, Duration.ofMillis(300));
    withProxy(sessions, wake, ConnectionTap.NONE, (proxy, port, counters) -> {
      try (Socket s = new Socket("127.0.0.1", port)) {
        s.setSoTimeout((int) TIMEOUT.toMillis());
        assertThrows(SocketException.class, () -> s.getInputStream().read());
      }
      await("the failure is counted", () -> counters.connectionsFailed() == 1);
      assertEquals(0, proxy.held());
      wake.wakes.get(0).complete(); // a late answer finds nothing to serve
      assertEquals(0, sessions.waiting());
    });
  }

  @Test
  void aTapAnswersARefusedClientInsteadOfTheReset() throws Exception {
    LateSession sessions = new LateSession();
    FakeWake wake = new FakeWake(false, TIMEOUT);
    ConnectionTap.Factory answering = (local, raised) -> new ConnectionTap() {
      @Override
      public ByteBuf refusal(ByteBufAllocator alloc, String why) {
        return alloc.buffer().writeBytes(("refused: " + why).getBytes(StandardCharsets.UTF_8));
      }
    };
    withProxy(sessions, wake, answering, (proxy, port, counters) -> {
      try (Socket s = new Socket("127.0.0.1", port)) {
        s.setSoTimeout((int) TIMEOUT.toMillis());
        s.getOutputStream().write("GET / HTTP/1.1\r\n\r\n".getBytes());
        await("the wake is asked for", () -> wake.wakes.size() == 1);
        wake.wakes.get(0).fail("no server named box");
        assertEquals("refused: starting server failed: no server named box",
            new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
      }
      await("the failure is counted", () -> counters.connectionsFailed() == 1);
    });
  }
}

package dev.docktunnel.forward;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Connections that find the server stopped (the gate closed): they ask for it, are held until it
 * runs and the session is up, and are then served byte-exact; a failed or late start ends them
 * with a reset, or with the tap's answer (the Docker socket's HTTP error).
 */
class WakeOnDemandTest {
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

  private static int listen(ForwardProxy proxy, int remotePort, ConnectionTap.Factory taps,
      ForwardCounters counters) throws Exception {
    return ((InetSocketAddress) proxy.listen(new InetSocketAddress("127.0.0.1", 0),
        new ForwardTarget("127.0.0.1", remotePort), taps, counters,
        new DefaultChannelGroup(GlobalEventExecutor.INSTANCE), (e, p, i, o) -> { }).sync().channel()
        .localAddress()).getPort();
  }

  @Test
  void aConnectionWhileStoppedWakesTheServerAndIsServedByteExactOnceTheSessionIsUp() throws Exception {
    HeldConnectionTest.LateSession sessions = new HeldConnectionTest.LateSession();
    FakeWake wake = new FakeWake(false, TIMEOUT);
    ForwardProxy proxy = new ForwardProxy(sessions, wake, 1, TIMEOUT, 16);
    try {
      ForwardCounters counters = new ForwardCounters();
      int port = listen(proxy, ssh.serve(InProcessSsh::echo), ConnectionTap.NONE, counters);
      byte[] data = Streams.random(4 << 20, 12); // far more than the held read-ahead
      CompletableFuture<byte[]> back = CompletableFuture.supplyAsync(() -> {
        try {
          return Streams.roundTrip(port, data, TIMEOUT, threads);
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }, threads);
      HeldConnectionTest.await("the wake is asked for", () -> wake.wakes.size() == 1 && proxy.held() == 1);
      assertTrue(wake.whys.get(0).contains("127.0.0.1:" + port), "the wake names the port: " + wake.whys);
      assertEquals(0, wake.entries.get(), "a connection refused by the gate is not counted as entered");
      assertEquals(0, sessions.waiting(), "no waiting for a session before the server runs");
      wake.wakes.get(0).complete();
      HeldConnectionTest.await("then it waits for the session", () -> sessions.waiting() == 1);
      assertFalse(back.isDone());
      sessions.arrive(ssh.session);
      byte[] reply = back.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      assertArrayEquals(Streams.sha256(data), Streams.sha256(reply));
      assertEquals(0, counters.connectionsFailed());
      assertEquals(0, proxy.held());
    } finally {
      proxy.close().await(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void whileTheServerRunsEveryConnectionEntersAndNoneWakes() throws Exception {
    FakeWake wake = new FakeWake(true, TIMEOUT);
    ForwardProxy proxy = new ForwardProxy(ssh.sessions(), wake, 1, TIMEOUT, 16);
    try {
      ForwardCounters counters = new ForwardCounters();
      int port = listen(proxy, ssh.serve(InProcessSsh::echo), ConnectionTap.NONE, counters);
      for (int i = 0; i < 3; i++) {
        assertEquals("ok" + i, new String(Streams.roundTrip(port, ("ok" + i).getBytes(), TIMEOUT, threads)));
      }
      assertEquals(3, wake.entries.get());
      assertTrue(wake.wakes.isEmpty());
    } finally {
      proxy.close().await(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void aFailedStartResetsTheHeldClientAsACountedFailure() throws Exception {
    HeldConnectionTest.LateSession sessions = new HeldConnectionTest.LateSession();
    FakeWake wake = new FakeWake(false, TIMEOUT);
    ForwardProxy proxy = new ForwardProxy(sessions, wake, 1, TIMEOUT, 16);
    try {
      ForwardCounters counters = new ForwardCounters();
      int port = listen(proxy, ssh.serve(InProcessSsh::echo), ConnectionTap.NONE, counters);
      try (Socket s = new Socket("127.0.0.1", port)) {
        s.setSoTimeout((int) TIMEOUT.toMillis());
        s.getOutputStream().write("hello".getBytes());
        HeldConnectionTest.await("the wake is asked for", () -> wake.wakes.size() == 1);
        wake.wakes.get(0).fail("the start command exited 3");
        assertThrows(SocketException.class, () -> s.getInputStream().read());
      }
      HeldConnectionTest.await("the failure is counted", () -> counters.connectionsFailed() == 1);
      assertEquals(0, proxy.held());
      assertEquals(0, sessions.waiting());
    } finally {
      proxy.close().await(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void aStartSlowerThanTheWakeTimeoutResetsTheClientAtTheTimeout() throws Exception {
    HeldConnectionTest.LateSession sessions = new HeldConnectionTest.LateSession();
    FakeWake wake = new FakeWake(false, Duration.ofMillis(300));
    ForwardProxy proxy = new ForwardProxy(sessions, wake, 1, TIMEOUT, 16);
    try {
      ForwardCounters counters = new ForwardCounters();
      int port = listen(proxy, ssh.serve(InProcessSsh::echo), ConnectionTap.NONE, counters);
      try (Socket s = new Socket("127.0.0.1", port)) {
        s.setSoTimeout((int) TIMEOUT.toMillis());
        assertThrows(SocketException.class, () -> s.getInputStream().read());
      }
      HeldConnectionTest.await("the failure is counted", () -> counters.connectionsFailed() == 1);
      assertEquals(0, proxy.held());
      wake.wakes.get(0).complete(); // a late answer finds nothing to serve
      assertEquals(0, sessions.waiting());
    } finally {
      proxy.close().await(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void aTapAnswersARefusedClientInsteadOfTheReset() throws Exception {
    HeldConnectionTest.LateSession sessions = new HeldConnectionTest.LateSession();
    FakeWake wake = new FakeWake(false, TIMEOUT);
    ForwardProxy proxy = new ForwardProxy(sessions, wake, 1, TIMEOUT, 16);
    ConnectionTap.Factory answering = (local, raised) -> new ConnectionTap() {
      @Override
      public ByteBuf refusal(ByteBufAllocator alloc, String why) {
        return alloc.buffer().writeBytes(("refused: " + why).getBytes(StandardCharsets.UTF_8));
      }
    };
    try {
      ForwardCounters counters = new ForwardCounters();
      int port = listen(proxy, ssh.serve(InProcessSsh::echo), answering, counters);
      try (Socket s = new Socket("127.0.0.1", port)) {
        s.setSoTimeout((int) TIMEOUT.toMillis());
        s.getOutputStream().write("GET / HTTP/1.1\r\n\r\n".getBytes());
        HeldConnectionTest.await("the wake is asked for", () -> wake.wakes.size() == 1);
        wake.wakes.get(0).fail("no server named box");
        assertEquals("refused: starting server failed: no server named box",
            new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
      }
      HeldConnectionTest.await("the failure is counted", () -> counters.connectionsFailed() == 1);
    } finally {
      proxy.close().await(10, TimeUnit.SECONDS);
    }
  }
}

package dev.docktunnel.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docktunnel.testbed.Figures;
import dev.docktunnel.testbed.RunningDocktunnel;
import dev.docktunnel.testbed.StreamServerContainer;
import dev.docktunnel.testbed.Testbed;
import dev.docktunnel.testbed.TestbedExtension;
import dev.docktunnel.testbed.Traffic;
import dev.docktunnel.testbed.Traffic.Outcome;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.net.Socket;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Key exchanges under load (issue 6, the rekey deadlock): sshd restarted with {@code RekeyLimit 1M}
 * and docktunnel's MINA client with a 1 MiB rekey limit, so both sides start key exchanges every
 * megabyte; 4 echo streams for {@code -Dfaults.rekey.seconds} (default
 * {@value #DEFAULT_SECONDS} s for CI; the figure is 60) and 16 concurrent 4 MiB echoes
 * must stay byte-exact and never stall. A stall (no byte moving for {@link #STALL} on any
 * stream) fails with a dump of the threads inside docktunnel's forward code.
 */
@ExtendWith(TestbedExtension.class)
class RekeyIT {
  static final int DEFAULT_SECONDS = 15;
  static final Duration DURATION = Duration.ofSeconds(Figures.intProperty("faults.rekey.seconds", DEFAULT_SECONDS));
  static final Duration STALL = Duration.ofSeconds(15);
  static final int STREAMS = 4;
  static final String CLIENT_REKEY_PROPERTY = "org.apache.sshd.config.rekey-bytes-limit";

  static final ExecutorService threads = Executors.newCachedThreadPool();
  static Testbed testbed;
  static RunningDocktunnel docktunnel;
  static StreamServerContainer server;

  @BeforeAll
  static void start(Testbed bed) throws Exception {
    testbed = bed;
    // DEBUG1 makes sshd log each key exchange, so the test can prove the rekeys happened.
    bed.faults().restartSshdWith(List.of("RekeyLimit 1M", "LogLevel DEBUG1"));
    server = bed.runStreamServer("rekey", 1 << 20);
    // MINA's client rekeys every 1 MiB too (its default is 1 GiB): a key exchange the CLIENT
    // started is the one during which the server may still send a channel's CLOSE, the race of
    // the deadlock. MINA reads "org.apache.sshd.config.<property>" from system properties when
    // the session is created.
    System.setProperty(CLIENT_REKEY_PROPERTY, Long.toString(1 << 20));
    docktunnel = RunningDocktunnel.start(bed, new JsonObject());
    docktunnel.awaitForward("active", server.echoPort());
  }

  @AfterAll
  static void stop() {
    try {
      RunningDocktunnel.tearDown(docktunnel, threads, testbed);
    } finally {
      System.clearProperty(CLIENT_REKEY_PROPERTY);
      testbed.faults().restartSshdWith(List.of());
    }
  }

  @Test
  void fourLongEchoStreamsStayExactAcrossRekeys() throws Exception {
    long kexBefore = keyExchangesLogged();
    List<LongStream> streams = new ArrayList<>();
    for (int i = 0; i < STREAMS; i++) {
      streams.add(new LongStream(Traffic.connect(server.echoPort(), STALL.plus(DURATION)), 900 + i));
    }
    long start = System.nanoTime();
    long end = start + DURATION.toNanos();
    List<CompletableFuture<Void>> writers = new ArrayList<>();
    List<CompletableFuture<Void>> readers = new ArrayList<>();
    for (LongStream stream : streams) {
      writers.add(CompletableFuture.runAsync(() -> stream.write(end), threads));
      readers.add(CompletableFuture.runAsync(stream::read, threads));
    }
    // Watch progress: a stream whose echo stops moving for STALL is a stall (a deadlock).
    long lastTotal = -1;
    long lastMove = System.nanoTime();
    while (!CompletableFuture.allOf(readers.toArray(CompletableFuture[]::new)).isDone()) {
      long total = streams.stream().mapToLong(s -> s.read.get()).sum();
      if (total != lastTotal) {
        lastTotal = total;
        lastMove = System.nanoTime();
      } else if (System.nanoTime() - lastMove > STALL.toNanos()) {
        String dump = forwardThreads();
        streams.forEach(LongStream::close);
        throw new AssertionError("stalled: no echoed byte for " + STALL.toSeconds() + " s after "
            + (System.nanoTime() - start) / 1_000_000_000 + " s with 1 MiB rekey limits; streams " + streams
            + "; threads in docktunnel's forward code:\n" + dump);
      }
      Thread.sleep(100); // polling progress with a stall deadline
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    long keyExchanges = keyExchangesLogged() - kexBefore;
    List<String> bad = new ArrayList<>();
    long bytes = 0;
    for (int i = 0; i < STREAMS; i++) {
      LongStream stream = streams.get(i);
      stream.close();
      bytes += stream.read.get();
      String problem = stream.problem(writers.get(i), readers.get(i));
      if (problem != null) {
        bad.add(problem);
      }
    }
    Figures.report("rekey (1 MiB limits): %d echo streams x %d s: %d MiB echoed in %.1f s (%.0f MiB/s), %d key"
        + " exchanges logged by sshd, %d bad", STREAMS, DURATION.toSeconds(), bytes >> 20, seconds,
        (bytes >> 20) / seconds, keyExchanges, bad.size());
    assertTrue(keyExchanges >= 10, "sshd logged only " + keyExchanges + " key exchanges: the test proves nothing"
        + " about rekeying without them");
    assertTrue(bad.isEmpty(), "echo streams across key exchanges must be byte-exact: " + bad);
  }

  @Test
  void sixteenConcurrentEchoesStayExactAcrossRekeys() throws Exception {
    List<CompletableFuture<Outcome>> streams = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      byte[] data = Traffic.random(4 << 20, 700 + i);
      streams.add(CompletableFuture.supplyAsync(() -> Traffic.echo(server.echoPort(), data, STALL, threads), threads));
    }
    List<Outcome> bad = new ArrayList<>();
    for (CompletableFuture<Outcome> stream : streams) {
      Outcome outcome = stream.get(2 * STALL.toSeconds() + 30, TimeUnit.SECONDS);
      if (!outcome.ok()) {
        bad.add(outcome);
      }
    }
    Figures.report("rekey (1 MiB limits): 16 concurrent x 4 MiB echoes: %d bad %s", bad.size(), bad);
    assertTrue(bad.isEmpty(), "16 concurrent 4 MiB echoes across key exchanges must be byte-exact, without a stall"
        + " (each read bounded by " + STALL.toSeconds() + " s): " + bad + "; threads in docktunnel's forward code:\n"
        + (bad.isEmpty() ? "" : forwardThreads()));
  }

  @Test
  void channelClosesRacingWritersAcrossRekeys() throws Exception {
    // The deadlock of issue 6 needs a channel's CLOSE to arrive while a writer of that channel
    // waits for a key exchange: clients that keep writing to a server that hangs up after
    // 256 KiB, beside two long echo streams, for the whole duration.
    int connectedBefore = connectedCount();
    long start = System.nanoTime();
    long end = start + DURATION.toNanos();
    List<LongStream> echoes = new ArrayList<>();
    List<CompletableFuture<Void>> writers = new ArrayList<>();
    List<CompletableFuture<Void>> readers = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      LongStream stream = new LongStream(Traffic.connect(server.echoPort(), STALL.plus(DURATION)), 950 + i);
      echoes.add(stream);
      writers.add(CompletableFuture.runAsync(() -> stream.write(end), threads));
      readers.add(CompletableFuture.runAsync(stream::read, threads));
    }
    AtomicLong hangups = new AtomicLong();
    List<Socket> current = new CopyOnWriteArrayList<>();
    List<CompletableFuture<Void>> hangers = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      hangers.add(CompletableFuture.runAsync(() -> writeToHangups(end, hangups, current), threads));
    }
    List<CompletableFuture<Void>> all = new ArrayList<>(readers);
    all.addAll(hangers);
    long lastProgress = -1;
    long lastMove = System.nanoTime();
    while (!CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).isDone()) {
      long progress = hangups.get() + echoes.stream().mapToLong(s -> s.read.get()).sum();
      if (progress != lastProgress) {
        lastProgress = progress;
        lastMove = System.nanoTime();
      } else if (System.nanoTime() - lastMove > STALL.toNanos()) {
        String dump = forwardThreads();
        echoes.forEach(LongStream::close);
        for (Socket socket : current) {
          socket.close();
        }
        throw new AssertionError("stalled: no progress for " + STALL.toSeconds() + " s after "
            + (System.nanoTime() - start) / 1_000_000_000 + " s with 1 MiB rekey limits, " + hangups.get()
            + " hang-ups so far; echo streams " + echoes + "; threads in docktunnel's forward code:\n" + dump);
      }
      Thread.sleep(100); // polling progress with a stall deadline
    }
    List<String> bad = new ArrayList<>();
    for (int i = 0; i < echoes.size(); i++) {
      echoes.get(i).close();
      String problem = echoes.get(i).problem(writers.get(i), readers.get(i));
      if (problem != null) {
        bad.add(problem);
      }
    }
    for (CompletableFuture<Void> hanger : hangers) {
      hanger.get(1, TimeUnit.SECONDS); // rethrows a client-side failure other than the hang-up
    }
    int reconnects = connectedCount() - connectedBefore;
    Figures.report("rekey (1 MiB limits): %d hang-ups racing writers beside 2 echo streams for %d s; %d bad echo"
        + " streams; SSH session re-established %d times", hangups.get(), DURATION.toSeconds(), bad.size(), reconnects);
    assertTrue(bad.isEmpty(), "echo streams beside closing channels must be byte-exact: " + bad);
    assertTrue(hangups.get() > 0, "no hang-up connection completed in " + DURATION.toSeconds() + " s");
    assertEquals(0, reconnects, "closing channels must never cost the SSH session: " + docktunnel.sshStates.facts());
  }

  /** One client of the hangup port after another until {@code endNanos}: each writes until the server's close. */
  private static void writeToHangups(long endNanos, AtomicLong hangups, List<Socket> current) {
    byte[] chunk = Traffic.random(64 * 1024, 17);
    while (System.nanoTime() < endNanos) {
      try (Socket socket = Traffic.connect(server.hangupPort(), STALL)) {
        current.add(socket);
        try {
          OutputStream out = socket.getOutputStream();
          for (int i = 0; i < 1024; i++) { // 64 MiB: far more than the server reads before it hangs up
            out.write(chunk);
          }
          throw new IllegalStateException("the hangup server took 64 MiB without closing");
        } catch (IOException expected) {
          hangups.incrementAndGet(); // the hang-up reached the client: reset or broken pipe
        } finally {
          current.remove(socket);
        }
      } catch (IOException e) {
        throw new IllegalStateException("connecting to the hangup port: " + e, e);
      }
    }
  }

  /** Key exchanges sshd logged so far (its "SSH2_MSG_KEXINIT sent" debug line, one per exchange). */
  private static long keyExchangesLogged() throws IOException {
    try (java.util.stream.Stream<String> lines = java.nio.file.Files.lines(testbed.workDir().resolve("sshd.log"),
        java.nio.charset.StandardCharsets.ISO_8859_1)) {
      return lines.filter(line -> line.contains("SSH2_MSG_KEXINIT sent")).count();
    }
  }

  private static int connectedCount() {
    return (int) docktunnel.sshStates.facts().stream().filter(s -> "connected".equals(s.getString("state"))).count();
  }

  /** The stacks of the threads currently inside docktunnel's forward package (the deadlock's witnesses). */
  static String forwardThreads() {
    ThreadInfo[] infos = ManagementFactory.getThreadMXBean().dumpAllThreads(true, true);
    return Arrays.stream(infos)
        .filter(t -> Arrays.stream(t.getStackTrace()).anyMatch(f -> f.getClassName().startsWith("dev.docktunnel.forward")))
        .map(t -> t.getThreadName() + " " + t.getThreadState() + (t.getLockName() == null ? "" : " on " + t.getLockName())
            + (t.getLockOwnerName() == null ? "" : " owned by " + t.getLockOwnerName()) + "\n    "
            + Arrays.stream(t.getStackTrace()).limit(14).map(Object::toString).collect(Collectors.joining("\n    ")))
        .collect(Collectors.joining("\n"));
  }

  /** One echo stream: writes seeded random data until a deadline, then half-closes; the reader hashes the echo. */
  static final class LongStream {
    final Socket socket;
    final long seed;
    final AtomicLong written = new AtomicLong();
    final AtomicLong read = new AtomicLong();
    final MessageDigest sent = digest();
    final MessageDigest received = digest();

    LongStream(Socket socket, long seed) {
      this.socket = socket;
      this.seed = seed;
    }

    void write(long endNanos) {
      Random random = new Random(seed);
      byte[] chunk = new byte[64 * 1024];
      try {
        OutputStream out = socket.getOutputStream();
        while (System.nanoTime() < endNanos) {
          random.nextBytes(chunk);
          out.write(chunk);
          sent.update(chunk);
          written.addAndGet(chunk.length);
        }
        socket.shutdownOutput();
      } catch (Exception e) {
        throw new IllegalStateException("writing after " + written.get() + " bytes: " + e, e);
      }
    }

    void read() {
      byte[] buffer = new byte[64 * 1024];
      try {
        InputStream in = socket.getInputStream();
        int n;
        while ((n = in.read(buffer)) >= 0) {
          received.update(buffer, 0, n);
          read.addAndGet(n);
        }
      } catch (Exception e) {
        throw new IllegalStateException("reading after " + read.get() + " bytes: " + e, e);
      }
    }

    /** What went wrong with this finished stream, or null when the echo is byte-exact. */
    String problem(CompletableFuture<Void> writer, CompletableFuture<Void> reader) {
      try {
        writer.get(1, TimeUnit.SECONDS);
        reader.get(1, TimeUnit.SECONDS);
      } catch (Exception e) {
        return this + ": " + e.getCause();
      }
      if (read.get() != written.get()) {
        return this + ": clean EOF after " + read.get() + " of " + written.get() + " bytes";
      }
      if (!MessageDigest.isEqual(sent.digest(), received.digest())) {
        return this + ": wrong content (SHA-256 differs)";
      }
      return null;
    }

    void close() {
      try {
        socket.close();
      } catch (Exception ignored) {
        // closing our own client socket
      }
    }

    @Override
    public String toString() {
      return "stream " + seed + " (written " + written.get() + ", read " + read.get() + ")";
    }

    private static MessageDigest digest() {
      try {
        return MessageDigest.getInstance("SHA-256");
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }
  }
}

package dev.docktunnel.faults;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docktunnel.testbed.Figures;
import dev.docktunnel.testbed.RunningDocktunnel;
import dev.docktunnel.testbed.StreamServerContainer;
import dev.docktunnel.testbed.Testbed;
import dev.docktunnel.testbed.TestbedExtension;
import dev.docktunnel.testbed.Traffic;
import dev.docktunnel.testbed.Traffic.Outcome;
import io.vertx.core.json.JsonObject;
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
 * rekeys every megabyte; 4 echo streams for {@code -Dfaults.rekey.seconds} (default
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

  static final ExecutorService threads = Executors.newCachedThreadPool();
  static Testbed testbed;
  static RunningDocktunnel docktunnel;
  static StreamServerContainer server;

  @BeforeAll
  static void start(Testbed bed) throws Exception {
    testbed = bed;
    bed.faults().restartSshdWith(List.of("RekeyLimit 1M"));
    List<Integer> ports = Figures.freePorts(3);
    server = bed.runStreamServer("rekey", ports.get(0), ports.get(1), ports.get(2), 1 << 20);
    docktunnel = RunningDocktunnel.start(bed, new JsonObject());
    docktunnel.awaitForward("active", server.echoPort());
  }

  @AfterAll
  static void stop() {
    try {
      if (docktunnel != null) {
        docktunnel.close();
      }
    } finally {
      threads.shutdownNow();
      testbed.removeAllContainers();
      testbed.faults().restartSshdWith(List.of());
    }
  }

  @Test
  void fourLongEchoStreamsStayExactAcrossRekeys() throws Exception {
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
            + (System.nanoTime() - start) / 1_000_000_000 + " s with RekeyLimit 1M; streams " + streams
            + "; threads in docktunnel's forward code:\n" + dump);
      }
      Thread.sleep(100); // polling progress with a stall deadline
    }
    double seconds = (System.nanoTime() - start) / 1e9;
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
    Figures.report("rekey (RekeyLimit 1M): %d echo streams x %d s: %d MiB echoed in %.1f s (%.0f MiB/s), %d bad",
        STREAMS, DURATION.toSeconds(), bytes >> 20, seconds, (bytes >> 20) / seconds, bad.size());
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
    Figures.report("rekey (RekeyLimit 1M): 16 concurrent x 4 MiB echoes: %d bad %s", bad.size(), bad);
    assertTrue(bad.isEmpty(), "16 concurrent 4 MiB echoes across key exchanges must be byte-exact, without a stall"
        + " (each read bounded by " + STALL.toSeconds() + " s): " + bad + "; threads in docktunnel's forward code:\n"
        + (bad.isEmpty() ? "" : forwardThreads()));
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

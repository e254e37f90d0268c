package dev.docktunnel.faults;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docktunnel.testbed.Figures;
import dev.docktunnel.testbed.RunningDocktunnel;
import dev.docktunnel.testbed.StreamServerContainer;
import dev.docktunnel.testbed.Testbed;
import dev.docktunnel.testbed.TestbedExtension;
import dev.docktunnel.testbed.ThisProcess;
import dev.docktunnel.testbed.Traffic;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A slow reader beside a fast stream (issue 6, fault suite): connections whose client reads
 * 16 KiB every 100 ms from an endless source must neither slow a fast stream on the same SSH
 * session below half its throughput alone, nor make docktunnel buffer what they do not read.
 */
@ExtendWith(TestbedExtension.class)
class SlowReaderIT {
  static final int SLOW_READERS = 2;
  static final Duration SAMPLE = Duration.ofSeconds(3);
  static final long HEAP_GROWTH_LIMIT = 64L << 20;

  static final ExecutorService threads = Executors.newCachedThreadPool();
  static Testbed testbed;
  static RunningDocktunnel docktunnel;
  static StreamServerContainer server;

  @BeforeAll
  static void start(Testbed bed) throws Exception {
    testbed = bed;
    server = bed.runStreamServer("slow-reader", 1 << 20);
    docktunnel = RunningDocktunnel.start(bed, new JsonObject());
    docktunnel.awaitForward("active", server.sourcePort());
  }

  @AfterAll
  static void stop() {
    RunningDocktunnel.tearDown(docktunnel, threads, testbed);
  }

  @Test
  void fastStreamKeepsItsPaceAndMemoryStaysBounded() throws Exception {
    fastMibPerSecond(Duration.ofSeconds(1)); // warm-up
    double baseline = Math.max(fastMibPerSecond(SAMPLE), fastMibPerSecond(SAMPLE));
    long heapBefore = ThisProcess.heapUsedAfterGc();
    long rssBefore = ThisProcess.rssKiB();

    AtomicBoolean stop = new AtomicBoolean();
    List<AtomicLong> slowRead = new ArrayList<>();
    List<Future<Throwable>> slow = new ArrayList<>();
    List<Socket> slowSockets = new ArrayList<>();
    try {
      for (int i = 0; i < SLOW_READERS; i++) {
        Socket socket = Traffic.connect(server.sourcePort(), Duration.ofSeconds(30));
        slowSockets.add(socket);
        AtomicLong read = new AtomicLong();
        slowRead.add(read);
        slow.add(threads.submit(() -> readSlowly(socket, read, stop)));
      }
      FaultSupport.awaitTrue("every slow reader got data", Duration.ofSeconds(20),
          () -> slowRead.stream().allMatch(r -> r.get() > 0));
      double withSlow = Math.max(fastMibPerSecond(SAMPLE), fastMibPerSecond(SAMPLE));
      long heapAfter = ThisProcess.heapUsedAfterGc();
      long rssAfter = ThisProcess.rssKiB();
      stop.set(true);
      List<String> slowEnds = new ArrayList<>();
      for (Future<Throwable> reader : slow) {
        Throwable error = reader.get(10, TimeUnit.SECONDS);
        if (error != null) {
          slowEnds.add(error.toString());
        }
      }
      Figures.report("slow readers (%d x 16 KiB per 100 ms, read %s bytes): fast stream %.0f MiB/s alone, %.0f MiB/s"
              + " beside them (%.0f %%); heap after GC %d -> %d MiB, RSS %d -> %d MiB", SLOW_READERS, slowRead,
          baseline, withSlow, 100 * withSlow / baseline, heapBefore >> 20, heapAfter >> 20, rssBefore >> 10,
          rssAfter >> 10);
      assertTrue(slowEnds.isEmpty(), "the slow readers' connections must stay intact: " + slowEnds);
      assertTrue(withSlow >= 0.5 * baseline, String.format("the fast stream fell to %.0f MiB/s beside %d slow"
          + " readers, below half its %.0f MiB/s alone", withSlow, SLOW_READERS, baseline));
      assertTrue(heapAfter - heapBefore < HEAP_GROWTH_LIMIT, "heap after GC grew by "
          + ((heapAfter - heapBefore) >> 20) + " MiB while slow readers left data unread: unread data must stay"
          + " in the SSH window, not in docktunnel's memory");
    } finally {
      stop.set(true);
      for (Socket socket : slowSockets) {
        socket.close();
      }
    }
  }

  /** Reads the source as fast as possible for {@code duration}; MiB/s. */
  private static double fastMibPerSecond(Duration duration) throws IOException {
    try (Socket socket = Traffic.connect(server.sourcePort(), Duration.ofSeconds(30))) {
      InputStream in = socket.getInputStream();
      byte[] buffer = new byte[256 * 1024];
      long bytes = 0;
      long start = System.nanoTime();
      long end = start + duration.toNanos();
      while (System.nanoTime() < end) {
        int n = in.read(buffer);
        if (n < 0) {
          throw new IOException("the endless source ended after " + bytes + " bytes");
        }
        bytes += n;
      }
      return bytes / 1048576.0 / ((System.nanoTime() - start) / 1e9);
    }
  }

  /** The slow client: 16 KiB every 100 ms until told to stop; returns the error that ended it, or null. */
  private static Throwable readSlowly(Socket socket, AtomicLong read, AtomicBoolean stop) {
    byte[] buffer = new byte[16 * 1024];
    try {
      InputStream in = socket.getInputStream();
      while (!stop.get()) {
        int n = in.read(buffer);
        if (n < 0) {
          return new IOException("clean EOF from an endless source after " + read.get() + " bytes");
        }
        read.addAndGet(n);
        Thread.sleep(100); // the slow client's pace, not a wait for a condition
      }
      return null;
    } catch (IOException | InterruptedException e) {
      return e;
    }
  }
}

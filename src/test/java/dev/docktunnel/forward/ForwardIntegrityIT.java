package dev.docktunnel.forward;

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
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Byte-exact forwarding under concurrency (issue 6): 16 concurrent 4 MiB echoes repeated, and a
 * reply owed after the client's FIN that is larger than the socket buffers while the client
 * pauses before reading. The same load through {@code ssh -N -L} is the reference: it must be
 * clean too, or the testbed (not docktunnel) is at fault.
 *
 * <p>The server is {@link dev.docktunnel.testbed.StreamServer} (backlog 128, thread per
 * connection) in the container's namespace; busybox {@code nc -ll} would drop connections.
 */
@ExtendWith(TestbedExtension.class)
class ForwardIntegrityIT {
  static final int STREAMS = 16;
  static final int STREAM_BYTES = 4 << 20;
  static final int REPETITIONS = Figures.intProperty("faults.integrity.repetitions", 10);
  static final int OWED_BYTES = 8 << 20;
  static final int OWE_ROUNDS = 10;
  static final Duration PAUSE_BEFORE_READING = Duration.ofMillis(200);
  static final Duration STREAM_TIMEOUT = Duration.ofSeconds(60);

  static final ExecutorService threads = Executors.newCachedThreadPool();
  static Testbed testbed;
  static RunningDocktunnel docktunnel;
  static StreamServerContainer server;
  static Process sshForward;
  static int referenceEchoPort;
  static int referenceOwePort;
  static List<byte[]> payloads = new ArrayList<>();

  @BeforeAll
  static void start(Testbed bed) throws Exception {
    testbed = bed;
    server = bed.runStreamServer("integrity", OWED_BYTES);
    List<Integer> ports = Figures.freePorts(8).stream()
        .filter(p -> p != server.echoPort() && p != server.owePort() && p != server.sourcePort()
            && p != server.hangupPort()).toList();
    docktunnel = RunningDocktunnel.start(bed, new JsonObject());
    docktunnel.awaitForward("active", server.echoPort());
    docktunnel.awaitForward("active", server.owePort());
    referenceEchoPort = ports.get(0);
    referenceOwePort = ports.get(1);
    sshForward = bed.startSshLocalForwards(List.of(
        new Testbed.LocalForward(referenceEchoPort, "127.0.0.1", server.echoPort()),
        new Testbed.LocalForward(referenceOwePort, "127.0.0.1", server.owePort())), List.of(), List.of());
    for (int i = 0; i < STREAMS; i++) {
      payloads.add(Traffic.random(STREAM_BYTES, 1000 + i));
    }
  }

  @AfterAll
  static void stop() {
    if (sshForward != null) {
      sshForward.destroyForcibly();
    }
    RunningDocktunnel.tearDown(docktunnel, threads, testbed);
  }

  @Test
  void sixteenConcurrentEchoesAreByteExactThroughDocktunnel() throws Exception {
    List<Outcome> bad = concurrentEchoes("docktunnel", server.echoPort());
    assertTrue(bad.isEmpty(), bad.size() + " of " + STREAMS * REPETITIONS + " streams through docktunnel were not"
        + " byte-exact (" + countTruncated(bad) + " ended with a clean EOF short of their length): " + bad);
  }

  @Test
  void sixteenConcurrentEchoesAreByteExactThroughSshLocalForward() throws Exception {
    List<Outcome> bad = concurrentEchoes("ssh -L", referenceEchoPort);
    assertTrue(bad.isEmpty(), "the reference ssh -N -L must be clean, else the testbed is at fault: " + bad);
  }

  @Test
  void replyOwedAfterTheClientsFinArrivesWholeThroughDocktunnel() {
    List<Outcome> bad = owedReplies("docktunnel", server.owePort());
    assertTrue(bad.isEmpty(), bad.size() + " of " + OWE_ROUNDS + " replies of " + OWED_BYTES + " bytes owed after"
        + " the client's FIN were not byte-exact through docktunnel (" + countTruncated(bad)
        + " cut short by a clean EOF): " + bad);
  }

  @Test
  void replyOwedAfterTheClientsFinArrivesWholeThroughSshLocalForward() {
    List<Outcome> bad = owedReplies("ssh -L", referenceOwePort);
    assertTrue(bad.isEmpty(), "the reference ssh -N -L must be clean, else the testbed is at fault: " + bad);
  }

  @Test
  void forwardCountersSawTheBytes() throws Exception {
    // A cheap cross-check that the echo test went through docktunnel's forward and not elsewhere.
    Outcome one = Traffic.echo(server.echoPort(), payloads.get(0), STREAM_TIMEOUT, threads);
    assertTrue(one.ok(), one.toString());
    JsonObject forward = docktunnel.forwards().stream()
        .filter(f -> f.getInteger("publishedPort") == server.echoPort()).findFirst().orElseThrow();
    assertTrue(forward.getLong("bytesOut") >= STREAM_BYTES, forward.encode());
    assertEquals("active", forward.getString("status"), forward.encode());
  }

  /** {@link #REPETITIONS} rounds of {@link #STREAMS} concurrent echoes; returns the bad outcomes. */
  private static List<Outcome> concurrentEchoes(String path, int port) throws Exception {
    List<Outcome> bad = new ArrayList<>();
    long startNanos = System.nanoTime();
    for (int round = 0; round < REPETITIONS; round++) {
      List<CompletableFuture<Outcome>> streams = new ArrayList<>();
      for (byte[] payload : payloads) {
        streams.add(CompletableFuture.supplyAsync(() -> Traffic.echo(port, payload, STREAM_TIMEOUT, threads), threads));
      }
      for (CompletableFuture<Outcome> stream : streams) {
        Outcome outcome = stream.get(2 * STREAM_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        if (!outcome.ok()) {
          bad.add(outcome);
        }
      }
    }
    double seconds = (System.nanoTime() - startNanos) / 1e9;
    Figures.report("%s: %d concurrent x %d MiB echo x %d rounds: %d of %d streams bad (%d clean-EOF truncations),"
            + " %.1f s, %.0f MiB/s each way", path, STREAMS, STREAM_BYTES >> 20, REPETITIONS, bad.size(),
        STREAMS * REPETITIONS, countTruncated(bad), seconds, (double) STREAMS * REPETITIONS * (STREAM_BYTES >> 20) / seconds);
    return bad;
  }

  private static List<Outcome> owedReplies(String path, int port) {
    List<Outcome> bad = new ArrayList<>();
    for (int i = 0; i < OWE_ROUNDS; i++) {
      Outcome outcome = Traffic.owe(port, 77 + i, 64 * 1024, OWED_BYTES, PAUSE_BEFORE_READING, STREAM_TIMEOUT);
      if (!outcome.ok()) {
        bad.add(outcome);
      }
    }
    Figures.report("%s: %d MiB owed after the client's FIN, client pauses %d ms: %d of %d bad: %s", path,
        OWED_BYTES >> 20, PAUSE_BEFORE_READING.toMillis(), bad.size(), OWE_ROUNDS, bad);
    return bad;
  }

  private static long countTruncated(List<Outcome> outcomes) {
    return outcomes.stream().filter(Outcome::truncatedCleanly).count();
  }
}

package dev.docktunnel.faults;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docktunnel.testbed.Figures;
import dev.docktunnel.testbed.RunningDocktunnel;
import dev.docktunnel.testbed.Testbed;
import dev.docktunnel.testbed.TestbedExtension;
import dev.docktunnel.testbed.ThisProcess;
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
 * Container churn (issue 6, fault suite): {@value #DEFAULT_CONTAINERS} containers with a published
 * port started and removed, {@value #DEFAULT_ROUNDS} times. After each start and each removal
 * the local listeners and the forwards list equal {@code docker ps}; afterwards the file
 * descriptors and threads of the JVM docktunnel runs in are back near their level after the
 * first round (lazily started pools are warm by then).
 */
@ExtendWith(TestbedExtension.class)
class ChurnIT {
  static final int DEFAULT_CONTAINERS = 200;
  static final int DEFAULT_ROUNDS = 3;
  static final int CONTAINERS = Figures.intProperty("faults.churn.containers", DEFAULT_CONTAINERS);
  static final int ROUNDS = Figures.intProperty("faults.churn.rounds", DEFAULT_ROUNDS);
  static final int PARALLEL_DOCKER_RUNS = 4;
  /** Allowed growth over the level after round 1: a few fds/threads of timing noise, not one per container. */
  static final int FD_MARGIN = 16;
  static final int THREAD_MARGIN = 8;
  static final Duration CONVERGE_WAIT = Duration.ofSeconds(120);

  static final ExecutorService threads = Executors.newFixedThreadPool(PARALLEL_DOCKER_RUNS);
  static Testbed testbed;
  static RunningDocktunnel docktunnel;

  @BeforeAll
  static void start(Testbed bed) throws Exception {
    testbed = bed;
    docktunnel = RunningDocktunnel.start(bed, new JsonObject());
  }

  @AfterAll
  static void stop() {
    RunningDocktunnel.tearDown(docktunnel, threads, testbed);
  }

  @Test
  void listenersFollowDockerPsAndNothingLeaks() throws Exception {
    int baseFds = ThisProcess.openFileDescriptors();
    int baseThreads = ThisProcess.threads();
    long baseRss = ThisProcess.rssKiB();
    Figures.report("churn baseline: %d fds, %d threads, RSS %d MiB", baseFds, baseThreads, baseRss >> 10);
    List<String> rounds = new ArrayList<>();
    int[] afterRound = new int[2];
    int[] afterFirst = null;
    for (int round = 1; round <= ROUNDS; round++) {
      List<Integer> ports = Figures.freePorts(CONTAINERS);
      long startNanos = System.nanoTime();
      List<CompletableFuture<String>> runs = new ArrayList<>();
      for (int i = 0; i < CONTAINERS; i++) {
        String name = "churn-" + round + "-" + i;
        int port = ports.get(i);
        runs.add(CompletableFuture.supplyAsync(() -> testbed.runContainer(List.of("--name", name, "-p", port + ":80"),
            "httpd", "-f", "-p", "80", "-h", "/www"), threads));
      }
      List<String> ids = new ArrayList<>();
      for (CompletableFuture<String> run : runs) {
        ids.add(run.get(5, TimeUnit.MINUTES));
      }
      long startedNanos = System.nanoTime();
      Duration up = ForwardSet.awaitMatch("round " + round + " after starting " + CONTAINERS + " containers",
          testbed, docktunnel, ports, true, CONVERGE_WAIT);
      long removeNanos = System.nanoTime();
      for (int from = 0; from < ids.size(); from += 50) {
        List<String> args = new ArrayList<>(List.of("rm", "-f"));
        args.addAll(ids.subList(from, Math.min(ids.size(), from + 50)));
        testbed.docker(args.toArray(String[]::new));
      }
      long removedNanos = System.nanoTime();
      Duration down = ForwardSet.awaitMatch("round " + round + " after removing its containers", testbed, docktunnel,
          ports, true, CONVERGE_WAIT);
      int fds = ThisProcess.openFileDescriptors();
      int threadCount = ThisProcess.threads();
      long rss = ThisProcess.rssKiB();
      rounds.add(String.format("round %d: %d started in %.1f s, all forwarded+active %d ms later; removed in %.1f s,"
              + " all listeners gone %d ms later; then %d fds, %d threads, RSS %d MiB", round, CONTAINERS,
          (startedNanos - startNanos) / 1e9, up.toMillis(), (removedNanos - removeNanos) / 1e9, down.toMillis(), fds,
          threadCount, rss >> 10));
      Figures.report("churn %s", rounds.get(rounds.size() - 1));
      afterRound = new int[] {fds, threadCount};
      if (afterFirst == null) {
        afterFirst = afterRound;
      }
    }
    // Connections and channels close asynchronously: give the last round's a bounded moment.
    int[] first = afterFirst;
    long settledAt = System.nanoTime();
    boolean settled = true;
    try {
      FaultSupport.awaitTrue("fds and threads back near the level after round 1", Duration.ofSeconds(20),
          () -> ThisProcess.openFileDescriptors() <= first[0] + FD_MARGIN && ThisProcess.threads() <= first[1]
              + THREAD_MARGIN);
    } catch (AssertionError e) {
      settled = false;
    }
    int fds = ThisProcess.openFileDescriptors();
    int threadCount = ThisProcess.threads();
    Figures.report("churn end (%s after %d ms): %d fds (baseline %d, after round 1 %d), %d threads (baseline %d,"
            + " after round 1 %d), RSS %d MiB (baseline %d)", settled ? "settled" : "not settled",
        (System.nanoTime() - settledAt) / 1_000_000, fds, baseFds, first[0], threadCount, baseThreads, first[1],
        ThisProcess.rssKiB() >> 10, baseRss >> 10);
    assertTrue(settled, "after " + ROUNDS + " rounds of " + CONTAINERS + " containers the JVM holds " + fds
        + " fds and " + threadCount + " threads; after round 1 it held " + first[0] + " and " + first[1]
        + " (margin " + FD_MARGIN + " fds, " + THREAD_MARGIN + " threads): something leaks per container. " + rounds);
  }
}

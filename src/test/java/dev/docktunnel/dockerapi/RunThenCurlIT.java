package dev.docktunnel.dockerapi;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docktunnel.testbed.Figures;
import dev.docktunnel.testbed.Testbed;
import dev.docktunnel.testbed.TestbedExtension;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The no-race promise with the real docker CLI: {@code docker run -d -p P:80 ... && curl
 * http://127.0.0.1:P/} as one shell line, exactly as a user types it, gets the page on the first
 * try, {@value #ITERATIONS} times in a row (each a fresh container on its own port, removed
 * after). No retry anywhere: docktunnel holds the start's response until the forward is active.
 */
@ExtendWith(TestbedExtension.class)
class RunThenCurlIT {
  static final int ITERATIONS = Figures.intProperty("dockerapi.runCurl.iterations", 50);
  static final Duration LINE_TIMEOUT = Duration.ofSeconds(30);

  @TempDir
  static Path scratch;
  static Testbed testbed;
  static CliSetup cli;

  @BeforeAll
  static void start(Testbed bed) throws Exception {
    testbed = bed;
    cli = CliSetup.start(testbed, scratch);
  }

  /**
   * Checks that docktunnel saw every CLI connection end, stops it, then removes (by id, through the
   * engine's own socket) what a failed iteration left.
   */
  @AfterAll
  static void stop() throws InterruptedException {
    CliSetup.endOf("RunThenCurlIT", cli, () -> {
      List<String> left = testbed.docker("ps", "-aq", "--filter", "name=^cliit-race-").lines().toList();
      if (!left.isEmpty()) {
        List<String> rm = new ArrayList<>(List.of("rm", "-f"));
        rm.addAll(left);
        testbed.docker(rm.toArray(String[]::new));
      }
    });
  }


  @Test
  void runThenCurlGetsThePageOnTheFirstTryEveryTime() {
    List<Integer> ports = Figures.freePorts(ITERATIONS);
    List<Long> lineMs = new ArrayList<>();
    List<Long> removeMs = new ArrayList<>();
    List<String> failures = new ArrayList<>();
    for (int i = 0; i < ITERATIONS; i++) {
      int port = ports.get(i);
      String line = "docker run -d --name cliit-race-" + i + " -p " + port + ":" + Testbed.HTTPD_CONTAINER_PORT + " "
          + Testbed.IMAGE + " httpd -f -p " + Testbed.HTTPD_CONTAINER_PORT + " -h /www"
          + " && curl -sf http://127.0.0.1:" + port + "/";
      UserMachine.Result result = cli.user.sh(LINE_TIMEOUT, line);
      lineMs.add(result.elapsed().toMillis());
      String out = result.out();
      if (!result.ok() || !out.endsWith(Testbed.HTTPD_INDEX_BODY)) {
        failures.add("iteration " + i + ": " + result.describe() + cli.forwardFacts(port));
      }
      // The container id is the first line, when docker run got that far; by name otherwise.
      String container = out.isBlank() ? "cliit-race-" + i : out.lines().findFirst().orElseThrow().trim();
      UserMachine.Result removed = cli.user.run(UserMachine.COMMAND_TIMEOUT, "docker", "rm", "-f", container);
      removeMs.add(removed.elapsed().toMillis());
      if (!removed.ok() && result.ok()) {
        failures.add("iteration " + i + ": " + removed.describe());
      }
    }
    Figures.report("dockerapi %s: `docker run -d -p P:80 ... && curl -sf 127.0.0.1:P` %d times: %d failed; "
        + "per line %s; docker rm -f %s; each line in ms: %s", cli.target, ITERATIONS, failures.size(),
        summary(lineMs), summary(removeMs), lineMs);
    assertTrue(failures.isEmpty(), failures.size() + " of " + ITERATIONS + " lines failed on the first try:\n"
        + String.join("\n\n", failures));
  }

  /** min / p50 / p90 / max / mean in ms. */
  static String summary(List<Long> ms) {
    List<Long> sorted = ms.stream().sorted().toList();
    double mean = sorted.stream().mapToLong(Long::longValue).average().orElse(0);
    return String.format("min %d p50 %d p90 %d max %d mean %.0f ms", sorted.get(0), percentile(sorted, 50),
        percentile(sorted, 90), sorted.get(sorted.size() - 1), mean);
  }

  static long percentile(List<Long> sorted, int p) {
    int index = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
    return sorted.get(Math.max(0, Math.min(sorted.size() - 1, index)));
  }
}

package dev.docktunnel.bench;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import org.junit.jupiter.api.Test;

/** The benchmark measures docktunnel as the launcher starts it: the options it reports are the launcher's. */
class DocktunnelProcessTest {

  @Test
  void theReportedJvmOptionsAreTheLaunchersDefaults() throws Exception {
    String launcher = Files.readString(DocktunnelProcess.LAUNCHER);
    String exec = launcher.lines().filter(l -> l.startsWith("exec ")).findFirst()
        .orElseThrow(() -> new AssertionError("no exec line in " + DocktunnelProcess.LAUNCHER));
    String trim = launcher.lines().filter(l -> l.strip().startsWith("trim=\"")).findFirst()
        .orElseThrow(() -> new AssertionError("no trim options in " + DocktunnelProcess.LAUNCHER));
    for (String option : DocktunnelProcess.JVM_OPTIONS) {
      // The trim options come through $trim, where the JDK has them (the benchmark's 17.0.15 has).
      assertTrue(exec.contains(" " + option + " ") || trim.contains(option),
          option + " is not among the launcher's java options: " + exec + " / " + trim);
    }
    assertTrue(exec.contains(" $trim ${JAVA_OPTS:-} -jar "), exec);
  }
}

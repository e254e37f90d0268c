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
    assertTrue(exec.contains(" " + String.join(" ", DocktunnelProcess.JVM_OPTIONS) + " ${JAVA_OPTS:-} -jar "),
        "the launcher's java options: " + exec);
  }
}

package dev.docktunnel.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The distribution archive `package` builds: unpacked anywhere, its launcher finds its jar in
 * ../lib and runs it, with the config reference and service units beside it.
 */
class DistributionIT {
  @TempDir
  Path tmp;

  @Test
  void theUnpackedArchiveRunsThroughItsLauncher() throws Exception {
    Path archive = Path.of("target", "docktunnel-dist.tar.gz");
    assertTrue(Files.isRegularFile(archive), "no " + archive + ": `package` builds it");
    Process untar = new ProcessBuilder("tar", "-xzf", archive.toAbsolutePath().toString(), "-C", tmp.toString())
        .redirectErrorStream(true).start();
    assertTrue(untar.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, untar.exitValue(), new String(untar.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    Path root;
    try (Stream<Path> dirs = Files.list(tmp)) {
      root = dirs.findFirst().orElseThrow();
    }
    Path launcher = root.resolve("bin/docktunnel");
    assertTrue(Files.getPosixFilePermissions(launcher).contains(PosixFilePermission.OWNER_EXECUTE), "executable");
    for (String file : List.of("lib/docktunnel.jar", "conf/docktunnel.json", "conf/docktunnel.service", "README.md")) {
      assertTrue(Files.isRegularFile(root.resolve(file)), file + " in the archive");
    }
    ProcessBuilder version = new ProcessBuilder(launcher.toString(), "--version").redirectErrorStream(true);
    version.environment().remove("DOCKTUNNEL_JAR");
    version.environment().put("JAVA_HOME", System.getProperty("java.home"));
    Process run = version.start();
    assertTrue(run.waitFor(60, TimeUnit.SECONDS));
    String out = new String(run.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, run.exitValue(), out);
    assertTrue(out.startsWith("docktunnel ") && !out.contains("dev"), "the jar's own version: " + out);
  }
}

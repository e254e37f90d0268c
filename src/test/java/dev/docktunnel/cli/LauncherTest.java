package dev.docktunnel.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bin/docktunnel} against a stand-in {@code java} that prints what it was given. */
class LauncherTest {
  @TempDir
  Path tmp;

  private List<String> launch(Map<String, String> env, String... args) throws Exception {
    Path bin = Files.createDirectories(tmp.resolve("jdk/bin"));
    Path java = bin.resolve("java");
    Files.writeString(java, "#!/bin/sh\necho \"MALLOC_ARENA_MAX=${MALLOC_ARENA_MAX:-unset}\"\n"
        + "for a in \"$@\"; do echo \"arg=$a\"; done\n");
    Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
    Path jar = Files.writeString(tmp.resolve("docktunnel.jar"), "");
    List<String> command = new ArrayList<>(List.of(StatusStopIT.LAUNCHER.toString()));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().remove("MALLOC_ARENA_MAX");
    builder.environment().remove("JAVA_OPTS");
    builder.environment().put("JAVA_HOME", tmp.resolve("jdk").toString());
    builder.environment().put("DOCKTUNNEL_JAR", jar.toString());
    builder.environment().putAll(env);
    Process process = builder.start();
    assertTrue(process.waitFor(10, TimeUnit.SECONDS), "the launcher did not end");
    List<String> out = new String(process.getInputStream().readAllBytes()).lines().toList();
    assertEquals(0, process.exitValue(), String.join("\n", out));
    return out;
  }

  @Test
  void runsJavaWithTheSmallFootprintOptionsTwoMallocArenasAndTheArgumentsLast() throws Exception {
    List<String> out = launch(Map.of(), "status", "--json");
    assertEquals("MALLOC_ARENA_MAX=2", out.get(0));
    assertTrue(out.containsAll(List.of("arg=-Xmx64m", "arg=-Xms8m", "arg=-XX:+UseSerialGC")), out.toString());
    assertEquals(List.of("arg=-jar", "arg=" + tmp.resolve("docktunnel.jar"), "arg=status", "arg=--json"),
        out.subList(out.size() - 4, out.size()));
  }

  @Test
  void theCallersMallocArenasAndJavaOptsWin() throws Exception {
    List<String> out = launch(Map.of("MALLOC_ARENA_MAX", "8", "JAVA_OPTS", "-Xmx512m"), "status");
    assertEquals("MALLOC_ARENA_MAX=8", out.get(0));
    assertTrue(out.indexOf("arg=-Xmx512m") > out.indexOf("arg=-Xmx64m"), "JAVA_OPTS after the defaults: " + out);
  }
}

package dev.docktunnel.dockerapi;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docktunnel.testbed.Figures;
import dev.docktunnel.testbed.RunningDocktunnel;
import dev.docktunnel.testbed.Testbed;
import dev.docktunnel.testbed.TestbedExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Everything the docker CLI does works unchanged through the socket under test ({@link
 * CliSetup}): the real /usr/bin/docker (and Debian's docker-compose) as child processes with
 * {@code DOCKER_HOST} set, each bounded by a timeout. One docktunnel and one long-running
 * container serve the tests that only read or exec; the others make their own containers.
 * Everything created is removed by id afterwards, through the engine's own socket.
 */
@ExtendWith(TestbedExtension.class)
class DockerCliIT {
  static final Duration WAIT = Duration.ofSeconds(30);
  static final Duration BULK = Duration.ofSeconds(120);
  static final int MIB = 1 << 20;
  static final String RUN_ID = Long.toString(System.nanoTime() % 1_000_000, 36);

  @TempDir
  static Path scratch;
  static Testbed testbed;
  static CliSetup cli;
  static UserMachine user;
  /** A container that runs for the whole class, for ps, exec and cp. */
  static String box;
  static final List<String> containers = new CopyOnWriteArrayList<>();
  static final List<String> images = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void start(Testbed bed) throws Exception {
    testbed = bed;
    cli = CliSetup.start(testbed, scratch);
    user = cli.user;
    box = created(user.docker("run", "-d", "--name", "cliit-box-" + RUN_ID, Testbed.IMAGE, "sleep", "1000000"));
  }

  /**
   * Checks that docktunnel saw every CLI connection end, stops it, then removes what the tests
   * made, by id, through the engine's own socket.
   */
  @AfterAll
  static void stop() throws InterruptedException {
    CliSetup.endOf("DockerCliIT", cli, () -> {
      if (!containers.isEmpty()) {
        List<String> rm = new ArrayList<>(List.of("rm", "-f", "-v"));
        rm.addAll(containers);
        testbed.dockerResult(rm.toArray(String[]::new));
      }
      for (String image : images) {
        testbed.dockerResult("rmi", "-f", image);
      }
    });
  }


  /** Remembers a container id the CLI printed, for the cleanup; returns it trimmed. */
  static String created(String id) {
    String trimmed = id.trim();
    assertTrue(trimmed.matches("[0-9a-f]{64}"), "a container id: '" + id + "'");
    containers.add(trimmed);
    return trimmed;
  }

  static byte[] random(int size, long seed) {
    byte[] data = new byte[size];
    new Random(seed).nextBytes(data);
    return data;
  }

  @Test
  void psListsTheRunningContainerAndVersionNamesTheRemoteEngine() {
    String ps = user.docker("ps", "--no-trunc", "--format", "{{.ID}} {{.Names}}");
    assertTrue(ps.lines().anyMatch(l -> l.equals(box + " cliit-box-" + RUN_ID)), ps);
    String engine = user.docker("version", "--format", "{{.Server.Version}} {{.Server.APIVersion}}").trim();
    String expected = testbed.docker("version", "--format", "{{.Server.Version}} {{.Server.APIVersion}}").trim();
    assertEquals(expected, engine, "the engine's version through " + user.dockerHost());
    UserMachine.Result version = user.run(WAIT, "docker", "version").orThrow();
    assertTrue(version.out().contains("Server:"), version.describe());
    List<Long> psMs = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      psMs.add(user.run(WAIT, "docker", "ps").orThrow().elapsed().toMillis());
    }
    Figures.report("dockerapi %s: docker ps (CLI start included) 10 times: %s; engine %s", cli.target,
        RunThenCurlIT.summary(psMs), engine);
  }

  @Test
  void logsFollowStreamsLinesAsTheContainerWritesThem() throws Exception {
    String id = created(user.docker("run", "-d", "--name", "cliit-logs-" + RUN_ID, Testbed.IMAGE, "sh", "-c",
        "i=0; while true; do echo line-$i; i=$((i+1)); sleep 0.1; done"));
    UserMachine.Live logs = user.start("docker", "logs", "-f", id);
    try {
      String first = logs.awaitOutput("line-0", t -> t.startsWith("line-0\n"), WAIT);
      int seen = lastLineNumber(first);
      // Lines the container writes after the ones already there arrive on the open stream.
      logs.awaitOutput("line-" + (seen + 5), t -> lastLineNumber(t) >= seen + 5, WAIT);
      assertTrue(logs.isAlive(), "logs -f keeps following: " + logs.describe());
      String all = logs.output();
      int last = lastLineNumber(all);
      for (int i = 0; i <= last; i++) {
        assertTrue(all.contains("line-" + i + "\n"), "line-" + i + " in order, none lost: " + all);
      }
    } finally {
      logs.kill(); // our own CLI process, by handle
    }
  }

  static int lastLineNumber(String text) {
    Matcher m = Pattern.compile("line-(\\d+)\n").matcher(text);
    int last = -1;
    while (m.find()) {
      last = Integer.parseInt(m.group(1));
    }
    return last;
  }

  @Test
  void execWithStdinEndsAtItsEofSmallAndLarge() {
    UserMachine.Result hi = user.sh(WAIT, "echo hi | docker exec -i " + box + " cat");
    hi.orThrow();
    assertEquals("hi\n", hi.out(), hi.describe());

    byte[] data = random(5 * MIB, 5);
    UserMachine.Result counted = user.run(BULK, data, "docker", "exec", "-i", box, "sh", "-c", "cat | wc -c").orThrow();
    assertEquals(Integer.toString(data.length), counted.out().trim(), counted.describe());

    UserMachine.Result echoed = user.run(BULK, data, "docker", "exec", "-i", box, "cat").orThrow();
    assertEquals(data.length, echoed.stdout().length, "bytes echoed back: " + echoed.describe());
    assertArrayEquals(data, echoed.stdout(), "5 MiB echoed back byte-exact");
    Figures.report("dockerapi %s: echo hi | docker exec -i cat %d ms; 5 MiB into exec -i wc -c %d ms; 5 MiB through "
        + "exec -i cat and back %d ms", cli.target, hi.elapsed().toMillis(), counted.elapsed().toMillis(),
        echoed.elapsed().toMillis());
  }

  @Test
  void execWithATtyRunsOnAPseudoTerminal() throws Exception {
    UserMachine.Live exec = user.start("script", "-qec", "docker exec -it " + box + " sh -c 'echo tty-ok; tty'",
        "/dev/null");
    try {
      int exit = exec.awaitExit(WAIT);
      String out = exec.output();
      assertEquals(0, exit, exec.describe());
      assertTrue(out.contains("tty-ok\r\n"), exec.describe());
      assertTrue(Pattern.compile("/dev/pts/\\d+\r\n").matcher(out).find(), "the exec's stdin is a TTY: "
          + exec.describe());
    } finally {
      exec.kill();
    }
  }

  @Test
  void attachToAnInteractiveContainerTypesIntoItsShell() throws Exception {
    String id = created(user.docker("run", "-dit", "--name", "cliit-attach-" + RUN_ID, Testbed.IMAGE, "sh"));
    UserMachine.Live attach = user.start("script", "-qec", "docker attach " + id, "/dev/null");
    try {
      // Typed at once: the terminal keeps the line until the attached CLI reads it. Only the
      // shell's evaluation prints attached-42; the terminal's echo of the line shows the $((...)).
      attach.send("echo attached-$((40+2))\n");
      attach.awaitOutput("attached-42 from the container's shell", t -> t.contains("attached-42\r\n"), WAIT);
      attach.send("exit\n");
      assertEquals(0, attach.awaitExit(WAIT), "attach ends with the shell: " + attach.describe());
    } finally {
      attach.kill();
    }
    UserMachine.Result waited = user.run(WAIT, "docker", "wait", id).orThrow();
    assertEquals("0", waited.out().trim(), "the shell exited 0 after `exit`: " + waited.describe());
  }

  @Test
  void legacyBuilderStreamsATwentyMibContext() throws Exception {
    Path context = Files.createDirectories(scratch.resolve("build-context"));
    byte[] big = random(20 * MIB, 20);
    Files.write(context.resolve("big"), big);
    Files.writeString(context.resolve("Dockerfile"),
        "FROM " + Testbed.IMAGE + "\nCOPY big /big\nRUN wc -c /big\n");
    Path iidFile = scratch.resolve("build.iid");
    String tag = "cliit-build:" + RUN_ID;
    UserMachine.Result build = user.sh(BULK, "DOCKER_BUILDKIT=0 docker build --iidfile " + iidFile + " -t " + tag
        + " " + context);
    String image = Files.exists(iidFile) ? Files.readString(iidFile).trim() : "";
    if (!image.isEmpty()) {
      images.add(image);
    }
    build.orThrow();
    assertTrue(build.out().contains("Sending build context to Docker daemon"), "the legacy builder: "
        + build.describe());
    assertTrue(build.out().contains(big.length + " /big"), "RUN saw the whole file: " + build.describe());
    assertTrue(image.startsWith("sha256:"), "an image id in " + iidFile + ": " + image);
    UserMachine.Result run = user.run(WAIT, "docker", "run", "--rm", image, "wc", "-c", "/big").orThrow();
    assertEquals(big.length + " /big", run.out().trim(), run.describe());
    Figures.report("dockerapi %s: DOCKER_BUILDKIT=0 docker build of a 20 MiB context %d ms", cli.target,
        build.elapsed().toMillis());
  }

  @Test
  void copyIntoAContainerAndBackIsByteExact() throws Exception {
    byte[] data = random(5 * MIB, 55);
    Path in = scratch.resolve("cp-in.bin");
    Files.write(in, data);
    UserMachine.Result into = user.run(BULK, "docker", "cp", in.toString(), box + ":/tmp/cp.bin").orThrow();
    UserMachine.Result size = user.run(WAIT, "docker", "exec", box, "wc", "-c", "/tmp/cp.bin").orThrow();
    assertEquals(data.length + " /tmp/cp.bin", size.out().trim(), size.describe());
    Path back = Files.createDirectories(scratch.resolve("cp-back"));
    UserMachine.Result out = user.run(BULK, "docker", "cp", box + ":/tmp/cp.bin", back.toString()).orThrow();
    assertArrayEquals(data, Files.readAllBytes(back.resolve("cp.bin")), "5 MiB copied in and back byte-exact");
    Figures.report("dockerapi %s: docker cp 5 MiB into a container %d ms, out of it %d ms", cli.target,
        into.elapsed().toMillis(), out.elapsed().toMillis());
  }

  @Test
  void saveThenLoadBringsTheImageBack() throws Exception {
    String tag = "cliit-save:" + RUN_ID;
    user.docker("tag", Testbed.IMAGE, tag);
    images.add(tag);
    Path tar = scratch.resolve("saved.tar");
    UserMachine.Result save = user.run(BULK, "docker", "save", "-o", tar.toString(), tag).orThrow();
    assertTrue(Files.size(tar) > 1024 * 1024, "a saved image of busybox: " + Files.size(tar) + " bytes");
    user.docker("rmi", tag);
    assertEquals("", user.docker("images", "-q", tag).trim(), "untagged before the load");
    UserMachine.Result load = user.run(BULK, "docker", "load", "-i", tar.toString()).orThrow();
    assertTrue(load.out().contains("Loaded image: " + tag), load.describe());
    String listed = user.docker("images", "--format", "{{.Repository}}:{{.Tag}}");
    assertTrue(listed.lines().anyMatch(tag::equals), "listed after the load: " + listed);
    Figures.report("dockerapi %s: docker save of a %d KiB image %d ms, docker load %d ms", cli.target,
        Files.size(tar) / 1024, save.elapsed().toMillis(), load.elapsed().toMillis());
  }

  @Test
  void eventsShowAContainerStartOnTheOpenStreamAndInABoundedRange() throws Exception {
    String id = created(user.docker("create", "--name", "cliit-events-" + RUN_ID, Testbed.IMAGE, "sleep", "1000000"));
    // Whole seconds, one back: the engine's own clock is this host's (one kernel).
    long since = Instant.now().getEpochSecond() - 1;
    String filter = "--filter=container=" + id;
    UserMachine.Live events = user.start("docker", "events", "--since", Long.toString(since), filter,
        "--filter=event=start", "--format", "{{.Status}} {{.ID}}");
    try {
      user.docker("start", id);
      events.awaitOutput("the start of " + id, t -> t.contains("start " + id + "\n"), WAIT);
      assertTrue(events.isAlive(), "events keeps streaming: " + events.describe());
    } finally {
      events.kill(); // our own CLI process, by handle
    }
    long until = Instant.now().getEpochSecond() + 1;
    UserMachine.Result range = user.run(WAIT, "docker", "events", "--since", Long.toString(since), "--until",
        Long.toString(until), filter, "--format", "{{.Status}} {{.ID}}").orThrow();
    List<String> lines = range.out().lines().toList();
    assertEquals(List.of("create " + id, "start " + id), lines, range.describe());
  }

  @Test
  void composeBringsUpTwoServicesServesThePortAndTakesThemDown() throws Exception {
    int port = Figures.freePort();
    String project = "cliit" + RUN_ID;
    Path dir = Files.createDirectories(scratch.resolve("compose"));
    Path file = dir.resolve("docker-compose.yml");
    // Both as PID 1 ignore SIGTERM: without a short grace period down would wait 10 s per service.
    Files.writeString(file, String.join("\n",
        "version: \"2.4\"",
        "services:",
        "  web:",
        "    image: " + Testbed.IMAGE,
        "    command: [\"httpd\", \"-f\", \"-p\", \"80\", \"-h\", \"/www\"]",
        "    ports:",
        "      - \"" + port + ":80\"",
        "    stop_grace_period: 1s",
        "  worker:",
        "    image: " + Testbed.IMAGE,
        "    command: [\"sleep\", \"1000000\"]",
        "    stop_grace_period: 1s",
        ""));
    String compose = "docker-compose -p " + project + " -f " + file;
    try {
      UserMachine.Result up = user.sh(BULK, compose + " up -d").orThrow();
      List<String> ids = user.sh(WAIT, compose + " ps -q").orThrow().out().lines().map(String::trim)
          .filter(s -> !s.isEmpty()).toList();
      assertEquals(2, ids.size(), "two services: " + ids);
      ids.forEach(containers::add);
      List<String> state = new ArrayList<>(List.of("inspect", "--format", "{{.State.Running}}"));
      state.addAll(ids);
      assertEquals(List.of("true", "true"), user.docker(state.toArray(String[]::new)).lines().toList());
      // First try, like the run && curl line: compose starts containers with the same API call.
      UserMachine.Result page = user.run(WAIT, "curl", "-sf", "http://127.0.0.1:" + port + "/");
      assertTrue(page.ok() && page.out().equals(Testbed.HTTPD_INDEX_BODY), page.describe() + cli.forwardFacts(port));
      UserMachine.Result down = user.sh(BULK, compose + " down").orThrow();
      assertEquals("", user.docker("ps", "-aq", "--filter", "label=com.docker.compose.project=" + project).trim(),
          "down removed the project's containers");
      if (cli.docktunnel != null) {
        cli.docktunnel.forwardStatus.await(RunningDocktunnel.isForward("stopped", port), WAIT);
      }
      Figures.report("dockerapi %s: docker-compose up -d of two services %d ms, down %d ms", cli.target,
          up.elapsed().toMillis(), down.elapsed().toMillis());
    } finally {
      List<String> left = testbed.docker("ps", "-aq", "--filter", "label=com.docker.compose.project=" + project)
          .lines().toList();
      containers.addAll(left);
      testbed.dockerResult("network", "rm", project + "_default");
    }
  }
}

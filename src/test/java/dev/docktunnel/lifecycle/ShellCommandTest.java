package dev.docktunnel.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docktunnel.ssh.StderrCapture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real {@code sh -c} commands: exit codes, the kept output and its bounds, the log lines, and the
 * process tree killed on a timeout.
 */
class ShellCommandTest {
  static final Duration TIMEOUT = Duration.ofSeconds(20);

  @TempDir
  Path dir;

  static ShellCommand command(String text, Duration timeout) {
    return new ShellCommand("lifecycle.command.test", text, Map.of("DOCKTUNNEL_TEST_VALUE", "seen"), timeout);
  }

  @Test
  void keepsTheExitCodeAndTheLastLinesOfStdout() {
    ShellCommand.Result result = command("i=1; while [ $i -le 60 ]; do echo out$i; i=$((i+1)); done; exit 4", TIMEOUT)
        .run(line -> { });
    assertEquals(4, result.exit());
    assertEquals(IntStream.rangeClosed(11, 60).mapToObj(i -> "out" + i).toList(), result.stdout());
    assertEquals(List.of(), result.stderr());
    ProviderException e = assertThrows(ProviderException.class, result::requireSuccess);
    assertEquals("lifecycle.command.test exited with 4; stdout: out56 | out57 | out58 | out59 | out60",
        e.getMessage());
  }

  @Test
  void seesEveryStdoutLineInOrderAndKeepsStderrApart() {
    List<String> seen = new ArrayList<>();
    ShellCommand.Result result = command("i=1; while [ $i -le 60 ]; do echo out$i; echo err$i >&2; i=$((i+1)); "
        + "done; exit 0", TIMEOUT).run(seen::add);
    assertEquals(IntStream.rangeClosed(1, 60).mapToObj(i -> "out" + i).toList(), seen);
    assertEquals(IntStream.rangeClosed(11, 60).mapToObj(i -> "out" + i).toList(), result.stdout());
    assertEquals(IntStream.rangeClosed(11, 60).mapToObj(i -> "err" + i).toList(), result.stderr());
    assertEquals(result, result.requireSuccess());
  }

  @Test
  void quotesTheLastLinesOfBothStreamsInAFailure() {
    ProviderException e = assertThrows(ProviderException.class, () -> command("echo one; echo two; "
        + "echo 'An error occurred (UnauthorizedOperation)' >&2; exit 255", TIMEOUT).run(line -> { }).requireSuccess());
    assertEquals("lifecycle.command.test exited with 255; stderr: An error occurred (UnauthorizedOperation); "
        + "stdout: one | two", e.getMessage());
  }

  @Test
  void cutsLongLinesAndReadsTheLastLineWithoutANewline() {
    ShellCommand.Result result = command("head -c 5000 /dev/zero | tr '\\000' x; printf '\\nnext\\r\\n\\n  last  '",
        TIMEOUT).run(line -> { });
    assertEquals(List.of("x".repeat(1024) + " [cut at 1024 characters]", "next", "", "  last  "), result.stdout());
    assertEquals("last", result.lastStdoutLine());
  }

  @Test
  void saysWhenThereWasNoOutput() {
    ProviderException e = assertThrows(ProviderException.class, () -> command("exit 7", TIMEOUT).run(l -> { })
        .requireSuccess());
    assertEquals("lifecycle.command.test exited with 7; no output", e.getMessage());
  }

  @Test
  void getsThisProcesssEnvironmentPlusTheGivenVariables() {
    ShellCommand.Result result = command("echo \"$DOCKTUNNEL_TEST_VALUE\"; echo \"$HOME\"; cat", TIMEOUT)
        .run(line -> { });
    assertEquals(List.of("seen", System.getenv("HOME")), result.stdout(), "stdin is empty: cat ends at once");
  }

  @Test
  void logsEachLineUnderTheSettingButNeitherTheCommandNorItsEnvironment() throws Throwable {
    String log = StderrCapture.during(() -> command("TOKEN=s3cr3t-in-the-command; echo hello from the command; "
        + "echo a warning >&2", TIMEOUT).run(line -> { }));
    assertTrue(log.contains("lifecycle.command.test: hello from the command"), log);
    assertTrue(log.contains("lifecycle.command.test (stderr): a warning"), log);
    assertTrue(log.contains("lifecycle.command.test: exited with 0 after"), log);
    assertFalse(log.contains("s3cr3t"), log);
    assertFalse(log.contains("seen"), log);
  }

  /**
   * The command starts a child, which starts a grandchild; all sleep past the timeout. The
   * failure names the timeout and the last output, and all three processes are gone.
   */
  @Test
  void killsTheCommandAndEveryProcessItStartedOnTimeout() throws Exception {
    Path tree = Files.writeString(dir.resolve("tree.sh"), """
        sleep 300 &
        echo $! > "$1/grandchild.pid"
        echo child started
        wait
        """);
    String text = "sh '" + tree + "' '" + dir + "' & echo $! > '" + dir + "/child.pid'; echo $$ > '" + dir
        + "/command.pid'; wait";
    ProviderException e = assertThrows(ProviderException.class, () -> command(text, Duration.ofSeconds(1))
        .run(line -> { }));
    assertEquals("lifecycle.command.test did not finish within 1 s; killed it and the 2 processes it started; "
        + "stdout: child started", e.getMessage());
    for (String name : List.of("command", "child", "grandchild")) {
      long pid = Long.parseLong(Files.readString(dir.resolve(name + ".pid")).strip());
      assertTrue(Processes.goneWithin(pid, Duration.ofSeconds(10)), name + " " + pid + " still runs");
    }
  }

  /**
   * A background process that keeps the command's stdout open does not hold the result: the
   * command's own end counts, with a warning saying what to do. (The JDK ends a dead child's
   * streams itself, unless a read is waiting on them right then: the command's last line comes
   * well before its end, so our reader is waiting.)
   */
  @Test
  void doesNotWaitForABackgroundProcessHoldingTheOutput() throws Throwable {
    Path pidFile = dir.resolve("background.pid");
    List<ShellCommand.Result> results = new ArrayList<>();
    String log = StderrCapture.during(() -> results.add(command("sleep 300 & echo $! > '" + pidFile
        + "'; echo done; sleep 0.3", TIMEOUT).run(line -> { })));
    long pid = Long.parseLong(Files.readString(pidFile).strip());
    try {
      assertEquals(0, results.get(0).exit());
      assertEquals(List.of("done"), results.get(0).stdout());
      assertTrue(log.contains("lifecycle.command.test: exited, but a process it started still holds its output open"),
          log);
    } finally {
      ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
    }
    assertTrue(Processes.goneWithin(pid, Duration.ofSeconds(10)));
  }

  @Test
  void formatsDurations() {
    assertEquals("1 s", ShellCommand.seconds(Duration.ofSeconds(1)));
    assertEquals("1.5 s", ShellCommand.seconds(Duration.ofMillis(1500)));
    assertEquals("0.0 s", ShellCommand.seconds(Duration.ofMillis(3)));
  }
}

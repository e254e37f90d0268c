package dev.docktunnel.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docktunnel.config.ConfigException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LogSettingsTest {
  @TempDir
  Path dir;

  @Test
  void levelsAreTheFiveNamesInAnyCase() {
    assertEquals("debug", LogSettings.level("DEBUG"));
    assertEquals("trace", LogSettings.level("trace"));
    ConfigException bad = assertThrows(ConfigException.class, () -> LogSettings.level("verbose"));
    assertEquals("option --log-level: 'verbose' is not one of error, warn, info, debug, trace", bad.getMessage());
  }

  @Test
  void theLogFileIsAppendedToAndCreatedPrivate() throws Exception {
    Path file = dir.resolve("docktunnel.log");
    try (PrintStream first = LogSettings.openForAppend(file)) {
      first.println("one");
    }
    try (PrintStream second = LogSettings.openForAppend(file)) {
      second.println("two");
    }
    assertEquals("one\ntwo\n", Files.readString(file));
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
  }

  @Test
  void aLogFileThatCannotBeWrittenIsAnErrorNamingIt() {
    ConfigException inMissingDir = assertThrows(ConfigException.class,
        () -> LogSettings.openForAppend(dir.resolve("missing/docktunnel.log")));
    assertTrue(inMissingDir.getMessage().startsWith("option --log-file: cannot append to " + dir.resolve("missing")),
        inMissingDir.getMessage());
    assertThrows(ConfigException.class, () -> LogSettings.openForAppend(dir));
  }

  @Test
  void runRefusesABadLevelInOneLineBeforeAnything() {
    CliRun run = CliRun.of("run", "--log-level", "loud", "--host", "root@box");
    assertEquals(ExitCodes.USAGE, run.exit(), run.toString());
    assertEquals("docktunnel: option --log-level: 'loud' is not one of error, warn, info, debug, trace\n", run.err());
    CliRun file = CliRun.of("run", "--log-file", dir.toString(), "--host", "root@box");
    assertEquals(ExitCodes.USAGE, file.exit(), file.toString());
    assertTrue(file.err().startsWith("docktunnel: option --log-file: cannot append to " + dir), file.toString());
  }
}

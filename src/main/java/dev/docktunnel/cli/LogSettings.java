package dev.docktunnel.cli;

import dev.docktunnel.config.ConfigException;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * {@code run --log-level} and {@code --log-file}, applied to slf4j-simple. It reads its settings
 * once, when the first logger is made, so {@link #apply} must run before anything creates a
 * logger (command classes keep no static loggers for this reason). The per-library levels of
 * {@code simplelogger.properties} stay (Apache MINA SSHD at ERROR, Netty and Vert.x at WARN):
 * only the default level changes.
 */
final class LogSettings {
  static final List<String> LEVELS = List.of("error", "warn", "info", "debug", "trace");
  static final String LEVEL_PROPERTY = "org.slf4j.simpleLogger.defaultLogLevel";

  private LogSettings() {
  }

  /**
   * The level as slf4j-simple names it.
   *
   * @throws ConfigException naming the option and the allowed values
   */
  static String level(String text) {
    String level = text.trim().toLowerCase(Locale.ROOT);
    if (!LEVELS.contains(level)) {
      throw new ConfigException("option --log-level: '" + text + "' is not one of " + String.join(", ", LEVELS));
    }
    return level;
  }

  /**
   * Applies the options; either may be null (left as the properties file has it: info, stderr).
   * The log file is opened for appending (created 0600) before anything starts, so a file that
   * cannot be written is an error now. slf4j-simple's own {@code logFile} setting would truncate
   * the file, so the log goes to stderr as always and stderr is pointed at the file: also what
   * the JVM itself prints there (an uncaught exception) lands in the log.
   *
   * @throws ConfigException naming the option, for a bad level or a file that cannot be appended to
   */
  static void apply(String level, Path file) {
    String checkedLevel = level == null ? null : level(level);
    PrintStream log = file == null ? null : openForAppend(file);
    if (checkedLevel != null) {
      System.setProperty(LEVEL_PROPERTY, checkedLevel);
    }
    if (log != null) {
      System.setErr(log);
    }
  }

  static PrintStream openForAppend(Path file) {
    try {
      FileChannel channel = FileChannel.open(file,
          Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND),
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      OutputStream out = Channels.newOutputStream(channel);
      return new PrintStream(out, true, StandardCharsets.UTF_8);
    } catch (IOException | UnsupportedOperationException e) {
      throw new ConfigException("option --log-file: cannot append to " + file + ": " + e);
    }
  }
}

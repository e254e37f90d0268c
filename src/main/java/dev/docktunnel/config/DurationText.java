package dev.docktunnel.config;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations as settings, the HTTP API and the command line write them: a whole number and a
 * unit, {@code 500ms}, {@code 15s}, {@code 5m}, {@code 1h}. One parser, so {@code
 * lifecycle.idleTimeout} in the file and {@code docktunnel extend 30m} mean the same.
 */
public final class DurationText {
  /** What every error says a duration looks like. */
  public static final String EXAMPLES = "500ms, 15s, 5m or 1h";
  private static final Pattern DURATION = Pattern.compile("(\\d{1,12})\\s*(ms|s|m|h)");

  private DurationText() {
  }

  /**
   * Parses {@code text}.
   *
   * @return the duration, or null when {@code text} is not one (the caller names the setting)
   */
  public static Duration parseOrNull(String text) {
    Matcher m = text == null ? null : DURATION.matcher(text.trim().toLowerCase(Locale.ROOT));
    if (m == null || !m.matches()) {
      return null;
    }
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "ms" -> Duration.ofMillis(n);
      case "s" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      default -> Duration.ofHours(n);
    };
  }

  /**
   * Parses a duration that must be above zero.
   *
   * @throws IllegalArgumentException with a one-line reason (without a setting's name)
   */
  public static Duration parsePositive(String text) {
    Duration d = parseOrNull(text);
    if (d == null) {
      throw new IllegalArgumentException("'" + text + "' is not a duration like " + EXAMPLES);
    }
    if (d.isZero()) {
      throw new IllegalArgumentException("'" + text + "' is not above zero");
    }
    return d;
  }

  /** The shortest exact spelling: {@code 90s}, {@code 30m}, {@code 1500ms}. */
  public static String format(Duration d) {
    long ms = d.toMillis();
    if (ms % 3_600_000 == 0 && ms > 0) {
      return ms / 3_600_000 + "h";
    }
    if (ms % 60_000 == 0 && ms > 0) {
      return ms / 60_000 + "m";
    }
    if (ms % 1000 == 0) {
      return ms / 1000 + "s";
    }
    return ms + "ms";
  }
}

package dev.docktunnel.cli;

import java.util.regex.Pattern;

/** POSIX shell quoting for the lines docktunnel prints for a shell to run ({@code eval}, hints). Pure. */
final class ShellWords {
  /** Characters no POSIX shell treats specially in a word (no globbing, expansion or splitting). */
  private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9_@%+=:,./-]+");

  private ShellWords() {
  }

  /**
   * {@code word} as one shell word: as is when it needs nothing, else in single quotes, each
   * {@code '} written as {@code '\''} (the only character single quotes cannot hold).
   */
  static String quote(String word) {
    if (PLAIN.matcher(word).matches()) {
      return word;
    }
    return "'" + word.replace("'", "'\\''") + "'";
  }
}

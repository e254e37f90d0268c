package dev.docktunnel.cli;

import dev.docktunnel.config.ConfigException;

/** The process exit codes, as documented in {@code docktunnel --help} and README. */
public final class ExitCodes {
  public static final int OK = 0;
  public static final int FAILED = 1;
  public static final int USAGE = 2;
  public static final int CONNECT = 3;

  private ExitCodes() {
  }

  static int forException(Throwable error) {
    if (error instanceof ConfigException) {
      return USAGE;
    }
    return FAILED;
  }
}

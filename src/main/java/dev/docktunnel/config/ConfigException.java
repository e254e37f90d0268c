package dev.docktunnel.config;

/** A config file or command-line value docktunnel cannot run with; the message names it. */
public final class ConfigException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ConfigException(String message) {
    super(message);
  }
}

package dev.docktunnel.lifecycle;

/**
 * A provider call failed; the message is one line for the log and for a held client's error:
 * what was tried, what came back (exit code, timeout, HTTP status) and the provider's last words.
 */
public class ProviderException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ProviderException(String message) {
    super(message);
  }

  public ProviderException(String message, Throwable cause) {
    super(message, cause);
  }
}

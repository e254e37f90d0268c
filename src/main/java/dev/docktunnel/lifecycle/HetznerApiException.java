package dev.docktunnel.lifecycle;

/**
 * A Hetzner Cloud API call that failed: an error answer ({@code {"error": {"code", "message"}}}), a
 * failed action, a timeout, or no answer at all. The message is one line, names the call, and
 * never holds the token.
 */
public final class HetznerApiException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final int httpStatus;
  private final String code;

  HetznerApiException(String message, int httpStatus, String code) {
    super(message);
    this.httpStatus = httpStatus;
    this.code = code;
  }

  HetznerApiException(String message) {
    this(message, 0, null);
  }

  /** The HTTP status of the error answer, or 0 when there was none (a failed action, a timeout). */
  public int httpStatus() {
    return httpStatus;
  }

  /** Hetzner's machine-readable code ({@code not_found}, {@code uniqueness_error}, ...), or null. */
  public String code() {
    return code;
  }
}

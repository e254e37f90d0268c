package dev.docktunnel.docker;

/**
 * The engine answered a request with an HTTP error status (4xx/5xx); {@link #engineMessage()} is
 * the {@code message} field of its JSON error body (or the raw body when it was not JSON).
 */
public class DockerApiException extends DockerEngineException {
  private static final long serialVersionUID = 1L;

  private final int status;
  private final String engineMessage;

  /**
   * @param request       what was asked, e.g. {@code GET /v1.41/containers/json}
   * @param status        the HTTP status code
   * @param engineMessage the engine's own explanation (may be empty)
   */
  public DockerApiException(String request, int status, String engineMessage) {
    super("Docker engine answered " + request + " with HTTP " + status
        + (engineMessage.isEmpty() ? "" : ": " + engineMessage));
    this.status = status;
    this.engineMessage = engineMessage;
  }

  /** The HTTP status code. */
  public int status() {
    return status;
  }

  /** The engine's error message, without our prefix. */
  public String engineMessage() {
    return engineMessage;
  }
}

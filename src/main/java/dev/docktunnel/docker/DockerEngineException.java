package dev.docktunnel.docker;

/**
 * The Docker engine could not be reached or answered something we cannot use: no SSH session,
 * the socket channel was refused, a malformed or oversized HTTP response, an incompatible API
 * version, a timeout. Engine-reported errors are the subclass {@link DockerApiException}.
 */
public class DockerEngineException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** An error with a message saying what failed and, where possible, what to do about it. */
  public DockerEngineException(String message) {
    super(message);
  }

  /** An error caused by a lower-level failure. */
  public DockerEngineException(String message, Throwable cause) {
    super(message, cause);
  }
}

package dev.docktunnel.docker;

/** Inspect found no container with that id or name (HTTP 404): it was removed meanwhile. */
public class NoSuchContainerException extends DockerApiException {
  private static final long serialVersionUID = 1L;

  private final String containerId;

  /** A 404 for {@code containerId} on {@code request}. */
  public NoSuchContainerException(String request, String containerId, String engineMessage) {
    super(request, 404, engineMessage);
    this.containerId = containerId;
  }

  /** The id or name that was looked up. */
  public String containerId() {
    return containerId;
  }
}

package dev.docktunnel.forward;

/** Identifies one forward: a container's published port. */
public record ForwardKey(String containerId, String protocol, int publishedPort) {

  /** A stable text id for the bus and logs, e.g. {@code 3f2a9c1b0d4e/tcp/8080}. */
  public String id() {
    return shortId(containerId) + "/" + protocol + "/" + publishedPort;
  }

  static String shortId(String containerId) {
    return containerId.length() > 12 ? containerId.substring(0, 12) : containerId;
  }
}

package dev.docktunnel.forward;

/**
 * A forward of the last run, to bind again at start before the SSH session is up, on the same
 * local port (also one that {@code next-free} chose), until the container list confirms or drops
 * it.
 *
 * @param localPort the port it was bound to
 * @param requestedLocalPort the port its rules asked for (differs from {@code localPort} under
 *     {@code next-free})
 */
public record RestoredForward(String containerId, String containerName, String protocol, int publishedPort,
    String remoteHost, int remotePort, int requestedLocalPort, int localPort) {

  ForwardKey key() {
    return new ForwardKey(containerId, protocol, publishedPort);
  }
}

package dev.docktunnel.forward;

/**
 * Where a forward's connections go, as the remote sshd sees it.
 *
 * @param host the remote address to connect to (loopback when the port is published on all
 *     interfaces)
 * @param port the published port on the remote host
 */
public record ForwardTarget(String host, int port) implements RemoteEnd {

  @Override
  public String toString() {
    return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
  }
}

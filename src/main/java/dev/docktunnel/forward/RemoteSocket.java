package dev.docktunnel.forward;

/**
 * A Unix socket on the remote host, reached with OpenSSH's {@code direct-streamlocal@openssh.com}
 * channel (the remote sshd must allow it: {@code AllowStreamLocalForwarding}, the default).
 *
 * @param path the socket's absolute path on the remote host
 */
public record RemoteSocket(String path) implements RemoteEnd {

  @Override
  public String toString() {
    return "unix:" + path;
  }
}
